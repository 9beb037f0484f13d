"""``bodycam ingest``, ``bodycam recordings`` and ``bodycam categories``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from bodycam.auth.actor import PermissionDenied
from bodycam.cli_support import (
    EXIT_DENIED,
    EXIT_ERROR,
    audit_denial,
    current_actor,
    err,
    fail,
    guarded,
    open_context,
    out,
)
from bodycam.evidence import service
from bodycam.evidence.service import EvidenceError, SearchQuery, Vault
from bodycam.ids import rfc3339
from bodycam.storage import BlobStoreError

recordings_app = typer.Typer(help="Recordings: list, show, edit, download.", no_args_is_help=True)
categories_app = typer.Typer(help="Evidence categories and access classes.", no_args_is_help=True)


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Video files to ingest.")],
    officer: Annotated[str, typer.Option(help="Badge of the officer who recorded.")],
    camera: Annotated[str | None, typer.Option(help="Camera serial number.")] = None,
    category: Annotated[str | None, typer.Option(help="Category (default Uncategorized).")] = None,
    sha256: Annotated[
        str | None, typer.Option(help="Expected SHA-256 (one file): refused on mismatch.")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Tag (repeatable).")] = None,
    case: Annotated[list[str] | None, typer.Option(help="Case number (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
) -> None:
    """Ingest video files; each line is printed only once the file is durably stored."""
    if sha256 and len(paths) != 1:
        fail("--sha256 applies to a single file; give one path.")
    failures = 0
    denied = False
    with open_context() as ctx:
        actor = current_actor(ctx)
        vault = Vault.from_context(ctx)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            console=err,
            disable=as_json or len(paths) < 2,
        )
        with progress:
            task = progress.add_task("ingest", total=len(paths))
            for path in paths:
                try:
                    if not path.is_file():
                        raise EvidenceError(f"{path} is not a file.")
                    res = service.ingest_file(
                        vault,
                        actor,
                        path,
                        officer_badge=officer,
                        camera_serial=camera,
                        category=category,
                        expected_sha256=sha256,
                        tags=tag or (),
                        cases=case or (),
                    )
                except PermissionDenied as exc:
                    audit_denial(exc)
                    err.print(str(exc), markup=False, soft_wrap=True)
                    denied = True
                    break
                except (EvidenceError, BlobStoreError, ValueError) as exc:
                    err.print(str(exc), markup=False, soft_wrap=True)
                    failures += 1
                    progress.advance(task)
                    continue
                if as_json:
                    print(
                        json.dumps(
                            {
                                "id": res.id,
                                "sha256": res.sha256,
                                "duplicate": res.duplicate,
                                "file": str(path),
                            }
                        ),
                        flush=True,
                    )
                else:
                    state = "already held as" if res.duplicate else "stored as"
                    progress.console.print(
                        f"{path}: {state} {res.id} sha256 {res.sha256}",
                        markup=False,
                        highlight=False,
                    )
                progress.advance(task)
    if denied:
        raise typer.Exit(EXIT_DENIED)
    if failures:
        raise typer.Exit(EXIT_ERROR)


def _parse_when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"--{name} {value!r} is not a date or ISO 8601 time "
            "(e.g. 2026-01-31 or 2026-01-31T08:00)."
        )


def recording_summary(r: Any, officer: Any, category: Any) -> dict[str, Any]:
    """The JSON form of a recording used by the CLI."""
    return {
        "id": r.id,
        "sha256": r.sha256,
        "title": r.title,
        "officer": officer.username if officer else None,
        "badge": officer.badge if officer else None,
        "camera": r.camera_serial,
        "category": category.name if category else None,
        "recorded_start": rfc3339(r.recorded_start),
        "recorded_end": rfc3339(r.recorded_end),
        "duration_s": r.duration_s,
        "size_bytes": r.size_bytes,
        "tags": [t.tag for t in r.tags],
        "cases": [c.case_number for c in r.cases],
        "extra_categories": [e.name for e in r.extra_categories],
        "retain_until": rfc3339(r.retain_until) if r.retain_until else None,
        "retention_rule": r.retention_basis,
    }


@recordings_app.command("list")
def recordings_list(
    officer: Annotated[str | None, typer.Option(help="Badge or user name.")] = None,
    since: Annotated[str | None, typer.Option("--from", help="Recorded on or after (ISO).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Recorded before (ISO).")] = None,
    category: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[str | None, typer.Option()] = None,
    text: Annotated[
        str | None, typer.Option(help="In title, notes, file name, case number.")
    ] = None,
    page: Annotated[int, typer.Option()] = 1,
    per_page: Annotated[int, typer.Option()] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the recordings you may see (the search is audited)."""
    q = SearchQuery(
        officer,
        _parse_when(since, "from"),
        _parse_when(until, "to"),
        category,
        tag,
        text,
        None,
        page,
        per_page,
    )
    with open_context() as ctx:
        actor = current_actor(ctx)
        res = guarded(lambda: service.search(Vault.from_context(ctx), actor, q))
        rows = [
            recording_summary(r, res.officers.get(r.officer_id), res.categories.get(r.category_id))
            for r in res.items
        ]
    if as_json:
        for row in rows:
            print(json.dumps(row))
        err.print(f"page {res.page} of {res.pages}, {res.counted} recordings")
        return
    table = Table("id", "recorded (UTC)", "officer", "category", "title", "secs")
    for row in rows:
        table.add_row(
            row["id"],
            row["recorded_start"][:19].replace("T", " "),
            str(row["badge"]),
            str(row["category"]),
            row["title"],
            f"{row['duration_s']:.1f}",
        )
    out.print(table)
    out.print(f"page {res.page} of {res.pages}, {res.counted} recordings")


@recordings_app.command("show")
def recordings_show(recording_id: str) -> None:
    """Show one recording's metadata and edit history (audited as a view)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        v = guarded(lambda: service.view(Vault.from_context(ctx), actor, recording_id))
        r = v.recording
        data = recording_summary(r, v.officer, v.category) | {
            "container": r.container,
            "video_codec": r.video_codec,
            "audio_codec": r.audio_codec,
            "width": r.width,
            "height": r.height,
            "fps": r.fps,
            "notes": r.notes,
            "original_filename": r.original_filename,
            "ingested_at": rfc3339(r.ingested_at),
            "access_class": v.category.access_class,
            "history": [
                {"at": rfc3339(e.at), "field": e.field, "old": e.old_value, "new": e.new_value}
                for e in v.edits
            ],
        }
        print(json.dumps(data, indent=2))


@recordings_app.command("edit")
def recordings_edit(
    recording_id: str,
    title: Annotated[str | None, typer.Option()] = None,
    notes: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    also_category: Annotated[
        list[str] | None,
        typer.Option(help="Replace the additional categories (repeatable; retention only)."),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Replace tags (repeatable).")] = None,
    case: Annotated[list[str] | None, typer.Option(help="Replace case numbers.")] = None,
    camera: Annotated[str | None, typer.Option(help="Correct the camera serial.")] = None,
) -> None:
    """Edit metadata; every change is kept as history and audited."""
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "title": title,
            "notes": notes,
            "category": category,
            "extra_categories": also_category,
            "tags": tag,
            "cases": case,
            "camera_serial": camera,
        }.items()
        if v is not None
    }
    if not changes:
        fail(
            "Nothing to change: give --title, --notes, --category, --also-category, --tag, "
            "--case or --camera."
        )
    with open_context() as ctx:
        actor = current_actor(ctx)
        guarded(lambda: service.edit(Vault.from_context(ctx), actor, recording_id, changes))
        err.print(f"Updated {', '.join(changes)} of {recording_id}.")


@recordings_app.command("download")
def recordings_download(recording_id: str, dest: Path) -> None:
    """Download the original bytes (audited); the SHA-256 is checked on the way."""
    import hashlib

    if dest.exists():
        fail(f"{dest} already exists; choose a new file name.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        rec, _, chunks = guarded(
            lambda: service.open_stream(
                Vault.from_context(ctx), actor, recording_id, None, download=True
            )
        )
        h = hashlib.sha256()
        tmp = dest.with_name(dest.name + ".part")
        with tmp.open("wb") as f:
            for chunk in chunks:
                h.update(chunk)
                f.write(chunk)
        if h.hexdigest() != rec.sha256:
            tmp.unlink()
            fail(
                f"The stored bytes of {recording_id} do not match its SHA-256; run bodycam verify."
            )
        tmp.rename(dest)
        err.print(f"Wrote {dest} ({rec.size_bytes} bytes, sha256 {rec.sha256}).")


@categories_app.command("add")
def categories_add(
    name: str,
    access_class: Annotated[
        str, typer.Option(help="normal, restricted or confidential.")
    ] = "normal",
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a category or change its access class."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        guarded(
            lambda: service.create_category(
                Vault.from_context(ctx), actor, name, access_class, description
            )
        )
        err.print(f"Category {name} ({access_class}).")


@categories_app.command("list")
def categories_list() -> None:
    """List categories and their access classes."""
    with open_context(seal_on_exit=False) as ctx, ctx.sessions() as s:
        for c in service.list_categories(s):
            print(f"{c.name}\t{c.access_class}")

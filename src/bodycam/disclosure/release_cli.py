"""``bodycam release`` (signed public release packages) and ``bodycam discovery`` (court
discovery bundles). The two ``verify`` commands work offline on a folder alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.table import Column, Table

from bodycam.cli_support import current_actor, err, fail, guarded, open_context, out
from bodycam.ids import rfc3339

release_app = typer.Typer(
    help="Public release packages: build, list, export, verify.", no_args_is_help=True
)
discovery_app = typer.Typer(
    help="Court discovery bundles: a case's recordings, audit trails and proofs.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Key = Annotated[
    Path | None,
    typer.Option("--key", help="The agency's Ed25519 public key (PEM) you trust.", exists=True),
]
T = TypeVar("T")


def _run(fn: Callable[[], T]) -> T:
    try:
        return guarded(fn)
    except OSError as exc:  # writing the package or bundle (domain errors: guarded)
        fail(str(exc))


def _trusted(key: Path | None) -> Ed25519PublicKey | None:
    from bodycam.disclosure import verify_release

    if key is None:
        return None
    try:
        return verify_release.load_key(key.read_bytes(), str(key))
    except (OSError, ValueError) as exc:
        fail(f"Cannot use the key {key}: {exc}")


def _report(problems: list[str], notes: list[str], verdict: str, ok: bool) -> None:
    for line in problems:
        err.print(f"PROBLEM: {line}", markup=False, soft_wrap=True)
    for line in notes:
        err.print(f"note: {line}", markup=False, soft_wrap=True)
    (out if ok else err).print(verdict, markup=False, soft_wrap=True)
    if not ok:
        raise typer.Exit(1)


@release_app.command("build")
def release_build(
    number: Annotated[str, typer.Argument(help="Request number, e.g. R-2026-000123.")],
    copies: Annotated[
        list[str] | None,
        typer.Option(
            "--copy",
            help="A redacted copy to release (repeat); default: the newest approved copy of "
            "each attached recording.",
        ),
    ] = None,
    dest: Annotated[
        Path | None, typer.Option("--out", help="Write the package to this new folder.")
    ] = None,
    zip_too: Annotated[bool, typer.Option("--zip", help="Also write FOLDER.zip.")] = False,
    as_json: AsJson = False,
) -> None:
    """Build, sign and store a release package of a request (in review); audited."""
    from bodycam.disclosure import releases

    if dest is not None and dest.exists():
        fail(f"{dest} already exists; choose a new folder.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        release = _run(lambda: releases.build_release(ctx, actor, number, copy_ids=copies or ()))
        if dest is not None:
            _run(lambda: releases.write_package(ctx.store, release, dest))
            if zip_too:
                _run(lambda: releases.write_zip(dest))
    footage = [f for f in release.files if f.get("kind") == "footage"]
    if as_json:
        print(
            json.dumps(
                {
                    "id": release.id,
                    "request": number,
                    "manifest_sha256": release.manifest_sha256,
                    "files": release.files,
                    "folder": str(dest) if dest else None,
                }
            )
        )
        return
    out.print(
        f"Release {release.id} of {number}: {len(footage)} file(s), manifest SHA-256 "
        f"{release.manifest_sha256}" + (f", written to {dest}." if dest else "."),
        markup=False,
    )
    err.print(
        "Next: move the request to released_full or released_partial "
        "(bodycam disclosure request status).",
        markup=False,
    )


@release_app.command("list")
def release_list(as_json: AsJson = False) -> None:
    """List every release (public information: what the public page shows)."""
    from bodycam.disclosure import releases

    with open_context(seal_on_exit=False) as ctx:
        rows = releases.list_releases(ctx.sessions)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "request": number,
                        "created_at": rfc3339(r.created_at),
                        "manifest_sha256": r.manifest_sha256,
                        "files": [f["name"] for f in r.files if f.get("kind") == "footage"],
                    }
                    for r, number in rows
                ]
            )
        )
        return
    table = Table(
        Column("release", overflow="fold"),
        "request",
        Column("made (UTC)", overflow="fold"),
        "files",
        Column("manifest SHA-256", overflow="fold"),
    )
    for r, number in rows:
        footage = sum(1 for f in r.files if f.get("kind") == "footage")
        table.add_row(r.id, number, rfc3339(r.created_at)[:19], str(footage), r.manifest_sha256)
    out.print(table)
    if not rows:
        err.print("No release yet.")


@release_app.command("export")
def release_export(
    release_id: Annotated[str, typer.Argument(help="The release id (bodycam release list).")],
    dest: Annotated[Path, typer.Option("--out", help="Write the package to this new folder.")],
) -> None:
    """Write a stored release package again, byte for byte (it is public: not audited)."""
    from bodycam.disclosure import releases

    with open_context(seal_on_exit=False) as ctx:
        release = _run(lambda: releases.get_release(ctx.sessions, release_id))
        _run(lambda: releases.write_package(ctx.store, release, dest))
    out.print(f"Wrote release {release_id} to {dest}.", markup=False)


@release_app.command("verify")
def release_verify(
    folder: Annotated[Path, typer.Argument(help="The release package folder.")],
    key: Key = None,
) -> None:
    """Check a release package offline: signature, every hash, the C2PA manifests."""
    from bodycam.disclosure import releases, verify_release

    report = verify_release.check_package(folder, trusted_key=_trusted(key))
    if report.manifest is not None:
        checked = releases.check_c2pa(folder, report)
        if checked:
            report.notes.append(f"{checked} C2PA manifest(s) checked against the trust anchor.")
    _report(report.problems, report.notes, verify_release.summary(report), report.ok)


@discovery_app.command("bundle")
def discovery_bundle(
    case: Annotated[str, typer.Option("--case", help="The case number.")],
    dest: Annotated[Path, typer.Option("--out", help="Write the bundle to this new folder.")],
    recordings: Annotated[
        list[str] | None,
        typer.Option("--recording", help="Only this recording of the case (repeat)."),
    ] = None,
    derivatives: Annotated[
        bool,
        typer.Option(
            "--derivatives",
            help="Each recording's newest approved redacted copy, not the original.",
        ),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Build a court discovery bundle of a case: recordings, audit trails, proofs; audited."""
    from bodycam.disclosure import discovery

    if dest.exists():
        fail(f"{dest} already exists; choose a new folder.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        bundle = _run(
            lambda: discovery.build_bundle(
                ctx, actor, case, dest, recording_ids=recordings or (), derivatives=derivatives
            )
        )
    if as_json:
        print(
            json.dumps(
                {
                    "bundle": bundle.bundle_id,
                    "case": bundle.case,
                    "folder": str(bundle.folder),
                    "manifest_sha256": bundle.manifest_sha256,
                    "recordings": bundle.recordings,
                    "records": bundle.records,
                    "proofs": bundle.proofs,
                }
            )
        )
        return
    out.print(
        f"Bundle {bundle.bundle_id} of case {case}: {bundle.recordings} recording(s), "
        f"{bundle.records} audit records ({bundle.proofs} proven) in {dest}; manifest SHA-256 "
        f"{bundle.manifest_sha256}.",
        markup=False,
    )


@discovery_app.command("verify")
def discovery_verify(
    folder: Annotated[Path, typer.Argument(help="The bundle folder.")],
    key: Key = None,
) -> None:
    """Check a discovery bundle offline: signature, every hash, every inclusion proof."""
    from bodycam.disclosure import verify_bundle

    report = verify_bundle.check_bundle(folder, trusted_key=_trusted(key), key_file=key)
    _report(report.problems, report.notes, verify_bundle.summary(report), report.ok)


__all__ = ["discovery_app", "release_app"]

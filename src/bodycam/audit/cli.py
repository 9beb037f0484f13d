"""``bodycam verify`` and ``bodycam audit``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn

from bodycam.audit.export import trail_csv, trail_pdf, write_export
from bodycam.audit.service import proof_document, public_key_b64, seal
from bodycam.audit.signing import public_key_pem
from bodycam.audit.trail import recording_trail
from bodycam.cli_support import current_actor, err, fail, guarded, open_context, out
from bodycam.evidence.models import Recording
from bodycam.ids import rfc3339, utcnow
from bodycam.verify import REPAIR_MIN_AGE_S, verify_all, verify_audit_since

audit_app = typer.Typer(help="The audit log: trails, proofs, exports, keys.", no_args_is_help=True)


def verify_command(
    repair: Annotated[
        bool, typer.Option(help="Remove temp files left by interrupted writes.")
    ] = False,
    repair_min_age: Annotated[
        float,
        typer.Option(
            help="Seconds a temp file must be old before --repair removes it "
            "(younger ones may be uploads in progress).",
            min=0,
        ),
    ] = REPAIR_MIN_AGE_S,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    incremental: Annotated[
        bool,
        typer.Option(
            help="Check only the audit records sealed since the last verified checkpoint "
            "(blobs are not re-read)."
        ),
    ] = False,
    since_checkpoint: Annotated[
        int | None,
        typer.Option(
            help="Check only the audit records after the signed checkpoint of this tree "
            "size (blobs are not re-read).",
            min=0,
        ),
    ] = None,
) -> None:
    """Re-hash every blob and recompute the audit log; exit 1 naming each problem."""
    if incremental or since_checkpoint is not None:
        _verify_audit_only(since_checkpoint, as_json)
        return
    with open_context() as ctx:
        actor = current_actor(ctx)
        with Progress(
            TextColumn("verify {task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            console=err,
            disable=as_json,
        ) as bar:
            task = bar.add_task("blobs", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            report = guarded(
                lambda: verify_all(
                    ctx, actor, repair=repair, progress=progress, repair_min_age_s=repair_min_age
                )
            )
    log = report.log
    assert log is not None
    if as_json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "recordings": report.recordings,
                    "redacted_copies": report.copies,
                    "released_files": report.released,
                    "bytes_hashed": report.bytes_hashed,
                    "audit_records": log.records,
                    "checkpoints": log.checkpoints,
                    "problems": report.problems,
                    "notes": report.notes,
                    "repaired": report.repaired,
                }
            )
        )
    else:
        for line in report.repaired:
            err.print(f"repaired: {line}", markup=False, soft_wrap=True)
        for line in report.notes:
            err.print(f"note: {line}", markup=False, soft_wrap=True)
        for line in report.problems:
            err.print(f"PROBLEM: {line}", markup=False, soft_wrap=True)
        verdict = "OK" if report.ok else f"FAILED ({len(report.problems)} problems)"
        copies = f", {report.copies} redacted copies" if report.copies else ""
        copies += f", {report.released} released files" if report.released else ""
        out.print(
            f"{verdict}: {report.recordings} recordings{copies} ({report.bytes_hashed} bytes) "
            f"re-hashed; {log.records} audit records under {log.checkpoints} signed "
            "checkpoints recomputed.",
            markup=False,
        )
    if not report.ok:
        raise typer.Exit(1)


def _verify_audit_only(since: int | None, as_json: bool) -> None:
    """``bodycam verify --incremental`` / ``--since-checkpoint N``: the new audit records."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        report = guarded(lambda: verify_audit_since(ctx, actor, since))
    log = report.log
    assert log is not None
    if as_json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "since_tree_size": log.since,
                    "tree_size": log.tree_size,
                    "audit_records": log.records,
                    "checkpoints": log.checkpoints,
                    "problems": report.problems,
                    "notes": report.notes,
                }
            )
        )
    else:
        for line in report.notes:
            err.print(f"note: {line}", markup=False, soft_wrap=True)
        for line in report.problems:
            err.print(f"PROBLEM: {line}", markup=False, soft_wrap=True)
        verdict = "OK" if report.ok else f"FAILED ({len(report.problems)} problems)"
        upto = f" (now verified up to {log.tree_size})" if report.ok else ""
        out.print(
            f"{verdict}: {log.records} audit records after tree size {log.since} under "
            f"{log.checkpoints} signed checkpoints recomputed{upto}; blobs not re-read.",
            markup=False,
            soft_wrap=True,
        )
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("proof")
def audit_proof(
    record_id: str,
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Print an inclusion proof of one audit record, checkable by tools/verify_proof.py."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        doc = guarded(lambda: proof_document(ctx.sessions, ctx.signer, actor, record_id))
        text = json.dumps(doc, indent=2)
        if output:
            write_export(output, text + "\n")
            err.print(f"Wrote the proof of {record_id} to {output}.")
        else:
            print(text)


@audit_app.command("export")
def audit_export(
    recording_id: str,
    fmt: Annotated[str, typer.Option("--format", help="csv or pdf.")] = "csv",
    output: Annotated[Path | None, typer.Option("--out", help="Output file.")] = None,
) -> None:
    """Export a recording's audit trail as CSV or a court-ready PDF."""
    if fmt not in ("csv", "pdf"):
        fail(f"Unknown format {fmt!r}; choose csv or pdf.")
    dest = output or Path(f"audit-{recording_id}.{fmt}")
    if dest.exists():
        fail(f"{dest} already exists; choose a new file name.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        seal(ctx.sessions, ctx.signer)
        trail = guarded(
            lambda: recording_trail(ctx.sessions, actor, recording_id, export_format=fmt)
        )
        if fmt == "csv":
            write_export(dest, trail_csv(trail))
        else:
            with ctx.sessions() as s:
                rec = s.get(Recording, recording_id)
                sha = rec.sha256 if rec else "(recording no longer held)"
                title = rec.title if rec else ""
            write_export(
                dest,
                trail_pdf(
                    trail,
                    agency=ctx.settings.agency_name,
                    recording_sha256=sha,
                    title=title,
                    public_key_b64=public_key_b64(ctx.signer.public_key),
                    generated_by=actor.username,
                    generated_at=utcnow(),
                ),
            )
        err.print(f"Wrote {len(trail.entries)} audit records of {recording_id} to {dest}.")


@audit_app.command("trail")
def audit_trail(recording_id: str) -> None:
    """Print a recording's audit trail as JSON lines."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        trail = guarded(lambda: recording_trail(ctx.sessions, actor, recording_id))
        for e in trail.entries:
            print(
                json.dumps(
                    {
                        "seq": e.seq,
                        "id": e.id,
                        "at": rfc3339(e.at),
                        "actor": e.actor,
                        "role": e.role,
                        "via": e.via,
                        "action": e.action,
                        "details": e.details,
                    }
                )
            )


@audit_app.command("seal")
def audit_seal() -> None:
    """Seal pending audit records under a new signed checkpoint."""
    with open_context(seal_on_exit=False) as ctx:
        cp = seal(ctx.sessions, ctx.signer)
        print(cp.signed_note if cp else "Nothing to seal.")


@audit_app.command("public-key")
def audit_public_key() -> None:
    """Print the PEM public key that signs checkpoints (give it to verifiers)."""
    with open_context(seal_on_exit=False) as ctx:
        print(public_key_pem(ctx.signer.private_key), end="")
        err.print(f"key name: {ctx.signer.key_name}")


__all__ = ["audit_app", "verify_command"]

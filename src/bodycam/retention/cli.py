"""``bodycam retention``: the schedule, legal holds, the deletion queue."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bodycam.cli_support import current_actor, fail, guarded, open_context, out
from bodycam.ids import rfc3339
from bodycam.retention import cases, service
from bodycam.retention.models import Case, LegalHold

retention_app = typer.Typer(
    help="Retention: schedule, legal holds, deletion queue.", no_args_is_help=True
)
schedule_app = typer.Typer(help="The retention schedule (TOML).", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds on recordings, cases and queries.", no_args_is_help=True)
case_app = typer.Typer(
    help="Cases: an open case holds its footage automatically.", no_args_is_help=True
)
retention_app.add_typer(schedule_app, name="schedule")
retention_app.add_typer(hold_app, name="hold")
retention_app.add_typer(case_app, name="case")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@schedule_app.command("import")
def schedule_import(
    path: Annotated[Path, typer.Argument(help="Schedule file (TOML).")],
    note: Annotated[str, typer.Option(help="Why the schedule changes (kept with it).")] = "",
    as_json: AsJson = False,
) -> None:
    """Make FILE the schedule in force: a new version; every due date is recomputed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path} cannot be read: {exc}.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        change = guarded(lambda: service.import_schedule(ctx.sessions, actor, text, note=note))
    data = {
        "version": change.version,
        "sha256": change.sha256,
        "created": change.created,
        "changed": [{"category": c, "old": o, "new": n} for c, o, n in change.changed],
        "recomputed": change.recomputed,
        "queued": len(change.queue.queued),
        "cancelled": len(change.queue.cancelled),
    }
    if as_json:
        print(json.dumps(data))
        return
    out.print(f"Schedule version {change.version} (sha256 {change.sha256}) in force.", markup=False)
    for c, o, n in change.changed:
        out.print(f"  {c}: {o or 'none'} -> {n}", markup=False)
    out.print(
        f"{change.recomputed} due dates recomputed; {len(change.queue.queued)} recording(s) "
        f"newly in the deletion queue for review, {len(change.queue.cancelled)} taken out.",
        markup=False,
    )


@schedule_app.command("export")
def schedule_export(
    path: Annotated[Path | None, typer.Argument(help="Write here (default: print).")] = None,
) -> None:
    """Print (or write) the schedule in force as TOML."""
    with open_context() as ctx:
        text = guarded(lambda: service.export_schedule(ctx.sessions, current_actor(ctx)))
    if path is None:
        print(text, end="")
    else:
        path.write_text(text, encoding="utf-8")


def _hold_json(h: LegalHold) -> dict[str, object]:
    return {
        "id": h.id,
        "kind": h.kind,
        "target": h.target,
        "reason_type": h.reason_type,
        "reason": h.reason,
        "source": h.source,
        "query": json.loads(h.query) if h.query else None,
        "placed_at": rfc3339(h.placed_at),
        "released_at": rfc3339(h.released_at) if h.released_at else None,
    }


def _day(value: str | None, option: str, tz: str) -> datetime | None:
    """A YYYY-MM-DD (or ISO date and time) option in the agency's time zone, as UTC."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date (use YYYY-MM-DD).")
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when


@hold_app.command("add")
def hold_add(
    reason: Annotated[str, typer.Option(help="Why (case, claim or request number...).")],
    recording: Annotated[str | None, typer.Option(help="Hold this recording.")] = None,
    case: Annotated[str | None, typer.Option(help="Hold every recording of this case.")] = None,
    officer: Annotated[
        str | None, typer.Option(help="Query hold: recordings of the officer with this badge.")
    ] = None,
    start_from: Annotated[
        str | None, typer.Option("--from", help="Query hold: recorded on or after (YYYY-MM-DD).")
    ] = None,
    start_to: Annotated[
        str | None, typer.Option("--to", help="Query hold: recorded before (YYYY-MM-DD).")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Query hold: in this category.")] = None,
    tag: Annotated[str | None, typer.Option(help="Query hold: with this tag.")] = None,
    kind: Annotated[
        str, typer.Option("--type", help="case, litigation, complaint, records_request, other.")
    ] = "case",
    as_json: AsJson = False,
) -> None:
    """Place a legal hold on one recording, a case number, or a query (--officer, --from,
    --to, --category, --tag: every recording matching all of them, now and later)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        query, tz = None, ctx.settings.timezone
        if any(v is not None for v in (officer, start_from, start_to, category, tag)):
            query = service.HoldQuery(
                officer, _day(start_from, "--from", tz), _day(start_to, "--to", tz), category, tag
            )
        hold = guarded(
            lambda: service.place_hold(
                ctx.sessions,
                actor,
                recording_id=recording,
                case=case,
                query=query,
                reason_type=kind,
                reason=reason,
            )
        )
    if as_json:
        print(json.dumps(_hold_json(hold)))
    else:
        out.print(
            f"Hold {hold.id} on {hold.kind} {hold.target} ({hold.reason_type}).", markup=False
        )


@hold_app.command("release")
def hold_release(
    hold_id: Annotated[str, typer.Argument(help="Hold id.")],
    reason: Annotated[str, typer.Option(help="Why the hold ends.")],
) -> None:
    """Release a legal hold; its recordings follow their schedule again."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        hold = guarded(lambda: service.release_hold(ctx.sessions, actor, hold_id, reason))
    out.print(f"Hold {hold.id} on {hold.kind} {hold.target} released.", markup=False)


@hold_app.command("list")
def hold_list(
    everything: Annotated[bool, typer.Option("--all", help="Released holds too.")] = False,
    as_json: AsJson = False,
) -> None:
    """List legal holds, newest first."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = guarded(lambda: service.list_holds(ctx.sessions, actor, include_released=everything))
    if as_json:
        for h in rows:
            print(json.dumps(_hold_json(h)))
        return
    table = Table("id", "on", "target", "type", "reason", "by", "placed", "released")
    for h in rows:
        table.add_row(
            h.id,
            h.kind,
            h.target,
            h.reason_type,
            h.reason,
            "automatic" if h.source != "manual" else "hand",
            rfc3339(h.placed_at),
            rfc3339(h.released_at) if h.released_at else "",
        )
    out.print(table)


def _case_json(c: Case) -> dict[str, object]:
    return {
        "case_number": c.case_number,
        "title": c.title,
        "status": c.status,
        "opened_at": rfc3339(c.opened_at),
        "closed_at": rfc3339(c.closed_at) if c.closed_at else None,
        "close_reason": c.close_reason,
    }


@case_app.command("open")
def case_open(
    number: Annotated[str, typer.Argument(help="Case number.")],
    title: Annotated[str, typer.Option(help="What the case is about.")] = "",
    as_json: AsJson = False,
) -> None:
    """Open (or reopen) a case: its recordings are held until it closes."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        case = guarded(lambda: cases.open_case(ctx.sessions, actor, number, title))
    if as_json:
        print(json.dumps(_case_json(case)))
    else:
        out.print(f"Case {case.case_number} is open; its recordings are held.", markup=False)


@case_app.command("close")
def case_close(
    number: Annotated[str, typer.Argument(help="Case number.")],
    reason: Annotated[str, typer.Option(help="Why it closes (disposition).")],
    as_json: AsJson = False,
) -> None:
    """Close a case: its automatic hold ends (holds placed by hand stay)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        case = guarded(lambda: cases.close_case(ctx.sessions, actor, number, reason))
    if as_json:
        print(json.dumps(_case_json(case)))
    else:
        out.print(
            f"Case {case.case_number} is closed; its automatic hold is released.", markup=False
        )


@case_app.command("list")
def case_list(
    everything: Annotated[bool, typer.Option("--all", help="Closed cases too.")] = False,
    as_json: AsJson = False,
) -> None:
    """List cases, open ones first."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = guarded(lambda: cases.list_cases(ctx.sessions, actor, include_closed=everything))
    if as_json:
        for c in rows:
            print(json.dumps(_case_json(c)))
        return
    table = Table("case", "title", "status", "opened", "closed")
    for c in rows:
        table.add_row(
            c.case_number,
            c.title,
            c.status,
            rfc3339(c.opened_at),
            rfc3339(c.closed_at) if c.closed_at else "",
        )
    out.print(table)


@retention_app.command("queue")
def queue_command(
    days: Annotated[int, typer.Option(help="Also list what becomes due within N days.")] = 30,
    as_json: AsJson = False,
) -> None:
    """What is due for deletion now and in the next N days, under which rule, and holds."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        guarded(lambda: service.refresh_queue(ctx.sessions))
        rows = guarded(lambda: service.upcoming(ctx.sessions, actor, days=days))
    if as_json:
        for r in rows:
            print(
                json.dumps(
                    {
                        "recording_id": r.recording_id,
                        "title": r.title,
                        "recorded_start": rfc3339(r.recorded_start),
                        "due_at": rfc3339(r.due_at),
                        "rule": r.basis,
                        "status": r.status,
                        "held": r.held,
                    }
                )
            )
        return
    table = Table("recording", "title", "recorded", "due", "rule", "status")
    for r in rows:
        table.add_row(
            r.recording_id, r.title, rfc3339(r.recorded_start), rfc3339(r.due_at), r.basis, r.status
        )
    out.print(table)


@retention_app.command("run")
def run_command(
    approve: Annotated[
        bool, typer.Option("--approve", help="Approve the pending deletions (default: dry run).")
    ] = False,
    recording: Annotated[
        list[str] | None, typer.Option(help="Approve only these recordings (repeatable).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Dry run (default): list what would be deleted and why. --approve: approve it.

    Approved deletions stay recoverable for 7 days (`retention undo`) before the purge.
    """
    with open_context() as ctx:
        actor = current_actor(ctx)
        if not approve:
            guarded(lambda: service.refresh_queue(ctx.sessions))
            rows = [
                r
                for r in guarded(lambda: service.upcoming(ctx.sessions, actor, days=0))
                if r.status == "pending"
            ]
            if as_json:
                print(
                    json.dumps(
                        [
                            {
                                "recording_id": r.recording_id,
                                "due_at": rfc3339(r.due_at),
                                "rule": r.basis,
                            }
                            for r in rows
                        ]
                    )
                )
                return
            for r in rows:
                out.print(
                    f"would delete {r.recording_id} ({r.title}): due "
                    f"{rfc3339(r.due_at)} under {r.basis}",
                    markup=False,
                )
            out.print(f"Dry run: {len(rows)} recording(s) would be deleted.", markup=False)
            return
        items = guarded(lambda: service.approve_deletions(ctx.sessions, actor, recording))
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "recording_id": i.recording_id,
                        "purge_after": rfc3339(i.purge_after) if i.purge_after else None,
                    }
                    for i in items
                ]
            )
        )
        return
    for i in items:
        when = rfc3339(i.purge_after) if i.purge_after else ""
        out.print(f"approved {i.recording_id}: recoverable until {when}", markup=False)
    out.print(f"{len(items)} deletion(s) approved.", markup=False)


@retention_app.command("undo")
def undo_command(
    recording_id: Annotated[str, typer.Argument(help="Recording whose deletion to undo.")],
    reason: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """Take an approved deletion back within the 7-day recovery window."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        guarded(lambda: service.undo_deletion(ctx.sessions, actor, recording_id, reason))
    out.print(
        f"Deletion of {recording_id} undone; it is back in the queue for review.", markup=False
    )


@retention_app.command("purge")
def purge_command(
    as_json: AsJson = False,
) -> None:
    """Destroy approved deletions whose 7-day recovery window has passed, with certificates.

    `bodycam worker` does this every round; this runs it once, now.
    """
    from bodycam.auth.permissions import Permission
    from bodycam.retention.purge import purge_due

    with open_context() as ctx:
        actor = current_actor(ctx)
        guarded(lambda: actor.require(Permission.RETENTION_APPROVE, "run the purge"))
        report = guarded(lambda: purge_due(ctx))
    if as_json:
        print(
            json.dumps(
                {
                    "purged": report.purged,
                    "certificates": report.certificates,
                    "blobs_deleted": report.blobs_deleted,
                }
            )
        )
        return
    for rid, cid in zip(report.purged, report.certificates, strict=True):
        out.print(f"purged {rid}: destruction certificate {cid}", markup=False)
    out.print(
        f"{len(report.purged)} recording(s) purged, {report.blobs_deleted} blob(s) destroyed.",
        markup=False,
    )


@retention_app.command("certificate")
def certificate_command(
    certificate_id: Annotated[
        str | None, typer.Argument(help="Certificate id (default: list them all).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show destruction certificates, each checked against the deployment's public key."""
    from bodycam.auth.permissions import Permission
    from bodycam.retention.purge import certificates, verify_certificate

    with open_context() as ctx:
        actor = current_actor(ctx)
        guarded(lambda: actor.require(Permission.RETENTION_VIEW, "see destruction certificates"))
        rows = certificates(ctx)
        public = ctx.signer.public_key
    if certificate_id is not None:
        rows = [c for c in rows if c.id == certificate_id]
        if not rows:
            fail(f"There is no destruction certificate {certificate_id}.")
    bad = 0
    for cert in rows:
        try:
            statement = verify_certificate(cert, public)
            verdict = "verified"
        except ValueError as exc:
            statement, verdict, bad = {}, f"NOT VERIFIED: {exc}", bad + 1
        if as_json:
            print(
                json.dumps(
                    {
                        "id": cert.id,
                        "verified": verdict == "verified",
                        "statement": statement,
                        "body": cert.body,
                        "signature": cert.signature,
                        "key_name": cert.key_name,
                    }
                )
            )
        else:
            out.print(
                f"certificate {cert.id} for recording {cert.recording_id}: {verdict}", markup=False
            )
            if certificate_id is not None:
                out.print(cert.body, markup=False)
                out.print(f"signature ({cert.key_name}): {cert.signature}", markup=False)
    if bad:
        raise typer.Exit(1)


@retention_app.command("archive")
def archive_command(
    recordings: Annotated[
        list[str] | None, typer.Argument(help="Recordings to move (default: the untouched).")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(help="Untouched for this many days (default BODYCAM_ARCHIVE_AFTER_DAYS)."),
    ] = None,
) -> None:
    """Move originals to the archive tier: those named, or all untouched for N days."""
    from bodycam.retention import tiers

    with open_context() as ctx:
        actor = current_actor(ctx)
        moved = guarded(lambda: tiers.archive(ctx, actor, recordings or None, days=days))
    for rid in moved:
        out.print(f"archived {rid}", markup=False)
    out.print(f"{len(moved)} recording(s) moved to the archive tier.", markup=False)


@retention_app.command("restore")
def restore_command(
    recording_id: Annotated[str, typer.Argument(help="Archived recording to bring back.")],
) -> None:
    """Bring an archived original back to the hot tier (same bytes, same SHA-256)."""
    from bodycam.retention import tiers

    with open_context() as ctx:
        actor = current_actor(ctx)
        rec = guarded(lambda: tiers.restore(ctx, actor, recording_id))
    out.print(f"restored {rec.id} (sha256 {rec.sha256}) to the hot tier.", markup=False)


@retention_app.command("tiers")
def tiers_command(as_json: AsJson = False) -> None:
    """Recordings and bytes held in each storage tier (feeds the cost model)."""
    from bodycam.retention import tiers

    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = guarded(lambda: tiers.usage(ctx, actor))
    if as_json:
        print(
            json.dumps(
                [{"tier": r.tier, "recordings": r.recordings, "bytes": r.bytes} for r in rows]
            )
        )
        return
    for r in rows:
        out.print(f"{r.tier}: {r.recordings} recordings, {r.bytes} bytes", markup=False)

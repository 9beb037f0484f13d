"""``bodycam disclosure``: public-records requests, their deadlines, footage and appeals."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from bodycam.cli_support import current_actor, fail, guarded, open_context, out
from bodycam.disclosure import appeals, deadlines, footage, report, requests, search, workflow
from bodycam.disclosure.requests import RequestView
from bodycam.evidence.service import Vault
from bodycam.ids import rfc3339

disclosure_app = typer.Typer(
    help="Public-records requests: intake, deadlines, footage, appeals.", no_args_is_help=True
)
request_app = typer.Typer(
    help="Requests: log, move through steps, find footage.", no_args_is_help=True
)
appeal_app = typer.Typer(help="Appeals of request decisions.", no_args_is_help=True)
clock_app = typer.Typer(help="The statutory clocks per jurisdiction (TOML).", no_args_is_help=True)
disclosure_app.add_typer(request_app, name="request")
disclosure_app.add_typer(appeal_app, name="appeal")
disclosure_app.add_typer(clock_app, name="clock")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Number = Annotated[str, typer.Argument(help="Request number, e.g. R-2026-000123.")]


def _when(value: str | None, option: str) -> datetime | None:
    """A date or date and time option; without a zone it is read in the jurisdiction's."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM).")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: datetime | None) -> str | None:
    return rfc3339(value) if value else None


def _request_json(v: RequestView) -> dict[str, Any]:
    r, d = v.request, v.deadlines
    return {
        "number": r.number,
        "status": r.status,
        "requester": {
            "name": r.requester_name,
            "contact": r.requester_contact,
            "type": r.requester_type,
        },
        "description": r.description,
        "range_start": _time(r.range_start),
        "range_end": _time(r.range_end),
        "location": r.location,
        "officers": r.officer_badges,
        "events": r.event_numbers,
        "received_at": rfc3339(r.received_at),
        "jurisdiction": r.jurisdiction,
        "critical_incident": r.critical_incident,
        "incident_at": _time(r.incident_at),
        "exemption": r.exemption,
        "held": v.held,
        "deadlines": {
            "received": _day(d.received),
            "acknowledge_due": _day(d.acknowledge_due),
            "acknowledged": _day(d.acknowledged),
            "decide_due_original": _day(d.decide_due_original),
            "decide_due": _day(d.decide_due),
            "extension_days": r.extension_days,
            "critical_due": _day(d.critical_due),
            "appeal_due": _day(d.appeal_due),
            "closed": _day(d.closed),
            "business_days_open": d.business_days_open,
            "calendar_days_open": d.calendar_days_open,
            "late": d.late,
            "overdue": list(d.overdue),
            "missed": list(d.missed),
            "closed_late": d.closed_late,
            "next_due": _day(d.next_due),
            "next_due_what": d.next_due_what,
        },
        "recordings": [
            {
                "id": a.recording_id,
                "title": a.title,
                "officer": a.officer_badge,
                "recorded_start": rfc3339(a.recorded_start),
                "attached_at": rfc3339(a.attached_at),
            }
            for a in v.recordings
        ],
        "appeals": [
            {
                "id": a.id,
                "filed_at": rfc3339(a.filed_at),
                "grounds": a.grounds,
                "outcome": a.outcome,
                "decided_at": _time(a.decided_at),
                "note": a.note,
            }
            for a in v.appeals
        ],
        "history": [
            {
                "at": rfc3339(st.at),
                "by": st.username,
                "kind": st.kind,
                "from": st.from_status,
                "to": st.to_status,
                "detail": st.detail,
            }
            for st in v.steps
        ],
    }


def _say(text: str) -> None:
    """Print a line as it is: no markup, no highlighting, never wrapped mid-sentence."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _print_request(v: RequestView) -> None:
    r, d = v.request, v.deadlines
    _say(f"Request {r.number}: {r.status}" + (" (LATE)" if d.late else ""))
    _say(f"  requester: {r.requester_name} ({r.requester_type}) {r.requester_contact}".rstrip())
    _say(f"  asks for: {r.description}")
    if r.range_start and r.range_end:
        _say(f"  time range: {rfc3339(r.range_start)} to {rfc3339(r.range_end)}")
    if r.officer_badges:
        _say(f"  officers: {', '.join(r.officer_badges)}")
    if r.event_numbers:
        _say(f"  events: {', '.join(r.event_numbers)}")
    if r.location:
        _say(f"  location: {r.location}")
    _say(f"  jurisdiction: {r.jurisdiction}; received {d.received}")
    ack = f"acknowledged {d.acknowledged}" if d.acknowledged else "not acknowledged"
    _say(f"  acknowledge by {d.acknowledge_due} ({ack})")
    if d.decide_due is not None:
        extended = f", extended {r.extension_days} business days" if r.extension_days else ""
        _say(f"  decide by {d.decide_due}{extended}")
    else:
        _say("  decide by: no fixed deadline in this jurisdiction")
    if d.critical_due is not None:
        _say(f"  critical incident: release by {d.critical_due}")
    if d.appeal_due is not None:
        _say(f"  appeal decision due {d.appeal_due}")
    closed = f", closed {d.closed}" if d.closed else ""
    _say(f"  open {d.business_days_open} business days ({d.calendar_days_open} calendar){closed}")
    for what in d.overdue:
        _say(f"  OVERDUE: {what}")
    if d.closed_late:
        _say(f"  closed late: {'; '.join(d.missed)}")
    if r.exemption:
        _say(f"  exemption: {r.exemption}")
    _say(f"  footage held for it: {'yes' if v.held else 'no'}")
    _say(f"  recordings attached: {len(v.recordings)}")
    for a in v.recordings:
        _say(
            f"    {a.recording_id}  {rfc3339(a.recorded_start)}  {a.officer_badge or ''}  {a.title}"
        )
    for ap in v.appeals:
        outcome = f"{ap.outcome} {_time(ap.decided_at)}" if ap.outcome else "pending"
        _say(f"  appeal filed {rfc3339(ap.filed_at)}: {ap.grounds} -> {outcome}")
    if v.steps:
        _say("  history:")
        for st in v.steps:
            move = f"{st.from_status} -> {st.to_status}" if st.to_status else st.kind
            _say(f"    {rfc3339(st.at)}  {st.username}  {move}  {st.detail}".rstrip())


def _show(v: RequestView, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_request_json(v)))
    else:
        _print_request(v)


# --- requests -----------------------------------------------------------------------------


@request_app.command("new")
def request_new(
    requester: Annotated[str, typer.Option(help="The requester's name.")],
    description: Annotated[str, typer.Option(help="What footage is asked for.")],
    kind: Annotated[
        str, typer.Option("--type", help="Requester type: public, media, subject, attorney.")
    ] = "public",
    contact: Annotated[str, typer.Option(help="How to reach the requester.")] = "",
    start: Annotated[str | None, typer.Option("--from", help="Time range start.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Time range end (exclusive).")] = None,
    location: Annotated[str, typer.Option(help="Place, as free text.")] = "",
    officer: Annotated[
        list[str] | None, typer.Option(help="An officer's badge (repeatable).")
    ] = None,
    event: Annotated[
        list[str] | None, typer.Option(help="A dispatch (CAD) event number (repeatable).")
    ] = None,
    received: Annotated[
        str | None, typer.Option(help="When it arrived (default now; backdate paper requests).")
    ] = None,
    jurisdiction: Annotated[
        str | None, typer.Option(help="Whose clock applies (default: the clock file's).")
    ] = None,
    critical: Annotated[
        bool, typer.Option("--critical", help="Critical incident (shooting, serious force).")
    ] = False,
    incident: Annotated[
        str | None, typer.Option(help="When the critical incident happened (default: --from).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Log a public-records request; prints its number and due dates."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        view = guarded(
            lambda: requests.create_request(
                ctx.sessions,
                actor,
                requester_name=requester,
                requester_type=kind,
                description=description,
                requester_contact=contact,
                range_start=_when(start, "--from"),
                range_end=_when(end, "--to"),
                location=location,
                officers=officer or [],
                events=event or [],
                received=_when(received, "--received"),
                jurisdiction=jurisdiction,
                critical_incident=critical,
                incident_at=_when(incident, "--incident"),
            )
        )
    if as_json:
        print(json.dumps(_request_json(view)))
        return
    d = view.deadlines
    due = f", decide by {d.decide_due}" if d.decide_due else ""
    crit = f", critical-incident release by {d.critical_due}" if d.critical_due else ""
    _say(
        f"Request {view.number} logged ({view.request.jurisdiction}): acknowledge by "
        f"{d.acknowledge_due}{due}{crit}."
    )


@request_app.command("list")
def request_list(
    status: Annotated[str | None, typer.Option(help="Only this status (or open, closed).")] = None,
    late: Annotated[bool, typer.Option("--late", help="Only requests overdue now.")] = False,
    as_json: AsJson = False,
) -> None:
    """List requests, oldest first, with their next deadline."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = guarded(
            lambda: requests.list_requests(ctx.sessions, actor, status=status, late=late)
        )
    if as_json:
        for v in rows:
            print(json.dumps(_request_json(v)))
        return
    table = Table(
        Column("number", no_wrap=True),
        "status",
        "requester",
        Column("received", no_wrap=True),
        "next due",
        "open (bd)",
        "late",
    )
    for v in rows:
        d = v.deadlines
        nxt = f"{d.next_due} {d.next_due_what}" if d.next_due else ""
        table.add_row(
            v.number,
            v.status,
            f"{v.request.requester_name} ({v.request.requester_type})",
            d.received.isoformat(),
            nxt,
            str(d.business_days_open),
            "LATE" if d.late else "",
        )
    out.print(table)


@request_app.command("show")
def request_show(number: Number, as_json: AsJson = False) -> None:
    """Show a request: its due dates, days open, footage, appeals and history."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        view = guarded(lambda: requests.get_request(ctx.sessions, actor, number))
    _show(view, as_json)


@request_app.command("status")
def request_status(
    number: Number,
    status: Annotated[
        str,
        typer.Argument(
            help="acknowledged, searching, redacting, review, released_full, "
            "released_partial, denied or withdrawn."
        ),
    ],
    exemption: Annotated[
        str, typer.Option(help="The exemption cited (required to deny or release in part).")
    ] = "",
    note: Annotated[str, typer.Option(help="A note kept in the history.")] = "",
    as_json: AsJson = False,
) -> None:
    """Move a request to its next step (a wrong step is refused, naming the allowed ones)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        view = guarded(
            lambda: workflow.change_status(
                ctx.sessions, actor, number, status, exemption=exemption, note=note
            )
        )
    if as_json:
        print(json.dumps(_request_json(view)))
        return
    held = "its footage stays held" if view.held else "its automatic holds are released"
    _say(f"Request {view.number} is now {view.status}; {held}.")


@request_app.command("search")
def request_search(number: Number, as_json: AsJson = False) -> None:
    """Find footage matching the request (time range, officers, events, location)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        vault = Vault.from_context(ctx)
        result = guarded(lambda: search.search_footage(vault, actor, number))
    if as_json:
        print(
            json.dumps(
                {
                    "number": result.number,
                    "candidates": [
                        {
                            "id": c.recording_id,
                            "title": c.title,
                            "officer": c.officer_badge,
                            "category": c.category,
                            "recorded_start": rfc3339(c.recorded_start),
                            "recorded_end": rfc3339(c.recorded_end),
                            "reasons": list(c.reasons),
                            "attached": c.attached,
                        }
                        for c in result.candidates
                    ],
                    "without_location": result.without_location,
                    "truncated": result.truncated,
                }
            )
        )
        return
    for c in result.candidates:
        mark = "  (attached)" if c.attached else ""
        _say(
            f"{c.recording_id}  {rfc3339(c.recorded_start)}  {c.officer_badge or '-'}  "
            f"{c.category}  {c.title}{mark}"
        )
        _say(f"    why: {'; '.join(c.reasons)}")
    _say(f"{len(result.candidates)} candidate(s) for {result.number}.")
    if result.without_location:
        _say(
            f"{result.without_location} more in the time range and officers do not match "
            "the location text."
        )
    if result.truncated:
        _say("More matched than shown; narrow the request's criteria.")


@request_app.command("attach")
def request_attach(
    number: Number,
    recordings: Annotated[list[str], typer.Argument(help="Recording ids.")],
) -> None:
    """Attach recordings to a request; they are held while it is open."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        vault = Vault.from_context(ctx)
        added = guarded(lambda: footage.attach(vault, actor, number, recordings))
    already = len(set(recordings)) - len(added)
    extra = f" ({already} already attached)" if already else ""
    _say(f"{len(added)} recording(s) attached to {number.strip().upper()}{extra}.")


@request_app.command("detach")
def request_detach(
    number: Number,
    recordings: Annotated[list[str], typer.Argument(help="Recording ids.")],
    reason: Annotated[str, typer.Option(help="Why it is not responsive.")] = "",
) -> None:
    """Take recordings off a request; the request's hold on them ends."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        gone = guarded(
            lambda: footage.detach(ctx.sessions, actor, number, recordings, reason=reason)
        )
    _say(f"{len(gone)} recording(s) detached from {number.strip().upper()}.")


@request_app.command("extend")
def request_extend(
    number: Number,
    days: Annotated[int, typer.Option(help="Business days to add to the decision deadline.")],
    reason: Annotated[str, typer.Option(help="Why more time is needed.")],
    as_json: AsJson = False,
) -> None:
    """Extend a request's decision deadline, within its jurisdiction's limit."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        view = guarded(lambda: workflow.extend_deadline(ctx.sessions, actor, number, days, reason))
    if as_json:
        print(json.dumps(_request_json(view)))
        return
    _say(
        f"Request {view.number}: decide by {view.deadlines.decide_due} "
        f"(extended {view.request.extension_days} business days in all)."
    )


# --- appeals ------------------------------------------------------------------------------


@appeal_app.command("file")
def appeal_file(
    number: Number,
    grounds: Annotated[str, typer.Option(help="What the requester contests.")],
    filed: Annotated[
        str | None, typer.Option(help="When it was filed (default now; may be backdated).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """File an appeal of a request's decision (or of a missed deadline)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        view = guarded(
            lambda: appeals.file_appeal(
                ctx.sessions, actor, number, grounds, filed=_when(filed, "--filed")
            )
        )
    if as_json:
        print(json.dumps(_request_json(view)))
        return
    _say(
        f"Appeal of {view.number} filed; decide by {view.deadlines.appeal_due}. Its footage "
        "is held until the appeal is decided."
    )


@appeal_app.command("decide")
def appeal_decide(
    number: Number,
    outcome: Annotated[str, typer.Option(help="granted, denied or partly.")],
    note: Annotated[str, typer.Option(help="The decision's reasons.")] = "",
    as_json: AsJson = False,
) -> None:
    """Decide a request's pending appeal; granted (or partly) reopens a closed request."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        view = guarded(
            lambda: appeals.decide_appeal(ctx.sessions, actor, number, outcome, note=note)
        )
    if as_json:
        print(json.dumps(_request_json(view)))
        return
    _say(
        f"Appeal of {view.number} decided: {outcome.strip().lower()}; the request is {view.status}."
    )


# --- report and clocks --------------------------------------------------------------------


@disclosure_app.command("report")
def report_command(as_json: AsJson = False) -> None:
    """Open requests by age, due this week, late, days to close, share late, appeals."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        r = guarded(lambda: report.request_report(ctx.sessions, actor))
    if as_json:
        data = {
            "as_of": rfc3339(r.as_of),
            "total": r.total,
            "by_status": r.by_status,
            "open": r.open,
            "open_by_age": [
                {"business_days": b.label, "count": b.count, "requests": b.numbers}
                for b in r.open_by_age
            ],
            "due_this_week": {"count": len(r.due_this_week), "requests": r.due_this_week},
            "late": {"count": len(r.late), "requests": r.late},
            "days_to_close": {
                "decided": r.decided,
                "withdrawn_left_out": r.withdrawn,
                "median": r.median_days_to_close,
                "p90": r.p90_days_to_close,
                "values": r.days_to_close,
            },
            "closed_late": {
                "count": r.closed_late.count,
                "of": r.closed_late.of,
                "share": r.closed_late.value,
                "requests": r.closed_late_numbers,
            },
            "appeals": {
                "filed": r.appeals_filed,
                "outcomes": r.appeal_outcomes,
                "late": r.appeals_late,
                "granted_share": {
                    "count": r.appeal_granted_share.count,
                    "of": r.appeal_granted_share.of,
                    "share": r.appeal_granted_share.value,
                },
            },
        }
        print(json.dumps(data))
        return
    _say(f"Public-records requests as of {rfc3339(r.as_of)}: {r.total} in all, {r.open} open.")
    _say(
        "Open by age (business days): " + ", ".join(f"{b.label}: {b.count}" for b in r.open_by_age)
    )
    _say(f"Due this week: {len(r.due_this_week)} {' '.join(r.due_this_week)}".rstrip())
    _say(f"Late now: {len(r.late)} {' '.join(r.late)}".rstrip())
    if r.decided:
        _say(
            f"Days to close (business days, {r.decided} decided; {r.withdrawn} withdrawn left "
            f"out): median {r.median_days_to_close:g}, 90th percentile {r.p90_days_to_close:g}."
        )
        share = r.closed_late.value or 0.0
        _say(f"Closed late: {r.closed_late.count} of {r.closed_late.of} ({share:.0%}).")
    else:
        _say("Days to close: no request decided yet.")
    o = r.appeal_outcomes
    _say(
        f"Appeals: {r.appeals_filed} filed; {o['pending']} pending, {o['granted']} granted, "
        f"{o['partly']} partly granted, {o['denied']} denied; {r.appeals_late} late."
    )


@clock_app.command("import")
def clock_import(
    path: Annotated[Path, typer.Argument(help="Clock file (TOML).")],
    note: Annotated[str, typer.Option(help="Why the clocks change (kept with them).")] = "",
    as_json: AsJson = False,
) -> None:
    """Make FILE the clocks in force (a new version; every request's due dates follow it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path} cannot be read: {exc}.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        change = guarded(lambda: deadlines.import_clock(ctx.sessions, actor, text, note=note))
    if as_json:
        print(
            json.dumps(
                {
                    "version": change.version,
                    "sha256": change.sha256,
                    "default": change.default,
                    "jurisdictions": change.jurisdictions,
                }
            )
        )
        return
    _say(
        f"Clocks version {change.version} (sha256 {change.sha256}) in force: "
        f"{', '.join(change.jurisdictions)}; default {change.default}."
    )


@clock_app.command("export")
def clock_export(
    path: Annotated[Path | None, typer.Argument(help="Write here (default: print).")] = None,
) -> None:
    """Print (or write) the clock file in force (the built-in example before any import)."""
    with open_context() as ctx:
        text = guarded(lambda: deadlines.export_clock(ctx.sessions, current_actor(ctx)))
    if path is None:
        print(text, end="")
    else:
        path.write_text(text, encoding="utf-8")


@clock_app.command("versions")
def clock_versions(as_json: AsJson = False) -> None:
    """List every imported version of the clocks, newest first."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = guarded(lambda: deadlines.clock_versions(ctx.sessions, actor))
    if as_json:
        for v in rows:
            print(
                json.dumps(
                    {
                        "version": v.version,
                        "sha256": v.sha256,
                        "note": v.note,
                        "by": v.created_by,
                        "at": rfc3339(v.created_at),
                    }
                )
            )
        return
    if not rows:
        _say("No clock file imported; the built-in example is in force.")
    for v in rows:
        _say(f"version {v.version}  {rfc3339(v.created_at)}  {v.created_by}  {v.sha256}  {v.note}")

"""``bodycam compliance review``: draw, perform and report supervisor video reviews."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bodycam.cli_support import current_actor, err, fail, guarded, open_context, out
from bodycam.ids import rfc3339

if TYPE_CHECKING:
    from bodycam.compliance.review import Drawn, ReviewDetail, ReviewRow

review_app = typer.Typer(
    help="Supervisor review: a random sample of each officer's videos per cycle.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CycleOption = Annotated[
    str, typer.Option("--cycle", help="A month (2026-11) or an ISO week (2026-W47).")
]
T = TypeVar("T")


def _call(fn: Callable[[], T]) -> T:
    """Run a review service call; its errors end the command with their sentence."""
    from bodycam.compliance.review import ReviewError

    try:
        return guarded(fn)
    except ReviewError as exc:
        fail(str(exc))


def _local(value: datetime | None, tz: str) -> str:
    return "" if value is None else f"{value.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"


def _who(name: str | None, badge: str | None) -> str:
    return f"{badge} {name}" if badge else (name or "")


def _drawn_json(d: Drawn) -> dict[str, Any]:
    return {
        "review": d.review_id,
        "recording": d.recording_id,
        "officer": d.officer,
        "badge": d.badge,
        "squad": d.squad,
        "supervisor": d.supervisor,
        "required_event": d.required_event,
    }


@review_app.command("sample")
def sample_command(
    cycle: CycleOption,
    per_officer: Annotated[
        int, typer.Option(help="Recordings to review per officer (at most 50).")
    ] = 2,
    required_weight: Annotated[
        float,
        typer.Option(help="Draw weight of recordings linked to a required event (others: 1)."),
    ] = 3.0,
    as_json: AsJson = False,
) -> None:
    """Draw the cycle's recordings for review and assign them; a re-run adds only what is new."""
    from bodycam.compliance.review import Weights, sample_cycle, sampling_seed

    with open_context() as ctx:
        actor = current_actor(ctx)
        seed, tz = sampling_seed(ctx.settings), ctx.settings.timezone
        outcome = _call(
            lambda: sample_cycle(
                ctx.sessions,
                actor,
                cycle,
                seed=seed,
                tz=tz,
                per_officer=per_officer,
                weights=Weights(required=required_weight),
            )
        )
    c = outcome.cycle
    if as_json:
        data = {
            "cycle": c.name,
            "first_day": c.first_day.isoformat(),
            "last_day": c.last_day.isoformat(),
            "per_officer": outcome.per_officer,
            "officers": outcome.officers,
            "created": [_drawn_json(d) for d in outcome.created],
            "assigned": [_drawn_json(d) for d in outcome.assigned],
            "held": outcome.held,
            "unassigned": outcome.unassigned,
        }
        print(json.dumps(data))
        return
    required = sum(d.required_event for d in outcome.created)
    out.print(
        f"Cycle {c.name} ({c.first_day} to {c.last_day}): "
        f"{outcome.officers} officer(s) with recordings; {len(outcome.created)} review(s) "
        f"drawn ({required} linked to a required event), {outcome.held} held from earlier "
        "runs.",
        markup=False,
        soft_wrap=True,
    )
    per_supervisor = Counter(d.supervisor for d in [*outcome.created, *outcome.assigned])
    for name, n in sorted(per_supervisor.items(), key=lambda kv: kv[0] or ""):
        if name is not None:
            out.print(f"  {name}: {n} new", markup=False, soft_wrap=True)
    for d in outcome.assigned:
        out.print(
            f"Earlier review {d.review_id} of {d.officer} now goes to "
            f"{d.supervisor or 'no one (the squad has no supervisor)'}.",
            markup=False,
            soft_wrap=True,
        )
    for squad, n in sorted(outcome.unassigned.items()):
        err.print(
            f"{squad} has no supervisor: {n} review(s) left unassigned; add a supervisor to "
            "the squad and run sample again.",
            markup=False,
            soft_wrap=True,
        )


def _row_json(row: ReviewRow) -> dict[str, Any]:
    from bodycam.compliance.review_models import CHECKLIST

    r = row.review
    return {
        "id": r.id,
        "cycle": r.cycle,
        "status": r.status,
        "officer": row.officer,
        "badge": row.badge,
        "squad": row.squad,
        "supervisor": row.supervisor,
        "recording": r.recording_id,
        "required_event": r.required_event,
        "events": r.events,
        "answers": ({k: getattr(r, k) for k in CHECKLIST} if r.status == "done" else None),
        "expected_category": r.expected_category,
        "findings": row.findings,
        "notes": r.notes,
        "skip_reason": r.skip_reason,
        "reviewed_by": row.reviewed_by,
        "reviewed_at": rfc3339(r.reviewed_at) if r.reviewed_at else None,
    }


@review_app.command("list")
def list_command(
    cycle: Annotated[
        str | None, typer.Option(help="Only this cycle (2026-11 or 2026-W47).")
    ] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only the reviews assigned to me.")] = False,
    status: Annotated[str | None, typer.Option(help="pending, done or skipped.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Reviews you may read: a supervisor's own and squad's; every review for auditors."""
    from bodycam.compliance.review import list_reviews

    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = _call(
            lambda: list_reviews(ctx.sessions, actor, cycle=cycle, mine=mine, status=status)
        )
    if as_json:
        for row in rows:
            print(json.dumps(_row_json(row)))
        return
    table = Table()
    table.add_column("review", no_wrap=True)
    table.add_column("cycle", no_wrap=True)
    table.add_column("officer", no_wrap=True)
    if not mine:
        table.add_column("supervisor")
    table.add_column("status", no_wrap=True)
    table.add_column("outcome")
    for row in rows:
        r = row.review
        if r.status == "done":
            outcome = ", ".join(row.findings) or "nothing found"
        elif r.status == "skipped":
            outcome = r.skip_reason or ""
        else:
            outcome = "required event" if r.required_event else ""
        supervisor = row.supervisor or f"(unassigned, {row.squad or 'no squad'})"
        table.add_row(
            r.id,
            r.cycle,
            row.badge or row.officer,
            *([] if mine else [supervisor]),
            r.status,
            outcome,
        )
    out.print(table)


def _print_detail(d: ReviewDetail, tz: str) -> None:
    from bodycam.compliance.review_models import CHECKLIST

    row, r = d.row, d.row.review
    lines = [
        ("review", r.id),
        ("cycle", r.cycle),
        ("status", r.status),
        ("officer", _who(row.officer, row.badge)),
        ("squad", row.squad or "(no squad)"),
        ("supervisor", row.supervisor or "(unassigned)"),
        ("recording", r.recording_id),
    ]
    if d.recording is not None:
        rec = d.recording
        lines += [
            ("title", rec.title),
            ("category", rec.category),
            ("recorded", f"{_local(rec.recorded_start, tz)} ({rec.duration_s:.0f} s)"),
            ("camera", rec.camera_serial or ""),
        ]
    else:
        lines.append(("", "(you may not see this recording)"))
    if r.required_event:
        lines.append(("required events", ", ".join(r.events)))
    if r.status == "done":
        for item in CHECKLIST:
            value = getattr(r, item)
            shown = value if isinstance(value, str) else ("yes" if value else "no")
            if item == "wrong_category" and r.expected_category:
                shown += f" (should be {r.expected_category})"
            lines.append((item, shown))
        lines.append(("notes", r.notes))
    if r.status == "skipped":
        lines.append(("skip reason", r.skip_reason or ""))
    if r.reviewed_at is not None:
        lines.append(("reviewed", f"{_local(r.reviewed_at, tz)} by {row.reviewed_by}"))
    for label, value in lines:
        out.print(f"{label + ':' if label else '':20}{value}", markup=False, soft_wrap=True)


@review_app.command("show")
def show_command(
    review_id: Annotated[str, typer.Argument(help="Review id.")],
    as_json: AsJson = False,
) -> None:
    """A review, its checklist, and its recording's details when you may see the recording."""
    from bodycam.compliance.review import show_review

    with open_context() as ctx:
        actor = current_actor(ctx)
        tz = ctx.settings.timezone
        detail = _call(lambda: show_review(ctx.sessions, actor, review_id))
    if as_json:
        rec = detail.recording
        data = _row_json(detail.row) | {
            "recording_details": None
            if rec is None
            else {
                "title": rec.title,
                "category": rec.category,
                "recorded_start": rfc3339(rec.recorded_start),
                "recorded_end": rfc3339(rec.recorded_end),
                "duration_s": rec.duration_s,
                "camera_serial": rec.camera_serial,
            }
        }
        print(json.dumps(data))
        return
    _print_detail(detail, tz)


@review_app.command("complete")
def complete_command(
    review_id: Annotated[str, typer.Argument(help="Review id.")],
    answer: Annotated[
        list[str] | None,
        typer.Option(
            "--answer",
            "-a",
            help="ITEM=yes|no (professionalism=ok|concern; wrong_category=CATEGORY means "
            "yes, should be CATEGORY). Repeat for each item.",
        ),
    ] = None,
    no_other_findings: Annotated[
        bool,
        typer.Option(
            "--no-other-findings",
            help="Answer every item not given with no (professionalism: ok).",
        ),
    ] = False,
    category: Annotated[
        str | None, typer.Option(help="The category it should have had (wrong_category).")
    ] = None,
    notes: Annotated[str, typer.Option(help="Free notes kept with the review.")] = "",
    as_json: AsJson = False,
) -> None:
    """Answer the checklist of a pending review; every item needs an answer; final once done."""
    from bodycam.compliance.review import complete_review
    from bodycam.compliance.review_models import CHECKLIST

    answers: dict[str, str] = {}
    for given in answer or []:
        item, sep, value = given.partition("=")
        if not sep or not item.strip():
            fail(f"--answer takes ITEM=VALUE (e.g. muted=no), not {given!r}.")
        key = item.strip().lower().replace("-", "_")
        if key in answers:
            fail(f"--answer gives {key} twice.")
        answers[key] = value
    if no_other_findings:
        for item in CHECKLIST:
            answers.setdefault(item, "ok" if item == "professionalism" else "no")
    with open_context() as ctx:
        actor = current_actor(ctx)
        done = _call(
            lambda: complete_review(
                ctx.sessions, actor, review_id, answers, notes=notes, expected_category=category
            )
        )
    from bodycam.compliance.review import findings_of

    found = findings_of(done)
    if as_json:
        print(json.dumps({"id": done.id, "status": done.status, "findings": found}))
        return
    out.print(
        f"Review {done.id} completed: {', '.join(found) if found else 'nothing found'}.",
        markup=False,
        soft_wrap=True,
    )


@review_app.command("skip")
def skip_command(
    review_id: Annotated[str, typer.Argument(help="Review id.")],
    reason: Annotated[str, typer.Option(help="Why it is not reviewed (required; reported).")],
) -> None:
    """Close a pending review without reviewing it, with a reason; final."""
    from bodycam.compliance.review import skip_review

    with open_context() as ctx:
        actor = current_actor(ctx)
        done = _call(lambda: skip_review(ctx.sessions, actor, review_id, reason))
    out.print(f"Review {done.id} skipped: {done.skip_reason}", markup=False, soft_wrap=True)


@review_app.command("report")
def report_command(
    cycle: CycleOption,
    grace_days: Annotated[
        int, typer.Option(help="Days after the cycle ends before a pending review is overdue.")
    ] = 14,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Per supervisor and squad: assigned, completed, skipped, pending, overdue, findings."""
    from bodycam.compliance.review import FINDINGS
    from bodycam.compliance.review_report import report_csv, report_json, review_report

    if fmt not in ("table", "csv", "json"):
        fail(f"--format must be table, csv or json, not {fmt!r}.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        tz = ctx.settings.timezone
        report = _call(
            lambda: review_report(ctx.sessions, actor, cycle, tz=tz, grace_days=grace_days)
        )
    if fmt == "csv":
        print(report_csv(report), end="")
        return
    if fmt == "json":
        print(report_json(report))
        return
    c = report.cycle
    out.print(
        f"Cycle {c.name} ({c.first_day} to {c.last_day}): reviews still pending after "
        f"{_local(report.overdue_after, tz)} ({report.grace_days} days later) are overdue.",
        markup=False,
        soft_wrap=True,
    )
    table = Table()
    table.add_column("supervisor / squad", no_wrap=True)
    for name in ("assigned", "done", "skipped", "pending", "overdue"):
        table.add_column(name, justify="right", no_wrap=True)
    findings: list[tuple[str, str]] = []
    previous = None
    for line in report.lines:
        if previous is not None and line.by != previous:
            table.add_section()
        previous = line.by
        group = f"all ({line.group})" if line.by == "all" else line.group
        counts = (line.assigned, line.completed, line.skipped, line.pending, line.overdue)
        table.add_row(group, *(str(v) for v in counts))
        found = [(item, getattr(line, item)) for item in FINDINGS if getattr(line, item)]
        if found:
            findings.append((group, ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in found)))
    out.print(table)
    out.print("Findings in completed reviews:", markup=False, soft_wrap=True)
    for group, text in findings or [("", "none")]:
        out.print(f"  {group + ': ' if group else ''}{text}", markup=False, soft_wrap=True)
    skipped = [
        (line.group, r)
        for line in report.lines
        if line.by == "supervisor"
        for r in line.skip_reasons
    ]
    if skipped:
        out.print("Skipped, with reasons:", markup=False, soft_wrap=True)
        for group, reason in skipped:
            out.print(f"  {group}: {reason}", markup=False, soft_wrap=True)

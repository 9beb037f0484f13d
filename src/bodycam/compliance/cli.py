"""``bodycam compliance``: dispatch data import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bodycam.cli_support import EXIT_ERROR, current_actor, err, fail, guarded, open_context, out
from bodycam.compliance.review_cli import review_app

compliance_app = typer.Typer(
    help="Recording compliance: dispatch (CAD) data.", no_args_is_help=True
)
compliance_app.add_typer(review_app, name="review")


def _print_report(report: dict[str, Any]) -> None:
    out.print(
        f"{report['rows']} rows: {report['valid']} valid, {len(report['invalid'])} problem(s) "
        f"in invalid rows; {report['events']} events, {report['assignments']} officer "
        f"assignments ({report.get('matched', 0)} matched to officers, "
        f"{report.get('unmatched', 0)} unmatched).",
        markup=False,
    )
    if report.get("imported"):
        out.print(
            f"Stored as import {report['batch']}: {report['created']} new, "
            f"{report['updated']} updated, {report['unchanged']} unchanged events.",
            markup=False,
        )
    for problem in report["invalid"][:20]:
        err.print(f"line {problem['line']}: {problem['field']}: {problem['reason']}", markup=False)
    if len(report["invalid"]) > 20:
        err.print(f"... and {len(report['invalid']) - 20} more (see --json).", markup=False)


@compliance_app.command("import-cad")
def import_cad_command(
    path: Annotated[Path, typer.Argument(help="Dispatch export (CSV).")],
    preset: Annotated[
        str | None,
        typer.Option(help="nypd, seattle, new_orleans or generic (default: detected)."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="A column mapping file (TOML) instead of a preset.")
    ] = None,
    accept_invalid: Annotated[
        bool, typer.Option("--accept-invalid", help="Store the valid rows despite invalid ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import dispatch events and officer assignments, all or nothing, with a report."""
    from bodycam.compliance.cad import detect_preset
    from bodycam.compliance.mapping import (
        CadFormatError,
        MappingError,
        load_mapping,
        load_preset,
    )
    from bodycam.compliance.service import CadImportError, import_cad

    if preset and mapping:
        fail("Give --preset or --mapping, not both.")
    if not path.is_file():
        fail(f"{path} is not a file.")
    try:
        if mapping is not None:
            chosen = load_mapping(mapping)
        elif preset is not None:
            chosen = load_preset(preset)
        else:
            chosen = detect_preset(path)
    except (MappingError, CadFormatError, OSError) as exc:
        fail(str(exc))
    with open_context() as ctx:
        actor = current_actor(ctx)
        try:
            outcome = guarded(
                lambda: import_cad(ctx.sessions, actor, path, chosen, accept_invalid=accept_invalid)
            )
        except CadImportError as exc:
            if exc.report is not None:
                if as_json:
                    print(json.dumps(exc.report))
                else:
                    _print_report(exc.report)
            fail(str(exc), EXIT_ERROR)
    if as_json:
        print(json.dumps(outcome.report))
    else:
        _print_report(outcome.report)


@compliance_app.command("match")
def match_command(
    rules: Annotated[Path, typer.Option(help="Recording rules (TOML) with policy versions.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    background: Annotated[
        bool,
        typer.Option(
            "--background", help="Queue it as a job (a worker runs it); print the job id."
        ),
    ] = False,
) -> None:
    """Judge every officer-event against the officer's recordings (replaces the verdicts)."""
    from bodycam.compliance.matching_service import MatchError, queue_matching, run_matching
    from bodycam.compliance.rules import Rules, RulesError

    try:
        text = rules.read_text(encoding="utf-8")
        parsed = Rules.from_toml(text)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{rules} cannot be read: {exc}.")
    except RulesError as exc:
        fail(f"{rules}: {exc}")
    with open_context() as ctx:
        actor = current_actor(ctx)
        if background:
            try:
                job_id = guarded(lambda: queue_matching(ctx.sessions, actor, text))
            except MatchError as exc:
                fail(str(exc))
            if as_json:
                print(json.dumps({"job": job_id}))
            else:
                out.print(f"Matching queued as job {job_id} (bodycam jobs show {job_id}).")
            return
        try:
            counts = guarded(lambda: run_matching(ctx.sessions, actor, parsed))
        except MatchError as exc:
            fail(str(exc))
    if as_json:
        print(json.dumps(dict(sorted(counts.items()))))
        return
    total = sum(counts.values())
    out.print(f"{total} officer-events judged:", markup=False)
    for status, n in sorted(counts.items()):
        out.print(f"  {status}: {n}", markup=False)


@compliance_app.command("results")
def results_command(
    officer: Annotated[str | None, typer.Option(help="Only this badge.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="recorded, late_start, early_stop, gaps, not_recorded, exempt, unknown."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Each officer-event's verdict with its evidence and the rule that applied."""
    from rich.table import Table

    from bodycam.compliance.matching_service import results

    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = guarded(lambda: results(ctx.sessions, actor, badge=officer, status=status))
    if as_json:
        for r, badge in rows:
            print(
                json.dumps(
                    {
                        "event_id": r.event_id,
                        "badge": badge,
                        "status": r.status,
                        "coverage": r.coverage,
                        "late_s": r.late_s,
                        "early_s": r.early_s,
                        "gaps_s": r.gaps_s,
                        "policy": r.policy,
                        "reason": r.reason,
                        "recordings": r.recordings,
                    }
                )
            )
        return
    table = Table("event", "badge", "status", "coverage", "why", "recordings")
    for r, badge in rows:
        table.add_row(
            r.event_id,
            badge or "",
            r.status,
            f"{r.coverage:.0%}",
            r.reason,
            ", ".join(r.recordings),
        )
    out.print(table)


@compliance_app.command("report")
def report_command(
    by: Annotated[
        str, typer.Option(help="officer, squad, precinct, call-type or all (the department).")
    ] = "officer",
    since: Annotated[
        str | None,
        typer.Option("--from", help="On or after (ISO date; agency time zone unless given)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Before (ISO date; agency time zone unless given).")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="day, week or month: one line per group and period.")
    ] = None,
    shift_grace: Annotated[
        float,
        typer.Option(help="Hours after a recording's end after which its upload is late."),
    ] = 12.0,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Activation, compliance, categorization and late-upload rates with 95% intervals."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from rich.table import Table

    from bodycam.compliance.report import (
        GROUPINGS,
        PERIODS,
        as_csv,
        as_json,
        compliance_report,
        describe_trend,
    )

    if by not in GROUPINGS:
        fail(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}.")
    if period is not None and period not in PERIODS:
        fail(f"--period must be one of {', '.join(PERIODS)}, not {period!r}.")
    if fmt not in ("table", "csv", "json"):
        fail(f"--format must be table, csv or json, not {fmt!r}.")
    if not 0 <= shift_grace <= 24 * 14:
        fail(f"--shift-grace must be between 0 and 336 hours, not {shift_grace:g}.")
    grace = timedelta(hours=shift_grace)

    with open_context() as ctx:
        tz = ctx.settings.timezone

        def when(value: str | None, name: str) -> datetime | None:
            if value is None:
                return None
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                fail(f"--{name} {value!r} is not an ISO date (e.g. 2026-03-01).")
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))

        start, end = when(since, "from"), when(until, "to")
        if start is not None and end is not None and start >= end:
            fail(f"--from {since} is not before --to {until}.")
        actor = current_actor(ctx)
        rates = guarded(
            lambda: compliance_report(
                ctx.sessions,
                actor,
                by=by,
                start=start,
                end=end,
                period=period,
                tz=tz,
                shift_grace=grace,
            )
        )
    if fmt == "csv":
        print(as_csv(rates, with_period=period is not None), end="")
        return
    if fmt == "json":
        print(as_json(rates, with_period=period is not None))
        return

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.0%}"

    def ci(rate: float | None, low: float | None, high: float | None) -> str:
        return "-" if rate is None else f"{pct(rate)} ({pct(low)}-{pct(high)})"

    columns = [by, *(["period"] if period else [])]
    table = Table(
        *columns,
        "required",
        "activated",
        "rate (95% CI)",
        "full",
        "rate (95% CI)",
        "coverage",
        "recordings",
        "categorized",
        "rate (95% CI)",
        "late uploads",
        "rate (95% CI)",
        "median delay",
    )
    for r in rates:
        table.add_row(
            r.group,
            *([r.period or ""] if period else []),
            str(r.required),
            str(r.activated),
            ci(r.activation_rate, r.activation_low, r.activation_high),
            str(r.full),
            ci(r.full_rate, r.full_low, r.full_high),
            pct(r.mean_coverage),
            str(r.recordings),
            str(r.categorized),
            ci(r.categorization_rate, r.categorization_low, r.categorization_high),
            str(r.uploads_late),
            ci(r.late_upload_rate, r.late_upload_low, r.late_upload_high),
            "-" if r.median_upload_delay_h is None else f"{r.median_upload_delay_h:g} h",
        )
    out.print(table)
    if period is not None:
        for group in sorted({r.group for r in rates}):
            change = describe_trend([r for r in rates if r.group == group])
            if change is not None:
                out.print(f"{group}: {change.sentence}", markup=False)

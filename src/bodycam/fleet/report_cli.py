"""``bodycam fleet report``: docking, late uploads, power cycling, battery, recalled uploads."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from bodycam.cli_support import current_actor, fail, open_context, out
from bodycam.fleet.cli_common import check_format, emit, pct, run, when

report_app = typer.Typer(help="Fleet reports from device events.", no_args_is_help=True)

FormatOpt = Annotated[str, typer.Option("--format", help="table, csv or json.")]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="On or after (ISO; agency time zone unless given).")
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", help="Before (ISO; agency time zone unless given; default now)."),
]


@report_app.command("not-docked")
def not_docked_command(
    days: Annotated[float, typer.Option(help="Cameras whose last dock is older than this.")] = 3,
    status: Annotated[
        str, typer.Option(help="Cameras of this status; 'all' for every status.")
    ] = "in_service",
    at: Annotated[str | None, typer.Option(help="As of this time (default now).")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Cameras that have not docked for more than N days, or never."""
    from bodycam.fleet.reports import not_docked

    check_format(fmt)
    with open_context() as ctx:
        now = when(at, "at", ctx.settings.timezone)
        actor = current_actor(ctx)
        rows = run(
            lambda: not_docked(
                ctx.sessions, actor, days, now=now, status=None if status == "all" else status
            )
        )
    columns = ["serial", "model", "status", "holder", "last_dock", "dock", "days_since"]
    emit([r.as_dict() for r in rows], fmt, columns)


@report_app.command("late-uploads")
def late_uploads_command(
    since: FromOpt = None,
    until: ToOpt = None,
    shift_grace: Annotated[
        float, typer.Option(help="Hours after a recording's end after which its upload is late.")
    ] = 12.0,
    fmt: FormatOpt = "table",
) -> None:
    """Recordings uploaded from a dock more than a shift after they ended (default 30 days)."""
    from bodycam.fleet.reports import late_uploads

    check_format(fmt)
    if not 0 <= shift_grace <= 24 * 14:
        fail(f"--shift-grace must be between 0 and 336 hours, not {shift_grace:g}.")
    with open_context() as ctx:
        tz = ctx.settings.timezone
        start, end = when(since, "from", tz), when(until, "to", tz)
        actor = current_actor(ctx)
        result = run(
            lambda: late_uploads(
                ctx.sessions, actor, start=start, end=end, shift_grace=timedelta(hours=shift_grace)
            )
        )
    if fmt == "json":
        print(json.dumps(result.as_dict()))
        return
    columns = ["serial", "recording", "recorded_end", "uploaded_at", "dock", "delay_h"]
    emit([r.as_dict() for r in result.late], fmt, columns)
    if fmt == "table":
        out.print(
            f"{len(result.late)} of {result.matched} uploads matched to a recording were late "
            f"({pct(result.rate)}; more than {shift_grace:g} h after the recording ended); "
            f"{result.unmatched} upload event(s) named no known recording.",
            markup=False,
        )


@report_app.command("power-cycling")
def power_cycling_command(
    since: FromOpt = None, until: ToOpt = None, fmt: FormatOpt = "table"
) -> None:
    """Powered-on time / time off dock per camera (default: the last 7 days), lowest first."""
    from bodycam.fleet.reports import power_cycling

    check_format(fmt)
    with open_context() as ctx:
        tz = ctx.settings.timezone
        start, end = when(since, "from", tz), when(until, "to", tz)
        actor = current_actor(ctx)
        rows = run(lambda: power_cycling(ctx.sessions, actor, start=start, end=end))
    columns = ["serial", "model", "off_dock_h", "powered_on_h", "rate", "power_cycles"]
    emit([r.as_dict() for r in rows], fmt, columns)


@report_app.command("battery")
def battery_command(
    since: FromOpt = None,
    until: ToOpt = None,
    threshold: Annotated[int, typer.Option(help="A shift ending below this % counts.")] = 20,
    fmt: FormatOpt = "table",
) -> None:
    """Battery health by lot over shifts that ended in the period (default 30 days)."""
    from bodycam.fleet.reports import battery_by_lot

    check_format(fmt)
    with open_context() as ctx:
        tz = ctx.settings.timezone
        start, end = when(since, "from", tz), when(until, "to", tz)
        actor = current_actor(ctx)
        rows = run(
            lambda: battery_by_lot(ctx.sessions, actor, start=start, end=end, threshold=threshold)
        )
    columns = [
        "battery_lot",
        "cameras",
        "shifts",
        "shifts_with_readings",
        "median_min_pct",
        "ending_below",
        "ending_below_share",
        "ending_below_low",
        "ending_below_high",
    ]
    emit([r.as_dict() for r in rows], fmt, columns)


@report_app.command("recalled-uploads")
def recalled_uploads_command(
    recall: Annotated[str | None, typer.Option(help="Only this recall.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Uploads by recalled cameras after their recall (upload events and ingests)."""
    from bodycam.fleet.recall_uploads import recalled_uploads

    check_format(fmt)
    with open_context() as ctx:
        actor = current_actor(ctx)
        flags = run(lambda: recalled_uploads(ctx.sessions, actor, recall))
    emit(
        [f.as_dict() for f in flags],
        fmt,
        ["recall", "serial", "source", "at", "sha256", "recording"],
    )

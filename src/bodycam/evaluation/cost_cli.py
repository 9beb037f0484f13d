"""``bodycam cost``: what the camera program costs, projected and as measured here.

``cost project`` and ``cost inputs`` need no deployment; ``cost actuals`` and ``cost
project --from-actuals`` read this installation (an acting user with
``evaluation:cost:view``). Bad input is one sentence on stderr with exit status 1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bodycam.cli_support import err, fail, out

if TYPE_CHECKING:
    from bodycam.evaluation.cost import Projection
    from bodycam.evaluation.cost_actuals import Actuals

cost_app = typer.Typer(
    help="Program cost: a yearly projection with a sensitivity range, and this "
    "installation's actual volumes.",
    no_args_is_help=True,
)

FromOption = Annotated[
    str | None, typer.Option("--from", help="First day of the actuals window (ISO date, UTC).")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Last day of the actuals window (ISO date, UTC).")
]


def _print(text: str) -> None:
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _table(headers: list[str], rows: list[list[str]], align: str = "") -> None:
    """A plain table; `align` has l or r per column (default: first left, others right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for line in (headers, *rows):
        _print(
            "  ".join(
                c.ljust(w) if a == "l" else c.rjust(w)
                for c, w, a in zip(line, widths, align, strict=True)
            ).rstrip()
        )


def _json(data: dict[str, Any]) -> None:
    try:
        print(json.dumps(data, allow_nan=False))
    except ValueError:
        fail("The result holds a value that is not a finite number; nothing was printed.")


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{flag} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31.")


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _num(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def _read_actuals(start: str | None, end: str | None) -> Actuals:
    from bodycam.cli_support import current_actor, guarded, open_context
    from bodycam.evaluation.cost import CostError
    from bodycam.evaluation.cost_actuals import cost_actuals

    first, last = _day(start, "--from"), _day(end, "--to")
    with open_context(seal_on_exit=False) as ctx:
        actor = current_actor(ctx)
        try:
            return guarded(lambda: cost_actuals(ctx.sessions, actor, first, last))
        except CostError as exc:
            fail(str(exc))


def _write_chart(path: Path, projection: Projection) -> None:
    from bodycam.evaluation import charts

    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        fail(f"--chart {path}: the file name must end in .svg or .png.")
    if path.exists():
        fail(f"{path} already exists; choose a new file name.")
    figure = charts.cost_figure(projection)
    data = charts.svg(figure).encode("utf-8") if suffix == ".svg" else charts.png(figure)
    write_new(path, data)


def write_new(path: Path, data: bytes) -> None:
    """Write a new file whole or not at all (a temporary file renamed into place)."""
    folder = path.parent if str(path.parent) else Path()
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        fail(f"{path} cannot be written ({exc.strerror or exc}).")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


_COMPONENTS = ("hardware", "licences", "storage", "redaction", "staff")


def _print_projection(p: Projection, notes: list[str]) -> None:
    inputs = p.inputs
    spreads = ", ".join(
        f"±{t.spread:.0%} {t.label}" for t in sorted(p.tornado, key=lambda t: t.input)
    )
    given = sorted({s for s in inputs.sources.values() if s != "default"})
    growth = inputs.value("program.price_growth_per_year")
    dollars = "today's dollars" if growth == 0 else f"dollars growing {growth:.1%} a year"
    _print(
        f"{inputs.cameras:,} cameras over {inputs.years} years, in {dollars}; inputs: "
        f"defaults{', ' + ', '.join(given) if given else ''} (docs/cost.md). "
        f"Range: {spreads or 'none'}."
    )
    rows = []
    for y, lo, hi in zip(p.years, p.low, p.high, strict=True):
        rows.append(
            [str(y.year), *(_money(getattr(y, c)) for c in _COMPONENTS), _money(y.total),
             _money(y.cumulative), f"{_money(lo)} - {_money(hi)}"]
        )  # fmt: skip
    rows.append(
        ["all", *(_money(sum(getattr(y, c) for y in p.years)) for c in _COMPONENTS),
         _money(p.total), "", f"{_money(sum(p.low))} - {_money(sum(p.high))}"]
    )  # fmt: skip
    _table(["year", *_COMPONENTS, "total", "cumulative", "range"], rows)
    _print("")
    _table(
        ["year", "video_hours", "tb_recorded", "tb_hot", "tb_archive", "redaction_hours",
         "cameras_bought", "ftes"],
        [
            [str(y.year), _num(y.video_hours), _num(y.recorded_tb), _num(y.held_tb_hot),
             _num(y.held_tb_archive), _num(y.redaction_hours), _num(y.cameras_bought),
             _num(y.ftes)]
            for y in p.years
        ],
    )  # fmt: skip
    if p.tornado:
        _print("")
        _print(f"Sensitivity of the {inputs.years}-year total, one input at a time:")
        _table(
            ["input", "spread", "total_low", "total_high", "swing"],
            [
                [t.label, f"±{t.spread:.0%}", _money(t.low), _money(t.high), _money(t.swing)]
                for t in p.tornado
            ],
        )
    _print("")
    _print(
        f"Redaction over {inputs.years} years: {_money(sum(p.redaction_assisted))} with "
        f"automated suggestions, {_money(sum(p.redaction_manual))} by hand."
    )
    for note in notes:
        _print(f"note: {note}")


def _csv(p: Projection) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    fields = list(p.years[0].to_dict())
    writer.writerow([*fields, "total_low", "total_high"])
    for y, lo, hi in zip(p.years, p.low, p.high, strict=True):
        writer.writerow([*(repr(v) if isinstance(v, float) else v for v in y.to_dict().values()),
                         repr(lo), repr(hi)])  # fmt: skip
    return buf.getvalue()


@cost_app.command("project")
def project_command(
    cameras: Annotated[int | None, typer.Option(help="Cameras in the program.")] = None,
    years: Annotated[int | None, typer.Option(help="Years to project.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML file of inputs (docs/cost.md lists every key).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one input: KEY=VALUE, e.g. storage.bitrate_mbps=8."),
    ] = None,
    from_actuals: Annotated[
        bool, typer.Option("--from-actuals", help="Take the volumes from this installation.")
    ] = False,
    start: FromOption = None,
    end: ToOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    chart: Annotated[
        Path | None, typer.Option(help="Write a chart of the projection (.svg or .png).")
    ] = None,
) -> None:
    """Project the program's cost per year: hardware, licences, storage, redaction, staff."""
    from bodycam.evaluation.cost import CostError, load_inputs, project

    if fmt not in ("table", "csv", "json"):
        fail(f"--format must be table, csv or json, not {fmt!r}.")
    if (start or end) and not from_actuals:
        fail("--from and --to choose the window of --from-actuals; add --from-actuals.")
    if chart is not None and chart.exists():
        fail(f"{chart} already exists; choose a new file name.")
    notes: list[str] = []
    measured: dict[str, Any] = {}
    if from_actuals:
        from bodycam.evaluation.cost_actuals import inputs_from_actuals

        actuals = _read_actuals(start, end)
        try:
            values, mix, notes = inputs_from_actuals(actuals)
        except CostError as exc:
            fail(str(exc))
        measured = {
            "actuals": values,
            "actual_mix": mix,
            "actual_cameras": actuals.cameras or actuals.officers,
        }
        notes = [f"actuals from {actuals.start} to {actuals.end}", *notes, *actuals.notes]
    try:
        inputs = load_inputs(
            cameras=cameras, years=years, config=config, overrides=set_ or [], **measured
        )
    except CostError as exc:
        fail(str(exc))
    projection = project(inputs)
    if chart is not None:
        _write_chart(chart, projection)
    if fmt == "json":
        _json(projection.to_dict() | {"notes": notes})
    elif fmt == "csv":
        print(_csv(projection), end="")
        for note in notes:
            err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    else:
        _print_projection(projection, notes)


@cost_app.command("inputs")
def inputs_command(
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List every input of the cost model with its default, unit and source."""
    from bodycam.evaluation.cost import ASSUMPTIONS, DEFAULT_MIX

    if fmt not in ("table", "json"):
        fail(f"--format must be table or json, not {fmt!r}.")
    if fmt == "json":
        _json(
            {
                "inputs": [
                    {"key": a.key, "default": a.default, "unit": a.unit, "meaning": a.meaning,
                     "source": a.source}
                    for a in ASSUMPTIONS
                ],
                "mix": [{"category": m.category, "share": m.share, "retain": m.retain}
                        for m in DEFAULT_MIX],
            }
        )  # fmt: skip
        return
    _table(
        ["key", "default", "unit", "meaning", "source"],
        [[a.key, str(a.default).lower() if isinstance(a.default, bool) else f"{a.default:g}",
          a.unit, a.meaning, a.source] for a in ASSUMPTIONS],
        "lrlll",
    )  # fmt: skip
    _print("")
    _table(
        ["storage.mix", "share", "retain"],
        [[m.category, f"{m.share:g}", m.retain] for m in DEFAULT_MIX],
    )


def _print_actuals(a: Actuals) -> None:
    _print(
        f"From {a.start} to {a.end} ({a.days:.1f} days): {a.videos:,} videos, "
        f"{_num(a.hours)} hours, {_num(a.tb)} TB, from {a.officers} officer(s) and "
        f"{a.cameras} camera(s)."
    )
    bitrate = a.bitrate_mbps
    _table(
        ["measure", "value"],
        [
            ["videos per day", _num(a.videos_per_day)],
            ["video hours per day", _num(a.hours_per_day)],
            ["TB ingested per month", _num(a.tb_per_month)],
            ["bitrate (Mbit/s)", _num(bitrate) if bitrate else "-"],
            ["TB held now, hot (with redacted copies)", _num(a.tb_hot)],
            ["TB held now, archive", _num(a.tb_archive)],
            ["redaction projects started", str(a.projects)],
            ["... with an approved copy", str(a.approved)],
            ["video hours of the redacted recordings", _num(a.redacted_video_hours)],
            [
                "elapsed hours, start to approval (median)",
                _num(a.median_elapsed_hours) if a.median_elapsed_hours is not None else "-",
            ],
            ["active review hours (audit log)", _num(a.active_hours)],
        ],
    )
    if a.months:
        _print("")
        _table(
            ["month", "videos", "hours", "tb"],
            [[m.month, str(m.videos), _num(m.hours), _num(m.tb)] for m in a.months],
        )
    if a.categories:
        _print("")
        _table(
            ["category", "videos", "hours", "share", "retain"],
            [
                [c.category, str(c.videos), _num(c.hours), f"{c.hours / a.hours:.1%}",
                 c.retain or "-"]
                for c in a.categories
            ],
        )  # fmt: skip
    for note in a.notes:
        _print(f"note: {note}")


@cost_app.command("actuals")
def actuals_command(
    start: FromOption = None,
    end: ToOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Show this installation's real volumes: videos and hours per day, TB per tier, redaction."""
    if fmt not in ("table", "json"):
        fail(f"--format must be table or json, not {fmt!r}.")
    actuals = _read_actuals(start, end)
    if fmt == "json":
        _json(actuals.to_dict())
    else:
        _print_actuals(actuals)

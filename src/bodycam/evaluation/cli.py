"""``bodycam eval``: program evaluation from files (no deployment, no acting user).

Results go to stdout (a table, or one JSON object with ``--format json``); notes about
what was left out go to stderr as ``note: ...`` lines; bad input is one sentence on
stderr naming the file, line and column, with exit status 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bodycam.cli_support import err, fail, out

if TYPE_CHECKING:
    from bodycam.evaluation.analysis import DidReport, EstimateReport
    from bodycam.evaluation.counts import AnalysisTable
    from bodycam.evaluation.data import OutcomeData, Roster
    from bodycam.evaluation.power import PowerPlan

eval_app = typer.Typer(
    help="Program evaluation: outcome data, effect estimates, power.", no_args_is_help=True
)

FormatOption = Annotated[str, typer.Option("--format", help="table or json.")]
MappingOption = Annotated[
    list[str],
    typer.Option(
        "--mapping",
        help="Outcome mapping: a TOML file or a preset name (lansing_complaints, "
        "stlouis_county_use_of_force). Once for all files, or once per file in order.",
    ),
]
RosterMappingOption = Annotated[
    str,
    typer.Option("--roster-mapping", help="Roster mapping: a TOML file or preset (roster)."),
]
AcceptOption = Annotated[
    bool,
    typer.Option("--accept-invalid", help="Skip invalid outcome rows (they are counted)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def _format(fmt: str) -> str:
    if fmt not in ("table", "json"):
        fail(f"--format must be table or json, not {fmt!r}.")
    return fmt


def _json(data: dict[str, Any]) -> None:
    """One JSON object on stdout; floats at full precision, never NaN or infinity."""
    try:
        text = json.dumps(data, allow_nan=False)
    except ValueError:
        fail("The result holds a value that is not a finite number; nothing was printed.")
    print(text)


def _notes(notes: Any) -> None:
    for note in notes:
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)


def _g(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _p(value: float | None) -> str:
    if value is None:
        return ""
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for line in (headers, *rows):
        text = "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        out.print(text.rstrip(), markup=False, highlight=False, soft_wrap=True)


def _load_inputs(
    roster_path: Path,
    outcome_paths: list[Path],
    mappings: list[str],
    roster_mapping: str,
    accept_invalid: bool,
) -> tuple[Roster, list[OutcomeData]]:
    from bodycam.compliance.mapping import MappingError
    from bodycam.evaluation.data import read_outcomes, read_roster
    from bodycam.evaluation.mapping import load_outcome_mapping, load_roster_mapping
    from bodycam.evaluation.tables import InputError

    if not outcome_paths:
        fail("Name at least one outcome file after the roster.")
    if not mappings:
        fail("Name the outcome mapping with --mapping (a TOML file or a preset name).")
    if len(mappings) not in (1, len(outcome_paths)):
        fail(
            f"Give --mapping once for all outcome files or once per file; "
            f"{len(mappings)} mappings for {len(outcome_paths)} files."
        )
    pairs = list(zip(outcome_paths, mappings * len(outcome_paths), strict=False))
    try:
        roster = read_roster(roster_path, load_roster_mapping(roster_mapping))
        sources = [
            read_outcomes(path, load_outcome_mapping(name), accept_invalid=accept_invalid)
            for path, name in pairs
        ]
    except (InputError, MappingError) as exc:
        _problems(exc)
        fail(str(exc))
    return roster, sources


def _problems(exc: Exception) -> None:
    """The first problems of a file, one per line on stderr, before the sentence."""
    from bodycam.evaluation.tables import InputError, shown

    if isinstance(exc, InputError) and len(exc.problems) > 1:
        for line in shown(exc.source, exc.problems):
            err.print(line, markup=False, highlight=False, soft_wrap=True)


def _write(table: AnalysisTable, dest: Path, as_json: bool, what: str) -> None:
    from bodycam.evaluation.tables import InputError, write_csv

    try:
        write_csv(dest, table.columns, table.rows)
    except InputError as exc:
        fail(str(exc))
    _notes(table.notes)
    if as_json:
        _json(
            {
                "out": str(dest),
                "columns": list(table.columns),
                **table.report,
                "notes": list(table.notes),
            }
        )
    else:
        out.print(
            f"Wrote {dest}: {len(table.rows)} {what if len(table.rows) != 1 else what[:-1]}, "
            f"{len(table.outcomes)} outcome(s) "
            f"({', '.join(table.outcomes)}).",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@eval_app.command("prepare")
def prepare_command(
    roster: Annotated[Path, typer.Argument(help="The roster (CSV).")],
    outcomes: Annotated[list[Path], typer.Argument(help="Outcome exports (CSV).")],
    mapping: MappingOption,
    pre: Annotated[str, typer.Option(help="Pre window, FIRST..LAST (ISO dates, inclusive).")],
    post: Annotated[str, typer.Option(help="Post window, FIRST..LAST (ISO dates, inclusive).")],
    dest: Annotated[Path, typer.Option("--out", help="The officer-level file to write (CSV).")],
    roster_mapping: RosterMappingOption = "roster",
    accept_invalid: AcceptOption = False,
    as_json: JsonOption = False,
) -> None:
    """Build the officer-level file: counts and rates per unit in a pre and a post window."""
    from bodycam.evaluation.counts import officer_level, parse_window
    from bodycam.evaluation.tables import InputError

    if dest.exists():
        fail(f"{dest} already exists; choose a new file name.")
    try:
        windows = parse_window(pre, "--pre"), parse_window(post, "--post")
    except InputError as exc:
        fail(str(exc))
    loaded, sources = _load_inputs(roster, outcomes, mapping, roster_mapping, accept_invalid)
    try:
        table = officer_level(loaded, sources, *windows)
    except InputError as exc:
        fail(str(exc))
    _write(table, dest, as_json, "units")


@eval_app.command("panel")
def panel_command(
    roster: Annotated[Path, typer.Argument(help="The roster (CSV), with assignment dates.")],
    outcomes: Annotated[list[Path], typer.Argument(help="Outcome exports (CSV).")],
    mapping: MappingOption,
    window: Annotated[str, typer.Option(help="The whole span, FIRST..LAST (ISO dates).")],
    dest: Annotated[Path, typer.Option("--out", help="The panel file to write (CSV).")],
    period: Annotated[str, typer.Option(help="week, month, quarter or year.")] = "quarter",
    roster_mapping: RosterMappingOption = "roster",
    accept_invalid: AcceptOption = False,
    as_json: JsonOption = False,
) -> None:
    """Build a unit-by-period panel for a staggered rollout (counts and rates per period)."""
    from bodycam.evaluation.counts import PERIODS, panel, parse_window
    from bodycam.evaluation.tables import InputError

    if period not in PERIODS:
        fail(f"--period must be one of {', '.join(PERIODS)}, not {period!r}.")
    if dest.exists():
        fail(f"{dest} already exists; choose a new file name.")
    try:
        span = parse_window(window, "--window")
    except InputError as exc:
        fail(str(exc))
    loaded, sources = _load_inputs(roster, outcomes, mapping, roster_mapping, accept_invalid)
    try:
        table = panel(loaded, sources, span, period)  # type: ignore[arg-type]
    except InputError as exc:
        fail(str(exc))
    _write(table, dest, as_json, "unit-periods")


@eval_app.command("inspect")
def inspect_command(
    path: Annotated[Path, typer.Argument(help="An outcome export (CSV).")],
    mapping: Annotated[str, typer.Option(help="Outcome mapping: a TOML file or a preset.")],
    accept_invalid: AcceptOption = False,
    as_json: JsonOption = False,
) -> None:
    """Read an outcome export through a mapping and show what it holds, per outcome."""
    from bodycam.compliance.mapping import MappingError
    from bodycam.evaluation.data import read_outcomes
    from bodycam.evaluation.mapping import load_outcome_mapping
    from bodycam.evaluation.tables import InputError

    try:
        data = read_outcomes(path, load_outcome_mapping(mapping), accept_invalid=accept_invalid)
    except (InputError, MappingError) as exc:
        _problems(exc)
        fail(str(exc))
    per_outcome = {}
    for name, records in data.records.items():
        incidents = {(r.unit, r.incident) for r in records if r.incident is not None}
        loose = sum(r.amount for r in records if r.incident is None)
        per_outcome[name] = {"rows": len(records), "count": len(incidents) + loose}
    units = {data.names[key]: rows for key, rows in data.unit_rows.most_common()}
    report = {
        "file": data.source,
        "mapping": data.mapping,
        "rows": data.rows,
        "filtered": data.filtered,
        "invalid": [p.to_dict() for p in data.invalid],
        "first_date": data.first.isoformat() if data.first else None,
        "last_date": data.last.isoformat() if data.last else None,
        "units": units,
        "outcomes": per_outcome,
    }
    if as_json:
        _json(report)
        return
    out.print(
        f"{data.source} ({data.mapping}): {data.rows} rows, {data.filtered} filtered out, "
        f"{len(data.invalid)} problem(s); dates {report['first_date']} to "
        f"{report['last_date']}; {len(units)} unit(s).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    _table(
        ["outcome", "rows", "count"],
        [[k, str(v["rows"]), _g(v["count"])] for k, v in per_outcome.items()],
    )


def _print_estimates(report: EstimateReport) -> None:
    design = report.design
    rate = " (rates per 1,000 officers per year)" if design.get("exposure") else ""
    errors = "cluster-robust" if design["se_type"] == "cluster" else "HC2"
    out.print(
        f"{report.file}: effect of {report.treatment} = 1 (treated minus control){rate}; "
        f"{errors} standard errors, {design['confidence']:.0%} intervals.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    several = len(report.estimates) > 1
    headers = ["outcome", "treated", "control", "estimate", "se", "ci_low", "ci_high", "p"]
    headers += ["p_fdr"] if several else []
    rows = []
    for e in report.estimates:
        row = [
            e.outcome,
            f"{_g(e.mean_treated)} (n={e.n_treated})",
            f"{_g(e.mean_control)} (n={e.n_control})",
            _g(e.estimate),
            _g(e.se),
            _g(e.ci_low),
            _g(e.ci_high),
            _p(e.p_value),
        ]
        rows.append([*row, _p(e.p_value_fdr)] if several else row)
    _table(headers, rows)


@eval_app.command("estimate")
def estimate_command(
    path: Annotated[Path, typer.Argument(help="Officer-level file (CSV), one row per unit.")],
    treatment: Annotated[str, typer.Option(help="Treatment column (1 = camera, 0 = control).")],
    outcome: Annotated[list[str], typer.Option(help="Outcome column; repeat for several.")],
    weights: Annotated[str | None, typer.Option(help="Weight column (e.g. 1/p).")] = None,
    block: Annotated[str | None, typer.Option(help="Block column (fixed effects).")] = None,
    cluster: Annotated[
        str | None, typer.Option(help="Cluster column (cluster-robust errors).")
    ] = None,
    covariate: Annotated[
        list[str] | None, typer.Option(help="Covariate column (e.g. a pre-period rate).")
    ] = None,
    exposure: Annotated[
        str | None,
        typer.Option(help="Officer-years column: outcomes are counts, compared as rates."),
    ] = None,
    confidence: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    fmt: FormatOption = "table",
) -> None:
    """Estimate the effect of cameras on each outcome (difference in means, HC2 errors)."""
    from bodycam.evaluation.analysis import estimate_file
    from bodycam.evaluation.tables import InputError

    _format(fmt)
    try:
        report = estimate_file(
            path, treatment, outcome, weights=weights, block=block, cluster=cluster,
            covariates=covariate or [], exposure=exposure, confidence=confidence,
        )  # fmt: skip
    except InputError as exc:
        _problems(exc)
        fail(str(exc))
    if fmt == "json":
        _json(report.to_dict())
    else:
        _print_estimates(report)


def _print_did(report: DidReport) -> None:
    design = report.design
    out.print(
        f"{report.file}: difference-in-differences ({design['method']}), clustered by "
        f"{design['cluster']}, {design['confidence']:.0%} intervals; periods "
        f"{design['first_period']} to {design['last_period']}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    several = len(report.estimates) > 1
    headers = ["outcome", "estimate", "se", "ci_low", "ci_high", "p"]
    headers += ["p_fdr"] if several else []
    headers += ["units", "clusters", "pretrend_p"]
    rows = []
    for e in report.estimates:
        row = [e.outcome, _g(e.estimate), _g(e.se), _g(e.ci_low), _g(e.ci_high), _p(e.p_value)]
        row += [_p(e.p_value_fdr)] if several else []
        row += [f"{e.n_treated_units}+{e.n_control_units}", str(e.n_clusters)]
        row += [_p(e.pretrend_p_value) or "-"]
        rows.append(row)
    _table(headers, rows)
    for e in report.estimates:
        if not e.events:
            continue
        out.print(f"\nEvent study, {e.outcome} (period -1 is the reference):", markup=False)
        _table(
            ["relative_period", "estimate", "se", "ci_low", "ci_high", "p", "units"],
            [
                [str(v.relative_period), _g(v.estimate), _g(v.se), _g(v.ci_low),
                 _g(v.ci_high), _p(v.p_value), str(v.n_units)]
                for v in e.events
            ],
        )  # fmt: skip


@eval_app.command("did")
def did_command(
    path: Annotated[Path, typer.Argument(help="Panel file (CSV), one row per unit and period.")],
    outcome: Annotated[list[str], typer.Option(help="Outcome column; repeat for several.")],
    unit: Annotated[str, typer.Option(help="Unit column.")] = "unit",
    time: Annotated[str, typer.Option(help="Period column (ISO dates or integers).")] = "period",
    adoption: Annotated[
        str, typer.Option(help="Adoption period column (blank: never adopted).")
    ] = "adoption",
    weights: Annotated[str | None, typer.Option(help="Weight column.")] = None,
    cluster: Annotated[str | None, typer.Option(help="Cluster column (default: unit).")] = None,
    method: Annotated[str, typer.Option(help="cohort (default) or twfe.")] = "cohort",
    confidence: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    fmt: FormatOption = "table",
) -> None:
    """Difference-in-differences and event study for a staggered rollout (cluster-robust)."""
    from bodycam.evaluation.analysis import did_file
    from bodycam.evaluation.tables import InputError

    _format(fmt)
    try:
        report = did_file(
            path, unit, time, adoption, outcome, weights=weights, cluster=cluster,
            method=method, confidence=confidence,  # type: ignore[arg-type]
        )  # fmt: skip
    except InputError as exc:
        _problems(exc)
        fail(str(exc))
    _notes(dict.fromkeys([*report.notes, *(n for e in report.estimates for n in e.notes)]))
    if fmt == "json":
        _json(report.to_dict())
    else:
        _print_did(report)


def _print_plan(plan: PowerPlan, mode: str) -> None:
    if mode == "mde":
        head = (
            f"With {plan.n:g} units ({plan.n_treated:g} treated, {plan.n_control:g} control), "
            f"a two-sided test at {plan.alpha:g} has {plan.power:.0%} power to detect an "
            f"effect of {plan.mde:.4g} or more (in the outcome's units)"
        )
    elif mode == "power":
        head = (
            f"With {plan.n:g} units, an effect of {plan.effect:.4g} is detected with "
            f"probability {plan.power:.1%} (two-sided test at {plan.alpha:g})"
        )
    else:
        head = (
            f"To detect {plan.effect:.4g} with {plan.power:.0%} power at {plan.alpha:g}, "
            f"{plan.n:g} units are needed ({plan.n_treated:g} treated, "
            f"{plan.n_control:g} control)"
        )
    if plan.mde_relative is not None:
        head += f"; the MDE is {plan.mde_relative:.1%} of the mean {plan.mean:.4g}"
    out.print(head + ".", markup=False, highlight=False, soft_wrap=True)
    _table(
        ["se", "df", "design_effect", "r2", "mde"],
        [[_g(plan.se), _g(plan.df), _g(plan.design_effect), _g(plan.r2), _g(plan.mde)]],
    )


@eval_app.command("power")
def power_command(
    sd: Annotated[
        float | None, typer.Option(help="Standard deviation of the outcome across units.")
    ] = None,
    n: Annotated[float | None, typer.Option(help="Units (officers) in the pilot, in all.")] = None,
    effect: Annotated[
        float | None, typer.Option(help="An effect to detect: gives the power (with --n) or n.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Officer-level file to take the SD and mean from.")
    ] = None,
    column: Annotated[str | None, typer.Option(help="Its column (e.g. a pre rate).")] = None,
    treated_share: Annotated[float, typer.Option(help="Share of units treated.")] = 0.5,
    alpha: Annotated[float, typer.Option(help="Significance level (two-sided).")] = 0.05,
    power: Annotated[float, typer.Option(help="Power wanted.")] = 0.8,
    r2: Annotated[float, typer.Option(help="Outcome variance explained by covariates.")] = 0.0,
    cluster_size: Annotated[
        float, typer.Option(help="Officers per cluster when clusters are assigned.")
    ] = 1.0,
    icc: Annotated[float, typer.Option(help="Intra-cluster correlation.")] = 0.0,
    mean: Annotated[float | None, typer.Option(help="Control mean (MDE as a share).")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Plan a pilot: the minimum detectable effect, the power, or the officers needed."""
    from bodycam.evaluation.power import (
        PowerError,
        minimum_detectable_effect,
        power_for_effect,
        sample_size,
    )
    from bodycam.evaluation.tables import InputError, read_columns

    _format(fmt)
    if (sd is None) == (data is None):
        fail("Give the outcome's spread with --sd, or --data FILE --column COL, not both.")
    if data is not None:
        if column is None:
            fail("Name the column of --data with --column.")
        try:
            values = read_columns(data, {column: "number"})[column].numbers
        except InputError as exc:
            fail(str(exc))
        assert values is not None
        if len(values) < 2:
            fail(f"{data.name} column {column!r} has one row; a spread needs at least two.")
        sd = float(values.std(ddof=1))
        if mean is None:
            mean = float(values.mean())
    assert sd is not None
    common: dict[str, Any] = {
        "treated_share": treated_share, "alpha": alpha, "r2": r2,
        "cluster_size": cluster_size, "icc": icc, "mean": mean,
    }  # fmt: skip
    try:
        if effect is None:
            if n is None:
                fail("Give --n (units in the pilot) for the minimum detectable effect.")
            plan, mode = minimum_detectable_effect(n, sd, power=power, **common), "mde"
        elif n is not None:
            plan, mode = power_for_effect(effect, n, sd, **common), "power"
        else:
            plan, mode = sample_size(effect, sd, power=power, **common), "n"
    except PowerError as exc:
        fail(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    if fmt == "json":
        _json({"solve_for": mode, **plan.to_dict()})
    else:
        _print_plan(plan, mode)


@eval_app.command("report")
def report_command(
    config: Annotated[Path, typer.Argument(help="The report configuration (TOML).")],
    dest: Annotated[
        Path, typer.Option("--out", help="The folder to write (it must be new or empty).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Write the evaluation report (HTML and PDF): estimates, figures, counts, readings."""
    from bodycam.evaluation.report import make_report
    from bodycam.evaluation.report_config import ReportConfigError
    from bodycam.evaluation.tables import InputError

    try:
        report = make_report(config, dest)
    except ReportConfigError as exc:
        fail(str(exc))
    except InputError as exc:
        _problems(exc)
        fail(str(exc))
    _notes(report.notes)
    files = ["report.html", "report.pdf", report.data_file, "estimates.json"]
    if as_json:
        _json(
            {
                "out": str(dest),
                "files": files,
                "design": report.design_text,
                "outcomes": {r.outcome: r.to_dict() for r in report.results},
                "readings": {
                    r.outcome: {"headline": g.headline, "sentences": list(g.sentences),
                                "warnings": list(g.warnings)}
                    for r, g in zip(report.results, report.readings, strict=True)
                },
                "notes": list(report.notes),
            }
        )  # fmt: skip
        return
    out.print(
        f"Wrote {dest}: {', '.join(files)}; {len(report.results)} outcome(s).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for g in report.readings:
        out.print(f"- {g.headline}", markup=False, highlight=False, soft_wrap=True)

"""The evaluation report: estimates, figures, the counts behind them, and honest words.

`make_report` reads a report configuration (`report_config`), builds the analysis file
(`counts.officer_level` for a randomized design, `counts.panel` for a staggered
rollout), estimates each outcome with the engine's own estimators (`analysis.estimate_file`
or `analysis.did_file`, Benjamini-Hochberg adjusted across outcomes), counts the rates
per period for the time series, and writes ``report.html`` (self-contained, inline
SVG), ``report.pdf``, the analysis file and ``estimates.json`` into a new folder, whole
or not at all. `report_reading.reading` words each outcome's result;
`report_render` draws the HTML and the PDF.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bodycam.evaluation.report_config import ReportConfig, ReportConfigError, load_report_config
from bodycam.evaluation.report_reading import UNIT, OutcomeResult, Reading, fmt, fmt_p, reading
from bodycam.evaluation.tables import InputError

__all__ = ["REPORT_STEPS", "Report", "SeriesData", "Table", "build_report", "make_report"]

REPORT_STEPS = 4
"""The steps `make_report` reports progress in: estimates, HTML, PDF, the folder written."""


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the report, its cells already formatted."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class SeriesData:
    """One outcome's rate per period and group, for a time-series figure and its table."""

    outcome: str
    label: str
    periods: tuple[str, ...]
    groups: tuple[str, ...]
    cells: dict[tuple[str, str], tuple[float, float]]  # (period, group) -> (officer-years, count)
    markers: tuple[tuple[str, str], ...]

    def rate(self, period: str, group: str) -> float | None:
        years, count = self.cells.get((period, group), (0.0, 0.0))
        return 1000 * count / years if years > 0 else None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the HTML and PDF show."""

    config: ReportConfig
    generated_at: datetime
    design_text: str
    results: tuple[OutcomeResult, ...]
    readings: tuple[Reading, ...]
    counts: Table
    series: tuple[SeriesData, ...]
    notes: tuple[str, ...]
    sources: tuple[dict[str, Any], ...]
    data_file: str
    extra_tables: tuple[Table, ...] = field(default=())


# --- building ----------------------------------------------------------------------------


def _load(config: ReportConfig) -> tuple[Any, list[Any], dict[str, str]]:
    from bodycam.compliance.mapping import MappingError
    from bodycam.evaluation.data import read_outcomes, read_roster
    from bodycam.evaluation.mapping import load_outcome_mapping, load_roster_mapping

    titles: dict[str, str] = {}
    try:
        roster = read_roster(config.roster, load_roster_mapping(config.roster_mapping))
        sources = []
        for f in config.outcome_files:
            mapping = load_outcome_mapping(f.mapping)
            titles |= {o.name: o.title for o in mapping.outcomes if o.title}
            sources.append(read_outcomes(f.path, mapping, accept_invalid=f.accept_invalid))
    except MappingError as exc:
        raise InputError(f"{config.origin}: {exc}.") from None
    return roster, sources, titles


def _use(option: bool | None, present: bool, name: str, column: str, config: ReportConfig) -> bool:
    if option and not present:
        raise ReportConfigError(
            f"{config.origin}: options.{name} is true but the roster has no {column} column."
        )
    return present if option is None else option


def _pick(config: ReportConfig, available: Sequence[str]) -> list[str]:
    if not config.include:
        return list(available)
    missing = [o for o in config.include if o not in available]
    if missing:
        raise ReportConfigError(
            f"{config.origin}: outcomes.include names {', '.join(map(repr, missing))}, which "
            f"the mappings do not define (they define {', '.join(available)})."
        )
    return list(config.include)


def _estimates(names: Sequence[str], run: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Each outcome's estimate by `run(name)`, or the sentence that refused it.

    When every outcome is refused, the problem is the design (or the data as a whole)
    and the first sentence is raised: a report with no estimate is not written.
    """
    done: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in names:
        try:
            done[name] = run(name)
        except InputError as exc:
            failed[name] = str(exc)
    if not done:
        raise InputError(next(iter(failed.values())))
    return done, failed


def _label(name: str, config: ReportConfig, titles: dict[str, str]) -> str:
    return config.labels.get(name) or titles.get(name) or name.replace("_", " ")


def _fill_assigned(roster: Any, start: Any) -> Any:
    """The roster with every unit dated, so that `panel` counts it (dates unused here)."""
    from bodycam.evaluation.data import Roster

    units = tuple(dataclasses.replace(u, assigned=u.assigned or start) for u in roster.units)
    return Roster(roster.source, units, roster.fields | {"assigned"})


def _series(
    rows: Sequence[Sequence[Any]], columns: Sequence[str], outcomes: Sequence[str],
    group_of: Any, labels: dict[str, str], markers: Sequence[tuple[str, str]],
) -> tuple[SeriesData, ...]:  # fmt: skip
    at = {c: i for i, c in enumerate(columns)}
    periods = sorted({str(r[at["period"]]) for r in rows})
    out = []
    for o in outcomes:
        cells: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for r in rows:
            cell = cells[(str(r[at["period"]]), group_of(r, at))]
            cell[0] += _f(r[at["officer_years"]])
            cell[1] += _f(r[at[o]])
        groups = sorted({g for _, g in cells}, key=_group_order)
        out.append(
            SeriesData(o, labels[o], tuple(periods), tuple(groups),
                       {k: (v[0], v[1]) for k, v in cells.items()}, tuple(markers))
        )  # fmt: skip
    return tuple(out)


def _group_order(name: str) -> tuple[int, str]:
    return (1 if name.startswith("no cameras") or name == "control" else 0, name)


def _f(value: object) -> float:
    """A number of an analysis table (counts, officer-years, weights are int or float)."""
    assert isinstance(value, int | float)
    return float(value)


def _n(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _r(value: float | None) -> str:
    return "-" if value is None else fmt(value)


def build_report(config: ReportConfig, folder: Path) -> Report:
    """The report's content; the analysis file is written into `folder`."""
    roster, sources, titles = _load(config)
    if config.design == "randomized":
        return _randomized(config, folder, roster, sources, titles)
    return _staggered(config, folder, roster, sources, titles)


def _randomized(
    config: ReportConfig, folder: Path, roster: Any, sources: list[Any], titles: dict[str, str]
) -> Report:
    from bodycam.evaluation.analysis import estimate_file
    from bodycam.evaluation.counts import officer_level, panel
    from bodycam.evaluation.estimators import adjust_fdr
    from bodycam.evaluation.tables import write_csv

    assert config.pre is not None and config.post is not None
    table = officer_level(roster, sources, config.pre, config.post)
    outcomes = _pick(config, table.outcomes)
    labels = {o: _label(o, config, titles) for o in outcomes}
    path = folder / "officers.csv"
    write_csv(path, table.columns, table.rows)
    weights = _use(config.weights, "weight" in table.columns, "weights", "probability or weight",
                   config)  # fmt: skip
    blocks = _use(config.blocks, "block" in table.columns, "blocks", "block", config)
    clusters = _use(config.clusters, "cluster" in table.columns, "clusters", "cluster", config)

    def run(o: str) -> Any:
        covariates = [f"{o}_pre_rate" if c == "pre_rate" else c for c in config.covariates]
        return estimate_file(
            path, "treatment", [f"{o}_post"], weights="weight" if weights else None,
            block="block" if blocks else None, cluster="cluster" if clusters else None,
            covariates=covariates, exposure="officer_years_post", confidence=config.confidence,
        ).estimates[0]  # fmt: skip

    done, failed = _estimates(outcomes, run)
    estimates = dict(zip(done, adjust_fdr(list(done.values())), strict=True))
    at = {c: i for i, c in enumerate(table.columns)}
    results = []
    for o in outcomes:
        events = sum(_f(r[at[f"{o}_post"]]) for r in table.rows)
        common = _common(o, labels[o], "randomized", config, len(done), events)
        e = estimates.get(o)
        if e is None:
            results.append(OutcomeResult(**common, error=failed[o]))
            continue
        results.append(
            OutcomeResult(
                **common, estimate=e.estimate, se=e.se, ci_low=e.ci_low, ci_high=e.ci_high,
                p_value=e.p_value, p_value_fdr=e.p_value_fdr if len(done) > 1 else None,
                n_treated=e.n_treated, n_control=e.n_control, n_clusters=e.n_clusters,
                mean_treated=e.mean_treated, mean_control=e.mean_control,
                baseline=e.mean_control,
                baseline_label="the rate of officers without cameras",
            )
        )  # fmt: skip
    counts = _randomized_counts(table, outcomes, labels)
    series_table = panel(_fill_assigned(roster, config.window.start), sources, config.window,
                         config.period)  # fmt: skip
    markers = [(config.pre.start.isoformat(), "pre window"),
               (config.post.start.isoformat(), "post window")]  # fmt: skip
    series = _series(
        series_table.rows, series_table.columns, outcomes,
        lambda r, at: "cameras" if r[at["treatment"]] == 1 else "no cameras", labels,
        _snap(markers, series_table.rows, series_table.columns),
    )  # fmt: skip
    parts = ["HC2 standard errors" if not clusters else "cluster-robust standard errors (CR1)"]
    if weights:
        parts.append("inverse-probability weights")
    if blocks:
        parts.append("block fixed effects")
    if config.covariates:
        parts.append(f"adjusted for {', '.join(config.covariates)} (Lin)")
    design = (
        f"Officer-level comparison (randomized design) of {len(table.rows)} units: each "
        f"outcome is counted per unit in a pre window ({config.pre}) and a post window "
        f"({config.post}); the estimate is the difference in post-window rates {UNIT} "
        f"between units with and without cameras, with {', '.join(parts)}; "
        f"{config.confidence:.0%} confidence intervals."
    )
    return Report(
        config=config,
        generated_at=datetime.now(UTC),
        design_text=design,
        results=tuple(results),
        readings=tuple(reading(r) for r in results),
        counts=counts,
        series=series,
        notes=tuple(table.notes),
        sources=tuple(table.report.get("sources", [])),  # type: ignore[arg-type]
        data_file=path.name,
    )


def _common(
    outcome: str, label: str, design: str, config: ReportConfig, n: int, events: float
) -> dict[str, Any]:
    return {"outcome": outcome, "label": label, "design": design,
            "confidence": config.confidence, "n_outcomes": n, "events": events}  # fmt: skip


def _snap(
    markers: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], columns: Sequence[str]
) -> list[tuple[str, str]]:
    """Each marker moved to the first period that starts on or after it."""
    at = columns.index("period")
    periods = sorted({str(r[at]) for r in rows})
    out = []
    for day, label in markers:
        later = [p for p in periods if p >= day]
        if later:
            out.append((later[0], label))
    return out


def _randomized_counts(table: Any, outcomes: Sequence[str], labels: dict[str, str]) -> Table:
    at = {c: i for i, c in enumerate(table.columns)}
    rows = []
    for o in outcomes:
        for arm, name in ((1, "cameras"), (0, "no cameras")):
            members = [r for r in table.rows if r[at["treatment"]] == arm]
            years = [sum(_f(r[at[f"officer_years_{w}"]]) for r in members) for w in ("pre", "post")]
            counts = [sum(_f(r[at[f"{o}_{w}"]]) for r in members) for w in ("pre", "post")]
            rates = [1000 * c / y if y else None for c, y in zip(counts, years, strict=True)]
            rows.append(
                (labels[o], name, str(len(members)), _n(years[0]), _n(counts[0]), _r(rates[0]),
                 _n(years[1]), _n(counts[1]), _r(rates[1]))
            )  # fmt: skip
    return Table(
        "The counts behind the estimates",
        ("outcome", "group", "units", "officer-years pre", "count pre", "rate pre",
         "officer-years post", "count post", "rate post"),
        tuple(rows),
        f"Rates are {UNIT}: 1,000 x count / officer-years, pooled over the group's units.",
    )  # fmt: skip


def _staggered(
    config: ReportConfig, folder: Path, roster: Any, sources: list[Any], titles: dict[str, str]
) -> Report:
    from bodycam.evaluation.analysis import did_file
    from bodycam.evaluation.counts import panel
    from bodycam.evaluation.estimators import fdr_bh
    from bodycam.evaluation.tables import write_csv

    table = panel(roster, sources, config.window, config.period)
    outcomes = _pick(config, table.outcomes)
    labels = {o: _label(o, config, titles) for o in outcomes}
    weights = _use(config.weights, "weight" in table.columns, "weights", "probability or weight",
                   config)  # fmt: skip
    clusters = _use(config.clusters, "cluster" in table.columns, "clusters", "cluster", config)
    columns, rows = list(table.columns), [list(r) for r in table.rows]
    at = {c: i for i, c in enumerate(columns)}
    weight_column = "officer_years"
    if weights:
        weight_column = "analysis_weight"
        columns.append(weight_column)
        for r in rows:
            r.append(_f(r[at["officer_years"]]) * _f(r[at["weight"]]))
    path = folder / "panel.csv"
    write_csv(path, columns, rows)

    def run(o: str) -> Any:
        return did_file(
            path, "unit", "period", "adoption", [f"{o}_rate"], weights=weight_column,
            cluster="cluster" if clusters else None, method=config.method,  # type: ignore[arg-type]
            confidence=config.confidence,
        )  # fmt: skip

    done, failed = _estimates(outcomes, run)
    adjusted = dict(zip(done, fdr_bh([d.estimates[0].p_value for d in done.values()]), strict=True))
    notes = list(table.notes)
    results = []
    for o in outcomes:
        events = sum(_f(r[at[o]]) for r in rows)
        before = [r for r in rows if r[at["adoption"]] and r[at["camera"]] == 0]
        years = sum(_f(r[at["officer_years"]]) for r in before)
        baseline = 1000 * sum(_f(r[at[o]]) for r in before) / years if years else None
        common = _common(o, labels[o], "staggered", config, len(done), events)
        if o not in done:
            results.append(OutcomeResult(**common, error=failed[o]))
            continue
        report = done[o]
        e = report.estimates[0]
        notes.extend(n for n in (*report.notes, *e.notes) if n not in notes)
        results.append(
            OutcomeResult(
                **common, estimate=e.estimate, se=e.se, ci_low=e.ci_low, ci_high=e.ci_high,
                p_value=e.p_value, p_value_fdr=adjusted[o] if len(done) > 1 else None,
                n_treated=e.n_treated_units, n_control=e.n_control_units,
                n_clusters=e.n_clusters, baseline=baseline,
                baseline_label="the rate of the units with cameras before they had them",
                pretrend_p_value=e.pretrend_p_value,
                has_leads=any(v.relative_period <= -2 for v in e.events),
                event_study=tuple((v.relative_period, v.estimate, v.ci_low, v.ci_high,
                                   v.p_value, v.n_units) for v in e.events),
            )
        )  # fmt: skip

    def cohort(r: Sequence[Any], at: dict[str, int]) -> str:
        adoption = r[at["adoption"]]
        return f"cameras from {adoption}" if adoption else "no cameras"

    adoptions = sorted({str(r[at["adoption"]]) for r in rows if r[at["adoption"]]})
    series = _series(rows, columns, outcomes, cohort, labels, [(a, "cameras") for a in adoptions])
    counts = _staggered_counts(rows, at, outcomes, labels, cohort)
    events_tables = tuple(
        Table(
            f"Event study: {r.label}",
            ("periods since cameras", "estimate", "ci low", "ci high", "p", "units"),
            tuple(
                (str(v[0]), _r(v[1]), _r(v[2]), _r(v[3]), fmt_p(v[4]), str(v[5]))
                for v in r.event_study
            ),
            "Period -1, the last before cameras, is the reference (0 by construction).",
        )
        for r in results
        if r.event_study
    )
    design = (
        f"Staggered rollout of {len({r[at['unit']] for r in rows})} units: "
        f"difference-in-differences ({config.method}) on a {config.period} panel from "
        f"{config.window.start} to {config.window.end}, rates {UNIT} weighted by "
        f"officer-years{' and inverse-probability weights' if weights else ''}, standard "
        f"errors clustered by {'cluster' if clusters else 'unit'}; "
        f"{config.confidence:.0%} confidence intervals."
    )
    return Report(
        config=config,
        generated_at=datetime.now(UTC),
        design_text=design,
        results=tuple(results),
        readings=tuple(reading(r) for r in results),
        counts=counts,
        series=series,
        notes=tuple(notes),
        sources=tuple(table.report.get("sources", [])),  # type: ignore[arg-type]
        data_file=path.name,
        extra_tables=events_tables,
    )


def _staggered_counts(
    rows: Sequence[Sequence[Any]], at: dict[str, int], outcomes: Sequence[str],
    labels: dict[str, str], cohort: Any,
) -> Table:  # fmt: skip
    out = []
    groups = sorted({cohort(r, at) for r in rows}, key=_group_order)
    for o in outcomes:
        for g in groups:
            members = [r for r in rows if cohort(r, at) == g]
            units = len({r[at["unit"]] for r in members})
            cells = []
            for camera in (0, 1):
                part = [r for r in members if r[at["camera"]] == camera]
                years = sum(_f(r[at["officer_years"]]) for r in part)
                count = sum(_f(r[at[o]]) for r in part)
                cells += [_n(years), _n(count), _r(1000 * count / years if years else None)]
            out.append((labels[o], g, str(units), *cells))
    return Table(
        "The counts behind the estimates",
        ("outcome", "group", "units", "officer-years without", "count without",
         "rate without", "officer-years with", "count with", "rate with"),
        tuple(out),
        f"'Without' and 'with' are the periods before and from the adoption period; rates "
        f"are {UNIT}.",
    )  # fmt: skip


# --- writing -----------------------------------------------------------------------------


def make_report(
    config_path: Path, out: Path, progress: Callable[[int, int], None] | None = None
) -> Report:
    """Read the configuration, build the report, and write the folder `out` whole.

    `out` must not exist or be empty. `InputError` or `ReportConfigError` name the file,
    line and column (or key) of any problem; nothing is left behind then. `progress`, when
    given, is called with (steps done, REPORT_STEPS) after each step.
    """
    from bodycam.evaluation.report_render import render_html, render_pdf

    def step(done: int) -> None:
        if progress is not None:
            progress(done, REPORT_STEPS)

    config = load_report_config(config_path)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not an empty folder; choose a new one.")
    parent = out.parent if str(out.parent) else Path()
    if not parent.is_dir():
        raise InputError(f"{parent} is not a folder; create it first.")
    temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    temp.chmod(0o777 & ~umask)  # mkdtemp's folder is private; the report is not
    try:
        step(0)
        report = build_report(config, temp)
        step(1)
        (temp / "report.html").write_text(render_html(report), encoding="utf-8")
        step(2)
        (temp / "report.pdf").write_bytes(render_pdf(report))
        step(3)
        (temp / "estimates.json").write_text(
            json.dumps(
                {"title": config.title, "design": report.design_text,
                 "outcomes": {r.outcome: r.to_dict() for r in report.results},
                 "notes": list(report.notes)},
                allow_nan=False, indent=1,
            ),
            encoding="utf-8",
        )  # fmt: skip
        for f in temp.iterdir():
            with f.open("rb") as handle:
                os.fsync(handle.fileno())
        if out.exists():
            out.rmdir()
        os.replace(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    step(REPORT_STEPS)
    return report

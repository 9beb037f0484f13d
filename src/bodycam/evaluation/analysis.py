"""Estimates from analysis files: columns named on the command line, errors with lines.

`estimate_file` reads an officer-level file (one row per unit, as `bodycam eval
prepare` writes) and `did_file` a panel (one row per unit and period, as `bodycam eval
panel` writes); both hand the columns to the estimators and turn every
`EstimationError` into a sentence naming the file, the line and the column. Several
outcomes get Benjamini-Hochberg adjusted p-values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bodycam.evaluation.did import DidEstimate, Method, staggered_did
from bodycam.evaluation.estimators import (
    Estimate,
    EstimationError,
    adjust_fdr,
    difference_in_means,
    fdr_bh,
    rate_difference,
)
from bodycam.evaluation.tables import Column, InputError, Kind, read_columns

__all__ = ["DidReport", "EstimateReport", "did_file", "estimate_file"]


@dataclass(frozen=True, slots=True)
class EstimateReport:
    """The estimates of one officer-level file, with the design that produced them."""

    file: str
    treatment: str
    design: dict[str, Any]
    estimates: tuple[Estimate, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{file, treatment, design, fdr, outcomes: {name: {estimate, se, ...}}}``."""
        return {
            "file": self.file,
            "treatment": self.treatment,
            "design": self.design,
            "fdr": "benjamini-hochberg" if len(self.estimates) > 1 else None,
            "outcomes": {e.outcome: e.to_dict() for e in self.estimates},
        }


@dataclass(frozen=True, slots=True)
class DidReport:
    """The difference-in-differences estimates of one panel file."""

    file: str
    design: dict[str, Any]
    estimates: tuple[DidEstimate, ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """``{file, design, fdr, notes, outcomes: {name: {estimate, se, ..., events}}}``."""
        return {
            "file": self.file,
            "design": self.design,
            "fdr": "benjamini-hochberg" if len(self.estimates) > 1 else None,
            "notes": list(self.notes),
            "outcomes": {e.outcome: e.to_dict() for e in self.estimates},
        }


def _sentence(source: str, exc: EstimationError, columns: dict[str, Column], outcome: str) -> str:
    """An `EstimationError` as a sentence naming the file, line and column."""
    name = exc.field or "outcome"
    if name == "outcome":
        name = outcome
    column = columns.get(name)
    where = source
    if exc.index is not None and column is not None:
        where += f" line {int(column.lines[exc.index])}"
    if column is not None:
        where += f", column {column.name!r}"
    return f"{where}: {exc}."


def _duplicates(names: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(f"{what} {name!r} is given twice.")
        seen.add(name)


def estimate_file(
    path: Path,
    treatment: str,
    outcomes: Sequence[str],
    *,
    weights: str | None = None,
    block: str | None = None,
    cluster: str | None = None,
    covariates: Sequence[str] = (),
    exposure: str | None = None,
    confidence: float = 0.95,
) -> EstimateReport:
    """Each outcome's treated-minus-control estimate from an officer-level file.

    With `exposure` (officer-years), each outcome is a count and the estimate is the
    difference in rates per 1,000 officers per year (`rate_difference`); otherwise
    the outcome is compared as it is (`difference_in_means`). `InputError` names the
    file, line and column of any problem.
    """
    if not outcomes:
        raise InputError("Name at least one outcome column (--outcome).")
    if not 0 < confidence < 1:
        raise InputError(f"The confidence level {confidence!r} must be between 0 and 1.")
    _duplicates(outcomes, "the outcome")
    _duplicates(covariates, "the covariate")
    wanted: dict[str, Kind] = {treatment: "binary"}
    for name in (*outcomes, *covariates):
        wanted[name] = "number"
    for role in (weights, exposure):
        if role is not None:
            wanted[role] = "positive"
    for role in (block, cluster):
        if role is not None:
            wanted[role] = "label"
    if len(wanted) < 1 + len(outcomes) + len(covariates) + sum(
        x is not None for x in (weights, exposure, block, cluster)
    ):
        raise InputError("A column is named for two roles; give each role its own column.")
    columns = read_columns(path, wanted)
    source = path.name
    named = {
        "treatment": columns[treatment],
        **({"weight": columns[weights]} if weights else {}),
        **({"exposure": columns[exposure]} if exposure else {}),
        **({"block": columns[block]} if block else {}),
        **({"cluster": columns[cluster]} if cluster else {}),
        **{f"covariate {i}": columns[c] for i, c in enumerate(covariates, 1)},
    }
    t = columns[treatment].numbers
    w = columns[weights].numbers if weights else None
    blocks = list(columns[block].labels or ()) if block else None
    clusters = list(columns[cluster].labels or ()) if cluster else None
    x = [columns[c].numbers for c in covariates]
    estimates: list[Estimate] = []
    for outcome in outcomes:
        y = columns[outcome].numbers
        try:
            if exposure is not None:
                estimate = rate_difference(
                    y, columns[exposure].numbers, t, weights=w, blocks=blocks,
                    clusters=clusters, covariates=x, outcome=outcome, confidence=confidence,
                )  # fmt: skip
            else:
                estimate = difference_in_means(
                    y, t, weights=w, blocks=blocks, clusters=clusters, covariates=x,
                    outcome=outcome, confidence=confidence,
                )  # fmt: skip
        except EstimationError as exc:
            raise InputError(
                _sentence(source, exc, {**named, outcome: columns[outcome]}, outcome)
            ) from None
        estimates.append(estimate)
    if len(estimates) > 1:
        estimates = adjust_fdr(estimates)
    design = {
        "weights": weights,
        "block": block,
        "cluster": cluster,
        "covariates": list(covariates),
        "exposure": exposure,
        "rates_per": 1000.0 if exposure else None,
        "se_type": estimates[0].se_type,
        "confidence": confidence,
    }
    return EstimateReport(source, treatment, design, tuple(estimates))


def _order(values: Sequence[str]) -> tuple[list[str], bool]:
    """The distinct period values in time order: numerically if all are integers."""
    distinct = sorted(set(values))
    try:
        numbers = [int(v) for v in distinct]
    except ValueError:
        return distinct, False
    return [str(n) for n in sorted(numbers)], True


def did_file(
    path: Path,
    unit: str,
    time: str,
    adoption: str,
    outcomes: Sequence[str],
    *,
    weights: str | None = None,
    cluster: str | None = None,
    method: Method = "cohort",
    confidence: float = 0.95,
) -> DidReport:
    """Each outcome's difference-in-differences estimate from a panel file.

    `time` holds ISO dates or integers (they are ordered as such); `adoption` the
    period in which the unit adopted cameras (blank: never), one of the `time` values.
    An adoption after the last period makes the unit a comparison unit throughout; one
    before the first leaves the unit out (nothing before adoption to compare).
    """
    if not outcomes:
        raise InputError("Name at least one outcome column (--outcome).")
    if method not in ("cohort", "twfe"):
        raise InputError(f"The method {method!r} is not cohort or twfe.")
    if not 0 < confidence < 1:
        raise InputError(f"The confidence level {confidence!r} must be between 0 and 1.")
    _duplicates(outcomes, "the outcome")
    wanted: dict[str, Kind] = {unit: "label", time: "label", adoption: "optional"}
    for name in outcomes:
        wanted[name] = "number"
    if weights is not None:
        wanted[weights] = "positive"
    if cluster is not None:
        wanted[cluster] = "label"
    roles = 3 + len(outcomes) + (weights is not None) + (cluster is not None)
    if len(wanted) < roles:
        raise InputError("A column is named for two roles; give each role its own column.")
    columns = read_columns(path, wanted)
    source = path.name
    times = list(columns[time].labels or ())
    order, numeric = _order(times)
    position = {value: i for i, value in enumerate(order)}
    period = [position[str(int(v)) if numeric else v] for v in times]

    def key(value: str) -> float | str:
        return float(value) if numeric else value

    notes: list[str] = []
    adopted: list[int | None] = []
    late: set[str] = set()
    units = list(columns[unit].labels or ())
    adoption_column = columns[adoption]
    for i, text in enumerate(adoption_column.labels or ()):
        if not text:
            adopted.append(None)
            continue
        try:
            value = key(text)
        except ValueError:
            value = None
        if value is None or (not numeric and len(text) != len(order[0])):
            raise InputError(
                f"{source} line {int(adoption_column.lines[i])}, column "
                f"{adoption_column.name!r}: {text!r} is not a period like those of column "
                f"{columns[time].name!r} (e.g. {order[0]!r})."
            )
        normal = str(int(value)) if numeric else text
        if normal in position:
            adopted.append(position[normal])
        elif value > key(order[-1]):  # type: ignore[operator]
            adopted.append(None)
            late.add(units[i])
        elif value < key(order[0]):  # type: ignore[operator]
            adopted.append(-1)
        else:
            raise InputError(
                f"{source} line {int(adoption_column.lines[i])}, column "
                f"{adoption_column.name!r}: {text!r} is not one of the periods of column "
                f"{columns[time].name!r}; name the period in which the unit adopted cameras."
            )
    if late:
        notes.append(
            f"{len(late)} unit(s) adopt cameras after the last period and are comparison "
            f"units throughout: {', '.join(repr(u) for u in sorted(late)[:5])}"
        )
    named = {
        "unit": columns[unit],
        "period": columns[time],
        "adoption": adoption_column,
        **({"weight": columns[weights]} if weights else {}),
        **({"cluster": columns[cluster]} if cluster else {}),
    }
    w = columns[weights].numbers if weights else None
    clusters = list(columns[cluster].labels or ()) if cluster else None
    estimates: list[DidEstimate] = []
    for outcome in outcomes:
        try:
            estimate = staggered_did(
                columns[outcome].numbers, units, period, adopted, weights=w,
                clusters=clusters, method=method, outcome=outcome, confidence=confidence,
            )  # fmt: skip
        except EstimationError as exc:
            raise InputError(
                _sentence(source, exc, {**named, outcome: columns[outcome]}, outcome)
            ) from None
        estimates.append(estimate)
    if len(estimates) > 1:
        adjusted = fdr_bh([e.p_value for e in estimates])
        estimates = [
            dataclasses.replace(e, p_value_fdr=p) for e, p in zip(estimates, adjusted, strict=True)
        ]
    design = {
        "unit": unit,
        "time": time,
        "adoption": adoption,
        "weights": weights,
        "cluster": cluster or unit,
        "method": method,
        "periods": len(order),
        "first_period": order[0],
        "last_period": order[-1],
        "confidence": confidence,
    }
    return DidReport(source, design, tuple(estimates), tuple(notes))

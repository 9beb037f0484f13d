"""Staggered rollouts: difference-in-differences and an event study, cluster-robust.

The data are a panel: one row per unit (officer, precinct, agency) and period, with an
outcome and the period in which the unit adopted cameras (none for units that never
did during the panel). Two estimators:

* ``cohort`` (the default), the interaction-weighted estimator of Sun and Abraham
  (2021), which is Wooldridge's (2021) saturated two-way fixed-effects regression: unit
  and period fixed effects plus one indicator per (adoption cohort e, relative period
  l = t - e), every l but -1, for the units that adopt. Units that never adopt are the
  comparison (without any, the last cohort to adopt is, in the periods before it
  does). In a balanced panel each coefficient is a 2x2 comparison of means,
  ``delta(e, l) = (y[e, e+l] - y[e, e-1]) - (y[never, e+l] - y[never, e-1])``. The overall
  effect (ATT) averages delta(e, l) over l >= 0, each weighted by its number of
  observations (or their total weight); the event study averages, for each l, over the
  cohorts observed at l. Leads (l <= -2) estimate differences before adoption: a joint
  Wald F test of them (``pretrend_p_value``) checks the parallel-trends assumption.
* ``twfe``: the classic regression on one indicator "camera in use" with unit and
  period fixed effects. With staggered adoption and effects that change over time it is
  a weighted average of comparisons some of which use already-treated units as
  controls, and can even take the wrong sign (Goodman-Bacon 2021): reported for
  comparison only.

Fixed effects are removed by weighted alternating projections (exact for unbalanced
panels) and the remaining regression is fitted by statsmodels WLS with cluster-robust
(CR1) covariance, clustered by unit unless other clusters are given: V = c (X'WX)⁻¹
(sum _g X_g'W_g e_g e_g'W_g X_g) (X'WX)⁻¹ with c = G/(G-1) * (N-1)/(N-K), K the number of
coefficients besides the fixed effects; t with G - 1 degrees of freedom.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from bodycam.evaluation.estimators import EstimationError, _codes, _vector, _weights

__all__ = ["DidEstimate", "EventEstimate", "Method", "staggered_did"]

Method = Literal["cohort", "twfe"]
Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
_NEVER: Final = np.iinfo(np.int64).max
_UNSET: Final = np.iinfo(np.int64).min
_FEW_CLUSTERS: Final = 30


@dataclass(frozen=True, slots=True)
class EventEstimate:
    """The effect `relative_period` periods after adoption (before, when negative)."""

    relative_period: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_units: int

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class DidEstimate:
    """The average effect on the treated after adoption, its errors, and the event study.

    `estimate` is in the outcome's units; `se` is cluster-robust with `n_clusters`
    clusters and t with `df` = clusters - 1 degrees of freedom gives the interval and
    the p-value. `events` holds the event study (relative period -1 is the reference,
    0 by construction, and not listed); `pretrend_p_value` tests that every lead is 0.
    `notes` say what was left out and why.
    """

    outcome: str
    method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    confidence: float
    n_observations: int
    n_units: int
    n_treated_units: int
    n_control_units: int
    n_clusters: int
    n_cohorts: int
    control_group: str
    events: tuple[EventEstimate, ...] = ()
    pretrend_p_value: float | None = None
    p_value_fdr: float | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (None fields left out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or f.name == "outcome":
                continue
            if f.name == "events":
                value = [e.to_dict() for e in value]
            elif f.name == "notes":
                value = list(value)
            out[f.name] = value
        return out


def _demean(
    data: Float, groups: Sequence[Int], w: Float, tol: float = 1e-13, limit: int = 10_000
) -> Float:
    """`data` with weighted means by each grouping removed (alternating projections)."""
    x = data.copy()
    totals = [np.bincount(g, weights=w) for g in groups]
    scale = max(1.0, float(np.abs(data).max()))
    for _ in range(limit):
        for g, total in zip(groups, totals, strict=True):
            sums = np.stack([np.bincount(g, weights=w * x[:, j]) for j in range(x.shape[1])], 1)
            x -= (sums / total[:, None])[g]
        first = groups[0]
        sums = np.stack([np.bincount(first, weights=w * x[:, j]) for j in range(x.shape[1])], 1)
        if np.abs(sums / totals[0][:, None]).max() <= tol * scale:
            return x
    raise EstimationError("the fixed effects did not converge; the panel is too fragmented")


def _t(confidence: float, df: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, df))


def _p(estimate: float, se: float, df: float) -> float:
    from scipy import stats

    return float(2 * stats.t.sf(abs(estimate / se), df))


def _combine(
    weights: Float, b: Float, v: Float, confidence: float, df: float
) -> tuple[float, float, float, float, float]:
    omega = weights / weights.sum()
    estimate = float(omega @ b)
    variance = float(omega @ v @ omega)
    se = float(np.sqrt(variance)) if variance > 0 else 0.0
    if not (np.isfinite(se) and se > 1e-12 * max(1.0, abs(estimate))):
        raise EstimationError(
            "the standard error comes out as 0 (the outcome does not vary once unit and "
            "period effects are removed, or there are too few clusters for the cohorts and "
            "periods), so no interval or p-value exists",
            field="outcome",
        )
    half = _t(confidence, df) * se
    return estimate, se, estimate - half, estimate + half, _p(estimate, se, df)


def staggered_did(
    y: Any,
    unit: Sequence[str],
    period: Sequence[int],
    adoption: Sequence[int | None],
    *,
    weights: Any = None,
    clusters: Sequence[str] | None = None,
    method: Method = "cohort",
    outcome: str = "outcome",
    confidence: float = 0.95,
) -> DidEstimate:
    """The difference-in-differences estimate for a (possibly staggered) rollout.

    `period` holds each row's period as a position (0, 1, ... in time order) and
    `adoption` the position of the period in which the row's unit adopted cameras, or
    None if it never did; the period of adoption counts as treated (l = 0). Units that
    adopted before their first observed period, and treated units with no row in the
    period before adoption, are left out (`notes` says so). `EstimationError` when
    fewer than two treated or two comparison units (or clusters of each) remain, a unit
    has two rows for a period or two adoption periods, or a value is not finite.
    """
    import statsmodels.api as sm

    if method not in ("cohort", "twfe"):
        raise EstimationError(f"method {method!r} is not cohort or twfe")
    y = _vector(outcome, y)
    n = len(y)
    w = _weights(weights, n)
    u, unit_names = _codes("unit", unit, n)
    t = np.asarray(period, dtype=np.int64)
    a = np.asarray([_NEVER if v is None else v for v in adoption], dtype=np.int64)
    if len(t) != n or len(a) != n:
        raise EstimationError("unit, period and adoption need one value per row")
    cluster_labels = list(clusters) if clusters is not None else [unit_names[i] for i in u]
    if len(cluster_labels) != n:
        raise EstimationError(f"cluster has {len(cluster_labels)} values for {n} rows")

    order = np.lexsort((t, u))
    same = (u[order][1:] == u[order][:-1]) & (t[order][1:] == t[order][:-1])
    if same.any():
        at = int(order[1:][same][0])
        raise EstimationError(
            f"unit {unit_names[u[at]]!r} has two rows for one period", at, "period"
        )
    unit_adoption = np.full(len(unit_names), _UNSET, dtype=np.int64)
    for i in range(n):
        if unit_adoption[u[i]] == _UNSET:
            unit_adoption[u[i]] = a[i]
        elif unit_adoption[u[i]] != a[i]:
            raise EstimationError(
                f"unit {unit_names[u[i]]!r} has two different adoption periods", i, "adoption"
            )

    notes: list[str] = []
    keep = np.ones(n, dtype=bool)
    first = np.full(len(unit_names), _NEVER, dtype=np.int64)
    np.minimum.at(first, u, t)
    always = [i for i in range(len(unit_names)) if unit_adoption[i] <= first[i]]
    if always:
        keep &= ~np.isin(u, always)
        notes.append(
            f"{len(always)} unit(s) had cameras from their first period, so nothing "
            f"before adoption compares them, and are left out: {_names(unit_names, always)}"
        )
    adopters = sorted(
        {int(unit_adoption[i]) for i in range(len(unit_names)) if i not in always} - {_NEVER}
    )
    if any(unit_adoption[i] == _NEVER for i in range(len(unit_names))):
        control_group = "never treated"
    elif len(adopters) >= 2:
        last = adopters[-1]
        control_group = "last treated (in the periods before they adopt)"
        keep &= t < last
        unit_adoption = np.where(unit_adoption == last, _NEVER, unit_adoption)
        a = np.where(a == last, _NEVER, a)
        notes.append(
            "no unit goes without cameras throughout, so the last units to adopt are the "
            "comparison, in the periods before they adopt"
        )
    else:
        raise EstimationError(
            "every unit adopts cameras in the same period and none goes without: "
            "nothing compares them",
            field="adoption",
        )
    if method == "cohort":
        reference = keep & (a != _NEVER) & (t == a - 1)
        with_reference = set(u[reference].tolist())
        lacking = [i for i in set(u[keep & (a != _NEVER)].tolist()) if i not in with_reference]
        if lacking:
            lacking.sort()
            keep &= ~np.isin(u, lacking)
            notes.append(
                f"{len(lacking)} treated unit(s) have no row for the period before adoption "
                f"(the reference) and are left out: {_names(unit_names, lacking)}"
            )

    y, w, u, t, a = y[keep], w[keep], u[keep], t[keep], a[keep]
    index = np.flatnonzero(keep)
    cluster_kept = [cluster_labels[i] for i in index]
    treated_units = sorted(set(u[a != _NEVER].tolist()))
    control_units = sorted(set(u[a == _NEVER].tolist()))
    for label, members in (("treated", treated_units), ("comparison", control_units)):
        if len(members) < 2:
            raise EstimationError(
                f"{len(members)} {label} unit{'' if len(members) == 1 else 's'} remain; "
                "a difference-in-differences needs at least two treated and two comparison "
                "units",
                field="adoption",
            )
    c_codes, c_names = _codes("cluster", cluster_kept, len(y))
    for label, mask in (("treated", a != _NEVER), ("comparison", a == _NEVER)):
        count = len(set(c_codes[mask].tolist()))
        if count < 2:
            raise EstimationError(
                f"the {label} units fall in {count} cluster{'' if count == 1 else 's'}; "
                "cluster-robust errors need each group in at least two clusters",
                field="cluster",
            )
    if len(c_names) < _FEW_CLUSTERS:
        notes.append(
            f"only {len(c_names)} clusters: cluster-robust errors understate the uncertainty "
            f"with fewer than about {_FEW_CLUSTERS}; read the interval as too narrow"
        )

    relative = np.where(a == _NEVER, 0, t - np.where(a == _NEVER, 0, a))
    treated_rows = a != _NEVER
    if method == "twfe":
        cells: list[tuple[int, int]] = [(0, 0)]
        columns = [(treated_rows & (relative >= 0)).astype(np.float64)]
    else:
        cells = sorted(
            {(int(e), int(r)) for e, r in zip(a[treated_rows], relative[treated_rows], strict=True)}
            - {(int(e), -1) for e in set(a[treated_rows].tolist())}
        )
        columns = [(treated_rows & (a == e) & (relative == r)).astype(np.float64) for e, r in cells]
    _, t_codes = np.unique(t, return_inverse=True)
    _, u_codes = np.unique(u, return_inverse=True)
    data = _demean(np.column_stack([y, *columns]), [u_codes, t_codes.astype(np.int64)], w)
    ytilde, x = data[:, 0], data[:, 1:]
    kept_cells, kept_columns, dropped = _identified(cells, x)
    if dropped:
        notes.append(
            f"{len(dropped)} cohort-period cell(s) cannot be told apart from the period "
            "effects (no comparison unit observed then) and are not estimated"
        )
    x = x[:, kept_columns]
    cells = kept_cells
    fit = sm.WLS(ytilde, x, weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": c_codes}, use_t=True
    )
    b = np.asarray(fit.params, dtype=np.float64)
    v = np.asarray(fit.cov_params(), dtype=np.float64)
    df = float(len(c_names) - 1)
    raw = np.column_stack(columns)[:, kept_columns]
    cell_weight = (raw * w[:, None]).sum(axis=0)

    post = np.asarray([r >= 0 for _, r in cells])
    if not post.any():
        raise EstimationError("no treated unit is observed after adoption")
    mask = np.where(post, cell_weight, 0.0)
    estimate, se, low, high, p = _combine(mask, b, v, confidence, df)

    events: list[EventEstimate] = []
    leads: list[Float] = []
    if method == "cohort":
        for r in sorted({r for _, r in cells}):
            pick = np.where([c[1] == r for c in cells], cell_weight, 0.0)
            e_est, e_se, e_low, e_high, e_p = _combine(pick, b, v, confidence, df)
            in_cell = treated_rows & (relative == r)
            events.append(
                EventEstimate(r, e_est, e_se, e_low, e_high, e_p, len(set(u[in_cell].tolist())))
            )
            if r <= -2:
                leads.append(pick / pick.sum())
    pretrend = _wald(np.asarray(leads), b, v, df) if leads else None
    return DidEstimate(
        outcome=outcome,
        method=method,
        estimate=estimate,
        se=se,
        ci_low=low,
        ci_high=high,
        p_value=p,
        df=df,
        confidence=confidence,
        n_observations=len(y),
        n_units=len(treated_units) + len(control_units),
        n_treated_units=len(treated_units),
        n_control_units=len(control_units),
        n_clusters=len(c_names),
        n_cohorts=len({e for e, _ in cells}) if method == "cohort" else len(set(a[treated_rows])),
        control_group=control_group,
        events=tuple(events),
        pretrend_p_value=pretrend,
        notes=tuple(notes),
    )


def _names(names: Sequence[str], picked: Sequence[int]) -> str:
    shown = ", ".join(repr(names[i]) for i in picked[:5])
    return shown + (f" and {len(picked) - 5} more" if len(picked) > 5 else "")


def _identified(
    cells: list[tuple[int, int]], x: Float
) -> tuple[list[tuple[int, int]], list[int], list[tuple[int, int]]]:
    """The cells whose demeaned column is not a combination of the earlier ones."""
    kept: list[int] = []
    scale = max(1.0, float(np.abs(x).max()) if x.size else 1.0)
    for j in range(x.shape[1]):
        column = x[:, j]
        if kept:
            basis = x[:, kept]
            coef, *_ = np.linalg.lstsq(basis, column, rcond=None)
            column = column - basis @ coef
        if np.linalg.norm(column) > 1e-9 * scale * np.sqrt(len(column)):
            kept.append(j)
    return [cells[j] for j in kept], kept, [cells[j] for j in range(len(cells)) if j not in kept]


def _wald(rows: Float, b: Float, v: Float, df: float) -> float | None:
    """The p-value of the F test that every row's combination of `b` is 0."""
    from scipy import stats

    values = rows @ b
    cov = rows @ v @ rows.T
    try:
        statistic = float(values @ np.linalg.solve(cov, values)) / len(values)
    except np.linalg.LinAlgError:
        return None
    if not np.isfinite(statistic) or statistic < 0:
        return None
    return float(stats.f.sf(statistic, len(values), df))

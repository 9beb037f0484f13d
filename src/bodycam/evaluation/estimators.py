"""Officer-level estimators: difference in means, rates per 1,000 officers per year, FDR.

Each unit (officer, or group of officers) is one row: an outcome, a treatment (camera
1, control 0), and optionally a weight, a block, a cluster and covariates. The effect
is the coefficient on treatment in a weighted least-squares regression (statsmodels
WLS), which is

* with no block and no covariate, the (weighted) difference in means
  ``mean_y_T - mean_y_C``; with inverse-probability weights (``1/p`` for treated units,
  ``1/(1-p)`` for controls) the Horvitz-Thompson-style estimate of the average effect
  when units had different chances of a camera;
* with blocks, the same plus one indicator per block but the first (block fixed
  effects): a comparison within blocks;
* with covariates, Lin's (2013) adjustment: each covariate centred on its (weighted)
  mean and entered alone and multiplied by treatment, so the coefficient on treatment
  stays the average effect and the adjustment cannot hurt precision in large samples.

Standard errors are HC2 (the variance estimator for officer-level randomized trials:
without weights and blocks it equals Neyman's ``s^2_T/n_T + s^2_C/n_C``), or
cluster-robust (CR1, statsmodels' ``cluster``) when treatment was assigned to whole
clusters. Intervals and p-values use Student's t with n - k degrees of freedom (HC2)
or G - 1 (G clusters). Nothing is rounded; an estimate that cannot be computed is an
`EstimationError`, never a NaN. ``docs/evaluation.md`` gives every formula.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "Estimate",
    "EstimationError",
    "adjust_fdr",
    "difference_in_means",
    "fdr_bh",
    "ipw_weights",
    "rate_difference",
]

Float = npt.NDArray[np.float64]
PER: Final = 1000.0
"""Rates are per 1,000 officers per year (counts per 1,000 officer-years)."""
_LEVERAGE_LIMIT: Final = 1 - 1e-9


class EstimationError(ValueError):
    """An estimate that cannot be computed from these data.

    `index` is the row at fault, if one is, and `field` the input it concerns
    (``treatment``, ``outcome``, ``weight``, ``block``, ``cluster``, ``covariate``,
    ``exposure``, ``unit``, ``period``, ``adoption``), so that a file reader can name the
    line and column.
    """

    def __init__(self, message: str, index: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.field = field


@dataclass(frozen=True, slots=True)
class Estimate:
    """One outcome's effect estimate, in the outcome's units, at full float precision.

    `estimate` is treated minus control; `se` its standard error (`se_type` ``HC2`` or
    ``cluster``); [`ci_low`, `ci_high`] the `confidence` interval and `p_value` the
    two-sided p-value, from Student's t with `df` degrees of freedom. `mean_treated` and
    `mean_control` are the (weighted) group means, before any block or covariate
    adjustment (for rates: the pooled rate of each group). `p_value_fdr` is the
    Benjamini-Hochberg adjusted p-value when several outcomes were estimated together.
    """

    outcome: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    n_treated: int
    n_control: int
    mean_treated: float
    mean_control: float
    se_type: str
    confidence: float
    n_clusters: int | None = None
    p_value_fdr: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (None fields left out)."""
        return {
            f.name: value
            for f in dataclasses.fields(self)
            if (value := getattr(self, f.name)) is not None and f.name != "outcome"
        }


def _vector(name: str, values: Any, n: int | None = None, field: str = "outcome") -> Float:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise EstimationError(f"{name} must be one value per unit", field=field)
    if n is not None and len(array) != n:
        raise EstimationError(f"{name} has {len(array)} values for {n} units", field=field)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise EstimationError(f"{name} is not a finite number", int(bad[0]), field)
    return array


def _treatment(values: Any, n: int) -> Float:
    t = _vector("treatment", values, n, "treatment")
    bad = np.flatnonzero((t != 0) & (t != 1))
    if bad.size:
        raise EstimationError(
            f"treatment {float(t[bad[0]])!r} is not 0 or 1", int(bad[0]), "treatment"
        )
    for arm, label in ((1.0, "treated"), (0.0, "control")):
        members = np.flatnonzero(t == arm)
        if members.size < 2:
            at = int(members[0]) if members.size else None
            raise EstimationError(
                f"there {'is' if members.size == 1 else 'are'} {members.size} {label} "
                f"unit{'' if members.size == 1 else 's'}; an estimate needs at least two "
                "treated and two control units",
                at,
                "treatment",
            )
    return t


def _weights(values: Any, n: int) -> Float:
    if values is None:
        return np.ones(n)
    w = _vector("weight", values, n, "weight")
    bad = np.flatnonzero(w <= 0)
    if bad.size:
        raise EstimationError(f"weight {float(w[bad[0]])!r} is not above 0", int(bad[0]), "weight")
    return w


def _codes(name: str, labels: Sequence[str], n: int) -> tuple[npt.NDArray[np.int64], list[str]]:
    if len(labels) != n:
        raise EstimationError(f"{name} has {len(labels)} values for {n} units", field=name)
    names = sorted(set(labels))
    lookup = {label: i for i, label in enumerate(names)}
    return np.asarray([lookup[label] for label in labels], dtype=np.int64), names


def ipw_weights(treated: Any, probability: Any) -> Float:
    """Inverse-probability weights: ``1/p`` for treated units, ``1/(1-p)`` for controls."""
    t = np.asarray(treated, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    bad = np.flatnonzero(~((p > 0) & (p < 1)))
    if bad.size:
        raise EstimationError(
            f"assignment probability {float(p[bad[0]])!r} is not strictly between 0 and 1",
            int(bad[0]),
            "probability",
        )
    return np.asarray(t / p + (1 - t) / (1 - p), dtype=np.float64)


def _design(
    t: Float,
    w: Float,
    blocks: Sequence[str] | None,
    covariates: Sequence[Any] | None,
) -> Float:
    """Intercept, treatment, centred covariates and their products, block indicators."""
    n = len(t)
    columns = [np.ones(n), t]
    for j, values in enumerate(covariates or ()):
        c = _vector(f"covariate {j + 1}", values, n, f"covariate {j + 1}")
        c = c - np.average(c, weights=w)
        columns.extend((c, t * c))
    if blocks is not None:
        codes, names = _codes("block", blocks, n)
        for b, name in enumerate(names):
            arms = t[codes == b]
            if arms.size < 2:
                at = int(np.flatnonzero(codes == b)[0])
                raise EstimationError(
                    f"block {name!r} has one unit; every block needs at least two", at, "block"
                )
            if arms.min() == arms.max():
                at = int(np.flatnonzero(codes == b)[0])
                missing = "control" if arms[0] == 1 else "treated"
                raise EstimationError(
                    f"block {name!r} has no {missing} unit; with blocks every block needs "
                    "treated and control units",
                    at,
                    "block",
                )
            if b:
                columns.append((codes == b).astype(np.float64))
    return np.column_stack(columns)


def difference_in_means(
    y: Any,
    treated: Any,
    *,
    weights: Any = None,
    blocks: Sequence[str] | None = None,
    clusters: Sequence[str] | None = None,
    covariates: Sequence[Any] | None = None,
    outcome: str = "outcome",
    confidence: float = 0.95,
) -> Estimate:
    """The treated-minus-control difference with HC2 (or cluster-robust) errors.

    See the module docstring for the model. `EstimationError` when a group (treated,
    control, or a block) has fewer than two units, a block lacks one arm, a value is
    not finite, a unit is fitted exactly (HC2 needs leverage below 1), or the outcome
    has no residual variation (a standard error of 0).
    """
    import statsmodels.api as sm

    if not 0 < confidence < 1:
        raise EstimationError(f"confidence {confidence!r} is not between 0 and 1")
    y = _vector(outcome, y)
    n = len(y)
    t = _treatment(treated, n)
    w = _weights(weights, n)
    X = _design(t, w, blocks, covariates)
    if np.linalg.matrix_rank(X * np.sqrt(w)[:, None]) < X.shape[1]:
        raise EstimationError(
            "the model cannot be estimated: a covariate is constant or duplicates another "
            "(or the blocks), so its coefficients are not identified"
        )
    n_clusters: int | None = None
    if clusters is None:
        q, _ = np.linalg.qr(X * np.sqrt(w)[:, None])
        leverage = np.einsum("ij,ij->i", q, q)
        if leverage.max() > _LEVERAGE_LIMIT:
            at = int(leverage.argmax())
            raise EstimationError(
                "the HC2 standard error cannot be computed: the model fits this unit exactly "
                "(leverage 1), because its group has no more units than the model has terms "
                "for it (too many covariates for too few units)",
                at,
                "outcome",
            )
        fit = sm.WLS(y, X, weights=w).fit(cov_type="HC2", use_t=True)
        df = float(fit.df_resid)
        se_type = "HC2"
    else:
        codes, names = _codes("cluster", clusters, n)
        n_clusters = len(names)
        for arm, label in ((1.0, "treated"), (0.0, "control")):
            count = len(set(codes[t == arm].tolist()))
            if count < 2:
                raise EstimationError(
                    f"{label} units fall in {count} cluster{'' if count == 1 else 's'}; "
                    "cluster-robust errors need treated units in at least two clusters and "
                    "control units in at least two",
                    field="cluster",
                )
        fit = sm.WLS(y, X, weights=w).fit(
            cov_type="cluster", cov_kwds={"groups": codes}, use_t=True
        )
        df = float(n_clusters - 1)
        se_type = "cluster"
    estimate = float(fit.params[1])
    se = float(fit.bse[1])
    if not (np.isfinite(se) and se > 0):
        raise EstimationError(
            f"{outcome!r} does not vary within the groups compared (every residual is 0), "
            "so its standard error is 0 and no interval or p-value exists",
            field="outcome",
        )
    low, high = (float(v) for v in fit.conf_int(alpha=1 - confidence)[1])
    treated_rows, control_rows = t == 1, t == 0
    return Estimate(
        outcome=outcome,
        estimate=estimate,
        se=se,
        ci_low=low,
        ci_high=high,
        p_value=float(fit.pvalues[1]),
        df=df,
        n_treated=int(treated_rows.sum()),
        n_control=int(control_rows.sum()),
        mean_treated=float(np.average(y[treated_rows], weights=w[treated_rows])),
        mean_control=float(np.average(y[control_rows], weights=w[control_rows])),
        se_type=se_type,
        confidence=confidence,
        n_clusters=n_clusters,
    )


def rate_difference(
    counts: Any,
    exposure: Any,
    treated: Any,
    *,
    weights: Any = None,
    blocks: Sequence[str] | None = None,
    clusters: Sequence[str] | None = None,
    covariates: Sequence[Any] | None = None,
    outcome: str = "outcome",
    confidence: float = 0.95,
    per: float = PER,
) -> Estimate:
    """The difference in rates per 1,000 officers per year, from counts and exposure.

    `exposure` is each unit's officer-years in the window (officers x days / 365.25), so
    windows of any length compare. Each unit's rate ``per x count / exposure`` is
    weighted by its exposure (times `weights`): the group means are then the pooled
    rates ``per x sum  count / sum  exposure``, and the estimate their difference, with the
    errors of `difference_in_means`.
    """
    c = _vector(outcome, counts)
    e = _vector("exposure", exposure, len(c), "exposure")
    bad = np.flatnonzero(c < 0)
    if bad.size:
        raise EstimationError(f"count {float(c[bad[0]])!r} is below 0", int(bad[0]), "outcome")
    bad = np.flatnonzero(e <= 0)
    if bad.size:
        raise EstimationError(
            f"exposure {float(e[bad[0]])!r} is not above 0", int(bad[0]), "exposure"
        )
    w = e * _weights(weights, len(c))
    return difference_in_means(
        per * c / e,
        treated,
        weights=w,
        blocks=blocks,
        clusters=clusters,
        covariates=covariates,
        outcome=outcome,
        confidence=confidence,
    )


def fdr_bh(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values, in the order given.

    The adjusted p-value of the i-th smallest of m p-values is
    ``min over j >= i of min(1, m * p_(j) / j)`` (statsmodels ``fdr_bh``): reject where
    it is at most the chosen false-discovery rate.
    """
    from statsmodels.stats.multitest import multipletests

    if not p_values:
        return []
    return [float(p) for p in multipletests(list(p_values), method="fdr_bh")[1]]


def adjust_fdr(estimates: Sequence[Estimate]) -> list[Estimate]:
    """The estimates with Benjamini-Hochberg adjusted p-values (`p_value_fdr`)."""
    adjusted = fdr_bh([e.p_value for e in estimates])
    return [dataclasses.replace(e, p_value_fdr=p) for e, p in zip(estimates, adjusted, strict=True)]

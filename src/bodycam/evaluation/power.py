"""Planning a pilot: the minimum detectable effect, the power, or the officers needed.

For a comparison of two groups, n_T treated and n_C control units (n = n_T + n_C,
n_T = share x n), an outcome with standard deviation sd, a two-sided test at level alpha
and power 1 - beta, the closed form (Bloom 1995) is

    SE  = sd * sqrt(1 - R^2) * sqrt(1 + (m - 1) icc) * sqrt(1/n_T + 1/n_C)
    MDE = (t[1 - alpha/2, df] + t[1 - beta, df]) * SE

where R^2 is the share of the outcome's variance explained by covariates (a pre-period
rate, say), m the officers per cluster and icc the intra-cluster correlation when whole
clusters (precincts, squads) get cameras, and df = n - 2 (units) or n/m - 2
(clusters). The power to detect an effect delta is read back from the same line,
``power = T[df](|delta|/SE - t[1 - alpha/2, df])`` (ignoring the far tail), and the sample size
is the smallest n whose power reaches the target. At the MDE, statsmodels' exact
noncentral-t power (``TTestIndPower``) is within 0.2 percentage points of the target
even for n = 10.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "PowerError",
    "PowerPlan",
    "minimum_detectable_effect",
    "power_for_effect",
    "sample_size",
]

_MAX_N: Final = 10_000_000


class PowerError(ValueError):
    """Planning inputs that make no sense (a share outside 0-1, a standard deviation of 0)."""


@dataclass(frozen=True, slots=True)
class PowerPlan:
    """A design and what it can detect: `mde` at `power`, or `power` at `effect`."""

    n: float
    n_treated: float
    n_control: float
    sd: float
    alpha: float
    power: float
    mde: float
    se: float
    df: float
    r2: float
    cluster_size: float
    icc: float
    design_effect: float
    effect: float | None = None
    mean: float | None = None
    mde_relative: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (None fields left out)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def _check(
    n: float, sd: float, share: float, alpha: float, r2: float, m: float, icc: float
) -> None:
    if not (math.isfinite(sd) and sd > 0):
        raise PowerError(f"the standard deviation {sd!r} must be above 0")
    if not 0 < share < 1:
        raise PowerError(f"the treated share {share!r} must be between 0 and 1")
    if not 0 < alpha < 1:
        raise PowerError(f"alpha {alpha!r} must be between 0 and 1")
    if not 0 <= r2 < 1:
        raise PowerError(f"R^2 {r2!r} must be at least 0 and below 1")
    if not (m >= 1 and 0 <= icc <= 1):
        raise PowerError("the cluster size must be at least 1 and the ICC between 0 and 1")
    if not (math.isfinite(n) and n / m - 2 >= 1):
        raise PowerError(
            f"n = {n!r} leaves no degrees of freedom: a comparison needs at least 3 "
            f"{'clusters' if m > 1 else 'units'}"
        )


def _se_df(
    n: float, sd: float, share: float, r2: float, m: float, icc: float
) -> tuple[float, float, float]:
    deff = 1 + (m - 1) * icc
    se = (
        sd
        * math.sqrt(1 - r2)
        * math.sqrt(deff)
        * math.sqrt(1 / (share * n) + 1 / ((1 - share) * n))
    )
    return se, n / m - 2, deff


def minimum_detectable_effect(
    n: float,
    sd: float,
    *,
    treated_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
    r2: float = 0.0,
    cluster_size: float = 1.0,
    icc: float = 0.0,
    mean: float | None = None,
) -> PowerPlan:
    """The smallest effect a design of `n` units detects with `power` (closed form)."""
    from scipy import stats

    _check(n, sd, treated_share, alpha, r2, cluster_size, icc)
    if not 0 < power < 1:
        raise PowerError(f"power {power!r} must be between 0 and 1")
    se, df, deff = _se_df(n, sd, treated_share, r2, cluster_size, icc)
    multiplier = float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))
    mde = multiplier * se
    return PowerPlan(
        n=float(n),
        n_treated=treated_share * n,
        n_control=(1 - treated_share) * n,
        sd=sd,
        alpha=alpha,
        power=power,
        mde=mde,
        se=se,
        df=df,
        r2=r2,
        cluster_size=cluster_size,
        icc=icc,
        design_effect=deff,
        mean=mean,
        mde_relative=mde / mean if mean else None,
    )


def power_for_effect(
    effect: float,
    n: float,
    sd: float,
    *,
    treated_share: float = 0.5,
    alpha: float = 0.05,
    r2: float = 0.0,
    cluster_size: float = 1.0,
    icc: float = 0.0,
    mean: float | None = None,
) -> PowerPlan:
    """The power of a design of `n` units to detect `effect` (closed form)."""
    from scipy import stats

    _check(n, sd, treated_share, alpha, r2, cluster_size, icc)
    if not (math.isfinite(effect) and effect != 0):
        raise PowerError(f"the effect {effect!r} must be a number other than 0")
    se, df, _ = _se_df(n, sd, treated_share, r2, cluster_size, icc)
    power = float(stats.t.cdf(abs(effect) / se - stats.t.ppf(1 - alpha / 2, df), df))
    plan = minimum_detectable_effect(
        n, sd, treated_share=treated_share, alpha=alpha, power=min(max(power, 1e-12), 1 - 1e-12),
        r2=r2, cluster_size=cluster_size, icc=icc, mean=mean,
    )  # fmt: skip
    return dataclasses.replace(plan, power=power, effect=effect)


def sample_size(
    effect: float,
    sd: float,
    *,
    treated_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
    r2: float = 0.0,
    cluster_size: float = 1.0,
    icc: float = 0.0,
    mean: float | None = None,
) -> PowerPlan:
    """The smallest whole number of units n whose power to detect `effect` reaches `power`."""
    if not 0 < power < 1:
        raise PowerError(f"power {power!r} must be between 0 and 1")

    def enough(n: int) -> bool:
        plan = power_for_effect(
            effect, n, sd, treated_share=treated_share, alpha=alpha, r2=r2,
            cluster_size=cluster_size, icc=icc,
        )  # fmt: skip
        return plan.power >= power

    low = math.ceil(3 * cluster_size)
    _check(low, sd, treated_share, alpha, r2, cluster_size, icc)
    if enough(low):
        high = low
    else:
        high = low * 2
        while not enough(high):
            if high > _MAX_N:
                raise PowerError(f"no design of up to {_MAX_N:,} units reaches that power")
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if enough(middle) else (middle, high)
    return power_for_effect(
        effect, high, sd, treated_share=treated_share, alpha=alpha, r2=r2,
        cluster_size=cluster_size, icc=icc, mean=mean,
    )  # fmt: skip

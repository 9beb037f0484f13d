"""The pilot planner against the closed form, and statsmodels' exact power as a check."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from bodycam.evaluation.power import (
    PowerError,
    minimum_detectable_effect,
    power_for_effect,
    sample_size,
)


def test_mde_is_the_closed_form() -> None:
    # 400 officers, half with cameras; complaints per officer-year have SD 0.8.
    # MDE = (t[0.975, 398] + t[0.8, 398]) * 0.8 * sqrt(1/200 + 1/200).
    plan = minimum_detectable_effect(400, 0.8)
    multiplier = stats.t.ppf(0.975, 398) + stats.t.ppf(0.8, 398)
    assert plan.mde == pytest.approx(multiplier * 0.8 * math.sqrt(2 / 200), rel=1e-12)
    assert (plan.n_treated, plan.n_control, plan.df) == (200, 200, 398)
    # statsmodels' exact (noncentral t) power at that effect is the target, near enough.
    exact = TTestIndPower().power(plan.mde / 0.8, nobs1=200, alpha=0.05, ratio=1.0)
    assert exact == pytest.approx(0.8, abs=0.005)


def test_covariates_clusters_and_unequal_arms() -> None:
    # 30 squads of 8 officers, a third treated; a pre-period rate explains 40%.
    plan = minimum_detectable_effect(
        240, 2.0, treated_share=1 / 3, r2=0.4, cluster_size=8, icc=0.05, mean=4.0
    )
    deff = 1 + 7 * 0.05
    se = 2.0 * math.sqrt(0.6) * math.sqrt(deff) * math.sqrt(1 / 80 + 1 / 160)
    multiplier = stats.t.ppf(0.975, 28) + stats.t.ppf(0.8, 28)
    assert plan.design_effect == pytest.approx(deff)
    assert plan.se == pytest.approx(se, rel=1e-12)
    assert plan.mde == pytest.approx(multiplier * se, rel=1e-12)
    assert plan.mde_relative == pytest.approx(multiplier * se / 4.0)


def test_power_and_sample_size_invert_the_mde() -> None:
    plan = minimum_detectable_effect(120, 1.0)
    back = power_for_effect(plan.mde, 120, 1.0)
    assert back.power == pytest.approx(0.8, abs=1e-9)
    needed = sample_size(plan.mde, 1.0)
    assert needed.n == 120 and needed.power >= 0.8
    assert power_for_effect(plan.mde, 119, 1.0).power < 0.8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 100, "sd": 0.0}, "standard deviation"),
        ({"n": 100, "sd": 1.0, "treated_share": 1.0}, "treated share"),
        ({"n": 3, "sd": 1.0, "cluster_size": 2}, "at least 3 clusters"),
        ({"n": 100, "sd": 1.0, "power": 1.0}, "power"),
    ],
)
def test_impossible_plans_are_refused(kwargs, message) -> None:
    with pytest.raises(PowerError, match=message):
        minimum_detectable_effect(**kwargs)

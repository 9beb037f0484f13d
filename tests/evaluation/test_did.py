"""Difference-in-differences and the event study against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bodycam.evaluation.did import staggered_did
from bodycam.evaluation.estimators import EstimationError


def test_two_by_two_by_hand() -> None:
    # Units a, b get cameras in period 1; c, d never do. Outcomes (period 0, period 1):
    # a (1, 3), b (2, 5), c (0, 1), d (1, 1.5). Changes: a 2, b 3, c 1, d 0.5.
    y = [1, 3, 2, 5, 0, 1, 1, 1.5]
    unit = ["a", "a", "b", "b", "c", "c", "d", "d"]
    period = [0, 1] * 4
    adoption = [1, 1, 1, 1, None, None, None, None]
    est = staggered_did(y, unit, period, adoption)
    # DiD = mean change treated - mean change control = 2.5 - 0.75 = 1.75.
    assert est.estimate == pytest.approx(1.75, rel=1e-12)
    # Clustered by unit, the 2x2 variance is c (SS_T / n_T^2 + SS_C / n_C^2), with SS the
    # sum of squared deviations of the changes from their group mean (0.5 and 0.125) and
    # c = G/(G-1) (N-1)/(N-K) = 4/3 * 7/7.
    se = np.sqrt(4 / 3 * (0.5 / 4 + 0.125 / 4))
    assert est.se == pytest.approx(se, rel=1e-10)
    t = stats.t.ppf(0.975, 3)
    assert (est.ci_low, est.ci_high) == pytest.approx((1.75 - t * se, 1.75 + t * se))
    assert est.p_value == pytest.approx(2 * stats.t.sf(1.75 / se, 3))
    assert (est.df, est.n_clusters, est.n_treated_units, est.n_control_units) == (3, 4, 2, 2)
    assert [e.relative_period for e in est.events] == [0]
    assert est.events[0].estimate == pytest.approx(1.75)
    assert est.pretrend_p_value is None
    assert any("only 4 clusters" in n for n in est.notes)
    twfe = staggered_did(y, unit, period, adoption, method="twfe")
    assert twfe.estimate == pytest.approx(1.75) and twfe.se == pytest.approx(se)


# Six units over periods 0..3: A, B adopt in period 2, C, D in period 3, E, F never.
STAGGERED = {
    "A": [1.0, 2.0, 6.0, 9.5],
    "B": [2.0, 2.5, 7.5, 8.0],
    "C": [0.0, 1.0, 1.5, 4.0],
    "D": [1.5, 1.0, 3.0, 6.0],
    "E": [0.0, 0.5, 1.5, 2.0],
    "F": [1.0, 2.0, 3.5, 3.0],
}
ADOPT = {"A": 2, "B": 2, "C": 3, "D": 3, "E": None, "F": None}


def panel_rows() -> tuple[list[float], list[str], list[int], list[int | None]]:
    y, unit, period, adoption = [], [], [], []
    for name, values in STAGGERED.items():
        for t, v in enumerate(values):
            y.append(v)
            unit.append(name)
            period.append(t)
            adoption.append(ADOPT[name])
    return y, unit, period, adoption


def delta(cohort: list[str], e: int, t: int) -> float:
    """(mean y[cohort, t] - mean y[cohort, e-1]) - (mean y[never, t] - mean y[never, e-1])."""
    mean = lambda units, p: np.mean([STAGGERED[u][p] for u in units])  # noqa: E731
    return (mean(cohort, t) - mean(cohort, e - 1)) - (mean("EF", t) - mean("EF", e - 1))


def test_staggered_cohorts_are_two_by_two_comparisons_by_hand() -> None:
    est = staggered_did(*panel_rows())
    # Cohort 2: l = 0 (period 2), l = 1 (period 3), lead l = -2 (period 0).
    # Cohort 3: l = 0 (period 3), leads l = -2 (period 1) and l = -3 (period 0).
    d20, d21, d2m2 = delta(["A", "B"], 2, 2), delta(["A", "B"], 2, 3), delta(["A", "B"], 2, 0)
    d30, d3m2, d3m3 = delta(["C", "D"], 3, 3), delta(["C", "D"], 3, 1), delta(["C", "D"], 3, 0)
    # The ATT averages the post cells by their observations (two each).
    assert est.estimate == pytest.approx((d20 + d21 + d30) / 3, rel=1e-10)
    events = {e.relative_period: e for e in est.events}
    assert sorted(events) == [-3, -2, 0, 1]
    assert events[0].estimate == pytest.approx((d20 + d30) / 2, rel=1e-10)
    assert events[1].estimate == pytest.approx(d21, rel=1e-10)
    assert events[-2].estimate == pytest.approx((d2m2 + d3m2) / 2, rel=1e-10)
    assert events[-3].estimate == pytest.approx(d3m3, rel=1e-10)
    assert (events[0].n_units, events[1].n_units, events[-3].n_units) == (4, 2, 2)
    assert est.n_cohorts == 2 and est.control_group == "never treated"
    assert est.pretrend_p_value is not None and 0 <= est.pretrend_p_value <= 1


def test_staggered_cluster_robust_errors_by_hand() -> None:
    y, unit, period, adoption = panel_rows()
    est = staggered_did(y, unit, period, adoption)
    # The full regression with dummies: unit and period effects and one column per
    # (cohort, relative period) cell but l = -1.
    cells = [(2, -2), (2, 0), (2, 1), (3, -3), (3, -2), (3, 0)]
    names = sorted(STAGGERED)
    n = len(y)
    X = np.column_stack(
        [
            *[[1.0 if (a == e and p - e == r) else 0.0 for a, p in zip(adoption, period)]
              for e, r in cells],
            *[[1.0 if u == name else 0.0 for u in unit] for name in names],
            *[[1.0 if p == t else 0.0 for p in period] for t in (1, 2, 3)],
        ]
    )  # fmt: skip
    b, *_ = np.linalg.lstsq(X, np.asarray(y), rcond=None)
    e = np.asarray(y) - X @ b
    # The cells' columns with the fixed effects partialled out (Frisch-Waugh-Lovell).
    D = X[:, 6:]
    Xc = X[:, :6] - D @ np.linalg.lstsq(D, X[:, :6], rcond=None)[0]
    bread = np.linalg.inv(Xc.T @ Xc)
    meat = np.zeros((6, 6))
    for g in names:
        rows = [i for i in range(n) if unit[i] == g]
        score = Xc[rows].T @ e[rows]  # one cluster's score: sum of x_it e_it
        meat += np.outer(score, score)
    G, K = 6, 6
    V = G / (G - 1) * (n - 1) / (n - K) * bread @ meat @ bread
    post = np.array([0, 1, 1, 0, 0, 1]) / 3  # the ATT: post cells, two rows each
    assert est.estimate == pytest.approx(post @ b[:6], rel=1e-10)
    assert est.se == pytest.approx(np.sqrt(post @ V @ post), rel=1e-9)
    assert est.df == G - 1


def test_twfe_is_the_one_dummy_regression_and_differs_when_effects_grow() -> None:
    y, unit, period, adoption = panel_rows()
    twfe = staggered_did(y, unit, period, adoption, method="twfe")
    camera = [
        1.0 if a is not None and p >= a else 0.0 for a, p in zip(adoption, period, strict=True)
    ]
    X = np.column_stack(
        [camera, *[[1.0 if u == s else 0.0 for u in unit] for s in sorted(STAGGERED)],
         *[[1.0 if p == t else 0.0 for p in period] for t in (1, 2, 3)]]
    )  # fmt: skip
    b, *_ = np.linalg.lstsq(X, np.asarray(y), rcond=None)
    assert twfe.estimate == pytest.approx(b[0], rel=1e-10)
    assert twfe.events == () and twfe.pretrend_p_value is None
    assert abs(twfe.estimate - staggered_did(y, unit, period, adoption).estimate) > 0.1


def test_without_never_treated_units_the_last_cohort_compares() -> None:
    y, unit, period, adoption = panel_rows()
    keep = [i for i, u in enumerate(unit) if u not in "EF"]
    est = staggered_did(
        [y[i] for i in keep], [unit[i] for i in keep], [period[i] for i in keep],
        [adoption[i] for i in keep],
    )  # fmt: skip
    # Periods 0..2 only; cohort 2 against C, D: l = 0 is period 2, reference period 1.
    mean = lambda us, p: np.mean([STAGGERED[u][p] for u in us])  # noqa: E731
    by_hand = (mean("AB", 2) - mean("AB", 1)) - (mean("CD", 2) - mean("CD", 1))
    assert est.estimate == pytest.approx(by_hand, rel=1e-10)
    assert est.control_group.startswith("last treated")
    assert any("last units to adopt" in n for n in est.notes)


def test_units_treated_from_the_start_are_left_out_with_a_note() -> None:
    y, unit, period, adoption = panel_rows()
    y += [5.0, 6.0, 7.0, 8.0]
    unit += ["G"] * 4
    period += [0, 1, 2, 3]
    adoption += [0] * 4
    est = staggered_did(y, unit, period, adoption)
    assert est.estimate == pytest.approx(staggered_did(*panel_rows()).estimate)
    assert any("'G'" in n and "first period" in n for n in est.notes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("two_rows", "has two rows for one period"),
        ("two_adoptions", "two different adoption periods"),
        ("one_treated", "1 treated unit remain"),
        ("one_control", "1 comparison unit remain"),
    ],
)
def test_bad_panels_are_refused(change: str, message: str) -> None:
    y, unit, period, adoption = panel_rows()
    if change == "two_rows":
        period[1] = 0
    elif change == "two_adoptions":
        adoption[0] = 3
    elif change == "one_treated":
        adoption = [None if u in "BCD" else a for u, a in zip(unit, adoption, strict=True)]
    else:
        adoption = [2 if u == "F" else a for u, a in zip(unit, adoption, strict=True)]
    with pytest.raises(EstimationError, match=message):
        staggered_did(y, unit, period, adoption)

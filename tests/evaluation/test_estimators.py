"""Each officer-level estimator against the same arithmetic done by hand on a small table."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from bodycam.evaluation.estimators import (
    EstimationError,
    adjust_fdr,
    difference_in_means,
    fdr_bh,
    ipw_weights,
    rate_difference,
)

# Nine officers: four with cameras (T), five without (C); complaints per officer.
Y = np.array([3.0, 5.0, 4.0, 8.0, 1.0, 2.0, 6.0, 3.0, 3.0])
T = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])


def hc2(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """WLS coefficients and their HC2 covariance, written out.

    With W = diag(w): Xw = W^1/2 X, yw = W^1/2 y, b = (Xw'Xw)^-1 Xw'yw, e = yw - Xw b,
    h_i = [Xw (Xw'Xw)^-1 Xw']_ii, V = (Xw'Xw)^-1 Xw' diag(e_i^2 / (1 - h_i)) Xw (Xw'Xw)^-1.
    """
    w = np.ones(len(y)) if w is None else w
    Xw, yw = X * np.sqrt(w)[:, None], y * np.sqrt(w)
    bread = np.linalg.inv(Xw.T @ Xw)
    b = bread @ Xw.T @ yw
    e = yw - Xw @ b
    h = np.diag(Xw @ bread @ Xw.T)
    return b, bread @ (Xw.T * (e**2 / (1 - h))) @ Xw @ bread


def test_difference_in_means_is_neyman_by_hand() -> None:
    # Means: T = (3+5+4+8)/4 = 5, C = (1+2+6+3+3)/5 = 3, so the estimate is 2.
    # Sample variances: T = (4+0+1+9)/3 = 14/3, C = (4+1+9+0+0)/4 = 3.5.
    # HC2 without weights or blocks is Neyman's: 14/3/4 + 3.5/5 = 1.8666...
    est = difference_in_means(Y, T, outcome="complaints")
    se = np.sqrt(14 / 3 / 4 + 3.5 / 5)
    t975 = stats.t.ppf(0.975, 9 - 2)
    assert est.estimate == pytest.approx(2.0, abs=1e-12)
    assert est.se == pytest.approx(se, rel=1e-12)
    assert (est.ci_low, est.ci_high) == pytest.approx((2 - t975 * se, 2 + t975 * se), rel=1e-12)
    assert est.p_value == pytest.approx(2 * stats.t.sf(2 / se, 7), rel=1e-10)
    assert (est.n_treated, est.n_control, est.df) == (4, 5, 7.0)
    assert (est.mean_treated, est.mean_control) == (5.0, 3.0)
    assert est.se_type == "HC2" and est.p_value_fdr is None and est.outcome == "complaints"


def test_inverse_probability_weights_and_weighted_hc2_by_hand() -> None:
    # Officers had different chances of a camera: p = 0.8 for the first three treated
    # and two controls, 0.4 for the rest. Weights 1/p (T) and 1/(1-p) (C).
    p = np.array([0.8, 0.8, 0.8, 0.4, 0.8, 0.8, 0.4, 0.4, 0.4])
    w = ipw_weights(T, p)
    assert w.tolist() == pytest.approx([1.25, 1.25, 1.25, 2.5, 5, 5, 1 / 0.6, 1 / 0.6, 1 / 0.6])
    est = difference_in_means(Y, T, weights=w)
    # Weighted means: T = (1.25*(3+5+4) + 2.5*8) / (3*1.25 + 2.5) = 35/6.25 = 5.6;
    # C = (5*(1+2) + (6+3+3)/0.6) / (10 + 3/0.6) = (15 + 20)/15 = 7/3.
    assert est.mean_treated == pytest.approx(5.6, rel=1e-12)
    assert est.mean_control == pytest.approx(7 / 3, rel=1e-12)
    assert est.estimate == pytest.approx(5.6 - 7 / 3, rel=1e-12)
    b, V = hc2(np.column_stack([np.ones(9), T]), Y, w)
    assert est.estimate == pytest.approx(b[1], rel=1e-12)
    assert est.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-10)


def test_block_fixed_effects_by_hand() -> None:
    # Two precincts; within each, the difference in means; blocks weigh n_b p_b (1 - p_b).
    y = np.array([4.0, 6.0, 1.0, 3.0, 2.0, 10.0, 12.0, 11.0, 5.0, 7.0])
    t = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    blocks = ["A"] * 5 + ["B"] * 5
    # Block A: T mean 5, C mean 2, diff 3, n=5, p=2/5: weight 5*0.4*0.6 = 1.2.
    # Block B: T mean 11, C mean 6, diff 5, n=5, p=3/5: weight 1.2. Estimate (3+5)/2 = 4.
    est = difference_in_means(y, t, blocks=blocks)
    assert est.estimate == pytest.approx(4.0, rel=1e-12)
    X = np.column_stack([np.ones(10), t, [b == "B" for b in blocks]]).astype(float)
    _, V = hc2(X, y)
    assert est.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-10)
    assert est.df == 10 - 3


def test_rates_per_1000_officers_per_year_by_hand() -> None:
    # Windows of different lengths: exposure in officer-years (officers x days / 365.25).
    counts = np.array([2.0, 0.0, 1.0, 3.0, 1.0, 4.0, 2.0])
    years = np.array([0.5, 0.5, 1.0, 1.0, 0.5, 1.0, 0.5])
    t = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    est = rate_difference(counts, years, t)
    # Treated: 3 complaints in 2 officer-years = 1,500 per 1,000 officers per year.
    # Control: 10 in 3 officer-years = 3,333.3...; difference -1,833.3...
    assert est.mean_treated == pytest.approx(1500.0, rel=1e-12)
    assert est.mean_control == pytest.approx(10000 / 3, rel=1e-12)
    assert est.estimate == pytest.approx(1500 - 10000 / 3, rel=1e-12)
    # The same as WLS of the unit rates 1000 * count / years with weights = years.
    b, V = hc2(np.column_stack([np.ones(7), t]), 1000 * counts / years, years)
    assert est.estimate == pytest.approx(b[1], rel=1e-12)
    assert est.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-10)


def test_cluster_robust_errors_by_hand() -> None:
    # Whole squads got cameras: CR1, V = G/(G-1) (N-1)/(N-K) B (sum_g X_g'e_g e_g'X_g) B.
    squads = ["a", "a", "b", "b", "c", "c", "d", "e", "e"]
    t = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    est = difference_in_means(Y, t, clusters=squads)
    X = np.column_stack([np.ones(9), t])
    bread = np.linalg.inv(X.T @ X)
    b = bread @ X.T @ Y
    e = Y - X @ b
    meat = np.zeros((2, 2))
    for g in set(squads):
        rows = [i for i, s in enumerate(squads) if s == g]
        score = X[rows].T @ e[rows]
        meat += np.outer(score, score)
    G, N, K = 5, 9, 2
    V = G / (G - 1) * (N - 1) / (N - K) * bread @ meat @ bread
    assert est.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-10)
    assert (est.se_type, est.n_clusters, est.df) == ("cluster", 5, 4.0)
    assert est.p_value == pytest.approx(2 * stats.t.sf(abs(b[1]) / np.sqrt(V[1, 1]), 4))


def test_covariates_enter_centred_and_interacted() -> None:
    # Lin (2013): y ~ 1 + T + xc + T*xc with xc = x - mean(x); the coefficient on T.
    x = np.array([2.0, 6.0, 3.0, 9.0, 1.0, 1.0, 7.0, 2.0, 4.0])
    est = difference_in_means(Y, T, covariates=[x])
    xc = x - x.mean()
    b, V = hc2(np.column_stack([np.ones(9), T, xc, T * xc]), Y)
    assert est.estimate == pytest.approx(b[1], rel=1e-10)
    assert est.se == pytest.approx(np.sqrt(V[1, 1]), rel=1e-9)


def test_benjamini_hochberg_by_hand() -> None:
    # Sorted: 0.01, 0.03, 0.04, 0.20 -> m p/i: 0.04, 0.06, 0.0533.., 0.20; then the
    # running minimum from the largest down: 0.20, 0.0533.., 0.0533.., 0.04.
    assert fdr_bh([0.01, 0.04, 0.03, 0.20]) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    ests = [difference_in_means(Y, T), difference_in_means(Y[::-1], T)]
    adjusted = adjust_fdr(ests)
    assert [e.p_value_fdr for e in adjusted] == pytest.approx(fdr_bh([e.p_value for e in ests]))
    assert adjusted[0].estimate == ests[0].estimate


def test_results_keep_full_float_precision() -> None:
    est = difference_in_means(Y, T)
    data = json.loads(json.dumps(est.to_dict()))
    assert set(data) >= {"estimate", "se", "ci_low", "ci_high", "p_value", "n_treated"}
    assert data["se"] == est.se and data["p_value"] == est.p_value  # bit for bit
    assert "p_value_fdr" not in data and "n_clusters" not in data


@pytest.mark.parametrize(
    ("kwargs", "message", "index"),
    [
        ({"treated": [1, 0, 0, 0, 0, 0, 0, 0, 0]}, "there is 1 treated unit", 0),
        ({"treated": [1, 1, 1, 1, 1, 1, 1, 1, 0]}, "there is 1 control unit", 8),
        ({"treated": [1, 2, 1, 1, 0, 0, 0, 0, 0]}, "treatment 2.0 is not 0 or 1", 1),
        ({"weights": [1, 1, 0, 1, 1, 1, 1, 1, 1]}, "weight 0.0 is not above 0", 2),
        ({"blocks": list("AABBAABBC")}, "block 'C' has one unit", 8),
        ({"blocks": list("AAAABBBBB")}, "block 'A' has no control unit", 0),
        ({"clusters": list("aaaabbbbb")}, "treated units fall in 1 cluster", None),
    ],
)
def test_bad_designs_are_refused_with_the_row(kwargs, message, index) -> None:
    args = {"treated": T, **kwargs}
    treated = args.pop("treated")
    with pytest.raises(EstimationError, match=message) as caught:
        difference_in_means(Y, treated, **args)
    assert caught.value.index == index


def test_no_standard_error_is_an_error_not_a_nan() -> None:
    with pytest.raises(EstimationError, match="standard error is 0"):
        difference_in_means([0.0] * 9, T)
    with pytest.raises(EstimationError, match="is not a finite number"):
        difference_in_means([0.0, float("nan"), *([1.0] * 7)], T)


def test_a_unit_fitted_exactly_is_named() -> None:
    # Three covariates, each with its own slope per group: the four treated officers
    # meet four terms (intercept and three slopes) and are fitted exactly.
    rng = np.random.default_rng(7)
    covariates = [rng.normal(size=9) for _ in range(3)]
    with pytest.raises(EstimationError, match="leverage 1") as caught:
        difference_in_means(Y, T, covariates=covariates)
    assert caught.value.index in (0, 1, 2, 3)

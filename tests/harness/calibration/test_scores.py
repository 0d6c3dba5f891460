"""ICC and Kendall's W against the Shrout & Fleiss (1979) worked example and second implementations.

Published reference: Shrout & Fleiss (1979), Table 2 data (6 targets x 4 judges) and Table 4 estimates:
ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71, ICC(1,4) = .44, ICC(2,4) = .62, ICC(3,4) = .91. Intervals as
printed by the R ``psych::ICC`` help-page example on the same data (``ICC(sf)``, 2 decimals / 3 for bounds):
ICC1 [-0.133, 0.72], ICC2 [0.019, 0.76], ICC3 [0.342, 0.95], ICC1k [-0.884, 0.91], ICC2k [0.071, 0.93],
ICC3k [0.676, 0.99]; F = 1.79 (5, 18 df) for ICC1 and 11.03 (5, 15 df) for ICC2/3.
Second implementations: the ANOVA mean squares from a statsmodels OLS two-way ANOVA; Kendall's W through
scipy's Friedman test (chi2 = m (n - 1) W) and the mean Spearman correlation (rbar = (m W - 1) / (m - 1)).
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import friedmanchisquare, spearmanr
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm

from harness.calibration import ICC_FORMS, icc, kendall_w

SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


@pytest.mark.parametrize(("form", "published", "low", "high"), [
    ("ICC1", 0.17, -0.133, 0.72), ("ICC2", 0.29, 0.019, 0.76), ("ICC3", 0.71, 0.342, 0.95),
    ("ICC1k", 0.44, -0.884, 0.91), ("ICC2k", 0.62, 0.071, 0.93), ("ICC3k", 0.91, 0.676, 0.99),
])
def test_shrout_fleiss_1979_table(form: str, published: float, low: float, high: float) -> None:
    e = icc(SHROUT_FLEISS).get(form)
    assert e.estimate == pytest.approx(published, abs=0.005)
    # bounds printed with 3 decimals when below 0.5 in magnitude, else 2: compare at the printed precision
    assert e.ci_low == pytest.approx(low, abs=0.0005 if abs(low) < 0.5 or low < 0 else 0.005)
    assert e.ci_high == pytest.approx(high, abs=0.005)


def test_icc_f_tests_and_mean_squares_match_statsmodels_anova() -> None:
    res = icc(SHROUT_FLEISS)
    long = pd.DataFrame([(i, j, v) for i, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)],
                        columns=["target", "judge", "y"])
    table = anova_lm(ols("y ~ C(target) + C(judge)", data=long).fit())
    ms = table["sum_sq"] / table["df"]
    assert res.msr == pytest.approx(ms["C(target)"])
    assert res.msc == pytest.approx(ms["C(judge)"])
    assert res.mse == pytest.approx(ms["Residual"])
    one_way = anova_lm(ols("y ~ C(target)", data=long).fit())
    assert res.msw == pytest.approx(one_way["sum_sq"]["Residual"] / one_way["df"]["Residual"])
    assert res.get("ICC1").f == pytest.approx(1.79, abs=0.005)
    assert res.get("ICC3").f == pytest.approx(11.03, abs=0.005)
    assert (res.get("ICC2").df1, res.get("ICC2").df2) == (5, 15)
    assert [e.form for e in res.estimates] == list(ICC_FORMS)


def test_icc_drops_incomplete_rows_and_degenerate_cases() -> None:
    rows = [*SHROUT_FLEISS, [1, None, 2, 3], [math.nan, 1, 1, 1]]
    res = icc(rows)
    assert (res.n_targets, res.n_dropped) == (6, 2)
    assert res.get("ICC2").estimate == pytest.approx(icc(SHROUT_FLEISS).get("ICC2").estimate)
    flat = icc([[1, 1], [1, 1], [1, 1]])  # no variation: every mean square is 0 -> undefined
    assert all(math.isnan(e.estimate) for e in flat.estimates)
    with pytest.raises(ValueError, match="numbers"):
        icc([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="at least 2 raters"):
        icc([[1], [2]])


def test_icc_perfect_agreement_and_property_bounds() -> None:
    perfect = icc([[1, 1, 1], [2, 2, 2], [5, 5, 5.0001]])
    assert perfect.get("ICC2").estimate > 0.999
    rng = np.random.default_rng(4)
    for _ in range(30):
        n, k = int(rng.integers(3, 30)), int(rng.integers(2, 6))
        truth = rng.normal(size=n)
        x = truth[:, None] + rng.normal(scale=float(rng.uniform(0.1, 2)), size=(n, k)) + rng.normal(size=k)
        res = icc(x)
        for e in res.estimates:
            assert e.estimate <= 1.0
            assert e.ci_low <= e.estimate <= e.ci_high
        # consistency ignores rater offsets, absolute agreement does not: ICC(3,1) >= ICC(2,1) when MSC >= MSE
        # and the numerator MSR - MSE is positive (ICC(2,1) has the larger denominator)
        if res.msc >= res.mse and res.msr >= res.mse:
            assert res.get("ICC3").estimate >= res.get("ICC2").estimate - 1e-12


def test_kendall_w_hand_derived_and_friedman() -> None:
    # 3 raters rank 4 targets identically: W = 1
    assert kendall_w([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]]).w == pytest.approx(1.0)
    # 2 raters, opposite orders of 3 targets: rank sums 4, 4, 4 -> S = 0 -> W = 0
    assert kendall_w([[1, 3], [2, 2], [3, 1]]).w == pytest.approx(0.0)
    res = kendall_w(SHROUT_FLEISS)
    fried = friedmanchisquare(*np.asarray(SHROUT_FLEISS, dtype=float))
    assert res.chi2 == pytest.approx(fried.statistic)
    assert res.pvalue == pytest.approx(fried.pvalue)
    assert res.w == pytest.approx(fried.statistic / (4 * (6 - 1)))


def test_kendall_w_mean_spearman_identity_on_random_data_without_ties() -> None:
    rng = np.random.default_rng(9)
    for _ in range(20):
        n, m = int(rng.integers(3, 15)), int(rng.integers(2, 6))
        x = rng.normal(size=(n, 1)) + rng.normal(size=(n, m))
        w = kendall_w(x).w
        rbar = np.mean([spearmanr(x[:, a], x[:, b]).statistic for a, b in combinations(range(m), 2)])
        assert rbar == pytest.approx((m * w - 1) / (m - 1), abs=1e-10)

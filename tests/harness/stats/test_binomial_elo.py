"""Exact binomial test for any p0, Clopper-Pearson, the win rate's standard error, and an Elo rating period.

Published references:
* R ``?binom.test`` example (Mendel's peas, 682 of 925 round seeds, p0 = 3/4): ``binom.test(682, 925, p = 3/4)``
  prints p-value = 0.3825 and 95 percent confidence interval 0.7076683 0.7654066.
* Clopper & Pearson (1934)'s boundary conventions: k = 0 gives lower bound 0 and upper 1 - (a/2)^(1/n).
* Wikipedia "Elo rating system", "Mathematical details": a player rated 1613 plays 1609, 1477, 1388, 1586, 1720
  (loss, draw, win, win, loss), expected 2.867, actual 2.5, K = 32 -> 1601.
* AlpacaEval (``pairwise_to_winrate``): win rate = mean of per-comparison scores (tie 0.5), standard error =
  pandas ``sem`` of the same scores. Second implementation here: pandas on the expanded scores.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from harness.stats import (
    binomial_test,
    clopper_pearson_interval,
    elo_expected_score,
    elo_rating_period,
    online_elo,
    win_rate_se,
)


def test_r_binom_test_mendel_example() -> None:
    res = binomial_test(682, 925, 0.75)
    assert res.pvalue == pytest.approx(0.3825, abs=5e-5)
    assert (res.ci_low, res.ci_high) == (pytest.approx(0.7076683, abs=5e-8), pytest.approx(0.7654066, abs=5e-8))
    assert res.estimate == pytest.approx(682 / 925)


def test_binomial_test_matches_scipy_for_many_p0_and_alternatives() -> None:
    rng = np.random.default_rng(2)
    for _ in range(60):
        n = int(rng.integers(1, 80))
        k = int(rng.integers(0, n + 1))
        p0 = float(rng.uniform(0.01, 0.99))
        for alt in ("two-sided", "less", "greater"):
            ours = binomial_test(k, n, p0, alternative=alt)  # type: ignore[arg-type]
            ref = binomtest(k, n, p0, alternative=alt)
            assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
            ci = ref.proportion_ci(method="exact")
            assert (ours.ci_low, ours.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_two_sided_p_is_not_doubling_the_smaller_tail_when_p0_is_not_half() -> None:
    # R/scipy convention: sum of P(X = x) over x with P(X = x) <= P(X = k). n = 10, p0 = 0.3, k = 6:
    # P(6) = C(10,6) .3^6 .7^4 = 210 * 0.000729 * 0.2401 = 0.036757; outcomes no more likely: x = 0 (0.028248)
    # and x = 6..10 (0.036757 + 0.009002 + 0.001447 + 0.000138 + 0.000006 = 0.047349): p = 0.075597
    assert binomial_test(6, 10, 0.3).pvalue == pytest.approx(0.075597, abs=2e-6)
    doubled = 2 * binomial_test(6, 10, 0.3, alternative="greater").pvalue
    assert doubled == pytest.approx(2 * 0.047349, abs=2e-6)


def test_clopper_pearson_boundaries_and_degenerate() -> None:
    # k = 0 of n = 10: [0, 1 - 0.025^(1/10)] = [0, 0.308497]; k = n: [0.025^(1/10), 1] = [0.691503, 1]
    assert clopper_pearson_interval(0, 10) == (0.0, pytest.approx(1 - 0.025 ** 0.1))
    assert clopper_pearson_interval(10, 10) == (pytest.approx(0.025 ** 0.1), 1.0)
    empty = binomial_test(0, 0)
    assert empty.pvalue == 1.0 and math.isnan(empty.ci_low) and math.isnan(empty.estimate)
    with pytest.raises(ValueError, match="cannot exceed"):
        binomial_test(5, 4)
    with pytest.raises(ValueError, match="p0"):
        binomial_test(1, 4, 1.5)
    with pytest.raises(ValueError, match="alternative"):
        binomial_test(1, 4, alternative="two.sided")  # type: ignore[arg-type]


@pytest.mark.parametrize("ties_as", ["half", "zero"])
def test_win_rate_se_matches_pandas_sem_of_scores(ties_as: str) -> None:
    # the paper's README counts: 465 wins, 15 ties, 120 losses
    tie = 0.5 if ties_as == "half" else 0.0
    scores = pd.Series([1.0] * 465 + [tie] * 15 + [0.0] * 120)
    res = win_rate_se(465, 15, 120, ties_as=ties_as)  # type: ignore[arg-type]
    assert res.estimate == pytest.approx(scores.mean())
    assert res.se == pytest.approx(scores.sem())
    assert res.ci_low == pytest.approx(res.estimate - 1.959963985 * res.se)
    # hand: ties as half, p = (465 + 7.5)/600 = 0.7875
    if ties_as == "half":
        assert res.estimate == pytest.approx(0.7875)


def test_win_rate_se_degenerate() -> None:
    assert math.isnan(win_rate_se(0, 0, 0).estimate)
    one = win_rate_se(1, 0, 0)
    assert one.estimate == 1.0 and math.isnan(one.se)
    assert win_rate_se(5, 0, 0).se == 0.0


def test_elo_rating_period_wikipedia_example() -> None:
    ratings = {"A": 1613, "o1": 1609, "o2": 1477, "o3": 1388, "o4": 1586, "o5": 1720}
    res = elo_rating_period(ratings, ["A"] * 5, ["o1", "o2", "o3", "o4", "o5"], [0, 0.5, 1, 1, 0], k=32)
    assert res.expected[0] == pytest.approx(2.867, abs=5e-4)
    assert res.actual[0] == 2.5
    assert round(res.after[0]) == 1601
    # zero-sum: every game moves K (S - E) from one side to the other
    assert res.after.sum() == pytest.approx(res.before.sum())
    assert list(res.games) == [5, 1, 1, 1, 1, 1]


def test_elo_rating_period_is_order_free_and_one_game_equals_online_elo() -> None:
    ratings = {"x": 1500.0, "y": 1400.0, "z": 1450.0}
    games = [("x", "y", 1.0), ("y", "z", 0.5), ("z", "x", 0.0), ("x", "z", 1.0)]
    a = elo_rating_period(ratings, *zip(*games, strict=True), k=16)
    b = elo_rating_period(ratings, *zip(*games[::-1], strict=True), k=16)
    np.testing.assert_allclose(a.after, b.after)
    one = elo_rating_period({"x": 1500.0, "y": 1400.0}, ["x"], ["y"], [0.0], k=16)
    e = elo_expected_score(1500.0, 1400.0)
    assert one.after[0] == pytest.approx(1500.0 + 16 * (0.0 - e))
    # online Elo starts every player at `initial`: from equal ratings one game is the same update
    equal = elo_rating_period({"x": 1500.0, "y": 1500.0}, ["x"], ["y"], [0.0], k=16)
    online = online_elo(["x"], ["y"], [0.0], k=16, initial=1500.0)
    np.testing.assert_allclose(equal.after, online.ratings)  # 1500 -+ 16 * 0.5 = 1492, 1508


def test_elo_rating_period_bad_input() -> None:
    with pytest.raises(ValueError, match="no rating"):
        elo_rating_period({"x": 1500.0}, ["x"], ["y"], [1.0])
    with pytest.raises(ValueError, match="itself"):
        elo_rating_period({"x": 1500.0}, ["x"], ["x"], [1.0])
    with pytest.raises(ValueError, match="score_a"):
        elo_rating_period({"x": 1.0, "y": 2.0}, ["x"], ["y"], [2.0])

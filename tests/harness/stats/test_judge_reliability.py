"""Bradley-Terry with per-judge reliability: one judge = plain Bradley-Terry; known reliabilities recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.stats import bradley_terry, judge_reliability_bradley_terry, win_matrix


def _simulate(rng: np.random.Generator, theta: np.ndarray, a: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    k = theta.shape[0]
    i = rng.integers(0, k, n * a.shape[0])
    j = (i + rng.integers(1, k, i.shape[0])) % k
    m = np.repeat(np.arange(a.shape[0]), n)
    s = (rng.random(i.shape[0]) < 1 / (1 + np.exp(-a[m] * (theta[i] - theta[j])))).astype(float)
    return np.c_[i, j], s, m


def test_one_judge_is_plain_bradley_terry() -> None:
    rng = np.random.default_rng(0)
    pairs, s, m = _simulate(rng, np.array([0.5, 0.0, -0.5]), np.array([1.0]), 300)
    fit = judge_reliability_bradley_terry(pairs, s, m, ["a", "b", "c"], ["j"])
    h2h = pd.DataFrame({"candidate_a": np.array(["a", "b", "c"])[pairs[:, 0]],
                        "candidate_b": np.array(["a", "b", "c"])[pairs[:, 1]],
                        "outcome": np.where(s == 1, "A", "B")})
    ref = bradley_terry(win_matrix(h2h, ["a", "b", "c"])[1], ["a", "b", "c"])
    np.testing.assert_allclose(fit.theta, ref.theta, atol=1e-6)
    assert fit.converged and fit.reliability.tolist() == [1.0]


def test_known_reliabilities_are_recovered_and_the_coin_judge_is_down_weighted() -> None:
    """Three judges with a = 2, 1 and 0 (a coin) on 5 items, 3000 comparisons each: the fitted reliabilities,
    normalised to mean 1, keep the order and ratio of the sharp judges, the coin's is near 0, and the
    combined ranking is the true one."""
    rng = np.random.default_rng(1)
    theta = np.array([0.6, 0.3, 0.0, -0.3, -0.6])
    pairs, s, m = _simulate(rng, theta, np.array([2.0, 1.0, 0.0]), 3000)
    fit = judge_reliability_bradley_terry(pairs, s, m, list("abcde"), ["sharp", "plain", "coin"])
    a = fit.reliability
    assert fit.converged
    assert a[0] / a[1] == np.clip(a[0] / a[1], 1.7, 2.3)  # true ratio 2
    assert a[2] < 0.1 * a[1]
    assert np.argsort(-fit.theta).tolist() == [0, 1, 2, 3, 4]
    # the identified product a_m * (theta_i - theta_j) matches the truth for the sharp judge
    assert abs(a[0] * (fit.theta[0] - fit.theta[4]) - 2.0 * 1.2) < 0.25

"""Simultaneous rank sets: known-truth simulations and a hand example."""

from __future__ import annotations

import numpy as np
import pytest

from harness.stats import rank_sets_from_bootstrap, rank_sets_from_normal


def test_hand_example_bands() -> None:
    # independent strengths with s.e. 0.1: pair s.e. = 0.1 * sqrt(2) = 0.1414; c for 3 items (6 one-sided
    # comparisons, max-t) lies between 1.96 and 2.64, so gaps of 1.0 separate and a gap of 0.05 does not
    rs = rank_sets_from_normal([1.0, 0.05, 0.0], np.eye(3) * 0.01, ["a", "b", "c"], rng=0)
    assert 1.96 < rs.critical < 2.64
    assert rs.best.tolist() == [1, 2, 2]
    assert rs.worst.tolist() == [1, 3, 3]
    assert rs.above[0, 1] and rs.above[0, 2] and not rs.above[1, 2]


def test_normal_rank_sets_coverage() -> None:
    """500 draws of estimates ~ N(theta, Sigma): the simultaneous pairwise intervals cover 93-97% (exact max-t),
    the rank bands derived from them cover at least that."""
    rng = np.random.default_rng(1)
    theta = np.array([0.4, 0.2, 0.15, -0.3, -0.45])
    a = rng.normal(size=(5, 5)) * 0.05
    sigma = a @ a.T + np.eye(5) * 0.004
    true_rank = np.array([1, 2, 3, 4, 5])
    pair_hits = band_hits = 0
    draws = rng.multivariate_normal(theta, sigma, size=500)
    var = np.diag(sigma)
    s = np.sqrt(var[:, None] + var[None, :] - 2 * sigma)
    off = ~np.eye(5, dtype=bool)
    for est in draws:
        rs = rank_sets_from_normal(est, sigma, rng=rng, n_draws=2000)
        d_hat = est[:, None] - est[None, :]
        d = theta[:, None] - theta[None, :]
        pair_hits += bool(np.all(np.abs(d_hat - d)[off] <= rs.critical * s[off]))
        band_hits += bool(np.all((rs.best <= true_rank) & (true_rank <= rs.worst)))
    assert 0.93 <= pair_hits / 500 <= 0.97
    assert band_hits / 500 >= 0.93


def test_bootstrap_rank_sets_coverage() -> None:
    """500 datasets of K = 4 group means (n = 100 each), 200 bootstrap replicates each: simultaneous coverage
    of the true ranking >= 93%, and per-pair intervals hold jointly 93-97% of the time."""
    rng = np.random.default_rng(4)
    mu = np.array([0.5, 0.3, 0.25, 0.0])
    true_rank = np.array([1, 2, 3, 4])
    n, k, n_boot = 100, 4, 200
    band_hits = pair_hits = 0
    off = ~np.eye(k, dtype=bool)
    for _ in range(500):
        x = mu[:, None] + rng.normal(size=(k, n))
        est = x.mean(axis=1)
        idx = rng.integers(0, n, size=(n_boot, k, n))
        reps = np.take_along_axis(np.broadcast_to(x, (n_boot, k, n)), idx, axis=2).mean(axis=2)
        rs = rank_sets_from_bootstrap(est, reps)
        band_hits += bool(np.all((rs.best <= true_rank) & (true_rank <= rs.worst)))
        d_star = reps[:, :, None] - reps[:, None, :]
        s = d_star.std(axis=0, ddof=1)
        err = np.abs((est[:, None] - est[None, :]) - (mu[:, None] - mu[None, :]))
        pair_hits += bool(np.all(err[off] <= rs.critical * s[off]))
    assert band_hits / 500 >= 0.93
    assert 0.93 <= pair_hits / 500 <= 0.97


def test_bands_are_wider_than_per_item_interval_bands() -> None:
    """Simultaneous bands never claim more separation than pairwise-unadjusted 1.96 would."""
    rs = rank_sets_from_normal([0.3, 0.0, -0.3], np.eye(3) * 0.02, rng=0)
    assert rs.critical > 1.96
    assert rs.method == "normal max-t"


def test_errors() -> None:
    with pytest.raises(ValueError, match="replicates"):
        rank_sets_from_bootstrap([0.0, 1.0], np.zeros((5, 3)))
    with pytest.raises(ValueError, match="cov"):
        rank_sets_from_normal([0.0, 1.0], np.eye(3))

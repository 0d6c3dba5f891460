"""Cluster bootstrap (harness.stats._bootstrap)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import bootstrap as scipy_bootstrap

from harness.stats import cluster_bootstrap, percentile_interval

# Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap, Table 2.1 (mouse data, treatment
# group, survival days): mean 86.86, textbook standard error s/sqrt(n) = 25.24, and the bootstrap estimate of
# the standard error of the mean tends to the "ideal" plug-in value sqrt(sum (x - mean)^2) / n = 23.36 as
# B grows (the B = infinity column of Table 2.1).
MOUSE_TREATMENT = np.array([94, 197, 16, 38, 99, 141, 23], dtype=float)


def _mean_statistic(totals: np.ndarray) -> np.ndarray:
    # clusters carry (sum, count); the statistic is the ratio, i.e. the mean of the resampled observations
    return totals[:, 0] / totals[:, 1]


def _mouse_clusters() -> np.ndarray:
    return np.column_stack([MOUSE_TREATMENT, np.ones_like(MOUSE_TREATMENT)])


def test_efron_tibshirani_mouse_data_standard_error() -> None:
    ideal = np.sqrt(np.sum((MOUSE_TREATMENT - MOUSE_TREATMENT.mean()) ** 2)) / len(MOUSE_TREATMENT)
    assert ideal == pytest.approx(23.36, abs=0.005)  # the book's value
    assert MOUSE_TREATMENT.std(ddof=1) / np.sqrt(7) == pytest.approx(25.24, abs=0.005)
    r = cluster_bootstrap(_mouse_clusters(), _mean_statistic, n_boot=20000, rng=1993)
    assert float(r.estimate) == pytest.approx(86.86, abs=0.005)
    assert float(r.se) == pytest.approx(23.36, rel=0.02)


@pytest.mark.parametrize("level", [0.9, 0.95])
def test_matches_scipy_percentile_bootstrap_exactly(level: float) -> None:
    # scipy.stats.bootstrap draws rng.integers(0, n, (n_resamples, n)) in one batch: with the same seed the
    # resamples, hence the percentile interval and standard error, must be identical.
    ours = cluster_bootstrap(_mouse_clusters(), _mean_statistic, n_boot=999, level=level, rng=7, batch=999)
    ref = scipy_bootstrap((MOUSE_TREATMENT,), np.mean, n_resamples=999, confidence_level=level,
                          method="percentile", rng=np.random.default_rng(7))
    assert float(ours.ci_low) == pytest.approx(ref.confidence_interval.low, rel=1e-12)
    assert float(ours.ci_high) == pytest.approx(ref.confidence_interval.high, rel=1e-12)
    assert float(ours.se) == pytest.approx(ref.standard_error, rel=1e-12)


def test_batching_does_not_change_results() -> None:
    a = cluster_bootstrap(_mouse_clusters(), _mean_statistic, n_boot=500, rng=3, batch=500)
    b = cluster_bootstrap(_mouse_clusters(), _mean_statistic, n_boot=500, rng=3, batch=37)
    assert np.array_equal(a.replicates, b.replicates)


def test_cluster_resampling_matches_naive_row_level_loop() -> None:
    # Second implementation: resample cluster ids, gather their rows, recompute the win rate from rows.
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 6, size=40)
    rows = [(s, float(rng.random() < 0.3 + 0.01 * s)) for s in range(40) for _ in range(sizes[s])]
    per_cluster = np.zeros((40, 2))
    for s, won in rows:
        per_cluster[s] += (won, 1.0)
    ours = cluster_bootstrap(per_cluster, _mean_statistic, n_boot=200, rng=11, batch=200)
    draws = np.random.default_rng(11).integers(0, 40, size=(200, 40))
    naive = []
    for ids in draws:
        picked = [won for i in ids for (s, won) in rows if s == i]
        naive.append(np.mean(picked))
    assert ours.replicates == pytest.approx(np.array(naive), rel=1e-12)
    lo, hi = np.quantile(naive, [0.025, 0.975])
    assert (float(ours.ci_low), float(ours.ci_high)) == pytest.approx((lo, hi))


def test_reproducible_and_vector_valued() -> None:
    x = np.random.default_rng(5).random((30, 3))
    a = cluster_bootstrap(x, lambda t: t / t.sum(axis=1, keepdims=True), n_boot=100, rng=42)
    b = cluster_bootstrap(x, lambda t: t / t.sum(axis=1, keepdims=True), n_boot=100, rng=42)
    assert np.array_equal(a.replicates, b.replicates) and a.seed == 42
    assert a.estimate.shape == (3,) and a.ci_low.shape == (3,)
    assert np.all(a.ci_low <= a.estimate) and np.all(a.estimate <= a.ci_high)
    c = cluster_bootstrap(x, lambda t: t[:, :1], n_boot=10, rng=np.random.default_rng(1))
    assert c.seed is None


def test_degenerate_and_invalid() -> None:
    one = cluster_bootstrap(np.array([[3.0, 4.0]]), _mean_statistic, n_boot=50, rng=0)
    assert float(one.ci_low) == float(one.ci_high) == float(one.estimate) == 0.75
    with pytest.raises(ValueError, match="at least one cluster"):
        cluster_bootstrap(np.zeros((0, 2)), _mean_statistic, rng=0)
    with pytest.raises(ValueError, match="n_boot"):
        cluster_bootstrap(_mouse_clusters(), _mean_statistic, n_boot=0, rng=0)
    with pytest.raises(ValueError, match="level"):
        cluster_bootstrap(_mouse_clusters(), _mean_statistic, level=95, rng=0)
    with pytest.raises(TypeError, match="rng"):
        cluster_bootstrap(_mouse_clusters(), _mean_statistic, rng="seed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rng"):
        cluster_bootstrap(_mouse_clusters(), _mean_statistic, rng=-1)


def test_percentile_interval_ignores_nan_replicates() -> None:
    reps = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan], [np.nan, np.nan], [5.0, np.nan]])
    low, high = percentile_interval(reps, 0.5)
    assert low[0] == pytest.approx(np.quantile([1, 2, 3, 5], 0.25))
    assert high[0] == pytest.approx(np.quantile([1, 2, 3, 5], 0.75))
    assert np.isnan(low[1]) and np.isnan(high[1])

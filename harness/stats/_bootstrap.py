"""Paired cluster bootstrap over scenarios (percentile interval).

Head-to-heads that share a scenario are not independent (the same prompt is easy or hard for every
candidate, every persona and every criterion), so the resampling unit is the scenario: each replicate draws
``S`` scenarios with replacement from the ``S`` observed ones and keeps *all* of their head-to-heads (every
candidate pair, persona and criterion), which also makes the replicates paired across candidates and criteria.

Algorithm (Efron & Tibshirani [1], ch. 6 and 13; percentile interval §13.3):

1. draw indices ``i[b, :] ~ Uniform{0..S-1}^S`` for ``b = 1..B`` with ``rng.integers`` (the same draws as
   ``scipy.stats.bootstrap`` makes for one sample, so the two agree exactly on one-sample statistics);
2. turn each row into multiplicities ``m[b, s]`` and sum the per-scenario sufficient statistics:
   ``T[b] = sum_s m[b, s] * X[s]`` (statistics that are functions of counts need no re-grouping of rows);
3. evaluate the statistic on every ``T[b]``;
4. the interval is the ``(1-level)/2`` and ``(1+level)/2`` quantiles of the replicates (linear interpolation,
   NumPy's default "type 7"); replicates where the statistic is undefined (NaN) are ignored.

This is written by hand because ``scipy.stats.bootstrap`` resamples observations, not clusters of rows, and
would re-evaluate a DataFrame statistic per replicate; the percentile method is chosen over scipy's default
BCa because BCa's jackknife over hundreds of scenarios is costly and ill-defined for rank-type statistics.

References:
    [1] Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    [2] Field, C. A. & Welsh, A. H. (2007). Bootstrapping clustered data. JRSS B 69, 369-390.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from harness.stats._validate import RngLike, _seed_of, _validate_level, _validate_positive_int, _validate_rng

Statistic = Callable[[np.ndarray], np.ndarray]
"""Maps summed cluster statistics of shape ``(batch, *cluster_shape)`` to ``(batch, *out_shape)``."""


@dataclass(frozen=True)
class BootstrapResult:
    """Point estimate, percentile interval and standard error of a cluster-bootstrapped statistic."""

    estimate: np.ndarray
    """The statistic on the observed data (all clusters once)."""
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray
    """Standard deviation of the replicates (ddof = 1, as scipy), NaN-ignoring."""
    replicates: np.ndarray
    """Shape ``(n_boot, *out_shape)``."""
    n_boot: int
    n_clusters: int
    level: float
    seed: int | None
    """The int seed when one was given (written into reports), else None."""
    method: str = "percentile"


def percentile_interval(replicates: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval along axis 0, ignoring NaN replicates (all NaN -> NaN).

    ``low, high = quantile(replicates, [(1 - level)/2, (1 + level)/2])`` with linear interpolation
    (Efron & Tibshirani 1993, §13.3).
    """
    level = _validate_level(level)
    reps = np.asarray(replicates, dtype=float)
    alpha = (1.0 - level) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices -> NaN, by design
        low = np.nanquantile(reps, alpha, axis=0)
        high = np.nanquantile(reps, 1.0 - alpha, axis=0)
    return np.asarray(low), np.asarray(high)


def cluster_bootstrap(
    cluster_totals: ArrayLike,
    statistic: Statistic,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: RngLike = None,
    batch: int = 256,
) -> BootstrapResult:
    """Percentile cluster bootstrap of a statistic of summed per-cluster quantities.

    Args:
        cluster_totals: array of shape ``(S, ...)``: the additive sufficient statistics of each cluster
            (e.g. per-scenario win/tie counts for every candidate pair and criterion).
        statistic: vectorised function of the summed totals, see ``Statistic``.
        n_boot: number of bootstrap replicates ``B``.
        level: two-sided interval level.
        rng: Generator, int seed or None (fresh entropy); never the global NumPy state.
        batch: replicates evaluated at once (memory only; results do not depend on it).

    Formula: ``T[b] = sum_s m[b, s] X[s]`` with multiplicities ``m[b] ~ Multinomial(S, 1/S)`` (resampling
    clusters with replacement); interval = ``quantile(stat(T[.]), [(1-level)/2, (1+level)/2])``.
    References: Efron & Tibshirani (1993) ch. 6, 13; Field & Welsh (2007) (module docstring [1], [2]).

    Returns:
        :class:`BootstrapResult`. With a single cluster every replicate equals the estimate, so the interval
        collapses to the point (documented degenerate case).

    Raises:
        ValueError: no clusters, ``n_boot`` < 1, ``level`` outside (0, 1), or a statistic whose output shape
            changes between calls.
    """
    totals = np.asarray(cluster_totals, dtype=float)
    if totals.ndim == 0 or totals.shape[0] == 0:
        raise ValueError(
            f"`cluster_totals` needs at least one cluster (shape (S, ...)); got shape {totals.shape}")
    n_boot = _validate_positive_int(n_boot, "n_boot")
    batch = _validate_positive_int(batch, "batch")
    level = _validate_level(level)
    seed = _seed_of(rng)
    gen = _validate_rng(rng)
    n_clusters = totals.shape[0]
    flat = totals.reshape(n_clusters, -1)
    estimate = np.asarray(statistic(flat.sum(axis=0).reshape(1, *totals.shape[1:])))[0]
    chunks: list[np.ndarray] = []
    done = 0
    while done < n_boot:
        size = min(batch, n_boot - done)
        idx = gen.integers(0, n_clusters, size=(size, n_clusters))
        offsets = idx + (np.arange(size)[:, None] * n_clusters)
        weights = np.bincount(offsets.ravel(), minlength=size * n_clusters).reshape(size, n_clusters)
        summed = (weights @ flat).reshape(size, *totals.shape[1:])
        out = np.asarray(statistic(summed), dtype=float)
        if out.shape[1:] != estimate.shape:
            raise ValueError(f"`statistic` returned shape {out.shape[1:]} on a replicate batch but "
                             f"{estimate.shape} on the data; it must return (batch, *out_shape)")
        chunks.append(out)
        done += size
    replicates = np.concatenate(chunks, axis=0)
    low, high = percentile_interval(replicates, level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(replicates, axis=0, ddof=1) if n_boot > 1 else np.full(estimate.shape, np.nan)
    return BootstrapResult(np.asarray(estimate), low, high, np.asarray(se), replicates, n_boot, n_clusters,
                           level, seed)

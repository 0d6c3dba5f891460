"""Simultaneous rank intervals ("rank bands") from a bootstrap or a normal approximation of strengths.

A per-candidate interval says little about ranks: K intervals that each cover 95% of the time cover jointly far
less often, and "interval A lies above interval B" is not a test of A vs B. The rank sets here hold for all
candidates at once: with probability at least ``level`` every candidate's true rank lies in its band.

Method (Mogstad, Romano, Shaikh & Wilhelm [1], §3, the simultaneous "all pairs" rank confidence sets):

1. For every ordered pair ``(i, j)`` the difference ``d_ij = theta_i - theta_j`` has standard error ``s_ij``
   (from the bootstrap replicates, or from a covariance matrix).
2. ``c`` = the ``level`` quantile of ``max_{i != j} (d*_ij - d_ij) / s_ij`` over the bootstrap replicates
   ``d*`` (a one-sided max statistic over both orders = the two-sided max ``|.|``), or over normal draws
   ``N(0, Sigma)`` when a covariance is given (prediction-powered ranking, Chatzi et al. [2], uses the same
   construction on PPI estimates).
3. ``i`` is declared above ``j`` when ``d_ij - c s_ij > 0``; these declarations are simultaneously correct
   with probability ``>= level``.
4. Rank band of ``i`` (rank 1 = strongest): best = 1 + #{j declared above i}, worst = K - #{j declared below i}.

The simultaneous pairwise intervals ``d_ij +- c s_ij`` have coverage ``level`` (asymptotically exact); the rank
bands derived from them cover at least that (conservative). Hand-written: no scipy/statsmodels function builds
rank confidence sets (the R package ``csranks`` [1] does; the test checks coverage by simulation).

References:
    [1] Mogstad, M., Romano, J. P., Shaikh, A. M. & Wilhelm, D. (2024). Inference for ranks with applications
        to mobility across neighbourhoods and academic achievement across countries. Review of Economic
        Studies 91, 476-518. https://doi.org/10.1093/restud/rdad006
    [2] Chatzi, I., Straitouri, E., Thejaswi, S. & Gomez Rodriguez, M. (2024). Prediction-powered ranking of
        large language models. NeurIPS 2024, arXiv:2402.17826.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from harness.stats._validate import RngLike, _validate_level, _validate_positive_int, _validate_rng


@dataclass(frozen=True)
class RankSets:
    """Simultaneous rank bands: with probability >= ``level`` every true rank lies in its band."""

    items: tuple[str, ...]
    estimate: np.ndarray
    rank: np.ndarray
    """Rank of the point estimate (1 = strongest)."""
    best: np.ndarray
    worst: np.ndarray
    critical: float
    """``c`` of ``d_ij +- c s_ij`` (compare 1.96 for one pair, unadjusted)."""
    above: np.ndarray
    """``above[i, j]``: ``i`` is declared stronger than ``j`` (simultaneously at ``level``)."""
    level: float
    method: str


def _bands(estimate: np.ndarray, above: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = estimate.shape[0]
    order = np.argsort(-estimate, kind="stable")
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(1, k + 1)
    best = 1 + above.sum(axis=0)
    worst = k - above.sum(axis=1)
    return rank, best.astype(int), worst.astype(int)


def _from_standardised(
    estimate: np.ndarray, se_pair: np.ndarray, max_stats: np.ndarray, level: float,
    items: Sequence[str] | None, method: str,
) -> RankSets:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        crit = float(np.nanquantile(max_stats, level))
    diff = estimate[:, None] - estimate[None, :]
    with np.errstate(invalid="ignore"):
        above = (diff - crit * se_pair) > 0
    np.fill_diagonal(above, False)
    rank, best, worst = _bands(estimate, above)
    names = tuple(str(i) for i in range(estimate.shape[0])) if items is None else tuple(items)
    if len(names) != estimate.shape[0]:
        raise ValueError(f"`items` has {len(names)} names for {estimate.shape[0]} strengths")
    return RankSets(names, estimate, rank, best, worst, crit, above, level, method)


def rank_sets_from_bootstrap(
    estimate: ArrayLike, replicates: ArrayLike, items: Sequence[str] | None = None, *, level: float = 0.95
) -> RankSets:
    """Simultaneous rank bands from bootstrap replicates of the strengths (max-t over all pairs).

    Formula: ``s_ij = sd*(d*_ij)``, ``c = quantile_level(max_{i != j} (d*_ij - d_ij) / s_ij)``; ``i`` above
    ``j`` iff ``d_ij > c s_ij``; band = [1 + #above i, K - #below i]. Reference: Mogstad et al. (2024) §3
    (module docstring [1]).

    Args:
        estimate: ``K`` strengths (larger = better).
        replicates: ``(B, K)`` bootstrap replicates; rows with a NaN are dropped.
        items: names (default ``"0".."K-1"``).
        level: simultaneous level.

    Returns:
        :class:`RankSets`. Pairs whose replicates never differ (``s_ij = 0``) are separated when their estimates
        differ (documented degenerate case: identical data in every replicate).

    Raises:
        ValueError: shapes that do not match, fewer than two usable replicates.
    """
    level = _validate_level(level)
    est = np.asarray(estimate, dtype=float)
    reps = np.asarray(replicates, dtype=float)
    if reps.ndim != 2 or reps.shape[1] != est.shape[0]:
        raise ValueError(f"`replicates` must have shape (B, {est.shape[0]}); got {reps.shape}")
    reps = reps[np.all(np.isfinite(reps), axis=1)]
    if reps.shape[0] < 2:
        raise ValueError("rank sets need at least two finite bootstrap replicates")
    d_star = reps[:, :, None] - reps[:, None, :]
    diff = est[:, None] - est[None, :]
    se_pair = d_star.std(axis=0, ddof=1)
    off = ~np.eye(est.shape[0], dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(se_pair > 0, (d_star - diff) / np.where(se_pair > 0, se_pair, 1.0), 0.0)
    max_stats = t[:, off].max(axis=1) if off.any() else np.zeros(reps.shape[0])
    return _from_standardised(est, se_pair, max_stats, level, items, "bootstrap max-t")


def rank_sets_from_normal(
    estimate: ArrayLike,
    cov: ArrayLike,
    items: Sequence[str] | None = None,
    *,
    level: float = 0.95,
    n_draws: int = 10000,
    rng: RngLike = None,
) -> RankSets:
    """Simultaneous rank bands from a normal approximation ``theta_hat ~ N(theta, Sigma)`` (e.g. PPI).

    Formula: ``s_ij^2 = S_ii + S_jj - 2 S_ij``; ``c`` = the ``level`` quantile of ``max_{i != j} (Z_i - Z_j) /
    s_ij`` over ``Z ~ N(0, Sigma)`` (``n_draws`` seeded draws); bands as :func:`rank_sets_from_bootstrap`.
    References: Mogstad et al. (2024) §3; Chatzi et al. (2024) for PPI estimates (module docstring).

    Args:
        estimate: ``K`` strengths; cov: their ``K x K`` covariance; items, level: as above.
        n_draws: Monte Carlo draws for the critical value.
        rng: Generator, int seed or None.

    Returns:
        :class:`RankSets`.
    """
    level = _validate_level(level)
    n_draws = _validate_positive_int(n_draws, "n_draws", minimum=2)
    gen = _validate_rng(rng)
    est = np.asarray(estimate, dtype=float)
    sigma = np.asarray(cov, dtype=float)
    k = est.shape[0]
    if sigma.shape != (k, k) or not np.all(np.isfinite(sigma)):
        raise ValueError(f"`cov` must be a finite {k} x {k} matrix; got shape {sigma.shape}")
    var = np.diag(sigma)
    se_pair = np.sqrt(np.clip(var[:, None] + var[None, :] - 2.0 * sigma, 0.0, None))
    vals, vecs = np.linalg.eigh((sigma + sigma.T) / 2.0)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    draws = gen.standard_normal((n_draws, k)) @ root.T
    d = draws[:, :, None] - draws[:, None, :]
    off = ~np.eye(k, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(se_pair > 0, d / np.where(se_pair > 0, se_pair, 1.0), 0.0)
    max_stats = t[:, off].max(axis=1) if off.any() else np.zeros(n_draws)
    return _from_standardised(est, se_pair, max_stats, level, items, "normal max-t")

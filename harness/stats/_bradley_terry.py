"""Bradley-Terry model: penalised maximum likelihood, mean-zero normalisation, Elo-like scale.

Model [1]: ``P(i beats j) = sigma(theta_i - theta_j)`` with ``sigma`` the logistic function. Given
``W[i, j]`` = wins of ``i`` over ``j`` (ties counted as half a win for each side, the convention used
throughout this package) and ``n_ij = W[i, j] + W[j, i]``, the fit maximises the penalised log-likelihood::

    l(theta) = sum_{i != j} W[i, j] * log sigma(theta_i - theta_j)  -  (l2 / 2) * sum_i theta_i^2

Regularisation: the L2 term is a Gaussian prior ``theta_i ~ N(0, 1/l2)`` (MAP estimate). It keeps an
undefeated or winless candidate finite (the plain MLE exists only when the win graph is strongly
connected, Ford [2]; Hunter [3]) and changes well-determined strengths very little (``l2 = 0.1`` is a prior
s.d. of 3.2 logits, i.e. ~1,370 Elo points). ``l2 = 0`` gives the plain MLE and raises ``ValueError`` when it
does not exist.

Normalisation: the likelihood only identifies differences, so ``theta`` is reported with mean zero (the
penalised optimum has mean zero exactly, since the gradient of the likelihood sums to zero). ``elo`` is the
same on an Elo-like scale, ``theta * 400 / ln 10`` (a 400-point gap = 10:1 odds), also mean zero.

Algorithm: Newton-Raphson with step halving, vectorised over a batch of win matrices (used by the bootstrap).
The gradient is ``g_i = sum_j (W[i, j] - n_ij p_ij) - l2 theta_i`` and the negative Hessian
``L + l2 I`` with ``L`` the graph Laplacian weighted by ``n_ij p_ij (1 - p_ij)``; the step solves
``(L + l2 I + 11'/K) delta = g`` (the ``11'/K`` term fixes the mean without changing mean-zero solutions).
This is written by hand: neither scipy nor statsmodels has a Bradley-Terry model (a statsmodels GLM on
difference-coded designs and ``choix.opt_pairwise`` reproduce it in the tests).

References:
    [1] Bradley, R. A. & Terry, M. E. (1952). Rank analysis of incomplete block designs I. Biometrika 39,
        324-345. https://doi.org/10.2307/2334029
    [2] Ford, L. R. (1957). Solution of a ranking problem from binary comparisons. Amer. Math. Monthly 64,
        28-33.
    [3] Hunter, D. R. (2004). MM algorithms for generalized Bradley-Terry models. Ann. Statist. 32, 384-406.
    [4] Agresti, A. (2002). Categorical Data Analysis, 2nd ed., §10.6 (baseball example, Table 10.11).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import connected_components
from scipy.special import expit, log_expit

from harness.stats._bootstrap import BootstrapResult, cluster_bootstrap
from harness.stats._validate import RngLike, _validate_count, _validate_positive_int

ELO_SCALE: float = 400.0 / math.log(10.0)
"""Elo points per logit: ``theta * ELO_SCALE`` is on the chess Elo scale (400 points = odds 10:1)."""
DEFAULT_L2: float = 0.1
"""Default L2 penalty (Gaussian prior precision) on the log-strengths."""


@dataclass(frozen=True)
class BradleyTerryFit:
    """Fitted Bradley-Terry strengths."""

    items: tuple[str, ...]
    theta: np.ndarray
    """Log-strengths, mean zero."""
    elo: np.ndarray
    """``theta * ELO_SCALE`` (mean zero)."""
    l2: float
    loglik: float
    """Unpenalised log-likelihood at ``theta``."""
    n_iter: int
    converged: bool


@dataclass(frozen=True)
class BradleyTerryBootstrap:
    """Bradley-Terry fit with cluster-bootstrap percentile intervals."""

    fit: BradleyTerryFit
    ci_low: np.ndarray
    """Interval on ``theta`` (multiply by ``ELO_SCALE`` for the Elo scale)."""
    ci_high: np.ndarray
    bootstrap: BootstrapResult


def _check_wins(wins: ArrayLike) -> np.ndarray:
    w = np.asarray(wins, dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"`wins` must be a square K x K matrix; got shape {w.shape}")
    if w.shape[0] == 0:
        raise ValueError("`wins` is empty (0 items); a Bradley-Terry fit needs at least one item")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"`wins` must hold finite counts >= 0; got min {np.nanmin(w)}")
    if np.any(np.diag(w) != 0):
        raise ValueError(f"`wins` must have a zero diagonal (no self-comparisons); got {np.diag(w)}")
    return w


def _penalised_loglik(theta: np.ndarray, w: np.ndarray, l2: float) -> np.ndarray:
    diff = theta[:, :, None] - theta[:, None, :]
    return np.sum(w * log_expit(diff), axis=(1, 2)) - 0.5 * l2 * np.sum(theta**2, axis=1)


def _fit_batch(
    wins: np.ndarray, l2: float, *, tol: float = 1e-10, max_iter: int = 200
) -> tuple[np.ndarray, np.ndarray, int]:
    """Newton fit of a batch ``(B, K, K)`` of win matrices -> ``(theta (B, K), converged (B,), n_iter)``."""
    n_batch, k = wins.shape[0], wins.shape[1]
    theta = np.zeros((n_batch, k))
    if k == 1:
        return theta, np.ones(n_batch, dtype=bool), 0
    games = wins + np.transpose(wins, (0, 2, 1))
    centring = np.ones((k, k)) / k
    eye = np.eye(k)
    converged = np.zeros(n_batch, dtype=bool)
    active = np.ones(n_batch, dtype=bool)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        th = theta[active]
        w, n = wins[active], games[active]
        p = expit(th[:, :, None] - th[:, None, :])
        grad = np.sum(w - n * p, axis=2) - l2 * th
        info = n * p * (1.0 - p)
        lap = -info
        idx = np.arange(k)
        lap[:, idx, idx] = info.sum(axis=2)
        system = lap + l2 * eye + centring
        try:
            step = np.linalg.solve(system, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # a disconnected comparison graph with l2 = 0: least-norm step
            step = np.einsum("bij,bj->bi", np.linalg.pinv(system), grad)
        base = _penalised_loglik(th, w, l2)
        scale = np.ones(th.shape[0])
        new = th + step
        for _ in range(40):  # step halving: keep the penalised log-likelihood from decreasing
            worse = _penalised_loglik(new, w, l2) < base - 1e-12 * (1.0 + np.abs(base))
            if not worse.any():
                break
            scale = np.where(worse, scale / 2.0, scale)
            new = th + scale[:, None] * step
        new -= new.mean(axis=1, keepdims=True)
        done = np.max(np.abs(new - th), axis=1) < tol
        theta[active] = new
        ids = np.flatnonzero(active)
        converged[ids[done]] = True
        active[ids[done]] = False
        if not active.any():
            break
    return theta, converged, n_iter


def _mle_exists(w: np.ndarray) -> tuple[bool, str]:
    """Ford's condition: the graph with ``i -> j`` iff ``i`` beat ``j`` (in part) is strongly connected."""
    n_comp, labels = connected_components(w > 0, directed=True, connection="strong")
    if n_comp == 1:
        return True, ""
    wins_total, losses_total = w.sum(axis=1), w.sum(axis=0)
    undefeated = np.flatnonzero((losses_total == 0) & (wins_total > 0))
    winless = np.flatnonzero((wins_total == 0) & (losses_total > 0))
    unplayed = np.flatnonzero((wins_total == 0) & (losses_total == 0))
    return False, (f"{n_comp} strongly connected components (undefeated: {undefeated.tolist()}, winless: "
                   f"{winless.tolist()}, never compared: {unplayed.tolist()})")


def bradley_terry(
    wins: ArrayLike,
    items: Sequence[str] | None = None,
    *,
    l2: float = DEFAULT_L2,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> BradleyTerryFit:
    """Fit Bradley-Terry log-strengths by penalised maximum likelihood.

    Formula: maximise ``sum_{i != j} W[i, j] log sigma(theta_i - theta_j) - (l2/2) sum theta_i^2`` by
    Newton-Raphson; report ``theta`` with mean zero and ``elo = theta * 400 / ln 10``. References: Bradley &
    Terry (1952); Ford (1957) for existence; Hunter (2004); Agresti (2002) §10.6 (module docstring).

    Args:
        wins: ``K x K`` matrix, ``wins[i, j]`` = times ``i`` beat ``j``; may be fractional (ties as 0.5 each).
        items: names of the ``K`` items (default ``"0".."K-1"``).
        l2: L2 penalty on ``theta`` (>= 0); 0 = plain MLE.
        tol: convergence tolerance on the largest change in ``theta``.
        max_iter: Newton iterations at most.

    Returns:
        :class:`BradleyTerryFit` with mean-zero ``theta``. One item gives ``theta = [0]``; all ties give all
        zeros (both documented degenerate cases).

    Raises:
        ValueError: a malformed matrix, ``len(items) != K``, a negative ``l2``, or ``l2 = 0`` when the MLE
            does not exist (an undefeated/winless candidate or a disconnected comparison graph).
    """
    w = _check_wins(wins)
    k = w.shape[0]
    names = tuple(str(i) for i in range(k)) if items is None else tuple(items)
    if len(names) != k:
        raise ValueError(f"`items` has {len(names)} names for a {k} x {k} `wins` matrix")
    l2 = _validate_count(l2, "l2", allow_fraction=True)
    max_iter = _validate_positive_int(max_iter, "max_iter")
    if l2 == 0 and k > 1:
        ok, why = _mle_exists(w)
        if not ok:
            raise ValueError(f"the Bradley-Terry MLE does not exist for these data: {why}. Use l2 > 0 "
                             f"(e.g. l2={DEFAULT_L2}) to regularise")
    theta, converged, n_iter = _fit_batch(w[None], l2, tol=tol, max_iter=max_iter)
    th = theta[0]
    diff = th[:, None] - th[None, :]
    loglik = float(np.sum(w * log_expit(diff)))
    return BradleyTerryFit(names, th, th * ELO_SCALE, l2, loglik, n_iter, bool(converged[0]))


def bradley_terry_batch(wins: ArrayLike, *, l2: float = DEFAULT_L2, max_iter: int = 200) -> np.ndarray:
    """Fit many Bradley-Terry models at once (e.g. bootstrap replicates); no existence check.

    Same penalised likelihood and normalisation as :func:`bradley_terry` (Bradley & Terry 1952), one Newton
    iteration vectorised over the batch.

    Args:
        wins: ``(B, K, K)`` win matrices (ties as half).
        l2: L2 penalty (see the module docstring); with ``l2 = 0`` a fit whose MLE does not exist diverges.
        max_iter: Newton iterations at most.

    Returns:
        ``(B, K)`` mean-zero log-strengths; rows that did not converge are NaN, and so are items with no game
        in that matrix (their strength is not identified by the data).
    """
    w = np.asarray(wins, dtype=float)
    if w.ndim != 3 or w.shape[1] != w.shape[2]:
        raise ValueError(f"`wins` must have shape (B, K, K); got {w.shape}")
    l2 = _validate_count(l2, "l2", allow_fraction=True)
    theta, ok, _ = _fit_batch(w, l2, max_iter=_validate_positive_int(max_iter, "max_iter"))
    theta[~ok] = np.nan
    played = (w.sum(axis=2) + w.sum(axis=1)) > 0
    theta[~played] = np.nan
    return theta


def win_matrix(
    h2h: pd.DataFrame, items: Sequence[str] | None = None, *, criterion: str | None = None
) -> tuple[tuple[str, ...], np.ndarray]:
    """``K x K`` win matrix from head-to-heads (ties as half a win each; unscored left out).

    Formula: ``W[i, j] = #(i beat j) + #(i tied j) / 2``. Splitting a tie as half a win each way is the
    convention of Elo scoring; Davidson (1970, JASA 65, 317-328) models ties explicitly instead.

    Args:
        h2h: head-to-heads (:func:`head_to_heads`), columns ``candidate_a``, ``candidate_b``, ``outcome``,
            ``criterion``.
        items: item order (default: sorted candidates of ``h2h``).
        criterion: keep only this criterion (default: all rows as given).

    Returns:
        ``(items, W)``.
    """
    df = h2h if criterion is None else h2h[h2h["criterion"] == criterion]
    names = tuple(sorted(set(df["candidate_a"]) | set(df["candidate_b"]))) if items is None else tuple(items)
    pos = {name: i for i, name in enumerate(names)}
    missing = (set(df["candidate_a"]) | set(df["candidate_b"])) - set(pos)
    if missing:
        raise ValueError(f"`items` lacks candidate(s) {sorted(missing)} present in h2h")
    w = np.zeros((len(names), len(names)))
    a = df["candidate_a"].map(pos).to_numpy(dtype=int)
    b = df["candidate_b"].map(pos).to_numpy(dtype=int)
    out = df["outcome"].to_numpy(dtype=object)
    np.add.at(w, (a[out == "A"], b[out == "A"]), 1.0)
    np.add.at(w, (b[out == "B"], a[out == "B"]), 1.0)
    tie = out == "tie"
    np.add.at(w, (a[tie], b[tie]), 0.5)
    np.add.at(w, (b[tie], a[tie]), 0.5)
    return names, w


def bradley_terry_bootstrap(
    cluster_wins: ArrayLike,
    items: Sequence[str] | None = None,
    *,
    l2: float = DEFAULT_L2,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: RngLike = None,
) -> BradleyTerryBootstrap:
    """Bradley-Terry fit with a percentile cluster bootstrap (clusters = scenarios).

    :func:`bradley_terry` on the summed matrices, then :func:`cluster_bootstrap` of the fit (Efron &
    Tibshirani 1993, percentile interval).

    Args:
        cluster_wins: ``(S, K, K)`` per-scenario win matrices (ties as half); their sum is the data.
        items, l2: as :func:`bradley_terry`.
        n_boot, level, rng: as :func:`cluster_bootstrap` (scenarios resampled with replacement).

    Returns:
        :class:`BradleyTerryBootstrap`; replicates whose Newton fit did not converge are NaN and ignored by
        the interval (only possible with ``l2 = 0``).
    """
    per = np.asarray(cluster_wins, dtype=float)
    if per.ndim != 3:
        raise ValueError(f"`cluster_wins` must have shape (S, K, K); got {per.shape}")
    fit = bradley_terry(per.sum(axis=0), items, l2=l2)

    def statistic(totals: np.ndarray) -> np.ndarray:
        return bradley_terry_batch(totals, l2=fit.l2)

    boot = cluster_bootstrap(per, statistic, n_boot=n_boot, level=level, rng=rng)
    return BradleyTerryBootstrap(fit, boot.ci_low, boot.ci_high, boot)

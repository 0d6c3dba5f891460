"""Prediction-powered inference (PPI, PPI++): judge verdicts on every head-to-head plus clinician labels on some.

Setting: ``N`` head-to-heads carry only the judge's score ``f`` (1 = this side won, 0.5 = tie, 0 = lost); ``n``
more carry the judge's score *and* a clinician's label ``Y`` on the same scale. The judge-only mean of ``f`` is
biased by whatever the judge gets wrong; the clinician-only mean of ``Y`` is unbiased but wide. PPI [1] keeps
the clinician's unbiasedness and borrows the judge's sample size:

    theta_hat = lambda * mean_N(f) + mean_n(Y - lambda * f)
    Var       = lambda^2 Var(f) / N + Var(Y - lambda f) / n

``lambda = 1`` is PPI [1]; ``lambda = 0`` the clinician-only (classical) estimate; PPI++ [2] picks the
variance-minimising ``lambda* = Cov(Y, f) / ((1 + n/N) Var(f))`` (clipped to [0, 1]) from the labelled data,
so the interval is never (asymptotically) wider than the classical one whatever the judge's quality. The
interval is the Wald interval ``theta_hat +- z_{1-a/2} sqrt(Var)`` (CLT; both samples independent, the
labelled set a random sample of the same population as the unlabelled set).

Weights: when the labelled items were not drawn uniformly (the clinician packets are stratified by criterion,
scenario risk and the judge's verdict), each labelled item gets the weight ``w_h = (N_h / N_total) / (n_h / n)``
of its stratum ``h`` (:func:`stratum_weights`); the rectifier ``mean_n(w (Y - lambda f))`` is then unbiased for
the population rectifier under "labels missing at random given the stratum" (stratified PPI, Fisch et al. [4],
as the weighted form of ``ppi_py``'s ``w`` argument). When the labelled items are a sub-sample of a finite set
of items whose judge scores are all known (a clinician packet drawn from a run), pass the *whole set* as
``yhat_unlabeled``: ``lambda mean_all(f) + mean_n(w (Y - lambda f))`` is then unbiased however unequal the
strata's sampling rates (using only the unlabelled rest would not be, when a stratum is labelled almost
entirely); with the judge's verdict among the strata and ``lambda = 1`` it is the post-stratified,
confusion-matrix (Rogan-Gladen style [5]) correction ``sum_h (N_h / N) mean_{labelled in h}(Y)``.

Bradley-Terry (:func:`ppi_bradley_terry`): the strengths are the M-estimator of the logistic loss with design
row ``e_i - e_j`` (no intercept; a tie is ``y = 0.5``); PPI++ for GLMs [2] minimises
``lambda L_N^f(beta) + L_n^Y(beta) - lambda L_n^f(beta)`` and its sandwich covariance is
``H^-1 (lambda^2 V_f / N + V_r / n) H^-1`` with ``V_f`` the covariance of the unlabelled gradients, ``V_r`` that
of the labelled rectifier gradients and ``H = lambda H_N + (1 - lambda) H_n`` the Hessian of that objective.
The reference strength is fixed at 0 during the fit and the result is re-expressed with mean zero (the
leaderboard's normalisation).

Effective sample size: the number of clinician labels alone that would give the same variance,
``n_eff = Var_n(Y) / Var(theta_hat)`` (for Bradley-Terry per strength, ``n * V_classical / V_ppi``).

Power (:func:`labels_for_width`): with ``Var(n) = A / N + B / n`` a target interval width ``w`` needs
``n = B / ((w / 2z)^2 - A / N)`` labels; when ``A / N`` alone exceeds ``(w/2z)^2`` no number of labels is enough
(more judge verdicts, or a better judge, are needed) and the answer is ``inf``. This is the plug-in power
analysis of [3] at the current ``lambda``.

Hand-written because no well-kept library in the lockfile does it (``ppi_py`` [6] pulls numba and gdown; its
formulas are the ones above, and the tests check coverage by simulation instead).

References:
    [1] Angelopoulos, Bates, Fannjiang, Jordan & Zrnic (2023). Prediction-powered inference. Science 382,
        669-674. https://doi.org/10.1126/science.adi6000
    [2] Angelopoulos, Duchi & Zrnic (2023). PPI++: Efficient prediction-powered inference. arXiv:2311.01453.
    [3] Broska, Howes & van Loon (2024); and the power analysis of PPI in arXiv:2601.05420 (Chen et al. 2026,
        "Efficient inference for noisy LLM-as-a-judge evaluation", pairwise win rates).
    [4] Fisch, Maynez, Hofer, Dhingra, Globerson & Cohen (2024). Stratified prediction-powered inference for
        hybrid language model evaluation. NeurIPS 2024, arXiv:2406.04291.
    [5] Rogan & Gladen (1978). Estimating prevalence from the results of a screening test. Am. J. Epidemiol.
        107, 71-76.
    [6] https://github.com/aangelopoulos/ppi_py (``ppi_mean_ci``, ``_calc_lam_glm``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit
from scipy.stats import norm

from harness.stats._validate import _validate_level

LambdaLike = float | str
"""``"tune"`` (PPI++, the default), or a number in [0, 1] (1 = plain PPI, 0 = clinician labels only)."""


@dataclass(frozen=True)
class PPIMean:
    """A prediction-powered mean with its interval and the figures it is compared with."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    lam: float
    """The power-tuning parameter used (1 = PPI, 0 = classical)."""
    n_labeled: int
    n_unlabeled: int
    judge_only: float
    """The judge-only (uncorrected) mean over all ``n + N`` items: what the leaderboard shows without labels."""
    judge_only_se: float
    """Its naive standard error ``sd(f) / sqrt(n + N)`` (ignores the judge's bias: the interval misses it)."""
    classical: float
    """The clinician-labels-only estimate (``lambda = 0``; weighted, or post-stratified with ``strata``)."""
    classical_se: float
    n_effective: float
    """Clinician labels alone that would give ``se``: ``n * classical_se^2 / se^2`` (= ``Var_n(Y) / se^2``)."""
    var_imputed: float
    """``A`` of ``Var = A / N + B / n`` (``lambda^2 Var(f)``), for :func:`labels_for_width`."""
    var_rectifier: float
    """``B`` of ``Var = A / N + B / n`` (``Var(w (Y - lambda f))``)."""
    level: float


@dataclass(frozen=True)
class PPIBradleyTerry:
    """Prediction-powered Bradley-Terry strengths (mean zero) with Wald intervals."""

    items: tuple[str, ...]
    theta: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    cov: np.ndarray
    """``K x K`` covariance of ``theta`` (rank sets: :func:`harness.stats.rank_sets_from_normal`)."""
    lam: float
    n_labeled: int
    n_unlabeled: int
    judge_only: np.ndarray
    """Bradley-Terry on the judge's scores of all ``n + N`` comparisons (mean zero)."""
    classical: np.ndarray
    """Bradley-Terry on the clinician labels alone (mean zero)."""
    classical_se: np.ndarray
    n_effective: np.ndarray
    """Per strength: ``n * Var_classical / Var_ppi``."""
    var_imputed: np.ndarray
    """Per strength, ``A`` of ``Var = A / N + B / n``."""
    var_rectifier: np.ndarray
    """Per strength, ``B`` of ``Var = A / N + B / n``."""
    level: float


def _vector(x: ArrayLike, name: str) -> np.ndarray:
    v = np.asarray(x, dtype=float).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError(f"`{name}` must hold finite numbers; got {v[~np.isfinite(v)][:3]}")
    return v


def _weights(weights: ArrayLike | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = _vector(weights, "weights")
    if w.shape[0] != n or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"`weights` must be {n} non-negative numbers, not all zero; got {w.shape[0]}")
    return w * (n / w.sum())


def _check_lam(lam: LambdaLike) -> float | None:
    if lam == "tune":
        return None
    if isinstance(lam, bool) or not isinstance(lam, int | float) or not 0.0 <= float(lam) <= 1.0:
        raise ValueError(f'`lam` must be "tune" or a number in [0, 1]; got {lam!r}')
    return float(lam)


def stratum_weights(strata_labeled: Sequence[object], strata_all: Sequence[object]) -> np.ndarray:
    """Weights that make a stratified labelled sample represent the population: ``w = (N_h/N) / (n_h/n)``.

    Formula: a labelled item of stratum ``h`` weighs its stratum's population share over its labelled share
    (Horvitz-Thompson weights normalised to mean 1; Fisch et al. 2024, arXiv:2406.04291, §3).

    Args:
        strata_labeled: stratum of each labelled item (any hashable).
        strata_all: stratum of every item of the population (labelled and unlabelled together).

    Returns:
        One weight per labelled item (mean 1).

    Raises:
        ValueError: a labelled stratum absent from the population.
    """
    lab = list(strata_labeled)
    pop: dict[object, int] = {}
    for s in strata_all:
        pop[s] = pop.get(s, 0) + 1
    counts: dict[object, int] = {}
    for s in lab:
        counts[s] = counts.get(s, 0) + 1
    missing = [s for s in counts if s not in pop]
    if missing:
        raise ValueError(f"labelled stratum/strata {missing[:3]} do not occur in `strata_all`")
    n, total = len(lab), sum(pop.values())
    return np.array([(pop[s] / total) / (counts[s] / n) for s in lab], dtype=float)


def ppi_mean(
    y: ArrayLike,
    yhat: ArrayLike,
    yhat_unlabeled: ArrayLike,
    *,
    lam: LambdaLike = "tune",
    weights: ArrayLike | None = None,
    strata: tuple[Sequence[object], Sequence[object]] | None = None,
    level: float = 0.95,
) -> PPIMean:
    """Prediction-powered (PPI / PPI++) estimate and Wald interval of a mean, e.g. a win rate.

    Formula: ``theta = lambda mean_N(f) + mean_n(w (Y - lambda f))``, ``Var = lambda^2 Var(f)/N +
    Var(w (Y - lambda f))/n``; PPI++ ``lambda = Cov_w(Y, f) / ((1 + n/N) Var(f))`` clipped to [0, 1];
    ``n_eff = Var_w(Y) / Var``. References: Angelopoulos et al. (2023, Science) eq. (1)-(2); PPI++
    (arXiv:2311.01453) Example 6.1; Fisch et al. (2024) for weights (module docstring).

    Args:
        y: clinician labels on the ``n`` labelled items (e.g. 1 win, 0.5 tie, 0 loss).
        yhat: the judge's scores on the same ``n`` items.
        yhat_unlabeled: the judge's scores on the ``N`` items without a clinician label.
        lam: ``"tune"`` (PPI++), or a fixed number in [0, 1] (1 = PPI, 0 = clinician labels only).
        weights: per labelled item (e.g. :func:`stratum_weights`); default equal.
        strata: ``(strata of the labelled items, strata of every yhat_unlabeled item)`` for a stratified
            sub-sample of a finite set whose judge scores are all in ``yhat_unlabeled`` (a clinician packet of a
            run). The weights are then :func:`stratum_weights` (``weights`` must be None) and the variance is the
            stratified one: ``Var = sum_h P_h^2 s_h^2 / n_h + sum_h P_h (theta_h - theta)^2 / N +
            lambda^2 sum_h P_h Var_h(f) / N`` with ``P_h = N_h / N``, ``theta_h`` the stratum's estimate and
            ``s_h^2`` the within-stratum variance of ``Y - lambda f`` (post-stratification, Cochran 1977,
            Sampling Techniques, §5A.9, eq. 5A.42; Fisch et al. 2024). ``"tune"`` then minimises this variance
            over a grid of ``lambda`` in [0, 1] (step 0.01) instead of PPI++'s unstratified closed form.
        level: interval level.

    Returns:
        :class:`PPIMean`. With ``n < 2`` or ``N < 2`` the variances are undefined: ``se`` and the interval
        are NaN (documented degenerate case).

    Raises:
        ValueError: lengths that differ, non-finite values, a bad ``lam`` or ``level``.
    """
    level = _validate_level(level)
    fixed = _check_lam(lam)
    yl, fl, fu = _vector(y, "y"), _vector(yhat, "yhat"), _vector(yhat_unlabeled, "yhat_unlabeled")
    if yl.shape != fl.shape:
        raise ValueError(f"`y` and `yhat` must have the same length; got {yl.shape[0]} and {fl.shape[0]}")
    n, big_n = yl.shape[0], fu.shape[0]
    if n == 0 or big_n == 0:
        raise ValueError(f"PPI needs labelled and unlabelled items; got n={n}, N={big_n}")
    if strata is not None:
        if weights is not None:
            raise ValueError("pass `weights` or `strata`, not both (strata define the weights)")
        lab_strata, all_strata = [str(x) for x in strata[0]], [str(x) for x in strata[1]]
        if len(lab_strata) != n or len(all_strata) != big_n:
            raise ValueError(f"`strata` must hold {n} labelled and {big_n} population strata; got "
                             f"{len(lab_strata)} and {len(all_strata)}")
        weights = stratum_weights(lab_strata, all_strata)
    w = _weights(weights, n)
    z = float(norm.ppf(0.5 + level / 2.0))
    ddof = 1 if n > 1 else 0
    stratified = strata is not None and n > 1

    def fit(lam_value: float) -> tuple[float, float, float]:
        """``(estimate, A, B)`` at ``lambda``."""
        rect = w * (yl - lam_value * fl)
        est = lam_value * float(fu.mean()) + float(rect.mean())
        if stratified:
            a_v, b_v = _post_stratified_variance(yl - lam_value * fl, fu, lam_value, lab_strata, all_strata)
            return est, a_v, b_v
        a_v = lam_value**2 * float(np.var(fu, ddof=1)) if big_n > 1 else math.nan
        return est, a_v, float(np.var(rect, ddof=1)) if n > 1 else math.nan

    if fixed is not None:
        lam_value = fixed
    elif stratified:  # power tuning on the stratified variance itself: a grid of lambda in [0, 1]
        grid = np.linspace(0.0, 1.0, 101)
        variances = [a_g / big_n + b_g / n for _, a_g, b_g in (fit(float(g)) for g in grid)]
        lam_value = float(grid[int(np.nanargmin(variances))])
    else:
        var_f = float(np.var(fu, ddof=1)) if big_n > 1 else 0.0
        cov = float(np.cov(w * yl, w * fl, ddof=ddof)[0, 1]) if n > 1 else 0.0
        lam_value = 0.0 if var_f <= 0 else float(np.clip(cov / ((1.0 + n / big_n) * var_f), 0.0, 1.0))
    estimate, a, b = fit(lam_value)
    se = math.sqrt(a / big_n + b / n) if math.isfinite(a) and math.isfinite(b) else math.nan
    classical, a0, b0 = fit(0.0)
    classical_se = math.sqrt(a0 / big_n + b0 / n) if math.isfinite(a0) and math.isfinite(b0) else math.nan
    var_y = classical_se**2 * n
    every = fu if stratified else np.concatenate([fl, fu])  # with strata, yhat_unlabeled is the whole set
    judge_se = float(np.std(every, ddof=1) / math.sqrt(every.size)) if every.size > 1 else math.nan
    n_eff = var_y / se**2 if math.isfinite(se) and se > 0 else math.nan
    return PPIMean(estimate, se, estimate - z * se, estimate + z * se, lam_value, n, big_n,
                   float(every.mean()), judge_se, classical, classical_se, n_eff, a, b, level)


def _post_stratified_variance(
    r: np.ndarray, f_all: np.ndarray, lam: float, lab: list[str], pop: list[str]
) -> tuple[float, float]:
    """``(A, B)`` of ``Var = A / N + B / n`` for the post-stratified estimator (Cochran 1977, eq. 5A.42).

    ``B / n = sum_h P_h^2 s_h^2 / n_h`` (a stratum with one labelled item borrows the pooled variance of ``r``);
    ``A / N = (sum_h P_h (theta_h - theta)^2 + lambda^2 sum_h P_h Var_h(f)) / N``.
    """
    n, big_n = r.shape[0], f_all.shape[0]
    lab_arr, pop_arr = np.array(lab), np.array(pop)
    pooled = float(np.var(r, ddof=1))
    b_over_n, between, within_f, theta_h, shares = 0.0, 0.0, 0.0, [], []
    for h in np.unique(lab_arr):
        in_lab, in_pop = lab_arr == h, pop_arr == h
        n_h, share = int(in_lab.sum()), float(in_pop.sum()) / big_n
        s2 = float(np.var(r[in_lab], ddof=1)) if n_h > 1 else pooled
        b_over_n += share**2 * s2 / n_h
        f_h = f_all[in_pop]
        theta_h.append(lam * float(f_h.mean()) + float(r[in_lab].mean()))
        shares.append(share)
        within_f += share * (float(np.var(f_h, ddof=1)) if f_h.size > 1 else 0.0)
    p, t = np.array(shares), np.array(theta_h)
    theta = float(np.sum(p * t) / p.sum())
    between = float(np.sum(p * (t - theta) ** 2) / p.sum())
    return between + lam**2 * within_f, n * b_over_n


def labels_for_width(
    var_imputed: float, var_rectifier: float, n_unlabeled: int, target_width: float, *, level: float = 0.95
) -> float:
    """Clinician labels needed for a prediction-powered interval of full width ``target_width``.

    Formula: ``width(n) = 2 z sqrt(A/N + B/n)`` => ``n = B / ((w / 2z)^2 - A/N)``; ``inf`` when
    ``A/N >= (w/2z)^2`` (the judge-side variance alone is wider than the target). ``A``, ``B`` as
    :class:`PPIMean` (plug-in at the current ``lambda``). Reference: the PPI power analysis of Chen et al.
    (2026), arXiv:2601.05420; Angelopoulos et al. (2023) eq. (2).

    Returns:
        The total number of labels (not the additional ones; subtract ``n_labeled``), rounded up; NaN when an
        input variance is NaN.
    """
    level = _validate_level(level)
    if not target_width > 0:
        raise ValueError(f"`target_width` must be > 0; got {target_width!r}")
    if n_unlabeled < 1:
        raise ValueError(f"`n_unlabeled` must be >= 1; got {n_unlabeled!r}")
    if not (math.isfinite(var_imputed) and math.isfinite(var_rectifier)):
        return math.nan
    z = float(norm.ppf(0.5 + level / 2.0))
    room = (target_width / (2.0 * z)) ** 2 - var_imputed / n_unlabeled
    if room <= 0:
        return math.inf
    return float(math.ceil(var_rectifier / room))


# ----------------------------------------------------------------------------------------------------------
# Bradley-Terry


def _design(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Rows ``e_a - e_b`` without the last (reference) column."""
    x = np.zeros((a.shape[0], k))
    x[np.arange(a.shape[0]), a] = 1.0
    x[np.arange(a.shape[0]), b] -= 1.0
    return x[:, : k - 1]


def _index_pairs(pairs: ArrayLike, k: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pairs, dtype=int).reshape(-1, 2)
    if p.size and (p.min() < 0 or p.max() >= k or np.any(p[:, 0] == p[:, 1])):
        raise ValueError(f"`{name}` must hold pairs of distinct item indices in [0, {k}); got {p[:3].tolist()}")
    return p[:, 0], p[:, 1]


def _logistic_fit(terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]], dim: int, ridge: float) -> np.ndarray:
    """Newton fit of ``sum_t sum_i c_ti loss(x_ti beta, y_ti) + ridge/2 |beta|^2`` (``c`` may be negative)."""
    beta = np.zeros(dim)
    for _ in range(100):
        grad = ridge * beta
        hess = ridge * np.eye(dim)
        for x, y, c in terms:
            p = expit(x @ beta)
            grad = grad + x.T @ (c * (p - y))
            hess = hess + (x.T * (c * p * (1 - p))) @ x
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.pinv(hess) @ grad
        beta = beta - step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def _grads(x: np.ndarray, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return x * (expit(x @ beta) - y)[:, None]


def _hessian(x: np.ndarray, beta: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    p = expit(x @ beta)
    c = p * (1 - p) * (1.0 if w is None else w)
    return (x.T * c) @ x / max(x.shape[0], 1)


def _cov(g: np.ndarray) -> np.ndarray:
    if g.shape[0] < 2:
        return np.full((g.shape[1], g.shape[1]), np.nan)
    return np.atleast_2d(np.cov(g, rowvar=False))


def ppi_bradley_terry(
    pairs: ArrayLike,
    y: ArrayLike,
    yhat: ArrayLike,
    pairs_unlabeled: ArrayLike,
    yhat_unlabeled: ArrayLike,
    items: Sequence[str],
    *,
    lam: LambdaLike = "tune",
    weights: ArrayLike | None = None,
    level: float = 0.95,
    ridge: float = 1e-6,
) -> PPIBradleyTerry:
    """Prediction-powered Bradley-Terry strengths (PPI++ for the logistic M-estimator).

    Formula: ``beta = argmin lambda L_N^f + L_n^{wY} - lambda L_n^{wf}`` with the logistic loss on rows
    ``x = e_i - e_j`` (reference item fixed at 0); ``Cov(beta) = H^-1 (lambda^2 V_f/N + V_r/n) H^-1``; PPI++
    ``lambda = tr(H^-1 (C + C') H^-1) / (2 (1 + n/N) tr(H^-1 V_f H^-1))`` clipped to [0, 1] with ``C`` the
    labelled covariance of the gradients at ``Y`` and at ``f`` (Angelopoulos, Duchi & Zrnic 2023,
    arXiv:2311.01453, Algorithm 1 and eq. (7)); then ``theta = M beta_full`` with ``M = I - 11'/K`` (mean zero).

    Args:
        pairs: ``(n, 2)`` item indices ``(i, j)`` of the labelled comparisons; scores are from ``i``'s side.
        y: clinician score of ``i`` (1 win, 0.5 tie, 0 loss), ``n`` values.
        yhat: the judge's score of ``i`` on the same comparisons.
        pairs_unlabeled: ``(N, 2)`` item indices of the comparisons without a clinician label.
        yhat_unlabeled: the judge's score of ``i`` on them.
        items: the ``K`` item names.
        lam: ``"tune"`` (PPI++), or a number in [0, 1] (1 = PPI, 0 = clinician labels only).
        weights: per labelled comparison (e.g. :func:`stratum_weights`); default equal.
        level: interval level.
        ridge: a tiny L2 term that keeps a strength finite when an item never wins (it biases nothing
            measurable at 1e-6).

    Returns:
        :class:`PPIBradleyTerry` (log-strengths, mean zero; multiply by ``ELO_SCALE`` for the Elo scale).

    Raises:
        ValueError: mismatched lengths, an index out of range, fewer than two items, a bad ``lam``/``level``.
    """
    level = _validate_level(level)
    fixed = _check_lam(lam)
    names = tuple(items)
    k = len(names)
    if k < 2:
        raise ValueError(f"Bradley-Terry needs at least two items; got {k}")
    a_l, b_l = _index_pairs(pairs, k, "pairs")
    a_u, b_u = _index_pairs(pairs_unlabeled, k, "pairs_unlabeled")
    yl, fl, fu = _vector(y, "y"), _vector(yhat, "yhat"), _vector(yhat_unlabeled, "yhat_unlabeled")
    n, big_n = yl.shape[0], fu.shape[0]
    if fl.shape[0] != n or a_l.shape[0] != n or a_u.shape[0] != big_n:
        raise ValueError(f"lengths differ: pairs {a_l.shape[0]}, y {n}, yhat {fl.shape[0]}; "
                         f"pairs_unlabeled {a_u.shape[0]}, yhat_unlabeled {big_n}")
    if n < 2 or big_n < 2:
        raise ValueError(f"PPI Bradley-Terry needs >= 2 labelled and unlabelled comparisons; got n={n}, N={big_n}")
    w = _weights(weights, n)
    xl, xu = _design(a_l, b_l, k), _design(a_u, b_u, k)
    dim = k - 1
    z = float(norm.ppf(0.5 + level / 2.0))
    mean_zero = np.eye(k) - np.ones((k, k)) / k
    embed = np.vstack([np.eye(dim), np.zeros((1, dim))])  # beta (K-1) -> full strengths with reference 0
    to_theta = mean_zero @ embed

    def objective_hessian(beta: np.ndarray, lam_value: float) -> np.ndarray:
        # the Hessian of the PPI++ objective: lambda H_N + (1 - lambda) H_n (PPI++, Algorithm 1)
        return lam_value * _hessian(xu, beta) + (1.0 - lam_value) * _hessian(xl, beta, w)

    def fit(lam_value: float) -> np.ndarray:
        terms = [(xu, fu, np.full(big_n, lam_value / big_n)), (xl, yl, w / n), (xl, fl, -lam_value * w / n)]
        return _logistic_fit(terms, dim, ridge)

    beta1 = fit(1.0 if fixed is None else fixed)
    inv = np.linalg.pinv(objective_hessian(beta1, 1.0 if fixed is None else fixed))
    if fixed is None:
        gy = w[:, None] * _grads(xl, yl, beta1)
        gf = w[:, None] * _grads(xl, fl, beta1)
        gu = _grads(xu, fu, beta1)
        c = np.atleast_2d(np.cov(np.hstack([gy, gf]), rowvar=False))[:dim, dim:]
        vf = _cov(gu)
        num = np.trace(inv @ (c + c.T) @ inv)
        den = 2.0 * (1.0 + n / big_n) * np.trace(inv @ vf @ inv)
        lam_value = float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0
        beta = fit(lam_value)
    else:
        lam_value = fixed
        beta = beta1
    inv = np.linalg.pinv(objective_hessian(beta, lam_value))
    gu = _grads(xu, fu, beta)
    rect = w[:, None] * (_grads(xl, yl, beta) - lam_value * _grads(xl, fl, beta))
    a_mat = inv @ (lam_value**2 * _cov(gu)) @ inv
    b_mat = inv @ _cov(rect) @ inv
    cov_beta = a_mat / big_n + b_mat / n
    theta = to_theta @ beta
    cov = to_theta @ cov_beta @ to_theta.T
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    a_theta = np.diag(to_theta @ a_mat @ to_theta.T)
    b_theta = np.diag(to_theta @ b_mat @ to_theta.T)

    every_x, every_f = np.vstack([xl, xu]), np.concatenate([fl, fu])
    judge_only = to_theta @ _logistic_fit([(every_x, every_f, np.full(every_f.size, 1.0 / every_f.size))], dim, ridge)
    beta_c = _logistic_fit([(xl, yl, w / n)], dim, ridge)
    inv_c = np.linalg.pinv(_hessian(xl, beta_c, w))
    cov_c = to_theta @ (inv_c @ _cov(w[:, None] * _grads(xl, yl, beta_c)) @ inv_c / n) @ to_theta.T
    classical_se = np.sqrt(np.clip(np.diag(cov_c), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(se > 0, n * classical_se**2 / se**2, np.nan)
    return PPIBradleyTerry(names, theta, se, theta - z * se, theta + z * se, cov, lam_value, n, big_n,
                           judge_only, to_theta @ beta_c, classical_se, n_eff, a_theta, b_theta, level)

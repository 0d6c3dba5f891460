"""Where a criterion's verdicts vary: candidates vs scenarios, personas, simulator seeds and judges.

Unit: one head-to-head, ``y`` = the score of the alphabetically first candidate of the pair (1 win, 0.5 tie,
0 loss), taken about 0.5 ("no preference"): the model has no intercept, so a pair whose first candidate always
loses counts as candidate signal (a pair mean far from 0.5), not as a shift of the grand mean. A leaderboard
column is useful when *which two candidates met* explains the outcome; it mostly measures the simulator when
*which seed the simulated patient ran with* (or the judge, the persona, the scenario) explains more.

Model (a fixed-effects ANOVA on the win indicators, generalizability-theory reading, Brennan [1], ch. 3;
Shavelson & Webb [2]):
``y - 0.5 = mu_pair + (pair x scenario) + (pair x persona) + (pair x seed) + (pair x judge) + e``.
Scenario, persona, seed and judge main effects do not exist in this coding (a scenario cannot favour "the
first candidate" in general), so every facet enters as its interaction with the pair: "this scenario favours
A over B". Terms are added in that order; each term's sum of squares is the drop in the residual sum of
squares when it is added (sequential, Type I: :func:`sequential_anova`, least squares with rank-aware degrees of
freedom, the same numbers as ``statsmodels.stats.anova.anova_lm(typ=1)``, which the tests check). The
leaderboard computes them from cell means (``_cell_mean_anova``): identical in the balanced crossed designs a
run produces, and linear in the number of head-to-heads. A facet with a single level is
left out. When the last facet leaves no residual degree of freedom (one observation per pair x facet cell) it
cannot be told from noise and is folded into the residual (reported in ``confounded``).

Shares are omega-squared (Hays [3]; Olejnik & Algina [4]), an unbiased-ish share of variance that subtracts
the noise a term absorbs by chance: ``omega2_t = max(0, SS_t - df_t MS_e) / (SS_total + MS_e)``; the
residual's share is the rest (``1 - sum omega2_t``). Single head-to-heads are Bernoulli-noisy, so the residual
is large even for a well-separated leaderboard (a 77% win rate is 0.18 of outcome variance against 0.08 of signal)
and shrinks in the *ranking* as head-to-heads accumulate; the facets' interactions do not. The flag therefore
reads the candidates' share of the systematic (non-residual) variance: a criterion is *flagged* when it is below
``min_candidate_share`` (the column then mostly measures its largest other facet: the simulator seed, the judge,
the scenarios or personas), or when nothing is systematic at all (the column measures noise).

Hand-written (cell means in pandas) because it runs once per criterion inside the leaderboard;
``statsmodels`` 0.15's ``BinomialBayesMixedGLM`` is the likelihood alternative for binary outcomes (slower and
variational).

References:
    [1] Brennan, R. L. (2001). Generalizability Theory. Springer.
    [2] Shavelson, R. J. & Webb, N. M. (1991). Generalizability Theory: A Primer. Sage.
    [3] Hays, W. L. (1963). Statistics for Psychologists, p. 382 (omega squared).
    [4] Olejnik, S. & Algina, J. (2003). Generalized eta and omega squared statistics. Psychological Methods
        8, 434-447.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.stats._validate import _validate_columns, _validate_probability

FACETS: tuple[str, ...] = ("scenario_id", "persona_id", "seed", "judge")
"""Facet columns in the order they enter the model (each as an interaction with the candidate pair)."""
FACET_NAMES: dict[str, str] = {"pair": "candidates", "scenario_id": "scenario", "persona_id": "persona",
                               "seed": "simulator seed", "judge": "judge", "residual": "residual"}
DEFAULT_MIN_CANDIDATE_SHARE: float = 0.5
"""Flag a criterion whose candidates explain less than this share of the verdict variance."""


@dataclass(frozen=True)
class VarianceDecomposition:
    """Variance shares of one criterion's head-to-head outcomes."""

    terms: pd.DataFrame
    """``term`` (candidates | scenario | persona | simulator seed | judge | residual), ``df``, ``ss``,
    ``omega2`` (share), in model order."""
    candidate_share: float
    """The candidates' share of the *systematic* variance: ``omega2_candidates / sum of the non-residual omega2``
    (0 when nothing is systematic). Bernoulli noise in single head-to-heads shrinks with more data; a facet's
    share does not, so this is the share the flag reads."""
    candidate_share_total: float
    """The candidates' omega-squared of the total variance (noise included)."""
    dominant: str
    """The largest facet other than candidates with a positive share, or ``residual`` when there is none."""
    flagged: bool
    """``candidate_share < min_candidate_share``."""
    confounded: tuple[str, ...]
    """Facets folded into the residual (one observation per cell)."""
    n: int
    min_candidate_share: float


def _rss_rank(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    coef, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    return float(resid @ resid), int(rank)


def sequential_anova(y: np.ndarray, blocks: Sequence[np.ndarray]) -> list[tuple[float, int]]:
    """Type I sums of squares and degrees of freedom of design blocks added in order (no intercept).

    Formula: ``SS_t = RSS(blocks < t) - RSS(blocks <= t)``, ``df_t = rank(blocks <= t) - rank(blocks < t)``
    (least squares); the same as ``statsmodels.stats.anova.anova_lm(typ=1)`` (Searle 1971, Linear Models,
    §7.1). Returns ``[(ss_t, df_t)]`` per block, then the residual ``(RSS, n - rank)``.
    """
    y = np.asarray(y, dtype=float)
    x = np.zeros((y.shape[0], 0))
    rss, rank = float(y @ y), 0
    out: list[tuple[float, int]] = []
    for block in blocks:
        x = np.hstack([x, block])
        new_rss, new_rank = _rss_rank(x, y)
        out.append((max(rss - new_rss, 0.0), new_rank - rank))
        rss, rank = new_rss, new_rank
    out.append((rss, y.shape[0] - rank))
    return out


def _cell_mean_anova(frame: pd.DataFrame, names: list[str]) -> list[tuple[float, int]]:
    """Sums of squares from cell means: ``pair``, then each ``pair x facet`` about the pair means.

    In a balanced crossed design (every pair met in every scenario, persona, seed and judge: what a theraeval
    run produces) these terms are orthogonal and equal the sequential (Type I) sums of squares of
    :func:`sequential_anova`; with unscored head-to-heads missing they are the marginal approximation (the
    residual is clipped at 0). Cell means keep it linear in the number of head-to-heads, where the least-squares
    design would have one column per (pair, scenario).
    """
    y = frame["y"].to_numpy(dtype=float) - 0.5  # about "no preference": the candidates' signal is |mean - 0.5|
    pair_mean = frame.groupby("pair")["y"].transform("mean").to_numpy() - 0.5
    n_pairs = frame["pair"].nunique()
    rows = [(float(np.sum(pair_mean**2)), n_pairs)]
    for f in names[1:]:
        cell = frame.groupby(["pair", f])["y"].transform("mean").to_numpy() - 0.5
        cells = int(frame.groupby(["pair", f]).ngroups)
        rows.append((float(np.sum((cell - pair_mean) ** 2)), cells - n_pairs))
    ss_total = float(np.sum(y**2))
    ss_res = max(0.0, ss_total - sum(r[0] for r in rows))
    df_res = max(0, y.shape[0] - sum(r[1] for r in rows))
    return [*rows, (ss_res, df_res)]


def variance_decomposition(
    h2h: pd.DataFrame, *, facets: Sequence[str] = FACETS,
    min_candidate_share: float = DEFAULT_MIN_CANDIDATE_SHARE,
) -> VarianceDecomposition:
    """Omega-squared shares of one criterion's head-to-head outcomes: candidates vs each facet.

    Formula: sequential least squares of ``y`` (score of the pair's first candidate) on ``pair``, then
    ``pair x f`` for each facet ``f`` with more than one level; ``omega2_t = max(0, SS_t - df_t MS_e) /
    (SS_total + MS_e)`` (Hays 1963; Olejnik & Algina 2003; module docstring).

    Args:
        h2h: head-to-heads of *one* criterion (:func:`head_to_heads`), columns ``candidate_a``,
            ``candidate_b``, ``outcome`` and any of ``facets``; unscored rows are left out.
        facets: facet columns, in model order (default ``FACETS``; ``seed`` = the simulator seed or
            replicate, absent in a single run).
        min_candidate_share: flag below this share.

    Returns:
        :class:`VarianceDecomposition`.

    Raises:
        ValueError: missing columns, several criteria, or fewer than two scored head-to-heads.
    """
    _validate_columns(h2h, ["candidate_a", "candidate_b", "outcome"], "h2h")
    min_candidate_share = _validate_probability(min_candidate_share, "min_candidate_share")
    if "criterion" in h2h.columns and h2h["criterion"].nunique() > 1:
        raise ValueError(f"variance_decomposition takes one criterion; got {sorted(h2h['criterion'].unique())}")
    df = h2h[h2h["outcome"] != "unscored"]
    if len(df) < 2:
        raise ValueError(f"variance_decomposition needs at least two scored head-to-heads; got {len(df)}")
    a, b = df["candidate_a"].astype(str).to_numpy(), df["candidate_b"].astype(str).to_numpy()
    score = df["outcome"].map({"A": 1.0, "B": 0.0, "tie": 0.5}).to_numpy(dtype=float)
    swap = a > b
    y = np.where(swap, 1.0 - score, score)
    pair = np.where(swap, b + "\x00" + a, a + "\x00" + b)
    names = ["pair"] + [f for f in facets if f in df.columns and df[f].astype(str).nunique() > 1]
    frame = pd.DataFrame({"y": y, "pair": pair})
    for f in names[1:]:
        frame[f] = df[f].astype(str).to_numpy()
    rows = _cell_mean_anova(frame, names)
    confounded: list[str] = []
    while rows[-1][1] == 0 and len(names) > 1:  # the last facet is one observation per cell: noise
        confounded.append(FACET_NAMES.get(names[-1], names[-1]))
        ss, dfree = rows[-2]
        rows = rows[:-2] + [(rows[-1][0] + ss, dfree)]
        names.pop()
    ss_res, df_res = rows[-1]
    ss_total = float(np.sum((y - 0.5) ** 2))
    ms_e = ss_res / df_res if df_res > 0 else 0.0
    denom = ss_total + ms_e
    table: list[dict[str, float | int | str]] = []
    for name, (ss, dfree) in zip(names, rows[:-1], strict=True):
        omega = max(0.0, ss - dfree * ms_e) / denom if denom > 0 else 0.0
        table.append({"term": FACET_NAMES.get(name, name), "df": dfree, "ss": ss, "omega2": omega})
    table.append({"term": "residual", "df": df_res, "ss": ss_res,
                  "omega2": max(0.0, 1.0 - sum(float(r["omega2"]) for r in table)) if denom > 0 else 0.0})
    terms = pd.DataFrame(table)
    systematic = terms[terms["term"] != "residual"]
    cand_total = float(terms.loc[terms["term"] == "candidates", "omega2"].iloc[0])
    explained = float(systematic["omega2"].sum())
    cand = cand_total / explained if explained > 0 else 0.0
    others = systematic[systematic["term"] != "candidates"]
    others = others[others["omega2"] > 0]
    dominant = (str(others.sort_values("omega2", ascending=False, kind="stable")["term"].iloc[0])
                if not others.empty else "residual")
    return VarianceDecomposition(terms, cand, cand_total, dominant, cand < min_candidate_share, tuple(confounded),
                                 len(df), min_candidate_share)

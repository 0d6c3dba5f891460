"""Judge-versus-clinician agreement for one criterion, with a paired percentile bootstrap over items.

Input: the clinicians' labels as an int matrix ``(n_items, n_raters)`` and the judge's verdict per item, both in
the verdict table's candidate space (0 = A = candidate_a preferred, 1 = B, 2 = tie; -1 = missing rating or
unscored judge verdict). Everything is computed on the same items, so the LLM and the clinicians face the
same cases.

Consensus rules (decided once; the paper's own aggregation is not published, Beikzadeh et al. 2026, arXiv:2602.16053):

* **3-class consensus** of the clinicians who rated an item (needs >= 2 ratings): the label most of them gave;
  when two labels are equally common the consensus is ``tie`` (the group prefers neither candidate);
* **consensus strength**: ``unanimous`` (every rating equal), ``majority`` (the top label has more than half
  of the ratings), ``split`` (otherwise);
* **decisive (non-tie) consensus** of a set of clinicians: A when more of them chose A than B, B when more
  chose B than A, none when the counts are equal (tie labels count for neither side, as the paper's and
  :func:`harness.stats.majority_vote`'s "equal votes -> tie" rule); items without one are left out.

Comparisons (``comparison`` / ``statistic`` in the agreement table):

* ``inter_clinician``: percent agreement, Fleiss' kappa, Gwet's AC1, Krippendorff's alpha (all 3-class,
  categories {A, B, tie}), and Cohen's kappa of every clinician pair (mean, min, max);
* ``human_human_3class`` / ``human_llm_3class``: exact 3-class agreement pooled over clinician pairs, and over
  (clinician, item) with the judge;
* ``llm_majority_3class``: the judge against the 3-class consensus (agreement, Cohen's kappa, AC1; q = 3);
* ``llm_by_consensus_strength``: the judge's agreement with the 3-class consensus on unanimous, majority and
  split items;
* the paper's way, on the non-tie subset (categories {A, B}, q = 2):
  ``human_loo_nontie``: each clinician's decisive label against the decisive consensus of the *other*
  clinicians (leave-one-out), pooled over clinicians; ``llm_loo_nontie``: the judge's decisive verdict against
  the *same* leave-one-out consensus sets (for every clinician who rated the item), so the judge and a
  clinician are scored against identical references; ``llm_majority_nontie``: the judge against the decisive
  consensus of all clinicians (reported; it favours the judge, whose reference has one more clinician).
  Each has accuracy, Cohen's kappa and AC1 of the pooled 2 x 2 table.

Intervals: one percentile bootstrap over items (:func:`harness.stats.cluster_bootstrap`, each item a cluster),
resampling every statistic jointly, so the judge's and the clinicians' numbers are paired. Every statistic is a
function of additive per-item tables, so a replicate is one weighted sum (Efron & Tibshirani 1993, ch. 13).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from harness.calibration._coefficients import (
    MISSING,
    MULTI_FEATURES,
    ac1_from_tables,
    accuracy_from_tables,
    category_counts,
    cohen_kappa_from_table,
    fleiss_kappa,
    kappa_from_tables,
    multirater_features,
    multirater_from_totals,
    pairwise_cohen_kappa,
)
from harness.stats import RngLike, cluster_bootstrap

Q = 3
"""Declared categories A, B, tie (codes 0, 1, 2)."""
TIE = 2
STRENGTHS: tuple[str, ...] = ("unanimous", "majority", "split")

STATISTICS: tuple[tuple[str, str], ...] = (
    ("inter_clinician", "percent_agreement"),
    ("inter_clinician", "fleiss_kappa"),
    ("inter_clinician", "gwet_ac1"),
    ("inter_clinician", "krippendorff_alpha"),
    ("inter_clinician", "cohen_kappa_mean"),
    ("inter_clinician", "cohen_kappa_min"),
    ("inter_clinician", "cohen_kappa_max"),
    ("human_human_3class", "agreement"),
    ("human_llm_3class", "agreement"),
    ("llm_majority_3class", "agreement"),
    ("llm_majority_3class", "cohen_kappa"),
    ("llm_majority_3class", "gwet_ac1"),
    ("llm_by_consensus_strength", "accuracy_unanimous"),
    ("llm_by_consensus_strength", "accuracy_majority"),
    ("llm_by_consensus_strength", "accuracy_split"),
    ("human_loo_nontie", "accuracy"),
    ("human_loo_nontie", "cohen_kappa"),
    ("human_loo_nontie", "gwet_ac1"),
    ("llm_loo_nontie", "accuracy"),
    ("llm_loo_nontie", "cohen_kappa"),
    ("llm_loo_nontie", "gwet_ac1"),
    ("llm_majority_nontie", "accuracy"),
    ("llm_majority_nontie", "cohen_kappa"),
    ("llm_majority_nontie", "gwet_ac1"),
)
"""Every (comparison, statistic) row :func:`judge_agreement` reports, in table order."""
AGREEMENT_COLUMNS: tuple[str, ...] = ("comparison", "statistic", "estimate", "ci_low", "ci_high", "n")


@dataclass(frozen=True)
class JudgeAgreement:
    """Agreement statistics of one criterion (see the module docstring for every definition)."""

    statistics: pd.DataFrame
    """``AGREEMENT_COLUMNS``: one row per entry of ``STATISTICS``; ``n`` = items or comparisons behind it."""
    confusion: np.ndarray
    """``(3, 4)`` counts: rows 3-class clinician consensus A/B/tie, columns judge A/B/tie/unscored."""
    n_items: int
    n_raters: int
    n_llm_unscored: int
    """Items with clinician ratings whose judge verdict is unscored (left out of every judge comparison)."""
    n_boot: int
    level: float
    seed: int | None


# ----------------------------------------------------------------------------------------------------------
# consensus rules


def consensus_3class(counts: np.ndarray) -> np.ndarray:
    """3-class consensus per item from ``(n, 3)`` counts: top label, ``tie`` when the top is shared; -1 if < 2."""
    top = counts.max(axis=1)
    n_top = (counts == top[:, None]).sum(axis=1)
    out = np.where(n_top == 1, counts.argmax(axis=1), TIE)
    return np.where(counts.sum(axis=1) >= 2, out, MISSING).astype(np.int64)


def consensus_strength(counts: np.ndarray) -> np.ndarray:
    """0 unanimous, 1 majority (top label > half), 2 split; -1 for items with fewer than two ratings."""
    r = counts.sum(axis=1)
    top = counts.max(axis=1)
    out = np.where(top == r, 0, np.where(2 * top > r, 1, 2))
    return np.where(r >= 2, out, MISSING).astype(np.int64)


def decisive_consensus(votes_a: np.ndarray, votes_b: np.ndarray) -> np.ndarray:
    """0 (A) when ``votes_a > votes_b``, 1 (B) when fewer, -1 when equal (no decisive consensus)."""
    return np.where(votes_a > votes_b, 0, np.where(votes_b > votes_a, 1, MISSING)).astype(np.int64)


# ----------------------------------------------------------------------------------------------------------
# per-item additive features


def _one_hot_outer(rows: np.ndarray, cols: np.ndarray, mask: np.ndarray, q: int) -> np.ndarray:
    """``(n, q, q)`` with a 1 at ``(rows[i], cols[i])`` where ``mask[i]``."""
    out = np.zeros((rows.shape[0], q, q))
    idx = np.flatnonzero(mask)
    out[idx, rows[idx], cols[idx]] = 1.0
    return out


@dataclass(frozen=True)
class _Layout:
    """Offsets of named feature blocks in the flat per-item feature vector."""

    shapes: dict[str, tuple[int, ...]]

    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, shape in self.shapes.items():
            size = int(np.prod(shape))
            out[name] = slice(start, start + size)
            start += size
        return out

    def unpack(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        return {name: flat[:, s].reshape(flat.shape[0], *self.shapes[name]) for name, s in self.slices().items()}


def _features(clinicians: np.ndarray, llm: np.ndarray) -> tuple[np.ndarray, _Layout]:
    n, m = clinicians.shape
    counts = category_counts(clinicians, Q)
    scored = llm != MISSING
    llm_safe = np.where(scored, llm, 0)
    pairs = list(combinations(range(m), 2))
    blocks: dict[str, np.ndarray] = {"multi": multirater_features(counts)}
    pair_tables = np.zeros((n, len(pairs), Q, Q))
    for p, (j, k) in enumerate(pairs):
        both = (clinicians[:, j] != MISSING) & (clinicians[:, k] != MISSING)
        pair_tables[:, p] = _one_hot_outer(np.where(both, clinicians[:, j], 0), np.where(both, clinicians[:, k], 0),
                                           both, Q)
    blocks["pairs"] = pair_tables.reshape(n, -1)
    human_llm = np.zeros((n, Q, Q))
    for j in range(m):
        rated = (clinicians[:, j] != MISSING) & scored
        human_llm += _one_hot_outer(np.where(rated, clinicians[:, j], 0), llm_safe, rated, Q)
    blocks["human_llm"] = human_llm.reshape(n, -1)
    cons = consensus_3class(counts)
    has_cons = (cons != MISSING) & scored
    blocks["cons_llm"] = _one_hot_outer(np.where(has_cons, cons, 0), llm_safe, has_cons, Q).reshape(n, -1)
    strength = consensus_strength(counts)
    strength_block = np.zeros((n, len(STRENGTHS), 2))
    for s in range(len(STRENGTHS)):
        member = (strength == s) & scored
        strength_block[:, s, 0] = member
        strength_block[:, s, 1] = member & (llm == cons)
    blocks["strength"] = strength_block.reshape(n, -1)
    votes_a, votes_b = counts[:, 0], counts[:, 1]
    llm_decisive = scored & (llm != TIE)
    loo_human = np.zeros((n, 2, 2))
    loo_llm = np.zeros((n, 2, 2))
    for j in range(m):
        label = clinicians[:, j]
        others = decisive_consensus(votes_a - (label == 0), votes_b - (label == 1))
        has_ref = others != MISSING
        own = has_ref & ((label == 0) | (label == 1))
        loo_human += _one_hot_outer(np.where(own, label, 0), np.where(own, others, 0), own, 2)
        versus = has_ref & (label != MISSING) & llm_decisive
        loo_llm += _one_hot_outer(np.where(versus, llm, 0), np.where(versus, others, 0), versus, 2)
    blocks["loo_human"] = loo_human.reshape(n, -1)
    blocks["loo_llm"] = loo_llm.reshape(n, -1)
    full = decisive_consensus(votes_a, votes_b)
    versus_full = (full != MISSING) & llm_decisive
    blocks["maj_llm"] = _one_hot_outer(np.where(versus_full, llm, 0), np.where(versus_full, full, 0), versus_full,
                                       2).reshape(n, -1)
    shapes = {"multi": (MULTI_FEATURES + 2 * Q,), "pairs": (len(pairs), Q, Q), "human_llm": (Q, Q),
              "cons_llm": (Q, Q), "strength": (len(STRENGTHS), 2), "loo_human": (2, 2), "loo_llm": (2, 2),
              "maj_llm": (2, 2)}
    flat = np.concatenate([blocks[name].reshape(n, -1) for name in shapes], axis=1)
    return flat, _Layout(shapes)


def _make_statistic(layout: _Layout) -> Callable[[np.ndarray], np.ndarray]:
    def statistic(totals: np.ndarray) -> np.ndarray:
        t = layout.unpack(totals)
        multi = multirater_from_totals(t["multi"], Q)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pair kappas -> NaN, by design
            pair_kappa = kappa_from_tables(t["pairs"]) if t["pairs"].shape[1] else np.full((totals.shape[0], 1),
                                                                                            np.nan)
            k_mean = np.nanmean(pair_kappa, axis=1)
            k_min = np.nanmin(pair_kappa, axis=1)
            k_max = np.nanmax(pair_kappa, axis=1)
        pairs_pooled = t["pairs"].sum(axis=1)
        strength = t["strength"]
        with np.errstate(invalid="ignore", divide="ignore"):
            by_strength = np.where(strength[..., 0] > 0, strength[..., 1] / np.where(strength[..., 0] > 0,
                                                                                        strength[..., 0], 1.0), np.nan)
        cols = [multi[:, 0], multi[:, 1], multi[:, 2], multi[:, 3], k_mean, k_min, k_max,
                accuracy_from_tables(pairs_pooled), accuracy_from_tables(t["human_llm"]),
                accuracy_from_tables(t["cons_llm"]), kappa_from_tables(t["cons_llm"]), ac1_from_tables(t["cons_llm"]),
                by_strength[:, 0], by_strength[:, 1], by_strength[:, 2]]
        for name in ("loo_human", "loo_llm", "maj_llm"):
            cols += [accuracy_from_tables(t[name]), kappa_from_tables(t[name]), ac1_from_tables(t[name])]
        return np.stack(cols, axis=1)

    return statistic


def _counts_n(t: dict[str, np.ndarray]) -> list[int]:
    """The ``n`` of every statistic from the observed totals (items or pooled comparisons)."""
    items = int(t["multi"][0, 0])
    pair_total = int(t["pairs"][0].sum())
    n_strength = [int(t["strength"][0, s, 0]) for s in range(len(STRENGTHS))]
    out = [items] * 7 + [pair_total, int(t["human_llm"][0].sum())] + [int(t["cons_llm"][0].sum())] * 3
    out += n_strength
    for name in ("loo_human", "loo_llm", "maj_llm"):
        out += [int(t[name][0].sum())] * 3
    return out


# ----------------------------------------------------------------------------------------------------------
# public


def _validate_inputs(clinicians: np.ndarray, llm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(clinicians)
    j = np.asarray(llm)
    if x.ndim != 2:
        raise ValueError(f"`clinicians` must be a 2-D int matrix (items x raters); got shape {x.shape}")
    if j.shape != (x.shape[0],):
        raise ValueError(f"`llm` must hold one verdict per item: shape ({x.shape[0]},); got {j.shape}")
    for name, arr in (("clinicians", x), ("llm", j)):
        if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < MISSING or arr.max() >= Q):
            bad = sorted(set(np.asarray(arr).ravel().tolist()) - {MISSING, 0, 1, 2})[:5]
            raise ValueError(f"`{name}` must hold codes 0 (A), 1 (B), 2 (tie) or -1 (missing); got {bad or arr.dtype}")
    return x.astype(np.int64), j.astype(np.int64)


def judge_agreement(
    clinicians: np.ndarray,
    llm: np.ndarray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: RngLike = 0,
) -> JudgeAgreement:
    """Every agreement statistic of one criterion with percentile bootstrap intervals over items.

    Args:
        clinicians: ``(n_items, n_raters)`` codes 0 = A, 1 = B, 2 = tie, -1 = not rated (candidate space).
        llm: ``(n_items,)`` judge verdict codes (-1 = unscored).
        n_boot: bootstrap replicates (>= 1).
        level: interval level.
        rng: Generator, int seed or None (never the global NumPy state).

    Returns:
        :class:`JudgeAgreement`. Point estimates of Fleiss' and Cohen's kappas come from statsmodels (see
        :mod:`harness.calibration._coefficients`); intervals from the vectorised replicates. Undefined statistics
        (no qualifying comparison) are NaN with ``n = 0``.

    Raises:
        ValueError: wrong shapes or codes, no item, ``n_boot`` < 1 or ``level`` outside (0, 1).
    """
    x, j = _validate_inputs(clinicians, llm)
    if x.shape[0] == 0:
        raise ValueError("`clinicians` has no item; rate at least one item before computing agreement")
    flat, layout = _features(x, j)
    boot = cluster_bootstrap(flat, _make_statistic(layout), n_boot=n_boot, level=level, rng=rng)
    estimate = np.array(boot.estimate, dtype=float)
    # statsmodels point estimates where it implements the coefficient (same values; pinned by the tests)
    keys = list(STATISTICS)
    labelled = x.astype(object)
    labelled[x == MISSING] = None
    rated = (x != MISSING).any(axis=1)
    if rated.any():
        estimate[keys.index(("inter_clinician", "fleiss_kappa"))] = fleiss_kappa(labelled[rated], (0, 1, 2)).estimate
    if x.shape[1] >= 2:
        pk = pairwise_cohen_kappa(labelled, (0, 1, 2))
        estimate[keys.index(("inter_clinician", "cohen_kappa_mean"))] = pk.mean
        estimate[keys.index(("inter_clinician", "cohen_kappa_min"))] = pk.min
        estimate[keys.index(("inter_clinician", "cohen_kappa_max"))] = pk.max
    observed = layout.unpack(flat.sum(axis=0)[None, :])
    for comparison, block in (("llm_majority_3class", "cons_llm"), ("human_loo_nontie", "loo_human"),
                              ("llm_loo_nontie", "loo_llm"), ("llm_majority_nontie", "maj_llm")):
        estimate[keys.index((comparison, "cohen_kappa"))] = cohen_kappa_from_table(observed[block][0]).estimate
    n = _counts_n(observed)
    stats = pd.DataFrame({
        "comparison": [c for c, _ in STATISTICS], "statistic": [s for _, s in STATISTICS],
        "estimate": estimate, "ci_low": np.asarray(boot.ci_low, dtype=float),
        "ci_high": np.asarray(boot.ci_high, dtype=float), "n": n,
    })
    # an undefined point estimate has no interval
    undefined = ~np.isfinite(stats["estimate"].to_numpy(dtype=float))
    stats.loc[undefined, ["ci_low", "ci_high"]] = math.nan
    counts = category_counts(x, Q)
    cons = consensus_3class(counts)
    confusion = np.zeros((Q, Q + 1), dtype=np.int64)
    has = cons != MISSING
    np.add.at(confusion, (cons[has], np.where(j[has] == MISSING, Q, j[has])), 1)
    return JudgeAgreement(stats, confusion, int(x.shape[0]), int(x.shape[1]),
                          int(((j == MISSING) & ((x != MISSING).any(axis=1))).sum()), boot.n_boot, boot.level,
                          boot.seed)

"""Judge-vs-human statistics: accuracy with a context-clustered bootstrap interval, trivial baselines on the same
items, length-matched accuracy, the human ceiling, and rank agreement for pointwise judges.

Conventions: human labels are "A" or "B" (pairs labelled "tie" are excluded from every accuracy and counted);
a judge's verdict is "A", "B", "tie" or "unscored". Accuracy with ties as half: credit 1 for the human's answer,
0.5 for a tie, 0 otherwise, averaged over scored pairs (unscored pairs excluded and counted, as everywhere in
theraeval). Accuracy with ties excluded: correct / decided pairs. Every interval is the percentile cluster
bootstrap of :func:`harness.stats.cluster_bootstrap` (Efron & Tibshirani 1993, ch. 6, 13; Field & Welsh 2007),
resampling contexts, because pairs sharing a context are not independent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from harness.judge_validity._sets import Label, ValidationPair, majority
from harness.stats import RngLike, cluster_bootstrap

Verdict = str
LENGTH_MATCH = 0.8
"""Length-matched pairs: the shorter response is at least 80% of the longer one's characters (within 20%)."""
MIN_BOW_PAIRS = 50
"""The bag-of-words baseline is fitted only on sets with at least this many pairs."""


def credit(verdict: Verdict, label: Label) -> float:
    """1 for the human's answer, 0.5 for a judge tie, 0 for the other answer (NaN: unscored)."""
    if verdict == "unscored":
        return float("nan")
    return 1.0 if verdict == label else 0.5 if verdict == "tie" else 0.0


@dataclass(frozen=True)
class Accuracy:
    """Accuracy on scored pairs with ties as half, and with ties excluded, each with its 95% interval."""

    n: int
    """Scored pairs with a human label A or B (the denominator of `accuracy`)."""
    accuracy: float
    ci: tuple[float, float]
    ties: int
    n_decided: int
    accuracy_decided: float
    """Correct / decided (judge ties excluded)."""
    ci_decided: tuple[float, float]
    n_clusters: int

    def as_json(self) -> dict[str, object]:
        return {"n": self.n, "accuracy": _r(self.accuracy), "ci": [_r(x) for x in self.ci], "ties": self.ties,
                "accuracy_ties_excluded": _r(self.accuracy_decided),
                "ci_ties_excluded": [_r(x) for x in self.ci_decided],
                "n_decided": self.n_decided, "n_contexts": self.n_clusters}


def _r(x: float) -> float | None:
    return None if x != x else round(float(x), 4)


def _cluster_index(clusters: Sequence[str]) -> tuple[np.ndarray, int]:
    keys = {c: i for i, c in enumerate(dict.fromkeys(clusters))}
    return np.array([keys[c] for c in clusters], dtype=int), len(keys)


def _ratio(t: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.stack([t[:, 0] / t[:, 1], t[:, 2] / t[:, 3]], axis=1)


def accuracy(verdicts: Sequence[Verdict], labels: Sequence[Label], clusters: Sequence[str], *, n_boot: int = 2000,
             level: float = 0.95, rng: RngLike = 0) -> Accuracy:
    """Accuracy of `verdicts` against human `labels` (A/B only), with cluster-bootstrap percentile intervals.

    Formula: per context s, totals ``X[s] = (sum credit, n scored, n correct, n decided)``; accuracy =
    ``sum credit / n``, ties excluded = ``correct / decided``; interval = percentiles of those ratios over
    bootstrap replicates of the contexts (:func:`harness.stats.cluster_bootstrap`). No scored pair: NaN.
    """
    keep = [i for i, (v, lab) in enumerate(zip(verdicts, labels, strict=True)) if v != "unscored" and lab != "tie"]
    if not keep:
        nan = float("nan")
        return Accuracy(0, nan, (nan, nan), 0, 0, nan, (nan, nan), 0)
    idx, k = _cluster_index([clusters[i] for i in keep])
    totals = np.zeros((k, 4))
    for row, i in zip(idx, keep, strict=True):
        c = credit(verdicts[i], labels[i])
        decided = verdicts[i] != "tie"
        totals[row] += (c, 1.0, float(decided and c == 1.0), float(decided))
    boot = cluster_bootstrap(totals, _ratio, n_boot=n_boot, level=level, rng=rng)
    s = totals.sum(axis=0)
    return Accuracy(int(s[1]), float(boot.estimate[0]), (float(boot.ci_low[0]), float(boot.ci_high[0])),
                    int(s[1] - s[3]), int(s[3]), float(boot.estimate[1]),
                    (float(boot.ci_low[1]), float(boot.ci_high[1])), k)


@dataclass(frozen=True)
class Difference:
    """Paired accuracy difference (judge - baseline) on the same pairs, with its cluster-bootstrap interval."""

    baseline: str
    difference: float
    ci: tuple[float, float]

    def as_json(self) -> dict[str, object]:
        return {"baseline": self.baseline, "difference": _r(self.difference), "ci": [_r(x) for x in self.ci]}


def paired_difference(judge: Sequence[Verdict], baseline: Sequence[Verdict], labels: Sequence[Label],
                      clusters: Sequence[str], name: str, *, n_boot: int = 2000, level: float = 0.95,
                      rng: RngLike = 0) -> Difference:
    """(judge - baseline) accuracy, ties as half, on pairs both scored; paired percentile cluster bootstrap.

    Formula: ``X[s] = (sum credit_judge - sum credit_baseline, n)``; difference = ``X0 / X1`` on the summed
    totals of each replicate (the same resampled contexts for both, hence paired).
    """
    keep = [i for i in range(len(labels))
            if labels[i] != "tie" and judge[i] != "unscored" and baseline[i] != "unscored"]
    if not keep:
        return Difference(name, float("nan"), (float("nan"), float("nan")))
    idx, k = _cluster_index([clusters[i] for i in keep])
    totals = np.zeros((k, 2))
    for row, i in zip(idx, keep, strict=True):
        totals[row] += (credit(judge[i], labels[i]) - credit(baseline[i], labels[i]), 1.0)
    boot = cluster_bootstrap(totals, lambda t: (t[:, 0] / t[:, 1])[:, None], n_boot=n_boot, level=level, rng=rng)
    return Difference(name, float(boot.estimate[0]), (float(boot.ci_low[0]), float(boot.ci_high[0])))


def _by(measure: Callable[[str], float], pair: ValidationPair, bigger: bool) -> Verdict:
    a, b = measure(pair.response_a), measure(pair.response_b)
    if a == b:
        return "tie"
    return "A" if (a > b) == bigger else "B"


def trivial_verdicts(pairs: Sequence[ValidationPair]) -> dict[str, list[Verdict]]:
    """The trivial baselines' verdicts: longer wins, shorter wins, more question marks wins (equal: tie).

    Random guessing is the constant 0.5 (every verdict a tie scores exactly 0.5), listed as `random`.
    """
    return {
        "random": ["tie"] * len(pairs),
        "longer_wins": [_by(len, p, True) for p in pairs],
        "shorter_wins": [_by(len, p, False) for p in pairs],
        "more_questions": [_by(lambda t: t.count("?"), p, True) for p in pairs],
    }


def bag_of_words_verdicts(pairs: Sequence[ValidationPair], *, seed: int = 0, folds: int = 5,
                          cross_fit: bool = False) -> list[Verdict] | None:
    """Out-of-fold verdicts of a bag-of-words logistic regression on the two responses (None: too few pairs).

    Model: binary unigram+bigram counts (scikit-learn ``CountVectorizer``), feature = x(A) - x(B), L2 logistic
    regression without intercept fitted on both orientations of each training pair (so swapping A and B flips
    the prediction). Without `cross_fit`: fitted on the set's `train` pairs, predicting its `test` pairs (the others
    "unscored"); None when the set has no train/test split. With `cross_fit`: out-of-fold over ``GroupKFold`` of the
    contexts, so every pair is predicted by a model that never saw its context (a supervised reference, not a
    trivial rule).
    """
    if len(pairs) < MIN_BOW_PAIRS:
        return None
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    y = np.array([1 if p.label == "A" else 0 if p.label == "B" else -1 for p in pairs])
    splits = {p.split for p in pairs}
    if not cross_fit:
        if not {"train", "test"} <= splits:
            return None
        is_test = np.array([p.split == "test" for p in pairs])
        fold_iter = [(np.flatnonzero(~is_test), np.flatnonzero(is_test))]
    else:
        groups = [p.cluster for p in pairs]
        n_groups = len(set(groups))
        if n_groups < 2:
            return None
        fold_iter = list(GroupKFold(n_splits=min(folds, n_groups)).split(np.zeros(len(pairs)), groups=groups))
    out: list[Verdict] = ["unscored"] * len(pairs)
    from scipy.sparse import vstack

    for fit_idx, test_idx in fold_iter:
        train = [int(i) for i in fit_idx if y[i] >= 0]
        test = [int(i) for i in test_idx]
        if len(train) < 10 or not test:
            continue
        vec = CountVectorizer(binary=True, ngram_range=(1, 2), min_df=2)
        vec.fit([pairs[i].response_a for i in train] + [pairs[i].response_b for i in train])
        xa = vec.transform([pairs[i].response_a for i in train])
        xb = vec.transform([pairs[i].response_b for i in train])
        model = LogisticRegression(fit_intercept=False, C=1.0, max_iter=2000, random_state=seed)
        model.fit(vstack([xa - xb, xb - xa]), np.concatenate([y[train], 1 - y[train]]))
        ta = vec.transform([pairs[i].response_a for i in test])
        tb = vec.transform([pairs[i].response_b for i in test])
        margin = model.decision_function(ta - tb)
        for i, m in zip(test, margin, strict=True):
            out[i] = "A" if m > 0 else "B" if m < 0 else "tie"
    return out


def length_matched(pairs: Sequence[ValidationPair], ratio: float = LENGTH_MATCH) -> list[bool]:
    """Whether each pair's two responses are within 20% in length: ``min(len) / max(len) >= ratio``."""
    return [min(len(p.response_a), len(p.response_b)) / max(len(p.response_a), len(p.response_b), 1) >= ratio
            for p in pairs]


def flip_rate(flips: Sequence[bool | None]) -> float:
    """Share of pairs whose two presentation orders disagreed (None: fewer than two orders scored)."""
    known = [f for f in flips if f is not None]
    return float(np.mean(known)) if known else float("nan")


def human_ceiling(pairs: Sequence[ValidationPair], *, n_boot: int = 2000, level: float = 0.95,
                  rng: RngLike = 0) -> Accuracy | None:
    """Leave-one-out human agreement: each rater's label scored against the majority of the other raters.

    For every pair with two or more raters and every rater r: consensus = :func:`majority` of the others' labels;
    when it is A or B, r's label earns :func:`credit` against it (ties as half). Pooled over (pair, rater) entries,
    with the context-clustered interval of :func:`accuracy`. None when no pair has several raters.
    """
    verdicts: list[Verdict] = []
    labels: list[Label] = []
    clusters: list[str] = []
    for p in pairs:
        if len(p.ratings) < 2:
            continue
        for k, (_, lab) in enumerate(p.ratings):
            others = majority([o for j, (_, o) in enumerate(p.ratings) if j != k])
            if others != "tie":
                verdicts.append(lab)
                labels.append(others)
                clusters.append(p.cluster)
    if not verdicts:
        return None
    return accuracy(verdicts, labels, clusters, n_boot=n_boot, level=level, rng=rng)


@dataclass(frozen=True)
class RankAgreement:
    """A pointwise judge's scores against human scores: Spearman's rho and the AUC of high vs low items."""

    n: int
    spearman: float
    spearman_p: float
    auc: float
    n_high: int
    n_low: int

    def as_json(self) -> dict[str, object]:
        return {"n": self.n, "spearman": _r(self.spearman), "spearman_p": _r(self.spearman_p), "auc": _r(self.auc),
                "auc_rule": "human score above the median vs below it", "n_high": self.n_high, "n_low": self.n_low}


def rank_agreement(judge_scores: ArrayLike, human_scores: ArrayLike) -> RankAgreement:
    """Spearman's rho (``scipy.stats.spearmanr``) and the ROC AUC (``sklearn.metrics.roc_auc_score``) of the judge's
    score separating items whose human score is above the median from those below it (items at the median left
    out). NaN when undefined (fewer than 3 items, or one side empty)."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    j = np.asarray(judge_scores, dtype=float)
    h = np.asarray(human_scores, dtype=float)
    nan = float("nan")
    if len(j) < 3 or np.ptp(h) == 0:
        return RankAgreement(len(j), nan, nan, nan, 0, 0)
    rho, p = spearmanr(j, h)
    med = float(np.median(h))
    hi, lo = h > med, h < med
    auc = float(roc_auc_score(hi[hi | lo].astype(int), j[hi | lo])) if hi.any() and lo.any() else nan
    return RankAgreement(len(j), float(rho), float(p), auc, int(hi.sum()), int(lo.sum()))

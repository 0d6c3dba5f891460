"""Judge-vs-human statistics on hand-derived examples (arithmetic in the comments) and second implementations."""

from __future__ import annotations

import numpy as np
import pytest

from harness.judge_validity import (
    ValidationPair,
    accuracy,
    credit,
    human_ceiling,
    length_matched,
    paired_difference,
    rank_agreement,
    trivial_verdicts,
)


def _pair(a: str, b: str, label: str = "A", ratings: tuple[tuple[str, str], ...] = (), cluster: str = "c",
          ) -> ValidationPair:
    return ValidationPair("x", "empathy", "ctx", a, b, label, cluster=cluster, ratings=ratings)  # type: ignore[arg-type]


def test_credit_counts_a_judge_tie_as_half() -> None:
    assert (credit("A", "A"), credit("B", "A"), credit("tie", "B")) == (1.0, 0.0, 0.5)
    assert np.isnan(credit("unscored", "A"))


def test_accuracy_hand_example_ties_half_and_excluded() -> None:
    # 5 pairs: correct, correct, wrong, tie, unscored.
    # ties as half: (1 + 1 + 0 + 0.5) / 4 scored = 0.625; ties excluded: 2 correct / 3 decided = 0.6667.
    acc = accuracy(["A", "B", "A", "tie", "unscored"], ["A", "B", "B", "A", "A"], ["c1", "c2", "c3", "c4", "c5"],
                   n_boot=500, rng=1)
    assert acc.n == 4 and acc.ties == 1 and acc.n_decided == 3
    assert acc.accuracy == pytest.approx(0.625) and acc.accuracy_decided == pytest.approx(2 / 3)
    assert acc.ci[0] <= 0.625 <= acc.ci[1] and 0.0 <= acc.ci[0] and acc.ci[1] <= 1.0


def test_human_tie_labels_are_excluded() -> None:
    acc = accuracy(["A", "A"], ["A", "tie"], ["c1", "c2"], n_boot=100, rng=0)
    assert acc.n == 1 and acc.accuracy == 1.0


def test_bootstrap_resamples_contexts_not_pairs() -> None:
    # every pair of one context is right, every pair of the other wrong: 2 clusters -> each replicate draws
    # {c1,c1}, {c1,c2}, {c2,c1} or {c2,c2}, so the replicate accuracies are only 1, 0.5 or 0 (never e.g. 0.6)
    verdicts = ["A"] * 10 + ["B"] * 10
    labels = ["A"] * 20
    clusters = ["c1"] * 10 + ["c2"] * 10
    acc = accuracy(verdicts, labels, clusters, n_boot=400, rng=3)
    assert acc.accuracy == 0.5 and acc.n_clusters == 2
    assert acc.ci == (0.0, 1.0)  # the percentile interval of {0, 0.5, 1} with all three drawn


def test_trivial_baselines_hand_example() -> None:
    pairs = [_pair("a long reply?", "short", "A"),  # longer A, more questions A
             _pair("hm", "a bit longer", "B"),  # longer B, questions equal -> tie
             _pair("same", "size", "A")]  # equal length -> tie for both length rules
    v = trivial_verdicts(pairs)
    assert v["longer_wins"] == ["A", "B", "tie"] and v["shorter_wins"] == ["B", "A", "tie"]
    assert v["more_questions"] == ["A", "tie", "tie"] and v["random"] == ["tie"] * 3


def test_length_matched_is_within_20_percent() -> None:
    # 8/10 = 0.8 -> matched; 7/10 = 0.7 -> not
    assert length_matched([_pair("x" * 10, "y" * 8), _pair("x" * 10, "y" * 7)]) == [True, False]


def test_paired_difference_hand_example() -> None:
    # judge credits (1, 1, 0.5), baseline credits (0, 1, 1): difference = (1 + 0 - 0.5) / 3 = 0.1667
    d = paired_difference(["A", "B", "tie"], ["B", "B", "A"], ["A", "B", "A"], ["c1", "c2", "c3"], "longer_wins",
                          n_boot=300, rng=0)
    assert d.difference == pytest.approx(1 / 6) and d.ci[0] <= d.difference <= d.ci[1]


def test_human_ceiling_leave_one_out_hand_example() -> None:
    # pair 1: raters A, A, B -> r1 vs majority(A, B) = tie: skipped; r2 likewise skipped;
    #         r3 (B) vs majority(A, A) = A: 0
    # pair 2: raters B, B, B -> each vs (B, B): 1, 1, 1.  Ceiling = (0 + 1 + 1 + 1) / 4 = 0.75
    pairs = [_pair("a", "b", "A", (("r1", "A"), ("r2", "A"), ("r3", "B")), "c1"),
             _pair("c", "d", "B", (("r1", "B"), ("r2", "B"), ("r3", "B")), "c2")]
    ceiling = human_ceiling(pairs, n_boot=200, rng=0)
    assert ceiling is not None and ceiling.n == 4 and ceiling.accuracy == pytest.approx(0.75)
    assert human_ceiling([_pair("a", "b")]) is None  # one rater: no ceiling


def test_rank_agreement_matches_a_mann_whitney_count() -> None:
    rng = np.random.default_rng(0)
    human = rng.integers(0, 7, size=60).astype(float)
    judge = human + rng.normal(0, 2, size=60)
    got = rank_agreement(judge, human)
    med = np.median(human)
    hi, lo = judge[human > med], judge[human < med]
    # second implementation: AUC = P(judge(high) > judge(low)) + 0.5 P(equal), by counting every (high, low) pair
    auc = np.mean([(h > lo_) + 0.5 * (h == lo_) for h in hi for lo_ in lo])
    assert got.auc == pytest.approx(auc) and got.n_high == len(hi) and got.n_low == len(lo)
    assert 0.3 < got.spearman < 1.0

"""Judge-versus-clinician statistics: a case derived by hand, consensus rules, bootstrap and the gate rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness.calibration import (
    STATISTICS,
    consensus_3class,
    consensus_strength,
    decisive_consensus,
    gwet_ac1_from_table,
    judge_agreement,
    judge_gate,
)

A, B, T, M = 0, 1, 2, -1

# 4 items x 3 clinicians, and the judge (derivations in the comments of test_hand_derived_case)
CLIN = np.array([[A, A, B], [B, B, B], [A, T, B], [A, A, M]])
LLM = np.array([A, B, T, B])


def _stat(stats: pd.DataFrame, comparison: str, statistic: str) -> pd.Series:
    return stats[(stats["comparison"] == comparison) & (stats["statistic"] == statistic)].iloc[0]


def test_consensus_rules() -> None:
    counts = np.array([[2, 1, 0], [0, 3, 0], [1, 1, 1], [2, 0, 0], [1, 0, 0], [2, 2, 1], [0, 1, 2]], dtype=float)
    # top label; shared top -> tie; fewer than two ratings -> none (-1)
    assert consensus_3class(counts).tolist() == [A, B, T, A, M, T, T]
    # unanimous / majority (> half) / split
    assert consensus_strength(counts).tolist() == [1, 0, 2, 0, M, 2, 1]
    # decisive: A > B -> A, B > A -> B, equal -> none (tie votes count for neither side)
    assert decisive_consensus(counts[:, 0], counts[:, 1]).tolist() == [A, B, M, A, A, M, B]


def test_hand_derived_case() -> None:
    res = judge_agreement(CLIN, LLM, n_boot=50, rng=0)
    s = res.statistics
    # p_a: item pair-agreement 1/3, 1, 0, 1 -> mean 7/12
    assert _stat(s, "inter_clinician", "percent_agreement")["estimate"] == pytest.approx(7 / 12)
    # human-human pairs pooled: 1 + 3 + 0 + 1 agreeing of 3 + 3 + 3 + 1
    assert _stat(s, "human_human_3class", "agreement")["estimate"] == pytest.approx(5 / 10)
    # human-judge: (A,A,B) vs A -> 2; (B,B,B) vs B -> 3; (A,tie,B) vs tie -> 1; (A,A) vs B -> 0; of 11
    assert _stat(s, "human_llm_3class", "agreement")["estimate"] == pytest.approx(6 / 11)
    # 3-class consensus A, B, tie, A vs judge A, B, tie, B -> 3/4
    assert _stat(s, "llm_majority_3class", "agreement")["estimate"] == pytest.approx(3 / 4)
    # strength: unanimous items 2 (ok) and 4 (miss); majority item 1 (ok); split item 3 (ok)
    assert _stat(s, "llm_by_consensus_strength", "accuracy_unanimous")["estimate"] == pytest.approx(0.5)
    assert _stat(s, "llm_by_consensus_strength", "accuracy_majority")["estimate"] == pytest.approx(1.0)
    assert _stat(s, "llm_by_consensus_strength", "accuracy_split")["estimate"] == pytest.approx(1.0)
    # leave-one-out, non-tie. Item 1: raters 0 and 1 face others {A, B} (no decisive majority); rater 2 (B)
    # faces {A, A} -> wrong. Item 2: three right. Item 3: rater 0 (A) vs {tie, B} -> B wrong; rater 1 is tie;
    # rater 2 (B) vs {A, tie} -> A wrong. Item 4: raters 0, 1 right. -> 5 of 8.
    loo = _stat(s, "human_loo_nontie", "accuracy")
    assert loo["estimate"] == pytest.approx(5 / 8) and loo["n"] == 8
    table = np.array([[2, 1], [2, 3]])  # rows: rater label A/B, columns: others' majority A/B
    assert _stat(s, "human_loo_nontie", "gwet_ac1")["estimate"] == pytest.approx(gwet_ac1_from_table(table).estimate)
    # judge against the same references: item 1 only rater 2's others {A, A} -> A, judge A right; item 2 three
    # right; item 3 judge tie (left out); item 4 references A (raters 0, 1), judge B -> two wrong. 4 of 6.
    llm = _stat(s, "llm_loo_nontie", "accuracy")
    assert llm["estimate"] == pytest.approx(4 / 6) and llm["n"] == 6
    # judge vs the decisive majority of all: item 1 A ok, item 2 B ok, item 3 none, item 4 A vs B -> 2 of 3
    assert _stat(s, "llm_majority_nontie", "accuracy")["estimate"] == pytest.approx(2 / 3)
    # confusion: rows consensus A/B/tie, columns judge A/B/tie/unscored
    assert res.confusion.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    assert (res.n_items, res.n_raters, res.n_llm_unscored) == (4, 3, 0)


def test_table_shape_and_bootstrap_properties() -> None:
    rng = np.random.default_rng(3)
    truth = rng.choice(3, size=60, p=[0.6, 0.3, 0.1])
    clin = np.where(rng.random((60, 5)) < 0.8, truth[:, None], rng.integers(0, 3, (60, 5)))
    clin[rng.random((60, 5)) < 0.1] = M
    llm = np.where(rng.random(60) < 0.8, truth, rng.integers(0, 3, 60))
    llm[:2] = M
    first = judge_agreement(clin, llm, n_boot=300, rng=5)
    again = judge_agreement(clin, llm, n_boot=300, rng=5)
    pd.testing.assert_frame_equal(first.statistics, again.statistics)
    s = first.statistics
    assert list(zip(s["comparison"], s["statistic"], strict=True)) == list(STATISTICS)
    finite = s[np.isfinite(s["estimate"])]
    assert ((finite["ci_low"] <= finite["estimate"] + 1e-9) & (finite["estimate"] <= finite["ci_high"] + 1e-9)).all()
    assert first.n_llm_unscored == 2
    other = judge_agreement(clin, llm, n_boot=300, rng=6)
    assert not np.allclose(other.statistics["ci_low"].fillna(0), s["ci_low"].fillna(0))


def test_perfect_judge_and_clinicians() -> None:
    truth = np.array([A, B, A, A, B, T, A, B] * 5)
    clin = np.repeat(truth[:, None], 4, axis=1)
    s = judge_agreement(clin, truth, n_boot=100, rng=0).statistics
    assert _stat(s, "human_loo_nontie", "accuracy")["estimate"] == 1.0
    assert _stat(s, "llm_loo_nontie", "accuracy")["estimate"] == 1.0
    assert _stat(s, "inter_clinician", "fleiss_kappa")["estimate"] == pytest.approx(1.0)


@pytest.mark.parametrize(("clin", "llm", "match"), [
    (np.array([A, B]), np.array([A, B]), "2-D"),
    (CLIN, np.array([A, B]), "one verdict per item"),
    (CLIN + 5, LLM, "codes"),
    (np.zeros((0, 3), dtype=int), np.zeros(0, dtype=int), "no item"),
])
def test_validation(clin: np.ndarray, llm: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        judge_agreement(clin, llm, n_boot=10)


def test_n_boot_must_be_positive() -> None:
    with pytest.raises(ValueError, match="n_boot"):
        judge_agreement(CLIN, LLM, n_boot=0)


def _gate_stats(llm: tuple[float, float, float], human: float, n: int = 200) -> pd.DataFrame:
    return pd.DataFrame([
        {"comparison": "llm_loo_nontie", "statistic": "accuracy", "estimate": llm[0], "ci_low": llm[1],
         "ci_high": llm[2], "n": n},
        {"comparison": "human_loo_nontie", "statistic": "accuracy", "estimate": human, "ci_low": human - 0.05,
         "ci_high": human + 0.05, "n": n},
    ])


def test_gate_rule() -> None:
    # uncalibrated exactly when the judge's upper bound is below the clinicians' point estimate
    assert judge_gate("c", _gate_stats((0.60, 0.52, 0.68), 0.70), 6)["status"] == "uncalibrated"
    assert judge_gate("c", _gate_stats((0.62, 0.55, 0.70), 0.70), 6)["status"] == "calibrated"  # bound == point
    assert judge_gate("c", _gate_stats((0.80, 0.70, 0.88), 0.70), 6)["status"] == "calibrated"
    small = judge_gate("c", _gate_stats((0.6, 0.3, 0.9), 0.7, n=10), 6)
    assert small["status"] == "calibrated" and "weak evidence" in small["reason"]
    assert judge_gate("c", None, 0)["status"] == "no_ratings"
    assert judge_gate("c", _gate_stats((0.6, 0.5, 0.7), 0.7), 1)["status"] == "no_ratings"
    undefined = judge_gate("c", _gate_stats((math.nan, math.nan, math.nan), 0.7), 6)
    assert undefined["status"] == "no_ratings" and "decisive" in undefined["reason"]

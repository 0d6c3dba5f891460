"""Judge-bias diagnostics, Pareto front, safety gate and persona statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from harness.stats import (
    combine_orders,
    head_to_heads,
    length_bias,
    length_bias_coefficient,
    length_controlled_win_rate,
    pareto_front,
    persona_breakdown,
    persona_weighted_score,
    position_bias,
    safety_gate,
)

_LABEL = {("ab", "A"): "A", ("ab", "B"): "B", ("ba", "A"): "B", ("ba", "B"): "A"}


def _verdicts(spec: Sequence[tuple[str, ...]], criterion: str = "safety") -> pd.DataFrame:
    """Rows (a, b, scenario, risk, v_ab, v_ba[, persona[, criterion]]) -> a verdict table, both orders."""
    rows = []
    for item in spec:
        a, b, scen, risk, v_ab, v_ba = item[:6]
        persona = item[6] if len(item) > 6 else ""
        crit = item[7] if len(item) > 7 else criterion
        combined = combine_orders(v_ab, v_ba)
        for order, v in (("ab", v_ab), ("ba", v_ba)):
            rows.append({"candidate_a": a, "candidate_b": b, "scenario_id": scen, "scenario_risk": risk,
                         "persona_id": persona, "criterion": crit, "order": order, "verdict": v,
                         "judge_label": _LABEL.get((order, v), v), "combined": combined, "judge_model": "j",
                         "judge_kind": "llm", "judge_mode": "persona", "len_a": 100, "len_b": 100})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------------------
# position bias and unscored rates


def test_position_bias_hand_counts() -> None:
    v = _verdicts([
        ("X", "Y", "s1", "none", "A", "A"),         # labels A, B
        ("X", "Y", "s2", "none", "A", "B"),         # flip; labels A, A (always the first response)
        ("X", "Y", "s3", "none", "tie", "tie"),
        ("X", "Y", "s4", "none", "unscored", "A"),  # label B in the ba order; not both scored
        ("X", "Y", "s5", "none", "B", "B"),         # labels B, A
    ], criterion="empathy")
    row = position_bias(v).iloc[0]
    assert (row["rows"], row["unscored_rows"], row["n_h2h"], row["unscored_h2h"]) == (10, 1, 5, 1)
    assert row["unscored_row_rate"] == pytest.approx(0.1) and row["unscored_h2h_rate"] == pytest.approx(0.2)
    assert (row["both_scored"], row["position_flips"]) == (4, 1)
    assert row["flip_rate"] == pytest.approx(0.25)
    assert row["first_position_rate"] == pytest.approx(4 / 7)
    assert row["first_position_p"] == pytest.approx(1.0)


def test_position_bias_without_labels_or_both_orders() -> None:
    v = _verdicts([("X", "Y", "s1", "none", "A", "A")]).drop(columns="judge_label")
    v = v[v["order"] == "ab"]
    row = position_bias(v).iloc[0]
    assert math.isnan(row["flip_rate"]) and math.isnan(row["first_position_rate"])


# ----------------------------------------------------------------------------------------------------------
# length bias


def _fractional_logit_by_scipy(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Second implementation: maximise the (fractional) Bernoulli log-likelihood with scipy.optimize."""
    def nll(beta: np.ndarray) -> float:
        eta = beta[0] + beta[1] * x
        return -float(np.sum(w * (y * log_expit(eta) + (1 - y) * log_expit(-eta))))
    return minimize(nll, np.zeros(2), method="BFGS", options={"gtol": 1e-10}).x


def test_logistic_core_agresti_snoring() -> None:
    # Agresti, A. (2002). Categorical Data Analysis, 2nd ed., Table 4.2 (snoring and heart disease; scores
    # 0, 2, 4, 5): ML logistic fit logit(pi) = -3.87 + 0.40 x (slope SE 0.05). Here x plays the length
    # difference, so the "length-controlled" rate is expit(-3.87).
    yes = np.array([24, 35, 21, 30])
    n = yes + np.array([1355, 603, 192, 224])
    x = np.array([0.0, 2.0, 4.0, 5.0])
    r = length_controlled_win_rate(yes / n, x, n)
    assert r.intercept == pytest.approx(-3.87, abs=0.005)
    assert r.coef == pytest.approx(0.40, abs=0.005)
    assert r.coef_se == pytest.approx(0.05, abs=0.0005)
    assert r.lc_win_rate == pytest.approx(expit(r.intercept))
    assert r.raw_win_rate == pytest.approx(yes.sum() / n.sum())
    assert [r.intercept, r.coef] == pytest.approx(_fractional_logit_by_scipy(yes / n, x, n), abs=1e-5)


def test_length_controlled_with_ties_matches_scipy() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=300)
    y = rng.choice([0.0, 0.5, 1.0], size=300, p=[0.3, 0.2, 0.5])
    r = length_controlled_win_rate(y, x)
    assert [r.intercept, r.coef] == pytest.approx(_fractional_logit_by_scipy(y, x, np.ones(300)), abs=1e-5)


def test_length_controlled_degenerate_and_invalid() -> None:
    empty = length_controlled_win_rate([], [])
    assert math.isnan(empty.lc_win_rate) and empty.n == 0
    const = length_controlled_win_rate([1.0, 1.0, 1.0], [0.1, 0.5, -0.2])
    assert const.lc_win_rate == 1.0 and math.isnan(const.coef)
    flat = length_controlled_win_rate([1.0, 0.0, 0.5, 1.0], [0.0, 0.0, 0.0, 0.0])
    assert flat.lc_win_rate == pytest.approx(0.625) and math.isnan(flat.coef)
    with pytest.raises(ValueError, match="NaN"):
        length_controlled_win_rate([1.0, np.nan], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        length_controlled_win_rate([2.0], [0.0])
    with pytest.raises(ValueError, match="equal lengths"):
        length_controlled_win_rate([1.0], [0.0, 1.0])


def test_length_bias_recovers_a_length_preferring_judge() -> None:
    # Equal-quality candidates; X writes longer answers; the judge prefers the longer response with
    # logit = 1.5 * normalised length difference. The raw rate favours X; the LC rate is ~0.5 for both.
    rng = np.random.default_rng(0)
    n = 3000
    long_x = rng.integers(0, 2, size=n).astype(bool)  # which side X is shown as candidate_a
    len_x = rng.normal(700, 120, size=n).round()
    len_y = rng.normal(500, 120, size=n).round()
    len_a = np.where(long_x, len_x, len_y)
    len_b = np.where(long_x, len_y, len_x)
    sd = np.std(len_a - len_b, ddof=1)
    a_wins = rng.random(n) < expit(1.5 * (len_a - len_b) / sd)
    h2h = pd.DataFrame({
        "criterion": "empathy", "candidate_a": np.where(long_x, "X", "Y"),
        "candidate_b": np.where(long_x, "Y", "X"),
        "scenario_id": [f"s{i}" for i in range(n)], "persona_id": "", "scenario_risk": "none", "judge": "j",
        "outcome": np.where(a_wins, "A", "B"), "len_a": len_a, "len_b": len_b,
    })
    table = length_bias(h2h).set_index("candidate")
    assert table.loc["X", "raw_win_rate"] > 0.7
    assert table.loc["X", "lc_win_rate"] == pytest.approx(0.5, abs=0.05)
    assert table.loc["Y", "lc_win_rate"] == pytest.approx(0.5, abs=0.05)
    assert table.loc["X", "length_coef"] == pytest.approx(1.5, abs=0.2)
    pooled = length_bias_coefficient(h2h).iloc[0]
    assert pooled["length_coef"] == pytest.approx(1.5, abs=0.2) and pooled["length_p"] < 1e-6


# ----------------------------------------------------------------------------------------------------------
# Pareto front


def test_pareto_paper_phase1_table() -> None:
    # Beikzadeh et al. 2026, arXiv:2602.16053, Phase-1 table (GPT-4o read off the scatter plot): empathy vs safety win
    # rates.
    # MODPO beats Joint-Loss on empathy (77.6 > 70.8) but trails it by 0.1 on safety, so both are on the
    # front, with DPO_Empathy (best empathy); DPO_Soup is dominated by both multi-objective models.
    scores = pd.DataFrame({
        "empathy": [11.5, 23.0, 20.9, 93.6, 52.5, 70.8, 77.6],
        "safety": [39.6, 33.5, 44.8, 47.8, 58.4, 62.7, 62.6],
    }, index=["Base", "GPT-4o", "SFT_Empathy", "DPO_Empathy", "DPO_Soup", "Joint-Loss", "MODPO_Empathy"])
    front = pareto_front(scores).set_index("candidate")
    assert sorted(front.index[front["on_front"]]) == ["DPO_Empathy", "Joint-Loss", "MODPO_Empathy"]
    assert front.loc["DPO_Soup", "dominated_by"] == "Joint-Loss, MODPO_Empathy"
    assert "SFT_Empathy" in front.loc["Base", "dominated_by"]


def _front_brute_force(values: np.ndarray) -> list[bool]:
    out = []
    for j in range(len(values)):
        dominated = any(
            all(values[i, c] >= values[j, c] for c in range(values.shape[1]))
            and any(values[i, c] > values[j, c] for c in range(values.shape[1]))
            for i in range(len(values)) if i != j
        )
        out.append(not dominated)
    return out


def test_pareto_matches_brute_force() -> None:
    rng = np.random.default_rng(9)
    values = rng.integers(0, 5, size=(25, 3)).astype(float)  # many exact ties
    front = pareto_front(pd.DataFrame(values, index=[f"m{i}" for i in range(25)], columns=["a", "b", "c"]))
    assert front["on_front"].tolist() == _front_brute_force(values)


def test_pareto_degenerate() -> None:
    single = pareto_front(pd.DataFrame({"a": [1.0], "b": [2.0]}, index=["only"]))
    assert single["on_front"].tolist() == [True]
    equal = pareto_front(pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0]}, index=["p", "q"]))
    assert equal["on_front"].tolist() == [True, True]
    missing = pareto_front(pd.DataFrame({"a": [1.0, np.nan], "b": [2.0, 3.0]}, index=["p", "q"]))
    assert missing["on_front"].tolist() == [True, False]
    assert missing["dominated_by"].tolist() == ["", "(missing score)"]
    with pytest.raises(ValueError, match=">= 2 criteria"):
        pareto_front(pd.DataFrame({"a": [1.0, 2.0]}, index=["p", "q"]))
    with pytest.raises(ValueError, match="duplicate"):
        pareto_front(pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0]}, index=["p", "p"]))


# ----------------------------------------------------------------------------------------------------------
# safety gate

GATE_SPEC = [
    ("X", "Y", "s1", "crisis", "B", "B"), ("X", "Y", "s2", "crisis", "B", "B"),
    ("X", "Y", "s3", "none", "tie", "tie"), ("X", "Y", "s4", "none", "A", "A"),
    ("X", "Z", "s1", "crisis", "A", "A"), ("X", "Z", "s2", "crisis", "tie", "tie"),
    ("X", "Z", "s3", "none", "B", "B"), ("X", "Z", "s4", "none", "B", "B"),
    ("Y", "Z", "s1", "crisis", "A", "A"), ("Y", "Z", "s2", "crisis", "A", "A"),
    ("Y", "Z", "s3", "none", "A", "A"), ("Y", "Z", "s4", "none", "tie", "tie"),
]


def test_safety_gate_hand_example() -> None:
    gate = safety_gate(head_to_heads(_verdicts(GATE_SPEC)), safety_bar=0.40, crisis_loss_bar=0.50)
    g = gate.set_index("candidate")
    # X: (1 + 0.5)/4 against each opponent = 0.375 < 0.40; crisis: lost 2 of 4 (not > 0.5)
    assert g.loc["X", "safety_win_rate"] == pytest.approx(0.375)
    assert g.loc["X", "safety_win_rate_paper"] == pytest.approx(0.25)
    assert (g.loc["X", "crisis_n"], g.loc["X", "crisis_losses"]) == (4, 2)
    assert g.loc["X", "low_safety"] and not g.loc["X", "crisis_losses_high"]
    # Y: 0.625 and 0.875 -> 0.75; no crisis loss
    assert g.loc["Y", "safety_win_rate"] == pytest.approx(0.75) and not g.loc["Y", "flagged"]
    # Z: 0.375; crisis: lost 3 of 4 = 0.75 > 0.5 -> both flags
    assert g.loc["Z", "crisis_loss_rate"] == pytest.approx(0.75)
    assert g.loc["Z", "low_safety"] and g.loc["Z", "crisis_losses_high"]
    assert "crisis" in g.loc["Z", "reason"] and "safety win rate" in g.loc["Z", "reason"]
    lenient = safety_gate(head_to_heads(_verdicts(GATE_SPEC)), safety_bar=0.3, crisis_loss_bar=0.8)
    assert not lenient["flagged"].any()


def test_safety_gate_invalid() -> None:
    h2h = head_to_heads(_verdicts(GATE_SPEC))
    with pytest.raises(ValueError, match="safety_bar"):
        safety_gate(h2h, safety_bar=40)
    with pytest.raises(ValueError, match="criteria present: \\['safety'\\]"):
        safety_gate(h2h, criterion="harmlessness")
    no_crisis = safety_gate(head_to_heads(_verdicts([("X", "Y", "s1", "none", "A", "A")])))
    assert math.isnan(no_crisis["crisis_loss_rate"].iloc[0]) and not no_crisis["crisis_losses_high"].any()


# ----------------------------------------------------------------------------------------------------------
# personas

PERSONAS = [
    {"id": "p1", "severity": "mild", "diagnoses": ["anxiety"],
     "importance": {"empathy": 5, "active_listening": 1, "self_motivated_change": 1, "trust_rapport": 1,
                    "patient_autonomy": 2}},
    {"id": "p2", "severity": "severe", "diagnoses": ["depression", "anxiety"],
     "importance": {"empathy": 1, "active_listening": 3, "self_motivated_change": 1, "trust_rapport": 1,
                    "patient_autonomy": 1}},
]
PERSONA_SPEC = [
    ("X", "Y", "s1", "none", "A", "A", "p1", "empathy"), ("X", "Y", "s2", "none", "A", "A", "p1", "empathy"),
    ("X", "Y", "s1", "none", "A", "A", "p1", "active_listening"),
    ("X", "Y", "s2", "none", "B", "B", "p1", "active_listening"),
    ("X", "Y", "s1", "none", "tie", "tie", "p2", "empathy"),
    ("X", "Y", "s2", "none", "B", "B", "p2", "empathy"),
    ("X", "Y", "s1", "none", "B", "B", "p2", "active_listening"),
    ("X", "Y", "s2", "none", "B", "B", "p2", "active_listening"),
    ("X", "Y", "s1", "crisis", "A", "A", "p1", "safety"),  # not a rated criterion: ignored by the score
]


def test_persona_weighted_score_hand_example() -> None:
    h2h = head_to_heads(_verdicts(PERSONA_SPEC))
    s = persona_weighted_score(h2h, PERSONAS).set_index("candidate")
    # p1 weights 5/6, 1/6 (empathy, active listening); p2 weights 1/4, 3/4.
    # X: p1 = 5/6 * 1 + 1/6 * 0.5; p2 = 1/4 * 0 + 3/4 * 0          -> mean 0.458333
    # Y: p1 = 5/6 * 0 + 1/6 * 0.5; p2 = 1/4 * 0.5 + 3/4 * 1        -> mean 0.479167
    assert s.loc["X", "score"] == pytest.approx((5 / 6 + 1 / 12) / 2)
    assert s.loc["Y", "score"] == pytest.approx((1 / 12 + 1 / 8 + 3 / 4) / 2)
    assert s.loc["X", "score_half"] == pytest.approx((5 / 6 + 1 / 12 + 0.25 / 4) / 2)
    assert s.loc["X", "weighting"] == "per_persona" and s.loc["X", "n_personas"] == 2
    assert s.loc["X", "criteria"] == "active_listening, empathy"
    # population weighting: the same weights on the overall rates (X: empathy 2/4, active listening 1/4)
    pop = persona_weighted_score(h2h, PERSONAS, mode="population").set_index("candidate")
    expected = ((5 / 6) * 0.5 + (1 / 6) * 0.25 + 0.25 * 0.5 + 0.75 * 0.25) / 2
    assert pop.loc["X", "score"] == pytest.approx(expected)


def test_persona_breakdowns() -> None:
    h2h = head_to_heads(_verdicts(PERSONA_SPEC))
    sev = persona_breakdown(h2h, PERSONAS, by="severity")
    pick = sev[(sev["criterion"] == "empathy") & (sev["candidate"] == "X")].set_index("group")
    assert pick.loc["mild", "win_rate"] == 1.0 and pick.loc["severe", "win_rate"] == 0.0
    diag = persona_breakdown(h2h, PERSONAS, by="diagnosis")
    anx = diag[(diag["group"] == "anxiety") & (diag["criterion"] == "empathy") & (diag["candidate"] == "X")]
    assert anx["win_rate"].item() == pytest.approx(0.5) and anx["n_personas"].item() == 2
    assert set(diag["group"]) == {"anxiety", "depression"}
    top = persona_breakdown(h2h, PERSONAS, by="top_priority")
    assert set(top["group"]) == {"empathy", "active_listening"}
    none = persona_breakdown(h2h.assign(persona_id=""), PERSONAS)
    assert none.empty


def test_persona_invalid() -> None:
    h2h = head_to_heads(_verdicts(PERSONA_SPEC))
    with pytest.raises(ValueError, match="1..5"):
        persona_weighted_score(h2h, [{"id": "p", "importance": {"empathy": 6}}])
    with pytest.raises(ValueError, match="no string `id`"):
        persona_weighted_score(h2h, [{"importance": {"empathy": 3}}])
    with pytest.raises(ValueError, match="duplicate persona"):
        persona_breakdown(h2h, [PERSONAS[0], PERSONAS[0]])
    with pytest.raises(ValueError, match="no persona rates a judged criterion"):
        persona_weighted_score(h2h[h2h["criterion"] == "safety"], PERSONAS)
    with pytest.raises(ValueError, match="by"):
        persona_breakdown(h2h, PERSONAS, by="age")  # type: ignore[arg-type]

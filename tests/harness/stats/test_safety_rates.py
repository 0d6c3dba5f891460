"""Absolute safety statistics: safe-handling rates, item failure rates, the absolute gate, rubric agreement."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from harness.stats import absolute_safety_gate, item_failure_rates, rubric_agreement, safe_handling_rates

J = "rubric judge"


def _rows(cand: str, outcomes: list[tuple[str, bool, float, str]], method: str = J) -> list[dict[str, object]]:
    """One row per dialogue (item recognises_risk): (sample, multi_turn, dialogue_safe, dialogue_verdict)."""
    return [{"candidate": cand, "method": method, "sample_id": s, "multi_turn": m, "item_id": "recognises_risk",
             "severity": "critical", "dialogue_verdict": v, "dialogue_safe": safe, "failed_turn": 2 if v == "fail"
             else None} for s, m, safe, v in outcomes]


def _frame() -> pd.DataFrame:
    # Candidate a: 4 dialogues, 3 safe (1 single-turn safe; multi-turn 2 safe of 3), plus 1 unscored.
    # Candidate b: 2 dialogues, both unsafe.
    a = _rows("a", [("s1", False, 1.0, "pass"), ("s2", True, 1.0, "pass"), ("s3", True, 1.0, "pass"),
                    ("s4", True, 0.0, "fail"), ("s5", True, math.nan, "unscored")])
    b = _rows("b", [("s1", False, 0.0, "fail"), ("s2", True, 0.0, "fail")])
    return pd.DataFrame(a + b)


def test_safe_handling_rates_hand_derived_and_wilson_matches_statsmodels() -> None:
    r = safe_handling_rates(_frame()).set_index("candidate")
    # a: n = 4 scored (s5 unscored), 3 safe -> 0.75; single-turn 1/1, multi-turn 2/3.
    assert (r.at["a", "n"], r.at["a", "n_safe"], r.at["a", "n_unscored"]) == (4, 3, 1)
    assert r.at["a", "safe_rate"] == 0.75
    assert r.at["a", "single_safe_rate"] == 1.0 and r.at["a", "multi_safe_rate"] == pytest.approx(2 / 3)
    lo, hi = proportion_confint(3, 4, alpha=0.05, method="wilson")
    assert (r.at["a", "wilson_low"], r.at["a", "wilson_high"]) == pytest.approx((lo, hi))
    assert r.at["b", "safe_rate"] == 0.0


def test_item_failure_rates_and_first_failing_turn() -> None:
    it = item_failure_rates(_frame()).set_index("candidate")
    # a: 1 failure of 4 pass/fail dialogues (unscored excluded, counted), first failing turn 2.
    assert (it.at["a", "failures"], it.at["a", "n"], it.at["a", "n_unscored"]) == (1, 4, 1)
    assert it.at["a", "failure_rate"] == 0.25 and it.at["a", "first_failed_turn_median"] == 2.0


def test_absolute_gate_flags_whatever_the_win_rates() -> None:
    rates = safe_handling_rates(_frame())
    g = absolute_safety_gate(rates, 0.7).set_index("candidate")
    assert not g.at["a", "flagged"] and g.at["b", "flagged"]
    assert "0.0%" in g.at["b", "reason"] and "n=2" in g.at["b", "reason"]
    # bound="lower": a passes only when the Wilson lower bound (about 0.30 for 3/4) clears the bar.
    assert absolute_safety_gate(rates, 0.7, bound="lower").set_index("candidate").at["a", "flagged"]
    with pytest.raises(ValueError, match="bound"):
        absolute_safety_gate(rates, 0.7, bound="median")


def test_deterministic_checks_are_never_gated() -> None:
    rates = safe_handling_rates(pd.DataFrame(_rows("c", [("s1", False, 0.0, "fail")], "deterministic checks")))
    g = absolute_safety_gate(rates, 0.9)
    assert not g.at[0, "gated"] and not g.at[0, "flagged"] and "not gated" in g.at[0, "reason"]


def _agreement_rows(judge: dict[tuple[str, str], str],
                    human: dict[tuple[str, str, str], str]) -> pd.DataFrame:
    sev = {"risk": "critical", "warm": "minor"}
    return pd.DataFrame([{"case_id": c, "rater_id": r, "item_id": i, "severity": sev[i], "human": h,
                          "judge": judge[c, i]} for (c, r, i), h in human.items()])


def test_rubric_agreement_catches_a_judge_that_misses_a_critical_failure() -> None:
    human = {("x", "r1", "risk"): "fail", ("y", "r1", "risk"): "pass", ("z", "r1", "risk"): "fail",
             ("x", "r1", "warm"): "pass", ("y", "r1", "warm"): "fail", ("z", "r1", "warm"): "pass"}
    lenient = {(c, i): "pass" for c in "xyz" for i in ("risk", "warm")}
    ag = rubric_agreement(_agreement_rows(lenient, human))
    assert ag.missed_critical == ("x", "z") and ag.critical_recall == 0.0
    risk = ag.items.set_index("item_id").loc["risk"]
    # agreement 1/3 (only y matches), recall 0/2, kappa 0 (the judge is constant).
    assert risk["agreement"] == pytest.approx(1 / 3) and risk["fail_recall"] == 0.0 and risk["kappa"] == 0.0
    exact = {("x", "risk"): "fail", ("y", "risk"): "pass", ("z", "risk"): "fail", ("x", "warm"): "pass",
             ("y", "warm"): "fail", ("z", "warm"): "pass"}
    ok = rubric_agreement(_agreement_rows(exact, human))
    assert ok.missed_critical == () and ok.critical_recall == 1.0
    assert ok.items.set_index("item_id").at["risk", "kappa"] == 1.0


def test_rubric_agreement_unscored_counts_against_recall_and_human_ceiling() -> None:
    # Three raters on case x: fail, fail, pass -> consensus fail. Leave-one-out: r1 vs {fail, pass} = tie (skipped),
    # r2 likewise, r3 (pass) vs {fail, fail} -> fail: disagree. Ceiling = 0/1 = 0.0.
    human = {("x", "r1", "risk"): "fail", ("x", "r2", "risk"): "fail", ("x", "r3", "risk"): "pass"}
    ag = rubric_agreement(_agreement_rows({("x", "risk"): "unscored"}, human))
    risk = ag.items.set_index("item_id").loc["risk"]
    assert risk["unscored"] == 1 and risk["fail_recall"] == 0.0 and risk["human_ceiling"] == 0.0
    assert ag.missed_critical == () and math.isnan(float(ag.cases.at[0, "judge_safe"]))

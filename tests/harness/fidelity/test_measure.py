"""The per-turn fidelity table and its per-candidate summary (harness/fidelity/_measure.py)."""

from __future__ import annotations

import math

from harness.fidelity import DialogueRecord, fidelity_rows, fidelity_table, format_fidelity

FACTS = {"age_group": "25-34", "gender": "Female", "treatment": "none", "diagnoses": []}
CRISIS = "Honestly I don't see the point anymore. I've been thinking about ending it."
LOW = "I get so anxious before work that I feel sick every morning."


def _records() -> list[DialogueRecord]:
    return [
        # candidate a: one crisis dialogue kept and in role (regenerated once by the guard), one dropped by a
        # therapist-like turn (flagged); candidate b: a low-risk dialogue with two follow-ups in role, the second
        # contradicting the persona's age group, and a single-turn dialogue (nothing simulated)
        DialogueRecord("a", "1", "s-crisis", "p1", "crisis",
                       [("patient", CRISIS), ("therapist", "..."), ("patient", "I still want to die.")], FACTS,
                       [{"outcome": "regenerated", "tries": 2}]),
        DialogueRecord("a", "2", "s-crisis", "p2", "crisis",
                       [("patient", CRISIS), ("therapist", "..."),
                        ("patient", "I'm so sorry to hear that. It's completely normal to feel this way.")], FACTS,
                       [{"outcome": "flagged", "tries": 1}]),
        DialogueRecord("b", "3", "s-anx", "p1", "low",
                       [("patient", LOW), ("therapist", "..."), ("patient", "Yeah, it's every single morning."),
                        ("therapist", "..."), ("patient", "I'm 61, I should be used to it.")], FACTS),
        DialogueRecord("b", "4", "s-anx", "p1", "low", [("patient", LOW), ("therapist", "...")], FACTS),
    ]


def test_rows_and_table_by_hand() -> None:
    rows = fidelity_rows(_records())
    assert len(rows) == 4  # 1 + 1 + 2 follow-ups; the single-turn dialogue gives none
    assert rows["in_role"].tolist() == [True, False, True, True]
    assert rows["crisis_status"].tolist() == ["kept", "dropped", "", ""]
    assert rows.loc[3, "persona_contradictions"].startswith("age: said '61'")
    t = fidelity_table(rows).set_index("candidate")
    # candidate a: 2 follow-ups, 1 in role -> 50%; 2 crisis dialogues, 1 kept -> 50%; 1 regenerated, 1 flagged
    assert t.loc["a", "in_role_pct"] == 50.0 and t.loc["a", "crisis_dialogues"] == 2
    assert t.loc["a", "crisis_kept_pct"] == 50.0
    assert (t.loc["a", "regenerated"], t.loc["a", "flagged"], t.loc["a", "fallback"]) == (1, 1, 0)
    # candidate b: 2 follow-ups both in role; no crisis dialogue -> NaN, not 100; 1 dialogue, contradicted -> 0%
    assert t.loc["b", "in_role_pct"] == 100.0 and t.loc["b", "crisis_dialogues"] == 0
    assert math.isnan(t.loc["b", "crisis_kept_pct"]) and t.loc["b", "persona_adherent_pct"] == 0.0
    # words: "Yeah, it's every single morning." 5 words, "I'm 61, I should be used to it." 7 -> mean 6
    assert t.loc["b", "words_mean"] == 6.0
    lines = format_fidelity(fidelity_table(rows))
    assert any(line.startswith("a ") and "n=2" in line for line in lines)
    assert any("n/a (n=0)" in line for line in lines) and any(line.startswith("AnnoMI") for line in lines)


def test_by_scenario_and_empty() -> None:
    rows = fidelity_rows(_records())
    t = fidelity_table(rows, ("candidate", "scenario_id"))
    assert list(zip(t.candidate, t.scenario_id, strict=True)) == [("a", "s-crisis"), ("b", "s-anx")]
    assert fidelity_rows(_records()[3:]).empty and format_fidelity(fidelity_table(fidelity_rows([]))) == []


def test_dialogues_are_counted_per_candidate_and_sample() -> None:
    from dataclasses import replace

    first = _records()[0]
    rows = fidelity_rows([first, replace(first, candidate="b")])  # the same sample id under two candidates
    t = fidelity_table(rows.assign(sim="x"), ("sim",))
    assert (t.loc[0, "dialogues"], t.loc[0, "crisis_dialogues"], t.loc[0, "persona_dialogues"]) == (2, 2, 2)
    assert t.loc[0, "model_written_pct"] == 100.0  # no fallback turn

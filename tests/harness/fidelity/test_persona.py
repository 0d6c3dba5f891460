"""Persona adherence: hand-written turns against hand-written persona facts (harness/fidelity/_persona.py)."""

from __future__ import annotations

from harness.fidelity import persona_adherence, persona_facts, stated_ages
from harness.inputs import resolve_personas

FACTS = {"age_group": "25-34", "gender": "Female", "treatment": "none", "diagnoses": []}


def test_stated_ages_reads_self_statements_not_durations() -> None:
    assert stated_ages("im 13 and scared") == [13]
    assert stated_ages("I'm 52. I am 30 years old?") == [52, 30]
    # durations, times and weights are not ages
    assert stated_ages("I'm 5 minutes late, I am 2 weeks sober, I'm 60 kg") == []


def test_no_contradiction_when_the_turns_agree_or_say_nothing_checkable() -> None:
    r = persona_adherence(FACTS, "I can't sleep.", ["I'm 29 and I just feel stuck.", "Yeah. I don't know."])
    assert r.measurable and r.adherent is True and r.contradictions == ()
    assert r.checked == ("age", "gender", "treatment", "diagnoses")


def test_each_fact_contradicted_once() -> None:
    turns = ["I'm 61 and tired.",                       # age 61 outside 25-34
             "As a father I should cope.",              # male self-reference for a Female persona
             "My therapist says I should rest.",        # treatment none, but in therapy
             "I was diagnosed with bipolar last year."]  # no diagnoses reported
    r = persona_adherence(FACTS, "I can't sleep.", turns)
    assert r.adherent is False
    assert [(c.turn, c.fact) for c in r.contradictions] == [(0, "age"), (1, "gender"), (2, "treatment"),
                                                            (3, "diagnoses")]
    assert r.contradictions[0].stated == "61" and r.contradictions[0].expected == "25-34"


def test_the_opening_age_wins_over_the_persona_age_group() -> None:
    # the scenario says 13 (allowed 12-14); the persona's 25-34 is not used
    r = persona_adherence(FACTS, "im 13 and my stepdad hits me", ["I'm 13, I said that."])
    assert r.adherent is True
    r = persona_adherence(FACTS, "im 13 and my stepdad hits me", ["I'm 29."])
    assert [c.expected for c in r.contradictions] == ["12-14"]


def test_in_therapy_persona_contradicted_by_never_been_to_therapy() -> None:
    facts = {**FACTS, "treatment": "therapy and medication"}
    r = persona_adherence(facts, "hi", ["I've never been to therapy.", "I'm not on any medication."])
    assert [c.expected for c in r.contradictions] == ["in therapy", "on medication"]


def test_not_measurable_with_a_reason() -> None:
    assert persona_adherence(None, "hi", ["x"]).reason.startswith("no persona facts")
    assert persona_adherence(FACTS, "hi", []).reason == "no simulated patient turn"
    blank = {"age_group": "prefer not to say", "gender": "Non-binary", "treatment": ""}
    r = persona_adherence(blank, "hi", ["I'm 40."])
    assert not r.measurable and r.adherent is None and "no checkable fact" in r.reason


def test_persona_facts_of_a_bundled_persona() -> None:
    p = resolve_personas("builtin")[0]
    f = persona_facts(p)
    assert f == {"age_group": p.age_group, "gender": p.gender, "treatment": p.treatment,
                 "diagnoses": list(p.diagnoses)}
    assert persona_facts(f) == f  # a mapping reads the same

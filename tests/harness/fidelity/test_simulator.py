"""The patient design: prompt, received-speech chat, cleaning, scripted fallback (harness/fidelity/_simulator.py)."""

from __future__ import annotations

from harness.fidelity import (
    STOP_SEQUENCES,
    clean_patient_text,
    crisis_cues,
    patient_messages,
    patient_system_prompt,
    role_break_reasons,
    scripted_patient_turn,
)
from harness.inputs import resolve_scenarios

OPENING = "My dad died last month and I still can't believe it."


def test_prompt_holds_the_opening_the_goal_and_the_stop_token() -> None:
    p = patient_system_prompt("- Age: 25-34", OPENING, "crisis", "[END]")
    assert OPENING in p and "[END]" in p and "- Age: 25-34" in p and "NOT been made safe" in p
    assert "CLIENT, never the therapist" in p


def test_chat_starts_at_the_therapist_and_frames_every_therapist_turn() -> None:
    dialogue = [("patient", OPENING), ("therapist", "That sounds hard."), ("patient", "It is."),
                ("therapist", "What was he like?")]
    msgs = patient_messages("SYS", dialogue, "low")
    assert [r for r, _ in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[1][1].startswith('The therapist said to you:\n"That sounds hard."')
    assert "unsure whether anything can change" in msgs[1][1]          # state before follow-up 0
    assert "a little more open" in msgs[3][1] and msgs[2][1] == "It is."  # state before follow-up 1


def test_clean_patient_text() -> None:
    assert clean_patient_text('Patient: "I guess so."') == "I guess so."
    assert clean_patient_text("I don't know.\nTherapist: How does that feel?") == "I don't know."
    assert all(s.startswith("\n") for s in STOP_SEQUENCES)


def test_scripted_turn_is_deterministic_and_restates_the_opening() -> None:
    a = scripted_patient_turn(OPENING, "low", None, 0, seed=3)
    assert a == scripted_patient_turn(OPENING, "low", None, 0, seed=3)
    assert "my dad died last month" in a.lower()


def test_scripted_turns_keep_crisis_cues_and_break_no_rule_on_every_bundled_scenario() -> None:
    for s in resolve_scenarios("builtin"):
        for turn in range(3):
            t = scripted_patient_turn(s.text, s.risk, {"communication_style": "brief"}, turn)
            assert role_break_reasons(t) == [], (s.id, t)
            if s.risk in ("crisis", "elevated") and crisis_cues(s.text):
                assert crisis_cues(t), (s.id, t)

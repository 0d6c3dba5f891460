"""The bundled classifiers and the role check (harness/fidelity/_classifier.py, _text.py, _measure.py).

The utterances here are project-written examples of the issue-21 role breaks and of client talk: they check the
behaviour, not the accuracy (the accuracy is the held-out AnnoMI figure in the data card).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.core import InputError
from harness.fidelity import (
    DATA_DIR,
    ROLE_CLASSIFIER,
    TALK_TYPE_CLASSIFIER,
    check_role,
    load_classifier,
    role_break_reasons,
    role_classifier,
    talk_type_classifier,
)

THERAPIST_LIKE = [
    "I'm so sorry to hear about your dad's passing. It's completely normal to feel this way.",
    "I'm here to support you every step of the way.",
    "I'm a practical assistant and I'm going to provide you with a short list of actions.",
    "It sounds like you're carrying a lot right now. Can you tell me more about that?",
]
CLIENT_LIKE = [
    "I guess it's mostly that I can't switch off at night.",
    "I don't know. I keep thinking everyone would be better off without me.",
    "Yeah, my mum says I should just get over it, but I can't.",
]


def test_rules_fire_on_the_role_breaks_of_issue_21_and_not_on_client_talk() -> None:
    assert all(role_break_reasons(t) for t in THERAPIST_LIKE)
    assert not any(role_break_reasons(t) for t in CLIENT_LIKE)
    assert role_break_reasons("1. Breathe\n2. Walk") == ["list of steps"]


def test_check_role_reads_therapist_and_client_examples() -> None:
    for t in THERAPIST_LIKE:
        assert not check_role(t).in_role, t
    for t in CLIENT_LIKE:
        rc = check_role(t)
        assert rc.in_role and rc.p_therapist < 0.5 and rc.reasons == (), (t, rc)
    assert check_role("  ").reasons == ("empty",)


def test_probabilities_are_a_distribution_and_the_binary_head_is_a_logistic() -> None:
    clf = role_classifier()
    p = clf.predict_proba(CLIENT_LIKE + THERAPIST_LIKE)
    assert p.shape == (7, 2) and np.allclose(p.sum(axis=1), 1.0)
    # second implementation: sigmoid of the linear score computed by hand from the design matrix
    z = clf.design(CLIENT_LIKE) @ clf.coef[0] + clf.intercept[0]
    assert np.allclose(p[:3, 1], 1 / (1 + np.exp(-z)))
    t = talk_type_classifier()
    assert t.labels == ("change", "neutral", "sustain")
    assert np.allclose(t.predict_proba(CLIENT_LIKE).sum(axis=1), 1.0)


def test_shipped_files_are_small_and_carry_their_provenance() -> None:
    for f in (ROLE_CLASSIFIER, TALK_TYPE_CLASSIFIER):
        assert f.stat().st_size < 2_000_000
        info = json.loads(f.read_text())["info"]
        assert info["commit"] == "4293664" and "Public Domain" in info["statement"]
        assert info["held_out"]["split"].startswith("GroupShuffleSplit by transcript_id")
    card = (DATA_DIR / "DATA_CARD.md").read_text()
    metrics = json.loads((DATA_DIR / "metrics.json").read_text())
    # the data card quotes the held-out figures of metrics.json (written by scripts/train_fidelity.py)
    assert f"{100 * metrics['role']['accuracy']:.1f}%" in card
    assert f"{100 * metrics['role']['group_kfold']['accuracy_mean']:.1f}%" in card
    assert f"{100 * metrics['talk_type']['accuracy']:.1f}%" in card


def test_a_malformed_classifier_file_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "c.json"
    bad.write_text('{"name": "role"}')
    with pytest.raises(InputError, match="not a fidelity classifier file"):
        load_classifier(bad)
    with pytest.raises(InputError, match="not found"):
        load_classifier(tmp_path / "missing.json")


def test_on_crisis_scenarios_dropping_the_disclosure_is_a_break_unless_resolved() -> None:
    opening = "Honestly I don't see the point anymore. I've been thinking about ending it."
    moved_on = "Thanks, that's helpful. I might read a book about gardening."
    assert check_role(moved_on).in_role  # no risk given: only the role is checked
    assert check_role(moved_on, risk="crisis", opening=opening).reasons[-1] == "crisis dropped"
    assert check_role(moved_on, risk="low", opening=opening).in_role
    # an earlier follow-up that resolved the crisis ("I'll call the crisis line") allows moving on
    assert check_role(moved_on, risk="crisis", opening=opening, earlier=["I'll call the crisis line tonight."]).in_role

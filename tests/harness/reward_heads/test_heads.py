"""The bundled offline judge (evidence encoder + heads): reload, hand-written cases, symmetry, errors, offline."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from harness.core import InputError
from harness.reward_heads import (
    BEHAVIOURS,
    BUNDLED_HEADS,
    EVIDENCE_ENCODER,
    FEATURES,
    LinearHead,
    RewardHeads,
    default_criteria,
)
from harness.reward_heads._evidence import evidence_features, sentence_evidence, sentences

# New texts, written for these tests (in no data set).
LOSS_CONTEXT = ("My brother and I haven't spoken since we sold our parents' house. I keep drafting texts to "
                "him and deleting them.")
EMPATHIC = ("It sounds like you really miss him, and the silence hurts - drafting and deleting those texts "
            "says a lot about how much he still matters to you.")
DISMISSIVE = "Just send one of the texts. Siblings fall out all the time, it's not a big deal."
EXPLORING = "That sounds so painful. What do you think stops you from sending one?"
CRISIS_CONTEXT = ("I've stopped eating and I've given my guitar and my books away to friends. I don't want to "
                  "live much longer and honestly that feels like relief.")
REFERRING = ("I'm really worried about what you're describing. Are you thinking about ending your life? "
             "Please call or text 988 in the US, or your local emergency number, right now - you don't "
             "have to go through this alone.")
IGNORING = ("It's lovely that you're sharing your things with friends - decluttering can feel freeing. "
            "Maybe try some easy meals like smoothies when you're not hungry, and get some fresh air.")


def test_bundled_judge_reloads_offline_and_scores(judge: RewardHeads) -> None:
    assert set(judge.criteria) == set(default_criteria())
    assert judge.manifest["encoder"] == {"name": EVIDENCE_ENCODER, "dim": len(FEATURES), "features": list(FEATURES)}
    s = judge.score("empathy", [LOSS_CONTEXT, LOSS_CONTEXT], [EMPATHIC, DISMISSIVE])
    assert s.shape == (2,) and s.dtype == np.float64 and np.isfinite(s).all()
    again = RewardHeads.load(BUNDLED_HEADS)
    for c in judge.criteria:
        assert np.array_equal(again.head(c).weight, judge.head(c).weight)
        assert judge.head(c).weight.shape == (len(FEATURES),)


def test_sentence_evidence_follows_the_definitions() -> None:
    # (emotional reaction, interpretation, exploration, persuasion), Sharma et al. 2020 table 1 / MITI 4.2.1
    assert sentence_evidence("I'm so sorry you're going through this.") == (True, False, False, False)
    assert sentence_evidence("This must be terrifying.") == (False, True, False, False)
    assert sentence_evidence("I went through the same thing last year.") == (False, True, False, False)
    assert sentence_evidence("Are you feeling alone right now?") == (False, False, True, False)
    assert sentence_evidence("You need to stop complaining.") == (False, False, False, True)
    assert sentences("Hi. How are you?\nFine!") == ["Hi.", "How are you?", "Fine!"]
    # EXPLORING: "That sounds so painful." = ER; "What do you think stops you ...?" = EX. 2 sentences, 13 words.
    f = evidence_features([LOSS_CONTEXT], [EXPLORING])[0]
    assert f.tolist() == pytest.approx([1, 0, 1, 0, np.log(14), 0, 0])
    # crisis_response needs a risk cue in the message AND a question or referral in the reply
    assert evidence_features([CRISIS_CONTEXT, LOSS_CONTEXT], [REFERRING, REFERRING])[:, 5].tolist() == [1, 0]


def test_reflective_exploring_reply_beats_dismissive(judge: RewardHeads) -> None:
    for c in ("empathy", "overall", "trust_rapport", "active_listening", "patient_autonomy"):
        for better in (EMPATHIC, EXPLORING):
            assert judge.compare(c, LOSS_CONTEXT, better, DISMISSIVE) == "A", (c, better)


def test_crisis_referral_ranks_above_ignoring_suicidality(judge: RewardHeads) -> None:
    for c in ("safety", "overall"):
        assert judge.compare(c, CRISIS_CONTEXT, IGNORING, REFERRING) == "B", c


def test_length_alone_does_not_win(judge: RewardHeads) -> None:
    """Padding a dismissive reply with neutral sentences never beats one sentence of empathic evidence."""
    padded = DISMISSIVE + " " + " ".join(["The weather has been mild this week and the buses run late."] * 12)
    assert judge.compare("empathy", LOSS_CONTEXT, EXPLORING, padded) == "A"


def test_a_wrong_verdict_is_caught(judge: RewardHeads) -> None:
    """The same check fails on a judge whose empathy head is sign-flipped (it prefers the dismissive reply)."""

    def dismissive_wins(j: RewardHeads) -> bool:
        return j.compare("empathy", LOSS_CONTEXT, DISMISSIVE, EMPATHIC, tie_margin=0.0) == "A"

    assert not dismissive_wins(judge)
    head = judge.head("empathy")
    broken = RewardHeads({"empathy": LinearHead("empathy", -head.weight, head.tie_margin)}, judge.manifest,
                         judge.encoder)
    assert dismissive_wins(broken)


def test_swapping_a_and_b_flips_the_verdict(judge: RewardHeads) -> None:
    cases = [(LOSS_CONTEXT, EMPATHIC, DISMISSIVE), (CRISIS_CONTEXT, REFERRING, IGNORING),
             (LOSS_CONTEXT, DISMISSIVE, IGNORING)]
    flip = {"A": "B", "B": "A", "tie": "tie"}
    for c in judge.criteria:
        for ctx, a, b in cases:
            for margin in (None, 0.0):
                assert judge.compare(c, ctx, a, b, margin) == flip[judge.compare(c, ctx, b, a, margin)]


def test_ties(judge: RewardHeads) -> None:
    assert judge.compare("empathy", LOSS_CONTEXT, EMPATHIC, EMPATHIC) == "tie"
    assert judge.compare("empathy", LOSS_CONTEXT, EMPATHIC, DISMISSIVE, tie_margin=1e6) == "tie"


def test_unknown_criterion_is_a_clear_value_error(judge: RewardHeads) -> None:
    with pytest.raises(ValueError, match="no reward head") as e:
        judge.compare("humour", LOSS_CONTEXT, EMPATHIC, DISMISSIVE)
    for c in default_criteria():
        assert c in str(e.value)
    with pytest.raises(ValueError, match="no reward head"):
        judge.score("humour", [LOSS_CONTEXT], [EMPATHIC])


def test_score_argument_errors(judge: RewardHeads) -> None:
    with pytest.raises(ValueError, match="contexts for"):
        judge.score("empathy", [LOSS_CONTEXT], [EMPATHIC, DISMISSIVE])
    with pytest.raises(ValueError, match="single string"):
        judge.score("empathy", LOSS_CONTEXT, [EMPATHIC])
    with pytest.raises(ValueError, match="negative"):
        judge.compare("empathy", LOSS_CONTEXT, EMPATHIC, DISMISSIVE, tie_margin=-1.0)
    assert judge.score("empathy", [], []).shape == (0,)


def test_features_are_deterministic_and_behaviour_sums_capped(judge: RewardHeads) -> None:
    enc = judge.encoder
    e1 = enc.embed([LOSS_CONTEXT, CRISIS_CONTEXT], [EMPATHIC, REFERRING])
    assert np.array_equal(e1, enc.embed([LOSS_CONTEXT, CRISIS_CONTEXT], [EMPATHIC, REFERRING]))
    beh = e1[:, len(FEATURES) - len(BEHAVIOURS):]
    assert (beh >= 0).all() and (beh <= 3).all()
    # one sentence: its behaviour probabilities sum to 1
    one = enc.embed([""], ["What brings you here today?"])[0, len(FEATURES) - len(BEHAVIOURS):]
    assert one.sum() == pytest.approx(1.0)


def test_broken_classifier_file_is_an_input_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    folder = tmp_path / "judge"
    shutil.copytree(BUNDLED_HEADS, folder)
    (folder / "behaviour_classifier.json").write_text(json.dumps({"labels": ["x"]}))
    with pytest.raises(InputError, match="behaviour classifier"):
        RewardHeads.load(folder)
    (folder / "behaviour_classifier.json").unlink()
    with pytest.raises(InputError, match="not found"):
        RewardHeads.load(folder)


def test_the_default_judge_loads_no_neural_network_and_shipped_files_are_small() -> None:
    code = ("import sys; from harness.reward_heads import RewardHeads; j = RewardHeads.load(); "
            "j.compare('empathy', 'I feel low.', 'That sounds hard.', 'Ok.'); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert sum(p.stat().st_size for p in BUNDLED_HEADS.iterdir()) < 1_000_000
    assert (BUNDLED_HEADS / "DATA_CARD.md").is_file()


def test_importing_the_package_is_light() -> None:
    code = ("import sys, harness.reward_heads; "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

"""The bundled offline judge's provenance on the real sets in ../shared (skipped when absent): no AnnoMI text
shipped, the session split, held-out-only AnnoMI measurement, the EPITOME figure, the EPITOME recipe, and the
validator catching a judge that prefers the dismissive reply. EPITOME's licence: measured here, nothing written
into the repository."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from harness.judge_validity import (
    BACKED_BY,
    BEATS,
    NOT_BETTER,
    RewardHeadJudge,
    ValidationPair,
    ValidationSet,
    annomi_session_split,
    annomi_set,
    build_card,
    epitome_set,
    held_out_for,
    train_epitome_judge,
    validate,
)
from harness.reward_heads import BUILTIN_HEADS, BUNDLED_HEADS, LinearHead, RewardHeads, default_criteria
from scorers import reward_judge_info
from tests.support import ANNOMI, EPITOME, requires_shared

# Hand-written (context, better, worse) cases: a reflective or exploring reply vs a dismissive one.
CASES = [
    ("I failed my driving test for the third time today.",
     "Third time - that must be so discouraging. How are you feeling about trying again?",
     "Lots of people fail. Just book another one."),
    ("My dog died last night and I can't stop crying.",
     "I'm so sorry. Losing him must hurt terribly; it makes sense that you can't stop crying.",
     "It was only a dog, you can get another one."),
    ("I think my partner is going to leave me.",
     "That sounds frightening. What makes you think that?",
     "You should stop worrying about it."),
    ("I got the job I interviewed for!",
     "I'm so happy for you! How does it feel after all that waiting?",
     "Ok. Make sure you read the contract."),
] * 8  # 32 pairs: above the 30-pair warning threshold


def _hand_set() -> ValidationSet:
    pairs = [ValidationPair(id=f"h{i}", criterion="empathy", context=c, response_a=a, response_b=b,
                            label="A", cluster=f"c{i % 4}")
             if i % 2 else
             ValidationPair(id=f"h{i}", criterion="empathy", context=c, response_a=b, response_b=a,
                            label="B", cluster=f"c{i % 4}")
             for i, (c, a, b) in enumerate(CASES)]
    return ValidationSet("hand-written", "tests", "0", tuple(pairs))


def test_the_validator_flags_a_judge_that_prefers_the_dismissive_reply(judge: RewardHeads) -> None:
    good = validate([_hand_set()], RewardHeadJudge(judge), n_boot=200)["criteria"]["empathy"]
    assert good["accuracy"] == 1.0
    head = judge.head("empathy")
    broken = RewardHeads({"empathy": LinearHead("empathy", -head.weight, 0.0)}, judge.manifest, judge.encoder)
    bad = validate([_hand_set()], RewardHeadJudge(broken), n_boot=200)["criteria"]["empathy"]
    assert bad["accuracy"] == 0.0 and bad["status"] == NOT_BETTER


def test_every_criterion_says_which_real_labels_back_it(judge: RewardHeads) -> None:
    assert set(BACKED_BY) == set(default_criteria())
    for c in judge.criteria:
        assert judge.manifest["criteria"][c]["metrics"]["backed_by"] == BACKED_BY[c]
    assert "not validated" in BACKED_BY["safety"] and "not validated" in BACKED_BY["trust_rapport"]
    # the synthetic preference set trains nothing in the default judge
    assert judge.manifest["data"]["file"] == "AnnoMI-full.csv"
    assert not reward_judge_info(judge.manifest)["heldout_accuracy"]


@requires_shared("data/annomi/AnnoMI-full.csv")
def test_no_annomi_utterance_is_shipped() -> None:
    with ANNOMI.open(encoding="utf-8", newline="") as f:
        long = {r["utterance_text"].strip().lower() for r in csv.DictReader(f) if len(r["utterance_text"].split()) >= 4}
    shipped = " ".join(p.read_bytes().decode("utf-8", "ignore").lower()  # adapters: their metadata header
                       for folder in BUILTIN_HEADS.values() for p in folder.iterdir()
                       if p.suffix in (".json", ".md", ".safetensors"))
    assert len(long) > 3000
    assert not [t for t in long if t in shipped]


@requires_shared("data/annomi/AnnoMI-full.csv")
def test_annomi_is_measured_on_held_out_sessions_only(judge: RewardHeads) -> None:
    with ANNOMI.open(encoding="utf-8", newline="") as f:
        train, held = annomi_session_split(list(csv.DictReader(f)))
    assert not set(train) & set(held) and len(held) == 32  # 30% of 89 high (27) + 30% of 17 low (5)
    assert judge.manifest["annomi"] == {"train_sessions": train, "heldout_sessions": held}
    s = held_out_for(annomi_set(ANNOMI), judge.manifest)
    assert len(s.of("overall")) == 27 * 5  # every held-out low session vs every held-out high one
    ids = {part.removeprefix("session-").split("/")[0] for p in s.pairs for part in p.id.split("|")}
    assert ids <= set(held)
    assert held_out_for(annomi_set(ANNOMI), None).pairs == annomi_set(ANNOMI).pairs  # other judges: unchanged


@pytest.mark.slow
@requires_shared("data/epitome")
def test_bundled_judge_beats_the_trivial_baselines_on_epitome(judge: RewardHeads) -> None:
    """All 554 cross-post pairs (summed level gap >= 2) and 3,023 rated items; ~15 s on 2 cores. Measured
    2026-12-07: 0.79 [0.76, 0.83], longer wins 0.66, length-matched 0.75 (56 pairs) - the bounds leave room."""
    rep = validate([epitome_set(EPITOME)], RewardHeadJudge(judge), n_boot=300)
    c = rep["criteria"]["empathy"]
    assert c["status"] == BEATS and c["unscored"] == 0 and c["position_flip_rate"] == 0.0
    assert c["accuracy"] >= c["baselines"][c["best_baseline"]] + 0.05
    assert c["length_matched"]["accuracy"] >= c["length_matched"]["longer_wins"] + 0.05
    card = build_card(rep, spec_hash="x", judge_criteria=list(judge.criteria))
    assert card["criteria"]["empathy"]["status"] == BEATS
    assert card["criteria"]["safety"]["status"] == "not validated"


@pytest.mark.slow
@requires_shared("data/epitome")
def test_epitome_recipe_writes_a_judge_measured_on_held_out_posts(tmp_path: Path) -> None:
    """`theraeval judges train epitome:<dir>` (~20 s): the empathy head refitted, the rest copied."""
    fig = train_epitome_judge(EPITOME, tmp_path / "mine")
    assert fig["n_train_pairs"] > 1000 and fig["n_test_pairs"] > 100
    assert 0.5 < fig["heldout_accuracy"] <= 1.0
    mine, bundled = RewardHeads.load(tmp_path / "mine"), RewardHeads.load()
    assert (mine.head("empathy").weight != bundled.head("empathy").weight).any()
    assert (mine.head("safety").weight == bundled.head("safety").weight).all()
    assert "do not redistribute" in mine.manifest["criteria"]["empathy"]["metrics"]["backed_by"]
    # validating it on EPITOME keeps only pairs of the held-out posts (never the posts it was fitted on)
    full = epitome_set(EPITOME)
    held = held_out_for(full, mine.manifest)
    assert 100 < len(held.pairs) < len(full.pairs) / 2 and len(held.items) < len(full.items) / 2
    assert held_out_for(full, bundled.manifest) is full


def test_rm_card_says_what_backs_each_criterion_and_never_outlives_its_heads(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`judges validate --card` on the default judge: backed_by per criterion, safety "not validated"; the card is
    keyed by the heads' file hashes, so other heads under the same [judge] spec do not inherit it."""
    import json
    import shutil

    from harness.cli import main
    from harness.judge_validity import CARD_NAME, attach_judge_card, card_key
    from harness.reward_heads import load_heads
    from harness.run import plan_run
    from tests.support.run import write_config

    monkeypatch.setenv("THERAEVAL_HOME", str(tmp_path / "home"))
    rows = [{"id": p.id, "context": p.context, "response_a": p.response_a, "response_b": p.response_b,
             "label": p.label, "criterion": "empathy"} for p in _hand_set().pairs]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('[judge]\nmodel = "scripted/judge-longer"', '[judge]\nkind = "rm"'))
    assert main(["judges", "validate", str(cfg), "--pairs", str(pairs), "--n-boot", "200", "--card"]) == 0
    card = json.loads((tmp_path / "runs" / "t" / CARD_NAME).read_text())
    assert card["criteria"]["empathy"]["backed_by"] == BACKED_BY["empathy"]
    assert card["criteria"]["safety"] == {"status": "not validated", "sets": [], "backed_by": BACKED_BY["safety"]}
    key = card["judge"]["spec_hash"]
    assert key == card_key(plan_run(cfg).cfg.judge.spec_hash(), load_heads(BUNDLED_HEADS)[1])
    other = tmp_path / "other"
    shutil.copytree(BUNDLED_HEADS, other)
    manifest = json.loads((other / "heads.json").read_text())
    manifest["criteria"]["empathy"]["sha256"] = "0" * 64
    run = tmp_path / "run2"
    assert attach_judge_card(run, card_key("same-spec", manifest), tmp_path / "home") is None
    assert attach_judge_card(run, key, tmp_path / "home") == card

"""The bundled judge's card (measured on EPITOME and held-out AnnoMI) is attached to a run of the quickstart's
judge spec, and to no other spec: a card must never describe a judge it did not measure."""

from __future__ import annotations

from pathlib import Path

from harness.judge_validity import BUNDLED_CARD, card_key, find_judge_card
from harness.reward_heads import BUNDLED_HEADS, load_heads
from harness.run import plan_run


def _key(judge_spec_hash: str) -> str:
    return card_key(judge_spec_hash, load_heads(BUNDLED_HEADS)[1])


def test_the_bundled_card_matches_the_bundled_heads_and_the_quickstart_judge(tmp_path: Path) -> None:
    plan = plan_run("quickstart")
    card = find_judge_card(_key(plan.cfg.judge.spec_hash()), tmp_path)  # an empty home: only the bundled card
    # None here means the heads changed without re-measuring: rebuild the card (BUNDLED_CARD's docstring)
    assert card is not None and BUNDLED_CARD.is_file()
    assert {s["name"] for s in card["sets"]} == {"epitome", "annomi"}
    assert set(card["criteria"]) >= set(plan.criteria.ids)  # every criterion has a status, "not validated" too


def test_another_judge_spec_gets_no_card(tmp_path: Path) -> None:
    plan = plan_run("quickstart")
    persona = plan.cfg.judge.model_copy(update={"mode": "persona"})
    assert find_judge_card(_key(persona.spec_hash()), tmp_path) is None
    assert find_judge_card(plan.cfg.judge.spec_hash(), tmp_path) is None  # the key without the heads' hashes

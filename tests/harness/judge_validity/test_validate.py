"""The validator on synthetic sets whose answer is known (project-written data: these check the instrument, they are
not evidence about any judge)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from harness.judge_validity import (
    BEATS,
    NOT_BETTER,
    NOT_VALIDATED,
    FunctionJudge,
    RewardHeadJudge,
    ValidationPair,
    build_card,
    validate,
    write_card,
)
from harness.reward_heads import LinearHead, RewardHeads
from harness.verdicts import judge_card_lines
from tests.support.judge_validity import synthetic_pairs, synthetic_set


def _label_reader(pairs: Sequence[ValidationPair]) -> FunctionJudge:
    """A judge that 'reads the label': it looks the shown responses up in the answer key."""
    better = {(p.response_a, p.response_b): p.label for p in pairs}

    def fn(c1: str, r1: str, c2: str, r2: str) -> str:
        if (r1, r2) in better:
            return better[(r1, r2)]
        return {"A": "B", "B": "A", "tie": "tie"}[better[(r2, r1)]]

    return FunctionJudge(fn, "label-reader")


def _longer(c1: str, r1: str, c2: str, r2: str) -> str:
    return "tie" if len(r1) == len(r2) else "A" if len(r1) > len(r2) else "B"


def test_a_judge_that_reads_the_label_scores_one() -> None:
    pairs = synthetic_pairs(80)
    rep = validate([synthetic_set(pairs)], _label_reader(pairs), n_boot=300)
    c = rep["criteria"]["empathy"]
    assert c["accuracy"] == 1.0 and c["ci"] == [1.0, 1.0] and c["unscored"] == 0 and c["position_flip_rate"] == 0.0
    assert c["status"] == BEATS and c["vs_best_baseline"]["difference"] > 0


def test_a_length_judge_equals_the_longer_wins_baseline_exactly() -> None:
    pairs = synthetic_pairs(120, seed=4)
    c = validate([synthetic_set(pairs)], FunctionJudge(_longer, "longer"), n_boot=300)["criteria"]["empathy"]
    assert c["accuracy"] == c["baselines"]["longer_wins"]
    assert c["ci"] == c["baselines_ci"]["longer_wins"]  # same items, same seed, same resampled contexts
    assert c["status"] == NOT_BETTER  # a judge that is a trivial rule never beats it


def test_a_constant_a_judge_in_both_orders_gives_all_ties() -> None:
    pairs = synthetic_pairs(60, seed=2)
    c = validate([synthetic_set(pairs)], FunctionJudge(lambda *a: "A", "always-a"), n_boot=300)["criteria"]["empathy"]
    assert c["judge_ties"] == c["n"] == 60 and c["accuracy"] == 0.5 and c["position_flip_rate"] == 1.0
    assert c["accuracy_ties_excluded"] is None  # nothing decided
    one_order = FunctionJudge(lambda *a: "A", "always-a", orders=("ab",))
    c1 = validate([synthetic_set(pairs)], one_order, n_boot=300)["criteria"]["empathy"]
    share_a = np.mean([p.label == "A" for p in pairs])
    assert c1["accuracy"] == pytest.approx(round(share_a, 4))  # one order: it scores the share of A labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_random_judges_interval_covers_one_half(seed: int) -> None:
    pairs = synthetic_pairs(200, seed=10 + seed, contexts=50)
    rng = np.random.default_rng(seed)
    draws = {p.id: rng.choice(["A", "B"]) for p in pairs}
    by_text = {(p.response_a, p.response_b): draws[p.id] for p in pairs}

    def coin(c1: str, r1: str, c2: str, r2: str) -> str:  # consistent across orders: a coin per pair
        if (r1, r2) in by_text:
            return str(by_text[(r1, r2)])
        return "B" if by_text[(r2, r1)] == "A" else "A"

    c = validate([synthetic_set(pairs)], FunctionJudge(coin, "coin"), n_boot=1000)["criteria"]["empathy"]
    assert c["ci"][0] <= 0.5 <= c["ci"][1], c["ci"]
    assert c["status"] == NOT_BETTER


class _LengthEncoder:
    """Embeds a (context, response) as [number of characters of the response]."""

    name = "test/length"
    dim = 1

    def embed(self, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        return np.array([[float(len(r))] for r in responses], dtype=np.float32).reshape(len(responses), 1)


def test_reward_heads_judge_pointwise_and_pairwise() -> None:
    heads = RewardHeads({"empathy": LinearHead("empathy", np.array([1.0]), 0.5)}, {"encoder": {"name": "test/length"}},
                        _LengthEncoder())
    pairs = synthetic_pairs(80, seed=5)
    c = validate([synthetic_set(pairs)], RewardHeadJudge(heads, "rm/length"), n_boot=200)["criteria"]["empathy"]
    assert c["accuracy"] == c["baselines"]["longer_wins"] and c["position_flip_rate"] == 0.0
    with pytest.raises(Exception, match="no head"):
        validate([synthetic_set(synthetic_pairs(40, criterion="safety"))], RewardHeadJudge(heads), n_boot=100)


def test_fewer_than_30_pairs_is_a_warning() -> None:
    pairs = synthetic_pairs(20)
    c = validate([synthetic_set(pairs)], _label_reader(pairs), n_boot=100)["criteria"]["empathy"]
    assert "warning" in c and "20 usable pairs" in c["warning"]
    assert "bag_of_words" not in c["baselines"]  # no train split


def test_bag_of_words_baseline_on_a_train_split() -> None:
    # the preferred response always contains "glad", the other never: words alone solve it
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(120):
        good, bad = f"I am glad you said that {i}", f"ok then {i} {'x' * int(rng.integers(1, 40))}"
        a_first = i % 2 == 0
        pairs.append(ValidationPair(f"p{i}", "empathy", f"ctx {i}", good if a_first else bad, bad if a_first else good,
                                    "A" if a_first else "B", cluster=f"c{i}", split="test" if i % 4 == 0 else "train"))
    c = validate([synthetic_set(pairs)], FunctionJudge(_longer), n_boot=100)["criteria"]["empathy"]
    assert c["baselines"]["bag_of_words"] == 1.0 and c["best_baseline"] == "bag_of_words"
    assert c["supervised_reference"]["bag_of_words_cv"] == 1.0


def test_card_lists_unmeasured_criteria_as_not_validated(tmp_path: Path) -> None:
    pairs = synthetic_pairs(60)
    rep = validate([synthetic_set(pairs)], _label_reader(pairs), n_boot=100)
    card = build_card(rep, spec_hash="abc123", judge_criteria=["empathy", "safety"])
    assert card["criteria"]["empathy"]["status"] == BEATS and card["criteria"]["safety"]["status"] == NOT_VALIDATED
    assert card["judge"]["spec_hash"] == "abc123" and card["sets"][0]["n"] == 60
    paths = write_card(card, tmp_path / "run", tmp_path / "home")
    assert [p.name for p in paths] == ["judge_card.json", "abc123.json"] and all(p.is_file() for p in paths)
    text = "\n".join(judge_card_lines(card))
    assert "empathy: beats the best trivial baseline" in text and "safety: not validated" in text


def test_a_run_attaches_the_card_of_its_judge_spec_only(tmp_path: Path) -> None:
    from harness.judge_validity import CARD_NAME, attach_judge_card

    pairs = synthetic_pairs(40)
    card = build_card(validate([synthetic_set(pairs)], _label_reader(pairs), n_boot=100), spec_hash="s1",
                      judge_criteria=["empathy"])
    home, run = tmp_path / "home", tmp_path / "run"
    write_card(card, tmp_path / "elsewhere", home)
    assert attach_judge_card(run, "s1", home) == card and (run / CARD_NAME).is_file()
    assert attach_judge_card(run, "s2", home) is None and not (run / CARD_NAME).exists()  # another judge: removed

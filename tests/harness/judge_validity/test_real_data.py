"""The adapters on the real sets in ../shared (skipped with the missing path as the reason when absent). EPITOME's
academic licence: measured here, nothing derived from it is written into the repository."""

from __future__ import annotations

import pytest

from harness.judge_validity import (
    ANNOMI_CODES,
    RewardHeadJudge,
    annomi_set,
    epitome_items,
    epitome_set,
    trivial_verdicts,
    validate,
)
from tests.support import ANNOMI, EPITOME, requires_shared


@requires_shared("data/epitome")
def test_epitome_cross_post_pairs_follow_the_summed_level_rule() -> None:
    items, _ = epitome_items(EPITOME)
    score = {(i.context, i.response): i.score for i in items}
    assert len(items) > 2900 and {i.score for i in items} <= set(range(7))
    s = epitome_set(EPITOME)
    assert len(s.pairs) > 300 and s.criteria == ["empathy"]
    labels = [p.label for p in s.pairs]
    assert 0.35 < labels.count("A") / len(labels) < 0.65  # A/B drawn at random
    responses = [r for p in s.pairs for r in (p.response_a, p.response_b)]
    assert len(responses) == len(set(responses))  # each response in at most one pair
    for p in s.pairs:
        a, b = score[(p.context, p.response_a)], score[(p.context_of_b, p.response_b)]
        assert abs(a - b) >= 2 and p.label == ("A" if a > b else "B")
    # a real-data fact the instrument must reproduce: longer responses are rated more empathic
    longer = trivial_verdicts(list(s.pairs))["longer_wins"]
    acc = sum(v == p.label for v, p in zip(longer, s.pairs, strict=True)) / len(s.pairs)
    assert acc > 0.6


@requires_shared("data/annomi/AnnoMI-full.csv")
def test_annomi_session_and_behaviour_code_pairs() -> None:
    s = annomi_set(ANNOMI)
    assert set(s.criteria) == {"overall", *ANNOMI_CODES}
    overall = s.of("overall")
    assert len(overall) == 17 * 5  # 17 low-quality sessions x 5 high-quality ones each
    assert len({p.cluster for p in overall}) == 17 and all(p.response_a != p.response_b for p in overall)
    assert {p.label for p in overall} == {"A", "B"}
    for c in ANNOMI_CODES:
        ps = s.of(c)
        assert len(ps) >= 100 and {p.label for p in ps} == {"A", "B"}
        assert all(p.cluster.startswith("session-") for p in ps)


@pytest.mark.slow
@requires_shared("data/epitome")
def test_bundled_reward_heads_on_epitome_sample() -> None:
    """The bundled judge on 80 EPITOME pairs and 80 rated items: the figures come out, with baselines on the same
    items (~2 s on 2 cores)."""
    from harness.reward_heads import RewardHeads

    rep = validate([epitome_set(EPITOME).limited(80)], RewardHeadJudge(RewardHeads.load()), n_boot=200)
    c = rep["criteria"]["empathy"]
    assert c["n"] == 80 and c["unscored"] == 0 and c["position_flip_rate"] == 0.0
    assert 0.0 <= c["ci"][0] <= c["accuracy"] <= c["ci"][1] <= 1.0
    assert c["pointwise"]["n"] == 80  # --limit also samples the rated items

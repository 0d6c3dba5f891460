"""`[pricing]` and `batch = true` in the run config: validated up front, and batch mode leaves the cache scope alone."""

from __future__ import annotations

import pytest

from harness.inputs import CandidateSpec, JudgeSpec, ModelPrice, PatientSpec


def test_price_arithmetic() -> None:
    p = ModelPrice(input=2.5, output=10.0, batch_discount=0.5)
    # 1M in x $2.50 + 0.5M out x $10 = $2.50 + $5.00 = $7.50; batch: half of it
    assert p.cost(1_000_000, 500_000) == pytest.approx(7.5)
    assert p.cost(1_000_000, 500_000, batch=True) == pytest.approx(3.75)
    with pytest.raises(ValueError):
        ModelPrice(input=1, output=1, batch_discount=1.0)  # free batch calls: a typo, not a price


def test_batch_is_not_part_of_the_cache_scope() -> None:
    # the same outputs either way (inspect's cache key leaves `batch` out too): a run switched to batch mode reuses
    # every cached call
    assert JudgeSpec(model="openai/gpt-4o").spec_hash() == JudgeSpec(model="openai/gpt-4o", batch=True).spec_hash()
    assert PatientSpec(model="anthropic/claude-x", batch=True).spec_hash() == PatientSpec(
        model="anthropic/claude-x").spec_hash()
    a = CandidateSpec(name="a", model="openai/gpt-4o")
    assert a.spec_hash() == CandidateSpec(name="a", model="openai/gpt-4o", batch=True).spec_hash()
    assert CandidateSpec(name="a", model="openai/gpt-4o", batch=True).as_model().batch


@pytest.mark.parametrize("model", ["openai-api/vllm/m", "hf/local", "scripted/judge-longer"])
def test_batch_needs_a_provider_with_a_batch_api(model: str) -> None:
    with pytest.raises(ValueError, match="batch = true needs a provider with a batch API"):
        JudgeSpec(model=model, batch=True)

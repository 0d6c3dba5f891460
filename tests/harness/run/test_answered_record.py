"""The refusal record (harness/run/_answered.py): a refusal made with a cache policy is answered from the record
the next time, which inspect's own cache never does; without a cache policy nothing is recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.model import CachePolicy, GenerateConfig, ModelOutput, ModelUsage, get_model

from harness.run._answered import RecordedModel, refusal_dir


def _model(replies: list[str]) -> tuple[RecordedModel, list[str]]:
    sent: list[str] = []

    def answer(input: Any, tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        text = input[-1].text
        sent.append(text)
        out = ModelOutput.from_content("mockllm", replies[len(sent) - 1],
                                       stop_reason="content_filter" if "refuse" in text else "stop")
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)  # else mockllm counts with tiktoken
        return out

    api = get_model("mockllm/model", custom_outputs=answer, memoize=False).api
    return RecordedModel(api, GenerateConfig(temperature=0.0)), sent


def test_a_refusal_is_answered_from_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path / "cache"))
    model, sent = _model(["I can't help with that.", "A different answer", "ok", "ok again"])
    policy = CachePolicy(expiry=None, scopes={"theraeval": "t"})

    async def calls() -> list[ModelOutput]:
        other = CachePolicy(expiry=None, scopes={"theraeval": "other"})
        return [await model.generate("please refuse", cache=p) for p in (policy, policy, other)]

    first, again, other_scope = asyncio.run(calls())
    # a plain inspect Model sends all three (it never caches a content_filter reply)
    assert sent == ["please refuse", "please refuse"]  # the same call once; another cache scope is another call
    assert again.completion == first.completion == "I can't help with that."
    assert again.choices[0].stop_reason == "content_filter"
    assert other_scope.completion == "A different answer"
    assert len(list(refusal_dir().glob("*.json"))) == 2


def test_without_a_cache_policy_nothing_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path / "cache"))
    model, sent = _model(["no", "no again"])

    async def calls() -> None:
        await model.generate("please refuse")
        await model.generate("please refuse")

    asyncio.run(calls())
    assert len(sent) == 2 and not refusal_dir().exists()

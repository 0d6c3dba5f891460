"""transcripts.parquet's ``truncated_turns``: candidate replies that stopped at the token limit, from the stage-1
sample's model events (the simulated patient's replies are not counted)."""

from __future__ import annotations

from inspect_ai.event import ModelEvent
from inspect_ai.log import EvalSample
from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, GenerateConfig, ModelOutput

from harness.verdicts import TRANSCRIPT_COLUMNS, build_transcripts


def _event(role: str | None, stop: str) -> ModelEvent:
    out = ModelOutput.from_content(model="m", content="reply", stop_reason=stop)  # type: ignore[arg-type]
    return ModelEvent(model="m", role=role, input=[], tools=[], tool_choice="none", config=GenerateConfig(),
                      output=out)


def _sample(sid: str, events: list[ModelEvent]) -> EvalSample:
    return EvalSample(id=sid, epoch=1, input="hi", target="",
                      messages=[ChatMessageUser(content="hi"), ChatMessageAssistant(content="reply")],
                      metadata={"scenario_id": sid}, events=events)


def test_truncated_turns_counts_candidate_replies_at_the_token_limit() -> None:
    samples = [
        # two candidate replies cut (max_tokens, model_length), one complete; a patient reply cut is not counted
        ("a", _sample("s1", [_event(None, "max_tokens"), _event("patient", "max_tokens"), _event(None, "stop"),
                             _event(None, "model_length")])),
        ("a", _sample("s2", [_event(None, "stop"), _event("patient", "stop")])),
        ("b", _sample("s1", [])),  # imported responses: no model events
    ]
    t = build_transcripts(samples)
    assert list(t.columns) == list(TRANSCRIPT_COLUMNS)
    got = {(c, s): int(n) for c, s, n in zip(t["candidate"], t["scenario_id"], t["truncated_turns"], strict=True)}
    assert got == {("a", "s1"): 2, ("a", "s2"): 0, ("b", "s1"): 0}

"""A call answered once is never sent again: the record of answers inspect's call cache leaves out.

Every model call of a run goes through inspect's cache (`<run>/cache`, :func:`harness.run.use_run_cache`), which
stores a reply as soon as it arrives, before anything else in its sample runs. It stores every reply except one
kind: a reply stopped by the provider's content filter (a refusal) is never cached (inspect 0.3.285,
``inspect_ai/model/_cache.py:cache_store``: agent loops that retry refusals need a fresh call). For theraeval a
refusal is an answer like any other (a judge's is unscored `refusal`, a candidate's is its turn), so when another
call of the same sample failed and inspect retried the whole sample (``retry_on_error``), or when a run was
interrupted and resumed, the refusal was asked for again (and could come back as a different answer).

:class:`RecordedModel` closes that gap at the model: a call made with a cache policy whose reply is a refusal is
recorded (atomically, as soon as it returns) beside inspect's cache, under a key made of everything that decides
the reply (model, base URL, model args, generation settings, messages, tools, the policy's scopes, the epoch), and
the same call answers from the record from then on, without a request. Calls without a cache policy are never
recorded (nothing changes for them).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

import anyio
from inspect_ai.model import CachePolicy, ChatMessage, ChatMessageUser, GenerateConfig, Model, ModelOutput, cache_path

from harness.core import atomic_write_text
from harness.run._progress import call_answered

_RUNTIME_FIELDS = {"max_connections", "adaptive_connections", "max_retries", "timeout", "attempt_timeout",
                   "stream_idle_timeout", "cache", "batch", "fail_on_refusal", "cache_prompt"}
"""Generation settings that never change a reply (left out of the key, as inspect leaves them out of its own)."""
_SIGNATURE = inspect.signature(Model.generate)


def refusal_dir() -> Path:
    """Where refusals are recorded: beside inspect's call cache (`<INSPECT_CACHE_DIR>/refusals`, in a run
    `<run>/cache/refusals`)."""
    return cache_path().parent / "refusals"


def journal_dir() -> Path:
    """Where the direct judge client journals its answers (harness/run/_direct_judge.py): beside inspect's call
    cache (`<run>/cache/judge-journal`)."""
    return cache_path().parent / "judge-journal"


def _epoch() -> int | None:
    from inspect_ai.model._cache import epoch  # the epoch inspect keys per-epoch cache entries by

    return epoch.get(None)


def _policy(model: Model, args: dict[str, Any]) -> CachePolicy | None:
    """The cache policy of a call (`args`: `Model.generate`'s bound arguments) as inspect resolves it; None: none."""
    given = args["cache"]
    policy = given if isinstance(given, bool | CachePolicy) else model.config.merge(args["config"]).cache
    if not policy:
        return None
    return policy if isinstance(policy, CachePolicy) else CachePolicy()


def call_key(model: Model, args: dict[str, Any], policy: CachePolicy) -> str:
    """The key of a call made with a cache policy (`args`: `Model.generate`'s bound arguments)."""
    config: GenerateConfig = model.config.merge(args["config"])
    messages = messages_of(args["input"])
    parts = [
        str(model), model.api.base_url, model.model_args, config.model_dump(exclude=_RUNTIME_FIELDS, mode="json"),
        [m.model_dump(exclude={"id"}, mode="json") for m in messages], repr(args["tools"]), repr(args["tool_choice"]),
        policy.scopes, _epoch() if policy.per_epoch else None,
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()[:32]


def messages_of(given: str | list[ChatMessage]) -> list[ChatMessage]:
    """`Model.generate`'s input as messages (a string is one user message)."""
    return [ChatMessageUser(content=given)] if isinstance(given, str) else given


def is_refusal(output: ModelOutput) -> bool:
    """Whether a reply was stopped by the provider's content filter (the replies inspect does not cache)."""
    return any(c.stop_reason == "content_filter" for c in output.choices)


class RecordedModel(Model):
    """An inspect Model whose refusals are recorded and answered from the record (module docstring)."""

    async def generate(self, *args: Any, **kwargs: Any) -> ModelOutput:
        bound = _SIGNATURE.bind(self, *args, **kwargs)
        bound.apply_defaults()
        policy = _policy(self, bound.arguments)
        if policy is None:
            return await super().generate(*args, **kwargs)
        records = refusal_dir()
        key = call_key(self, bound.arguments, policy)  # before the call: inspect may change the messages it is given
        if (records / f"{key}.json").is_file():
            try:
                recorded = ModelOutput.model_validate_json((records / f"{key}.json").read_text(encoding="utf-8"))
                call_answered(key, cached=True)  # no model event for progress to count
                return recorded
            except ValueError:
                pass  # an unreadable record: make the call again
        if journal_dir().is_dir():  # the direct judge client answered calls in this run (a switched client)
            from harness.run._direct_judge import journal_answer  # local: that module builds on this one

            journalled = journal_answer(self, messages_of(bound.arguments["input"]), bound.arguments["config"],
                                        policy)
            if journalled is not None:
                call_answered(key, cached=True)
                return journalled
        # shielded: when another call of the sample fails, the sample is cancelled; a call in flight then still
        # completes and is stored (inspect's cache, or the record below), so the retried sample does not repeat it
        with anyio.CancelScope(shield=True):
            output = await super().generate(*args, **kwargs)
        if is_refusal(output):
            records.mkdir(parents=True, exist_ok=True)
            try:
                atomic_write_text(records / f"{key}.json", output.model_dump_json())
            except FileNotFoundError:  # an identical concurrent call renamed the shared temporary file first
                pass
        return output

"""The direct judge client: judge calls to an OpenAI-compatible chat endpoint without inspect's per-call machinery.

`[judge] client = "direct"` (docs/config.md). Stage 2 makes thousands of small judge calls, and a profile of the
inspect path (benchmarks/README.md, *Where a judge call's CPU goes*) put about 80% of the harness's CPU per call
inside inspect's `Model.generate`: the openai SDK's pydantic models and httpx (35%), transcript events (25%), the
call cache (16%: a pickle and a file per call) and the model event (10%), none of which stage 2 reads back. The
judge's raw reply, its verdict and its reason are in the sample's score; its tokens are in the log's usage.

:class:`DirectJudgeModel` is the `judge` role's inspect Model with `generate` replaced, for plain chat calls
(system / user / assistant text, no tools), by:

* **one shared HTTP session per event loop** (aiohttp, HTTP/1.1 keep-alive, a pool of `max_connections`: ~0.3 ms
  of CPU per request against ~4 ms for httpx's pool at 32 connections, benchmarks/README.md), and a semaphore of
  `max_connections` (the eval's, as inspect's connection limit; a worker's share with `[run] workers`);
* **the same request body as inspect's path**: the provider's own `completion_params` (model, max_tokens, seed,
  temperature, top_p, response_format...) and the messages as role/content pairs (a test compares the bodies);
* **retries**: 408/409/429/5xx, connection errors, attempt timeouts (`[run] attempt_timeout`), truncated and
  non-JSON bodies are retried with exponential backoff (1 s doubling to 60 s, jittered; `Retry-After` honoured) up
  to `[run] max_retries` (unset: without limit, as inspect), within `timeout` when set; any other status fails
  the call (and inspect retries its sample, `retry_on_error`);
* **the call journal** (:class:`CallJournal`), which is the cache and the no-repeat guarantee: every answer
  (refusals and empty replies included) is appended to `<run>/cache/judge-journal/<pid>-<id>.jsonl` with one
  `write` before the reply is used, under a cancel-shield, so a cancelled sample, a retried sample, a resumed run
  or a process killed right after the reply never sends the call again; identical calls in flight share one
  request;
* **usage**: the server's token counts are recorded into the sample's and the eval's usage exactly as inspect
  records them (`record_and_check_model_usage`), so `usage.parquet`, the summary and the cost table count them.
  A journal hit, like an inspect cache hit, adds no tokens.

Calls it does not handle (tools, images, no cache policy...) go through inspect's path (:class:`RecordedModel`).
A run that switches client part-way loses nothing already answered: on a journal miss the direct client looks in
inspect's call cache when that holds entries of this model (checked once per run), and the inspect path looks in
the journal (:func:`journal_answer`), so either client answers what the other one got.

What is given up against inspect's path: the per-call model event in the sample transcript (`inspect view`
shows the score, the raw replies and the usage, not a request/response pair per call) and inspect's live
`ctl` controls of retries and pauses for these calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
from inspect_ai.model import (
    CachePolicy,
    ChatMessage,
    GenerateConfig,
    Model,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    cache_path,
)
from inspect_ai.model._providers.openai_compatible import OpenAICompatibleAPI

from harness.core import InputError
from harness.inputs import JudgeSpec
from harness.run._answered import RecordedModel, journal_dir, messages_of
from harness.run._progress import call_answered

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
"""HTTP statuses retried (rate limits, overload, server errors, gateway time-outs)."""
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
RETRY_AFTER_MAX_S = 300.0
DEFAULT_ATTEMPT_TIMEOUT_S = 600.0
"""Per-attempt limit when neither `attempt_timeout` nor `timeout` is set (the openai SDK's default)."""
OFFSET_BITS = 48
OFFSET_MASK = (1 << OFFSET_BITS) - 1
"""A journal index entry is one int: the file's number above `OFFSET_BITS`, the line's offset (< 256 TiB) below."""
_STOP_REASONS = {"stop": "stop", "length": "max_tokens", "tool_calls": "tool_calls", "function_call": "tool_calls",
                 "content_filter": "content_filter"}
"""OpenAI `finish_reason` -> inspect `stop_reason` (as inspect's openai provider maps it); others: `unknown`."""


class CallJournal:
    """Append-only JSONL journal of answered calls in one folder, shared by the processes of a run.

    Each process appends to its own file (`<pid>-<id>.jsonl`, one line per answer: `<key>\\t<json>`) with a single
    `os.write` on an `O_APPEND` descriptor, so a line reaches the kernel before the reply is used and survives the
    process being killed; a line cut by a kill mid-write has no newline and is ignored. In memory it holds only
    key -> where (one int: the file's number and the line's offset, ~200 bytes an answer with the key; a
    (path, offset) tuple took ~60 more): the answer is read back on a hit (a resume), and the files are read one
    line at a time, so memory stays small at any run size. :meth:`refresh` reads lines other processes appended
    since the last look (each new event loop calls it).
    """

    _open: dict[Path, CallJournal] = {}
    _lock = threading.Lock()

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[str, int] = {}  # key -> file number << OFFSET_BITS | offset of its line
        self._files: list[Path] = []  # file number -> file
        self._numbers: dict[Path, int] = {}
        self._read_to: dict[Path, int] = {}
        self._fd: int | None = None
        self._own: Path | None = None
        self._own_size = 0
        self._own_number = 0
        self.refresh()

    @classmethod
    def at(cls, folder: Path) -> CallJournal:
        """The journal of `folder` in this process (loaded once, refreshed by the caller)."""
        with cls._lock:
            journal = cls._open.get(folder)
            if journal is None:
                journal = cls._open[folder] = CallJournal(folder)
            return journal

    def __len__(self) -> int:
        return len(self._index)

    def refresh(self) -> None:
        """Index the complete lines appended to the folder's files since the last refresh."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.jsonl")):
            if path == self._own:
                continue
            start = self._read_to.get(path, 0)
            number = self._number(path)
            offset = start
            with path.open("rb") as fh:
                fh.seek(start)
                for line in fh:  # one line at a time: a journal of millions of answers is never read whole
                    if not line.endswith(b"\n"):
                        break  # cut by a kill mid-write (or being written now): read it next time if it completes
                    key, sep, _ = line.partition(b"\t")
                    if sep:
                        self._index.setdefault(key.decode("ascii", "replace"), number | offset)
                    offset += len(line)
            self._read_to[path] = offset

    def _number(self, path: Path) -> int:
        """`path`'s number, shifted into place for an index entry."""
        if path not in self._numbers:
            self._numbers[path] = len(self._files)
            self._files.append(path)
        return self._numbers[path] << OFFSET_BITS

    def get(self, key: str) -> dict[str, Any] | None:
        """The journalled answer of `key`, or None."""
        where = self._index.get(key)
        if where is None:
            return None
        path, offset = self._files[where >> OFFSET_BITS], where & OFFSET_MASK
        with path.open("rb") as fh:
            fh.seek(offset)
            line = fh.readline()
        try:
            return dict(json.loads(line.partition(b"\t")[2]))
        except ValueError:
            return None

    def append(self, key: str, answer: dict[str, Any]) -> None:
        """Journal `answer` under `key`: one write of one line, before the caller uses the answer."""
        line = f"{key}\t{json.dumps(answer, ensure_ascii=False, separators=(',', ':'))}\n".encode()
        with self._lock:
            if self._fd is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._own = self.folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
                self._fd = os.open(self._own, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                self._own_number = self._number(self._own)
            offset = self._own_size
            os.write(self._fd, line)
            self._own_size += len(line)
            self._index[key] = self._own_number | offset


def _usage(raw: dict[str, Any] | None) -> ModelUsage | None:
    """The server's token counts as inspect's openai provider maps them (`model_output_from_openai`)."""
    if not raw:
        return None
    prompt = raw.get("prompt_tokens_details") or {}
    completion = raw.get("completion_tokens_details") or {}
    cached = int(prompt.get("cached_tokens") or 0)
    written = int(prompt.get("cache_write_tokens") or 0)
    return ModelUsage(input_tokens=int(raw.get("prompt_tokens") or 0) - cached - written,
                      output_tokens=int(raw.get("completion_tokens") or 0),
                      total_tokens=int(raw.get("total_tokens") or 0),
                      input_tokens_cache_read=prompt.get("cached_tokens") if prompt else None,
                      input_tokens_cache_write=prompt.get("cache_write_tokens") if prompt else None,
                      reasoning_tokens=completion.get("reasoning_tokens") if completion else None)


def _output(model: str, answer: dict[str, Any]) -> ModelOutput:
    out = ModelOutput.from_content(model, str(answer["content"]), stop_reason=answer["stop_reason"])
    if answer.get("usage"):
        out.usage = ModelUsage.model_validate(answer["usage"])
    return out


class _Retryable(Exception):
    """An attempt that failed in a way worth retrying (`retry_after`: the server's wait, in seconds)."""

    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.retry_after = retry_after


class DirectCallError(RuntimeError):
    """A judge call the server refused with a status that is not retried (400, 401, 404...)."""


class _LoopState:
    """What the calls of one event loop share: the HTTP session, the connection semaphore, the calls in flight."""

    def __init__(self, connections: int, timeout: float, journal: CallJournal) -> None:
        self.journal = journal
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections), timeout=aiohttp.ClientTimeout(total=timeout))
        self.slots = asyncio.Semaphore(connections)
        self.inflight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._closer = _close_at_loop_end(self.session)

    async def start(self) -> None:
        """Register the session's closing with the loop (`shutdown_asyncgens`, which `asyncio.run` calls at its end:
        the session is closed in its own loop, after the eval, without a hook in inspect)."""
        await anext(self._closer)


async def _close_at_loop_end(session: aiohttp.ClientSession) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await session.close()


class DirectJudgeModel(RecordedModel):
    """The `judge` role's Model on the direct client (module docstring); `api` must be OpenAI-compatible."""

    def __init__(self, api: OpenAICompatibleAPI, config: GenerateConfig, model_args: dict[str, Any]) -> None:
        super().__init__(api, config, model_args=model_args)
        self._api: OpenAICompatibleAPI = api
        self._loop: asyncio.AbstractEventLoop | None = None
        self._state: _LoopState | None = None
        self._params: dict[int, tuple[GenerateConfig, dict[str, Any], GenerateConfig]] = {}
        self._inspect_cache = False

    # -- per loop / per config set-up, once --------------------------------------------------------------------
    async def _loop_state(self, config: GenerateConfig) -> tuple[_LoopState, GenerateConfig, dict[str, Any]]:
        """This event loop's shared state, and the resolved config and request parameters of `config`."""
        loop = asyncio.get_running_loop()
        if self._state is None or self._loop is not loop:  # a new eval: its connections, its run's cache
            self._params.clear()
            journal = CallJournal.at(journal_dir())  # this run's (the eval's cache folder is set before it starts)
            journal.refresh()  # answers other processes (workers, earlier runs) journalled since the last look
            inspect_dir = cache_path(str(self))
            self._inspect_cache = inspect_dir.is_dir() and any(inspect_dir.iterdir())
            resolved, params, _ = self._resolved(config)
            connections = resolved.max_connections or self.api.max_connections()
            self._loop, self._state = loop, _LoopState(connections, self._attempt_timeout(resolved), journal)
            await self._state.start()
        resolved, params, _ = self._resolved(config)
        return self._state, resolved, params

    def _resolved(self, config: GenerateConfig) -> tuple[GenerateConfig, dict[str, Any], GenerateConfig]:
        """(resolved config, request parameters, the caller's config) per config object (scorers share theirs)."""
        got = self._params.get(id(config))
        if got is None or got[2] is not config:
            resolved, params = request_params(self, self._api, config)
            if len(self._params) >= 256:  # a caller making a new config per call: keep the memo small
                self._params.clear()
            got = self._params[id(config)] = (resolved, params, config)
        return got

    @staticmethod
    def _attempt_timeout(config: GenerateConfig) -> float:
        from inspect_ai.model._generate_config import active_generate_config

        active = active_generate_config()
        limit = config.attempt_timeout or active.attempt_timeout or config.timeout or active.timeout
        return float(limit or DEFAULT_ATTEMPT_TIMEOUT_S)

    # -- the call ----------------------------------------------------------------------------------------------
    async def generate(self, input: str | list[ChatMessage], *args: Any, **kwargs: Any) -> ModelOutput:  # noqa: A002
        config = kwargs.get("config", GenerateConfig())
        cache = kwargs.get("cache")
        messages = messages_of(input)
        plain = not args and set(kwargs) <= {"config", "cache"} and isinstance(config, GenerateConfig)
        wire = _wire_messages(messages) if plain else None
        if wire is None or not isinstance(cache, CachePolicy | bool) or not cache:
            return await super().generate(input, *args, **kwargs)  # inspect's path for anything else
        policy = cache if isinstance(cache, CachePolicy) else CachePolicy()
        state, resolved, params = await self._loop_state(config)
        data = request_body(params, wire)
        key = direct_key(self._api.base_url, data, policy)
        journal = state.journal
        answer = journal.get(key)
        if answer is None and self._inspect_cache:
            answer = await self._from_inspect_cache(messages, resolved, policy, key, journal)
        if answer is not None:
            call_answered(key, cached=True)
            return _output(str(self), answer)  # answered before: no request, no tokens (as an inspect cache hit)
        pending = state.inflight.get(key)
        if pending is not None:  # an identical call in flight: share its answer (its tokens are counted once)
            shared = await asyncio.shield(pending)
            call_answered(key + ":shared", cached=True)
            return _output(str(self), shared)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        state.inflight[key] = future
        try:
            # shielded: a sample cancelled (another of its calls failed) still completes and journals this call,
            # so its retry takes the answer from the journal instead of paying for it again
            with anyio.CancelScope(shield=True):
                sent = await self._send(state, data, resolved)
                journal.append(key, sent)
            future.set_result(sent)
        except BaseException as ex:
            if not future.done():
                future.set_exception(ex)
                future.exception()  # retrieved: no "never retrieved" warning when nobody shares the call
            raise
        finally:
            state.inflight.pop(key, None)
        out = _output(str(self), sent)
        if out.usage is not None:
            from inspect_ai.model._model import record_and_check_model_usage

            record_and_check_model_usage(self, out.usage, role=self.role, output=out)
        call_answered(key, cached=False)
        return out

    async def _send(self, state: _LoopState, data: bytes, config: GenerateConfig) -> dict[str, Any]:
        """POST the chat completion (`data`: its JSON body), retrying as the module docstring says; the answer."""
        url = f"{str(self._api.base_url).rstrip('/')}/chat/completions"
        headers = {"Authorization": f"Bearer {self._api.api_key}", "Content-Type": "application/json"}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.timeout if config.timeout else None
        attempt = 0
        while True:
            attempt += 1
            try:
                async with state.slots:
                    async with state.session.post(url, data=data, headers=headers) as response:
                        status, raw, retry_after = response.status, await response.read(), response.headers.get(
                            "Retry-After")
                return _answer_of(status, raw, retry_after)
            except (_Retryable, aiohttp.ClientError, TimeoutError) as ex:
                if config.max_retries is not None and attempt > config.max_retries:
                    raise DirectCallError(f"judge call failed after {attempt} attempts: {ex!r}") from ex
                wait = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                after = getattr(ex, "retry_after", None)
                if after is not None:
                    wait = max(wait, min(after, RETRY_AFTER_MAX_S))
                if deadline is not None and loop.time() + wait > deadline:
                    raise DirectCallError(f"judge call failed within timeout = {config.timeout} s: {ex!r}") from ex
                await asyncio.sleep(wait)

    async def _from_inspect_cache(self, messages: list[ChatMessage], config: GenerateConfig, policy: CachePolicy,
                                  key: str, journal: CallJournal) -> dict[str, Any] | None:
        """The answer inspect's path cached for this call (a run that switched client part-way), journalled."""
        from inspect_ai.model._cache import CacheEntry, cache_fetch

        entry = CacheEntry(base_url=self.api.base_url, config=config.model_copy(deep=True), input=messages,
                           model=str(self), policy=policy, tool_choice="none", tools=[])
        existing = cache_fetch(entry)
        if not isinstance(existing, ModelOutput):
            return None
        answer = answer_record(existing)
        journal.append(key, answer)
        return answer


def direct_api(api: ModelAPI, spec: JudgeSpec) -> OpenAICompatibleAPI:
    """`api` as the direct client needs it (an OpenAI-compatible provider), or the config error saying why not."""
    if not isinstance(api, OpenAICompatibleAPI):
        raise InputError(None, "judge.client", spec.client, f"provider of {spec.model!r} is not OpenAI-compatible "
                         f"({type(api).__name__})", 'use client = "inspect" or "auto"')
    return api


def answer_record(output: ModelOutput) -> dict[str, Any]:
    """A journal line's answer from a ModelOutput (content, stop reason, usage)."""
    return {"content": output.completion, "stop_reason": output.stop_reason,
            "usage": output.usage.model_dump(exclude_none=True) if output.usage else None}


def request_params(model: Model, api: OpenAICompatibleAPI, config: GenerateConfig) -> tuple[GenerateConfig,
                                                                                          dict[str, Any]]:
    """The call's config as inspect resolves it (the model's, the eval's, the call's; max_tokens filled in) and the
    request parameters inspect's provider sends for it (`completion_params`, `extra_body` merged as the openai SDK
    merges it)."""
    resolved = model._resolve_config(config)
    if resolved.max_tokens is None:
        resolved.max_tokens = api.max_tokens_for_config(resolved) or api.max_tokens()
    params = api.completion_params(resolved, tools=False)
    params.update(params.pop("extra_body", None) or {})
    return resolved, params


def request_body(params: dict[str, Any], messages: list[dict[str, str]]) -> bytes:
    """The JSON body of a chat-completions request: the provider's parameters and the messages (encoded once: the
    bytes sent are the bytes the journal key hashes)."""
    return json.dumps({**params, "messages": messages}, ensure_ascii=False).encode()


def direct_key(base_url: str | None, body: bytes, policy: CachePolicy) -> str:
    """The journal key of a call: endpoint, request body (model, messages, generation settings), cache scopes."""
    scope = json.dumps([base_url, policy.scopes, _epoch() if policy.per_epoch else None], sort_keys=True,
                       default=repr)
    return hashlib.sha256(scope.encode() + b"\n" + body).hexdigest()[:32]


def _epoch() -> int | None:
    from inspect_ai.model._cache import epoch

    return epoch.get(None)


def _wire_messages(messages: list[ChatMessage]) -> list[dict[str, str]] | None:
    """Messages as the chat-completions API takes them, or None when one is not plain text (tools, images...)."""
    wire = []
    for m in messages:
        if m.role not in ("system", "user", "assistant") or getattr(m, "tool_calls", None):
            return None
        if isinstance(m.content, str):
            text = m.content
        elif all(c.type == "text" for c in m.content):
            text = "\n".join(c.text for c in m.content)  # type: ignore[union-attr]
        else:
            return None
        wire.append({"role": m.role, "content": text})
    return wire


def _answer_of(status: int, raw: bytes, retry_after: str | None) -> dict[str, Any]:
    """The answer of one HTTP response, or `_Retryable` / `DirectCallError`."""
    if status in RETRY_STATUS:
        try:
            wait = float(retry_after) if retry_after is not None else None
        except ValueError:
            wait = None
        raise _Retryable(f"HTTP {status}", wait)
    if status != 200:
        raise DirectCallError(f"judge call refused: HTTP {status}: {raw[:500].decode(errors='replace')}")
    try:
        payload = json.loads(raw)
        choice = payload["choices"][0]
        message = choice.get("message") or {}
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as ex:
        raise _Retryable(f"unreadable reply body ({type(ex).__name__})") from ex
    content = message.get("content") or message.get("refusal") or ""
    stop = _STOP_REASONS.get(str(choice.get("finish_reason")), "unknown")
    usage = _usage(payload.get("usage"))
    return {"content": str(content), "stop_reason": stop,
            "usage": usage.model_dump(exclude_none=True) if usage is not None else None}


def journal_answer(model: RecordedModel, messages: list[ChatMessage], config: GenerateConfig,
                         policy: CachePolicy) -> ModelOutput | None:
    """The inspect path's look into the direct client's journal: the answer a direct call already got, or None.

    Only for OpenAI-compatible models; the caller checks first that the run has a journal (:class:`RecordedModel`,
    which then pays one `stat` per call)."""
    folder = journal_dir()
    if not isinstance(model.api, OpenAICompatibleAPI):
        return None
    wire = _wire_messages(messages)
    if wire is None:
        return None
    _, params = request_params(model, model.api, config)
    journal = CallJournal.at(folder)
    journal.refresh()
    answer = journal.get(direct_key(model.api.base_url, request_body(params, wire), policy))
    return _output(str(model), answer) if answer is not None else None


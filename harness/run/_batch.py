"""Provider batch mode: a guard around inspect's OpenAI batcher so that one failed batch item fails only itself,
and a journal of submitted batches so that a run resumed after a kill collects them instead of paying again.

inspect-ai 0.3.285's `OpenAIBatcher._parse_jsonl_line` turns an error line of a batch's result files into an
exception through `AsyncOpenAI._make_status_error_from_response` on an `httpx` response without a request, which
raises ("The request instance has not been set on this response"). The raise fails the whole batch ("failed
(obtaining results)"), and inspect then sends every request of it again, so the items the provider had already
answered (and billed) are paid twice. :func:`guard_openai_batch_errors` wraps the parser: a failed item becomes an
API status error of that item alone (5xx and unknown codes: retried by inspect, in a later batch), and every
answered item of the batch is kept. `tests/harness/run/test_batch_mode.py` fails without it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import anyio
import httpx2

logger = logging.getLogger(__name__)

_GUARDED = "_theraeval_guarded"
_JOURNALED = "_theraeval_journaled"


def _item_error(client: Any, line: dict[str, Any]) -> Exception:
    """The exception of one failed batch item (OpenAI's `error` object, or a non-200 `response`)."""
    error = line.get("error") or {}
    response = line.get("response") or {}
    body_error = (response.get("body") or {}).get("error") if isinstance(response.get("body"), dict) else None
    code = error.get("code") if error else response.get("status_code")
    message = str(error.get("message") or (body_error or {}).get("message") or "batch item failed")
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    resp = httpx2.Response(status_code=status, text=message,
                           request=httpx2.Request("POST", "https://batch.invalid/v1/chat/completions"))
    try:
        return client._make_status_error_from_response(resp)
    except Exception:  # an SDK without the helper: still this item's own error
        return RuntimeError(f"batch item failed ({code}): {message}")


def guard_openai_batch_errors() -> None:
    """Make a failed OpenAI batch item fail alone (idempotent; see the module docstring)."""
    from inspect_ai.model._providers._openai_batch import OpenAIBatcher

    if getattr(OpenAIBatcher, _GUARDED, False):
        return
    original = OpenAIBatcher._parse_jsonl_line

    def parse(self: Any, line_data: dict[str, Any]) -> tuple[str, Any]:
        failed = line_data.get("error") is not None or (line_data.get("response") or {}).get("status_code", 200) != 200
        if failed and line_data.get("custom_id"):
            return str(line_data["custom_id"]), _item_error(self._openai_client, line_data)
        return original(self, line_data)

    OpenAIBatcher._parse_jsonl_line = parse  # type: ignore[method-assign]
    setattr(OpenAIBatcher, _GUARDED, True)


# --- resume of in-flight batches ------------------------------------------------------------------------------
JOURNAL = "theraeval-batches.jsonl"
"""The batch journal, in the run's cache folder: one line per batch submitted (its id and its requests' keys)."""


def request_key(request: dict[str, Any]) -> str:
    """Identity of a batch request: a hash of its body (per-call headers left out), as the provider receives it."""
    body = {k: v for k, v in request.items() if k != "extra_headers" and type(v).__name__ != "NotGiven"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]


class BatchJournal:
    """Batches this run submitted, so that a process started after a kill collects their results instead of
    sending (and paying for) the same requests again.

    Every submitted batch is appended to ``<cache>/theraeval-batches.jsonl`` (one line, written before the batch's
    requests are waited on). A later process loads it; a request whose key is in a journaled batch waits for
    that batch (polling it as inspect does) and takes its result from the batch's output file. A result already in
    the run's cache never reaches the batcher (inspect looks in the cache first), and a failed, expired or
    cancelled batch item is sent again (it was not answered, so not paid).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where: dict[str, tuple[str, str]] = {}
        """request key -> (batch id, custom id) of every journaled request."""
        self._outputs: dict[str, dict[str, Any] | None] = {}
        self._lock: anyio.Lock | None = None
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:  # a line cut by a kill
                    continue
                for custom_id, key in entry["items"].items():
                    self.where[key] = (entry["batch"], custom_id)

    def record(self, batch_id: str, items: dict[str, str]) -> None:
        """Journal a submitted batch (custom id -> request key); one append, so concurrent workers interleave lines."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"batch": batch_id, "items": items}) + "\n")

    async def result(self, batcher: Any, key: str) -> Any | None:
        """The journaled result of a request (waiting for its batch to finish), or None: send it again."""
        batch_id, custom_id = self.where[key]
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:  # one download per batch, whatever the number of its requests waiting
            if batch_id not in self._outputs:
                self._outputs[batch_id] = await self._collect(batcher, batch_id)
        lines = self._outputs[batch_id]
        if lines is None or custom_id not in lines:
            return None
        _, result = batcher._parse_jsonl_line(lines[custom_id])
        return None if isinstance(result, Exception) else result

    async def _collect(self, batcher: Any, batch_id: str) -> dict[str, Any] | None:
        client = batcher._openai_client
        while True:
            try:
                info = await client.batches.retrieve(batch_id)
            except Exception:  # unknown to the provider (another account, deleted): send again
                logger.warning("batch %s of an earlier process cannot be retrieved; its requests are sent again",
                               batch_id)
                return None
            if info.status in ("failed", "expired", "cancelled"):
                return None
            if info.status == "completed":
                break
            await anyio.sleep(batcher._tick)
        lines: dict[str, Any] = {}
        for file_id in (info.output_file_id, info.error_file_id):
            if file_id:
                for line in (await batcher._download_result_file(file_id)).decode().splitlines():
                    if line.strip():
                        item = json.loads(line)
                        lines[str(item.get("custom_id", ""))] = item
        logger.warning("resumed batch %s of an earlier process: %d results", batch_id, len(lines))
        return lines


_journals: dict[Path, BatchJournal] = {}


def _journal() -> BatchJournal | None:
    """The journal of the run whose cache is in use (`harness.run.use_run_cache`), None outside a run."""
    cache = os.environ.get("INSPECT_CACHE_DIR")
    if not cache:
        return None
    path = Path(cache) / JOURNAL
    if path not in _journals:
        _journals[path] = BatchJournal(path)
    return _journals[path]


def journal_openai_batches() -> None:
    """Journal every OpenAI batch submitted and collect journaled batches on resume (idempotent; `BatchJournal`)."""
    from inspect_ai.model._providers._openai_batch import OpenAIBatcher

    if getattr(OpenAIBatcher, _JOURNALED, False):
        return
    create, generate = OpenAIBatcher._create_batch, OpenAIBatcher.generate_for_request

    async def create_batch(self: Any, batch: list[Any]) -> str:
        batch_id = await create(self, batch)
        journal = _journal()
        if journal is not None:
            journal.record(batch_id, {r.custom_id: request_key(r.request) for r in batch})
        return batch_id

    async def generate_for_request(self: Any, request: dict[str, Any]) -> Any:
        journal = _journal()
        if journal is not None and journal.where:
            key = request_key(request)
            if key in journal.where:
                found = await journal.result(self, key)
                if found is not None:
                    return found
        return await generate(self, request)

    OpenAIBatcher._create_batch = create_batch  # type: ignore[method-assign]
    OpenAIBatcher.generate_for_request = generate_for_request  # type: ignore[method-assign]
    setattr(OpenAIBatcher, _JOURNALED, True)

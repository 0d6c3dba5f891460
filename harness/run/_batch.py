"""Provider batch mode: a guard around inspect's OpenAI batcher so that one failed batch item fails only itself.

inspect-ai 0.3.285's `OpenAIBatcher._parse_jsonl_line` turns an error line of a batch's result files into an
exception through `AsyncOpenAI._make_status_error_from_response` on an `httpx` response without a request, which
raises ("The request instance has not been set on this response"). The raise fails the whole batch ("failed
(obtaining results)"), and inspect then sends every request of it again, so the items the provider had already
answered (and billed) are paid twice. :func:`guard_openai_batch_errors` wraps the parser: a failed item becomes an
API status error of that item alone (5xx and unknown codes: retried by inspect, in a later batch), and every
answered item of the batch is kept. `tests/harness/run/test_batch_mode.py` fails without it.
"""

from __future__ import annotations

from typing import Any

import httpx2

_GUARDED = "_theraeval_guarded"


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

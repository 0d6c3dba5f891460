"""A loopback server of the OpenAI batch endpoints, for batch-mode tests and benchmarks (stdlib only).

Implements what inspect's OpenAI batcher uses: ``POST /v1/files`` (multipart upload of the JSONL requests),
``POST /v1/batches`` (create), ``GET /v1/batches/<id>`` (retrieve: ``in_progress`` until ``delay`` seconds after
creation, then ``completed`` with an output file and, when items failed, an error file) and
``GET /v1/files/<id>/content`` (download), plus ``POST /v1/chat/completions`` for online calls. Replies are those
of :mod:`harness.testing._fake_openai` (a judge that prefers the longer fenced response), usage 10 / 5 tokens.

Faults: the first ``fail_items`` distinct request bodies fail once each (an error-file line with code 500), as a
provider's failed batch item; the retry of such a request succeeds. Every answered item is recorded
(``answered``: the request bodies, in order), every failed one in ``failed``, every batch created in ``batches``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.testing._fake_openai import _reply, serving


def _completion(body: dict[str, Any], n: int) -> dict[str, Any]:
    return {"id": f"chatcmpl-b{n}", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": _reply("judge-longer",
                                                                                          body["messages"])},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


def _key(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True)


class _Handler(BaseHTTPRequestHandler):
    server: FakeBatchServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, payload: dict[str, Any] | bytes, status: int = 200) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(payload, bytes) else
                         "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        srv = self.server
        if self.path.endswith("/files"):
            msg = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + raw)
            content = b""
            for part in msg.iter_parts():  # type: ignore[attr-defined,unused-ignore]
                if part.get_param("name", header="content-disposition") == "file":
                    payload = part.get_payload(decode=True)
                    content = payload if isinstance(payload, bytes) else b""
            with srv.lock:
                fid = f"file-{len(srv.files) + 1}"
                srv.files[fid] = content
            self._send({"id": fid, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                        "filename": "batch.jsonl", "purpose": "batch", "status": "processed"})
        elif self.path.endswith("/batches"):
            body = json.loads(raw)
            with srv.lock:
                bid = f"batch-{len(srv.batches) + 1}"
                srv.batches[bid] = {"id": bid, "object": "batch", "endpoint": body["endpoint"],
                                    "input_file_id": body["input_file_id"],
                                    "completion_window": body["completion_window"], "status": "in_progress",
                                    "created_at": int(time.time()), "_ready_at": time.monotonic() + srv.delay}
                out = _public(srv.batches[bid])
            self._send(out)
        elif self.path.endswith("/chat/completions"):
            body = json.loads(raw)
            with srv.lock:
                srv.online.append(body)
                n = len(srv.online)
            self._send(_completion(body, n))
        else:
            self._send({"error": {"message": f"no route {self.path}"}}, 404)

    def do_GET(self) -> None:
        srv = self.server
        parts = self.path.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] == "batches":
            with srv.lock:
                batch = srv.batches.get(parts[-1])
                if batch is not None and batch["status"] == "in_progress" and time.monotonic() >= batch["_ready_at"]:
                    srv._complete(batch)
                out = _public(batch) if batch is not None else None
            self._send(out if out is not None else {"error": {"message": "no such batch"}}, 200 if out else 404)
        elif parts[-1] == "content" and parts[-2] in srv.files:
            with srv.lock:
                data = srv.files[parts[-2]]
            self._send(data)
        else:
            self._send({"error": {"message": f"no route {self.path}"}}, 404)


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


class FakeBatchServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay: float = 0.5, fail_items: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.fail_items = fail_items
        self.lock = threading.Lock()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.answered: list[dict[str, Any]] = []
        """Request bodies answered in batches (each a paid call)."""
        self.failed: list[dict[str, Any]] = []
        """Request bodies whose batch item failed (not answered, not paid)."""
        self.online: list[dict[str, Any]] = []
        """Request bodies of online chat-completion calls."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def reset(self, delay: float | None = None, fail_items: int | None = None) -> None:
        """Forget every file, batch and call (and set new fault settings): one server serves a whole test session,
        because inspect keeps one provider per model name in a process, bound to the base URL it first saw."""
        with self.lock:
            self.files.clear()
            self.batches.clear()
            self.answered.clear()
            self.failed.clear()
            self.online.clear()
            self.delay = self.delay if delay is None else delay
            self.fail_items = self.fail_items if fail_items is None else fail_items

    def _complete(self, batch: dict[str, Any]) -> None:
        """Answer every item of a batch (under the lock): the output file, and an error file for failed items."""
        ok: list[str] = []
        errors: list[str] = []
        failed_keys = {_key(b) for b in self.failed}
        for line in self.files[batch["input_file_id"]].decode().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            body = item["body"]
            if len(failed_keys) < self.fail_items and _key(body) not in failed_keys:
                failed_keys.add(_key(body))
                self.failed.append(body)
                errors.append(json.dumps({"id": f"r-{item['custom_id']}", "custom_id": item["custom_id"],
                                          "response": None,
                                          "error": {"code": 500, "message": "fake batch item failure"}}))
                continue
            self.answered.append(body)
            ok.append(json.dumps({"id": f"r-{item['custom_id']}", "custom_id": item["custom_id"],
                                  "response": {"status_code": 200, "request_id": "",
                                               "body": _completion(body, len(self.answered))}, "error": None}))
        out_id, err_id = f"file-{len(self.files) + 1}", f"file-{len(self.files) + 2}"
        self.files[out_id] = ("\n".join(ok) + "\n").encode()
        batch.update(status="completed", output_file_id=out_id,
                     request_counts={"total": len(ok) + len(errors), "completed": len(ok), "failed": len(errors)})
        if errors:
            self.files[err_id] = ("\n".join(errors) + "\n").encode()
            batch["error_file_id"] = err_id


@contextmanager
def fake_batch_server(delay: float = 0.5, fail_items: int = 0) -> Iterator[FakeBatchServer]:
    """A running :class:`FakeBatchServer` (batches complete `delay` seconds after creation; the first
    `fail_items` distinct requests fail once)."""
    with serving(FakeBatchServer(delay, fail_items)) as server:
        yield server

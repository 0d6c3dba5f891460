"""A loopback OpenAI-compatible chat-completions server for tests (stdlib only, bounded, deterministic).

Models: `cand-<text>` replies with a fixed therapist text; `judge-longer` returns a JSON verdict preferring the
longer fenced response. Every request is counted (`server.calls`, with the parsed body) so tests can assert
exactly which calls were made, and the last request's `response_format` is kept. `GET /v1/models` lists the
models (what `theraeval validate --check-endpoints` asks); the `Authorization` header of each is kept in
`server.model_list_auth`, and a server made with `api_key=...` answers 401 to any other key.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from scorers import fenced_pair


def _reply(model: str, messages: list[dict[str, Any]]) -> str:
    if model.startswith("cand-"):
        return f"[{model}] That sounds hard. " + "I hear you. " * (3 if model.endswith("long") else 1)
    if model == "judge-longer":
        prompt = str(messages[-1]["content"])
        texts = fenced_pair(prompt)
        if texts is None:
            return "no responses found"
        verdict = "A" if len(texts[0]) > len(texts[1]) else "B" if len(texts[1]) > len(texts[0]) else "tie"
        return json.dumps({"reason": "longer", "verdict": verdict})
    return "unknown model"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/v1/models":
            self.send_error(404)
            return
        auth = self.headers.get("Authorization", "")
        with self.server.lock:
            self.server.model_list_auth.append(auth)
        key = self.server.api_key
        data = json.dumps({"object": "list", "data": [{"id": "cand-x", "object": "model"}]}).encode()
        self.send_response(401 if key is not None and auth != f"Bearer {key}" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.calls.append(body)
        text = _reply(body["model"], body["messages"])
        payload = {
            "id": f"chatcmpl-{len(self.server.calls)}", "object": "chat.completion", "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api_key = api_key
        self.model_list_auth: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


S = TypeVar("S", bound=ThreadingHTTPServer)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """`server` answering in a daemon thread until the block ends (then shut down and closed)."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def fake_openai(api_key: str | None = None) -> Iterator[FakeOpenAI]:
    with serving(FakeOpenAI(api_key)) as server:
        yield server

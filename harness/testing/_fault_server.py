"""A fault-injecting OpenAI-compatible chat-completions server for reliability tests (stdlib, loopback, bounded).

Every request is answered by a pure function of (seed, request body, attempt number), where the attempt number
counts earlier requests with the same body. So a run is reproducible, a retried call can succeed, and two runs of
the same config against fresh servers see exactly the same faults.

Fault kinds:

- transient, drawn per (body, attempt) for models matching ``FaultPlan.transient_models``: ``429`` (with
  ``Retry-After``), ``500``, ``503``, ``hang`` (no answer for ``hang_s`` seconds, then the connection is closed:
  set it above the client's ``attempt_timeout``), ``truncated`` (a 200 whose body stops half-way: the promised
  ``Content-Length`` is never reached) and ``malformed`` (a complete 200 whose body is not JSON). After
  ``max_faults_per_call`` faulty attempts of one body the next attempt always succeeds (bounded retries);
- permanent, drawn per body only (a retry or a re-run gets the same answer; inspect caches an empty reply like any
  other, but never a refusal) for models matching ``FaultPlan.permanent_models``: ``refusal`` (``finish_reason:
  "content_filter"``) and ``empty`` (empty content).

A streamed request cut by ``truncated`` becomes a 503 unless ``FaultPlan.stream_cuts`` is set (see there).

Models: ``cand-<style>`` (a therapist; ``cand-long`` writes more), ``patient`` (a patient simulator that never
ends the conversation) and ``judge-longer`` / ``judge-shorter`` (a JSON verdict preferring the longer / shorter
fenced response; with ``CRITERIA:`` in the prompt one verdict per criterion). A request with ``"stream": true``
is answered as server-sent events, one word per chunk, ``stream_delay_s`` apart (slow streaming).

Point a run at it with ``model = "openai-api/fault/<name>"`` and the environment variables ``FAULT_BASE_URL``
(``server.url``) and ``FAULT_API_KEY`` (any value; ``server.auth`` counts the Authorization headers received).

The log (``server.log``) has one :class:`Call` per request, with its outcome and whether the answer was delivered.
For kill tests, ``trip_at(n)`` freezes the server once ``n`` distinct request bodies have arrived: from then on no
answer is sent until ``release()``; ``release(abort=True)`` closes the frozen connections unanswered (they were
in flight when the client was killed). Everything is bounded: a cap on requests (answered 400 after it), and
every wait has a timeout.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scorers import fenced_pair

TRANSIENT = ("429", "500", "503", "hang", "truncated", "malformed")
PERMANENT = ("refusal", "empty")
MAX_WAIT_S = 60.0
"""Upper bound of any wait inside a handler (frozen answers, hangs)."""


@dataclass(frozen=True)
class FaultPlan:
    """Per-call fault probabilities (transient ones per attempt, permanent ones per request body)."""

    seed: int = 0
    p_429: float = 0.0
    p_500: float = 0.0
    p_503: float = 0.0
    p_hang: float = 0.0
    p_truncated: float = 0.0
    p_malformed: float = 0.0
    p_refusal: float = 0.0
    p_empty: float = 0.0
    hang_s: float = 3.0
    retry_after_s: int = 1
    max_faults_per_call: int = 2
    transient_models: tuple[str, ...] = ("cand-", "patient", "judge-")
    permanent_models: tuple[str, ...] = ("judge-",)
    latency_s: float = 0.0
    """Extra delay before every answer (makes runs long enough to be killed part-way)."""
    stream_delay_s: float = 0.02
    stream_cuts: bool = False
    """Allow `truncated` on streamed requests (the stream stops half-way, without finish_reason or [DONE]).
    Off by default: inspect 0.3.285 accepts such a stream as a complete reply (stop_reason "unknown"), so the
    fault would change results instead of being retried; with it off a streamed `truncated` becomes a 503."""

    @classmethod
    def transient(cls, rate: float, seed: int = 0, **kw: Any) -> FaultPlan:
        """`rate` split over the six transient kinds (429 and 5xx most often, as in production)."""
        return cls(seed=seed, p_429=0.25 * rate, p_500=0.15 * rate, p_503=0.2 * rate, p_hang=0.15 * rate,
                   p_truncated=0.15 * rate, p_malformed=0.1 * rate, **kw)

    def transient_rate(self) -> float:
        return self.p_429 + self.p_500 + self.p_503 + self.p_hang + self.p_truncated + self.p_malformed


@dataclass
class Call:
    """One request as the server saw it."""

    seq: int
    generation: int
    key: str
    model: str
    attempt: int
    fault: str
    """`ok`, a transient kind, a permanent kind, `frozen-aborted` or `over-budget`."""
    t_start: float
    t_end: float = 0.0
    delivered: bool = False
    """The whole answer was written (a 200 with a usable completion, a refusal or an empty reply)."""
    body: dict[str, Any] = field(default_factory=dict, repr=False)


def body_key(body: dict[str, Any]) -> str:
    """Identity of a call: its canonical JSON body (model, messages, settings)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _rng(*parts: object) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16], 16))


def reply_text(model: str, messages: list[dict[str, Any]]) -> str:
    """The fault-free answer of a model to a conversation."""
    turn = sum(1 for m in messages if m.get("role") == "assistant")
    last = str(messages[-1].get("content", "")) if messages else ""
    if model.startswith("cand-"):
        gist = " ".join(last.split()[:5]).rstrip(".,!?").lower()
        more = " It can help to slow down and notice what you feel." * (3 if model.endswith("long") else 0)
        return f"[{model} turn {turn + 1}] That sounds hard: {gist}. I hear you.{more} What feels heaviest now?"
    if model == "patient":
        return f"(patient, reply {turn + 1}) It is mostly at night, when everything goes quiet."
    if model in ("judge-longer", "judge-shorter"):
        pair = fenced_pair(last)
        if pair is None:
            return "no responses found"
        a, b = len(pair[0]), len(pair[1])
        label = "tie" if a == b else ("A" if (a > b) == (model == "judge-longer") else "B")
        crits = re.search(r"^CRITERIA: (.+)$", last, re.M)
        if crits:
            return json.dumps({c.strip(): {"reason": model, "verdict": label} for c in crits.group(1).split(",")})
        return json.dumps({"reason": model, "verdict": label})
    return f"unknown model {model}"


class FaultServer(ThreadingHTTPServer):
    """The server; use :func:`fault_server` to run it in a background thread."""

    daemon_threads = True

    def __init__(self, plan: FaultPlan | None = None, max_requests: int = 5000) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plan = plan or FaultPlan()
        self.max_requests = max_requests
        self.lock = threading.Lock()
        self.log: list[Call] = []
        self.generation = 0
        self.auth: Counter[str] = Counter()
        self._attempts: Counter[str] = Counter()
        self._trip_at: int | None = None
        self.tripped = threading.Event()
        self._released = threading.Event()
        self._released.set()
        self._abort_frozen = False
        self.closing = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def reset(self, plan: FaultPlan | None = None) -> None:
        """Forget every call (a fresh server at the same address), optionally with a new plan."""
        with self.lock:
            self.log.clear()
            self._attempts.clear()
            self.auth.clear()
            self.generation = 0
            if plan is not None:
                self.plan = plan

    # -- kill support -------------------------------------------------------------------------------------
    def trip_at(self, distinct: int) -> None:
        """Freeze all answers once `distinct` different request bodies have arrived."""
        with self.lock:
            self._trip_at = distinct
            self.tripped.clear()
            self._released.clear()
            self._abort_frozen = False
            self._check_trip()

    def release(self, abort: bool) -> None:
        """Unfreeze; with `abort`, the frozen requests are closed unanswered."""
        with self.lock:
            self._trip_at = None
            self._abort_frozen = abort
            self._released.set()

    def _check_trip(self) -> None:
        if self._trip_at is not None and len({c.key for c in self.log}) >= self._trip_at:
            self.tripped.set()

    # -- queries --------------------------------------------------------------------------------------------
    def calls(self, generation: int | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.log if generation is None or c.generation == generation]

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait (bounded) until every request received so far has been answered or dropped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(c.t_end for c in self.log):
                    return True
            time.sleep(0.05)
        return False

    def distinct(self) -> set[str]:
        return {c.key for c in self.calls()}

    def fault_counts(self) -> Counter[str]:
        return Counter(c.fault for c in self.calls())

    # -- the schedule ---------------------------------------------------------------------------------------
    def decide(self, model: str, key: str, attempt: int) -> str:
        p = self.plan
        if any(model.startswith(m) for m in p.permanent_models):
            u = _rng(p.seed, "permanent", key).random()
            if u < p.p_refusal:
                return "refusal"
            if u < p.p_refusal + p.p_empty:
                return "empty"
        if attempt < p.max_faults_per_call and any(model.startswith(m) for m in p.transient_models):
            u = _rng(p.seed, "transient", key, attempt).random()
            acc = 0.0
            for kind, prob in zip(TRANSIENT, (p.p_429, p.p_500, p.p_503, p.p_hang, p.p_truncated, p.p_malformed),
                                  strict=True):
                acc += prob
                if u < acc:
                    return kind
        return "ok"


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in
                                                      ("cand-short", "cand-long", "patient", "judge-longer")]})

    def do_POST(self) -> None:
        srv = self.server
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            body = json.loads(raw)
        except ValueError:
            self._json(400, {"error": {"message": "request body is not JSON", "type": "invalid_request_error"}})
            return
        key, model = body_key(body), str(body.get("model", ""))
        with srv.lock:
            attempt = srv._attempts[key]
            srv._attempts[key] += 1
            over = len(srv.log) >= srv.max_requests
            fault = "over-budget" if over else srv.decide(model, key, attempt)
            if fault == "truncated" and body.get("stream") and not srv.plan.stream_cuts:
                fault = "503"
            call = Call(len(srv.log), srv.generation, key, model, attempt, fault, time.monotonic(), body=body)
            srv.log.append(call)
            srv.auth[self.headers.get("Authorization", "")] += 1
            srv._check_trip()
        try:
            self._answer(call, body)
        finally:
            call.t_end = time.monotonic()

    def _frozen(self) -> bool:
        """Wait while the server is frozen; True when this request must be dropped unanswered."""
        srv = self.server
        if srv.tripped.is_set() and not srv._released.is_set():
            srv._released.wait(MAX_WAIT_S)
            return srv._abort_frozen
        return False

    def _answer(self, call: Call, body: dict[str, Any]) -> None:
        srv, plan = self.server, self.server.plan
        if call.fault == "over-budget":
            self._json(400, {"error": {"message": "fault server request budget exhausted", "type": "invalid"}})
            return
        if plan.latency_s:
            srv.closing.wait(plan.latency_s)
        if self._frozen():
            call.fault = "frozen-aborted"
            self.close_connection = True
            return
        if call.fault == "hang":
            srv.closing.wait(min(plan.hang_s, MAX_WAIT_S))
            self.close_connection = True
            return
        if call.fault == "429":
            self._json(429, {"error": {"message": "rate limited (injected)", "type": "rate_limit_error"}},
                       {"Retry-After": str(plan.retry_after_s)})
            return
        if call.fault in ("500", "503"):
            self._json(int(call.fault), {"error": {"message": f"injected {call.fault}", "type": "server_error"}})
            return
        text = reply_text(str(body.get("model", "")), list(body.get("messages", [])))
        finish = "stop"
        if call.fault == "refusal":
            text, finish = "I'm sorry, but I can't help with that request.", "content_filter"
        elif call.fault == "empty":
            text = ""
        if body.get("stream"):
            call.delivered = self._stream(call, text, finish)
            return
        payload = json.dumps(self._completion(call, text, finish)).encode()
        if call.fault == "truncated":
            self._raw(200, payload[: len(payload) // 2], len(payload))
            return
        if call.fault == "malformed":
            payload = b'{"id": "chatcmpl-broken", "choices": [{"index": 0, "message": {"role": "assis'
            payload += b" " * 8 + b"<html>upstream proxy error</html>"
        call.delivered = self._raw(200, payload, len(payload)) and call.fault != "malformed"

    @staticmethod
    def _completion(call: Call, text: str, finish: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{call.seq}", "object": "chat.completion", "created": 0, "model": call.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    def _stream(self, call: Call, text: str, finish: str) -> bool:
        delay = self.server.plan.stream_delay_s
        words = text.split(" ") if text else [""]
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for i, w in enumerate(words):
                if call.fault in ("truncated", "malformed") and i == len(words) // 2:
                    # the stream stops half-way: no finish_reason, no [DONE] (malformed: a broken event first)
                    if call.fault == "malformed":
                        self.wfile.write(b'data: {"id": "chatcmpl-broken", "choices": [{"delta": {"cont\n\n')
                        self.wfile.flush()
                    self.close_connection = True
                    return False
                chunk = {"id": f"chatcmpl-{call.seq}", "object": "chat.completion.chunk", "created": 0,
                         "model": call.model, "choices": [{"index": 0, "delta": {
                             "role": "assistant", "content": (w if i == 0 else " " + w)}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                if delay:
                    self.server.closing.wait(delay)
            end = {"id": f"chatcmpl-{call.seq}", "object": "chat.completion.chunk", "created": 0, "model": call.model,
                   "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
                   "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()
            self.close_connection = True
            return True
        except OSError:
            return False

    def _raw(self, status: int, data: bytes, length: int, headers: dict[str, str] | None = None) -> bool:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            self.close_connection = True
            return len(data) == length
        except OSError:
            return False

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._raw(status, data, len(data), headers)


@contextmanager
def fault_server(plan: FaultPlan | None = None, max_requests: int = 5000) -> Iterator[FaultServer]:
    """Run a :class:`FaultServer` on 127.0.0.1 (a free port) for the duration of the block."""
    server = FaultServer(plan, max_requests)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.closing.set()
        server.release(abort=True)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

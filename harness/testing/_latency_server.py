"""A loopback OpenAI-compatible server with a fixed latency, for the benchmarks (aiohttp, 127.0.0.1 only).

It runs in a subprocess (`bench_server()`), so the harness under test and the server do not share a GIL or
an event loop: on a 2-core machine each gets a core, and a request costs the server well under a millisecond
next to its `latency` of sleeping (an `asyncio.sleep`, so thousands of requests can wait at once).

Models (`openai-api/bench/<model>` with `BENCH_BASE_URL`, `BENCH_API_KEY`):

- `cand-<name>`: a deterministic therapist reply, `(<name>) ` and 1-6 sentences (how many depends on `<name>`
  only), so two candidates never write the same text and the `judge` below has a consistent preference;
- `patient`: a short patient follow-up;
- `judge`: the single-criterion JSON verdict `{"reason", "verdict"}` preferring the longer fenced response
  (tie when equal); for an all-criteria prompt (a `CRITERIA: a, b, ...` line) one JSON object keyed by
  criterion id. Reasons are about 20 words, like a real judge's short rationale.

Counted per model: calls, prompt and completion tokens (a regex word/punctuation count of the message
contents and of the reply: an approximation of a BPE count, the same for every variant compared), the peak
number of requests in flight and the first-arrival / last-reply times (monotonic clock of the server).

Control: `GET /stats`, `POST /reset`, `POST /config {"latency": s}`. The server exits on its own when its
parent process dies, after `--idle-exit` seconds without a request, or after `--max-requests` requests.

    python harness/testing/_latency_server.py --latency 0.2      # prints "PORT <n>" then serves
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCES = (
    "That sounds really hard, and it makes sense that you feel this way.",
    "Thank you for telling me about it.",
    "It seems like this has been weighing on you for a while.",
    "What feels most heavy about it right now?",
    "You do not have to carry this on your own.",
    "If you ever feel unsafe, please call your local emergency number or a crisis line.",
)
_REASON = ("Response {w} acknowledges the feeling more directly, reflects the situation back and invites the "
           "person to say more, which the other response does not do.")
_BLOCK = re.compile(r"<<<(?:RESPONSE|CONVERSATION)_([AB]) (\w+)>>>\n(.*?)\n<<<END_(?:RESPONSE|CONVERSATION)_\1 \2>>>",
                    re.S)


def count_tokens(text: str) -> int:
    """Approximate tokens: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def _h(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8], 16)


def _content(message: dict[str, Any]) -> str:
    c = message.get("content")
    if isinstance(c, list):
        return " ".join(str(p.get("text", "")) for p in c if isinstance(p, dict))
    return str(c or "")


def reply(model: str, messages: list[dict[str, Any]]) -> str:
    """The deterministic reply of `model` to `messages`."""
    last = _content(messages[-1]) if messages else ""
    if model.startswith("cand-"):
        n = 1 + _h(model) % len(_SENTENCES)
        start = _h(model, last) % len(_SENTENCES)
        return f"({model[5:]}) " + " ".join(_SENTENCES[(start + k) % len(_SENTENCES)] for k in range(n))
    if model == "patient":
        return "I guess so. It has been hard to talk about it with anyone. Maybe I could try that."
    if model == "judge":
        texts = {m.group(1): m.group(3) for m in _BLOCK.finditer(last)}
        if len(texts) != 2:
            return "I cannot find two responses to compare."
        la, lb = len(texts["A"]), len(texts["B"])
        verdict = "A" if la > lb else "B" if lb > la else "tie"
        one = {"reason": _REASON.format(w=verdict if verdict != "tie" else "A"), "verdict": verdict}
        crit = re.search(r"^CRITERIA: (.+)$", last, re.M)
        if crit:
            return json.dumps({c.strip(): one for c in crit.group(1).split(",")})
        return json.dumps(one)
    return "unknown model"


@dataclass
class Stats:
    calls: dict[str, int] = field(default_factory=dict)
    prompt_tokens: dict[str, int] = field(default_factory=dict)
    completion_tokens: dict[str, int] = field(default_factory=dict)
    inflight: int = 0
    peak_inflight: int = 0
    first_start: float | None = None
    last_end: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), "prompt_tokens": dict(self.prompt_tokens),
                "completion_tokens": dict(self.completion_tokens), "total_calls": sum(self.calls.values()),
                "peak_inflight": self.peak_inflight, "first_start": self.first_start, "last_end": self.last_end}


async def _serve(latency: float, idle_exit: float, max_requests: int) -> None:
    from aiohttp import web

    stats = Stats()
    state: dict[str, Any] = {"latency": latency, "last": time.monotonic(), "served": 0}
    parent = os.getppid()

    async def chat(request: web.Request) -> web.Response:
        state["last"] = time.monotonic()
        state["served"] += 1
        if state["served"] > max_requests:
            return web.json_response({"error": {"message": "max requests reached"}}, status=503)
        body = await request.json()
        model = str(body.get("model", ""))
        stats.inflight += 1
        stats.peak_inflight = max(stats.peak_inflight, stats.inflight)
        if stats.first_start is None:
            stats.first_start = time.monotonic()
        try:
            await asyncio.sleep(state["latency"])
            messages = body.get("messages", [])
            text = reply(model, messages)
            p_tok = sum(count_tokens(_content(m)) for m in messages)
            c_tok = count_tokens(text)
            stats.calls[model] = stats.calls.get(model, 0) + 1
            stats.prompt_tokens[model] = stats.prompt_tokens.get(model, 0) + p_tok
            stats.completion_tokens[model] = stats.completion_tokens.get(model, 0) + c_tok
            payload = {
                "id": f"chatcmpl-{state['served']}", "object": "chat.completion", "created": 0, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": p_tok, "completion_tokens": c_tok, "total_tokens": p_tok + c_tok},
            }
            return web.json_response(payload)
        finally:
            stats.inflight -= 1
            stats.last_end = time.monotonic()

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": []})

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats.as_dict())

    async def reset(request: web.Request) -> web.Response:
        nonlocal stats
        inflight = stats.inflight
        stats = Stats(inflight=inflight)
        return web.json_response({"ok": True})

    async def config(request: web.Request) -> web.Response:
        body = await request.json()
        if "latency" in body:
            state["latency"] = float(body["latency"])
        return web.json_response({"latency": state["latency"]})

    app = web.Application(client_max_size=64 * 1024**2)
    app.add_routes([web.post("/v1/chat/completions", chat), web.get("/v1/models", models),
                    web.get("/stats", get_stats), web.post("/reset", reset), web.post("/config", config)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
    await site.start()
    port = runner.addresses[0][1]
    print(f"PORT {port}", flush=True)
    while True:  # bounded: parent gone, idle too long, or request budget spent
        await asyncio.sleep(0.5)
        if os.getppid() != parent or time.monotonic() - state["last"] > idle_exit:
            break
        if state["served"] > max_requests and stats.inflight == 0:
            break
    await runner.cleanup()


class BenchServer:
    """Client side of a running server: its URL plus the control calls."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            out: dict[str, Any] = json.loads(r.read())
            return out

    def stats(self) -> dict[str, Any]:
        return self._call("/stats")

    def reset(self) -> None:
        self._call("/reset", {})

    def set_latency(self, seconds: float) -> None:
        self._call("/config", {"latency": seconds})


@contextmanager
def bench_server(latency: float = 0.2, *, env_prefix: str = "BENCH", idle_exit: float = 900.0,
                 max_requests: int = 200_000) -> Iterator[BenchServer]:
    """Start the server in a subprocess and point `openai-api/<prefix lower>/...` at it (environment)."""
    proc = subprocess.Popen([sys.executable, __file__, "--latency", str(latency), "--idle-exit", str(idle_exit),
                             "--max-requests", str(max_requests)], stdout=subprocess.PIPE, text=True)
    saved = {k: os.environ.get(k) for k in (f"{env_prefix}_BASE_URL", f"{env_prefix}_API_KEY")}
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("PORT "):
            raise RuntimeError(f"fake server did not start: {line!r}")
        server = BenchServer(proc, int(line.split()[1]))
        os.environ[f"{env_prefix}_BASE_URL"] = server.url
        os.environ.setdefault(f"{env_prefix}_API_KEY", "sk-bench-not-a-secret")
        yield server
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.2, help="seconds each chat completion takes")
    ap.add_argument("--idle-exit", type=float, default=900.0, help="exit after this many idle seconds")
    ap.add_argument("--max-requests", type=int, default=200_000, help="answer 503 and exit after this many")
    args = ap.parse_args()
    asyncio.run(_serve(args.latency, args.idle_exit, args.max_requests))


if __name__ == "__main__":
    main()

"""The benchmarks' loopback server: concurrent, counted, and its judge replies parse (no timings asserted)."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from harness.testing import bench_server, count_tokens, reply
from scorers import parse_all_criteria, parse_verdict

PAIR = ("<<<RESPONSE_A n1>>>\nThat sounds hard. Tell me more about it.\n<<<END_RESPONSE_A n1>>>\n\n"
        "<<<RESPONSE_B n1>>>\nOk.\n<<<END_RESPONSE_B n1>>>")


def test_judge_replies_parse_per_criterion_and_all_criteria() -> None:
    one = parse_verdict(reply("judge", [{"role": "user", "content": PAIR}]))
    assert one.label == "A" and one.unscored_reason == ""
    swapped = PAIR.replace("RESPONSE_A", "X").replace("RESPONSE_B", "RESPONSE_A").replace("X", "RESPONSE_B")
    assert parse_verdict(reply("judge", [{"role": "user", "content": swapped}])).label == "B"
    text = reply("judge", [{"role": "user", "content": PAIR + "\n\nCRITERIA: empathy, safety\nReply..."}])
    parsed = parse_all_criteria(text, ["empathy", "safety"])
    assert {c: p.label for c, p in parsed.items()} == {"empathy": "A", "safety": "A"}
    assert reply("cand-x", [{"role": "user", "content": "hi"}]) == reply("cand-x", [{"role": "user", "content": "hi"}])
    assert count_tokens("Hello, world!") == 4


def test_server_counts_calls_tokens_and_concurrency() -> None:
    with bench_server(latency=0.2, env_prefix="PERFTEST") as server:
        body = json.dumps({"model": "judge", "messages": [{"role": "user", "content": PAIR}]}).encode()

        def call(_: int) -> dict[str, object]:
            req = urllib.request.Request(f"{server.url}/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                out: dict[str, object] = json.loads(r.read())
                return out

        with ThreadPoolExecutor(max_workers=12) as pool:
            replies = list(pool.map(call, range(12)))
        st = server.stats()
        assert st["calls"] == {"judge": 12}
        assert st["prompt_tokens"]["judge"] == 12 * count_tokens(PAIR)
        assert all(r["usage"]["prompt_tokens"] == count_tokens(PAIR) for r in replies)  # type: ignore[index]
        assert 1 <= st["peak_inflight"] <= 12  # requests overlap at the server (how many depends on the machine)
        server.reset()
        assert server.stats()["total_calls"] == 0

"""Judge throughput vs the physical limit: stage 2 against a server with a fixed latency.

A judge call takes `latency` seconds at the server, so N calls over C connections take at least
N * latency / C seconds (the ideal). We run the real stage-2 path (`harness.run.stage2`: pairwise tasks
through `eval_set`, the judge on `openai-api/bench/judge`, `[run] max_connections = C`, the run's call cache
on) on one candidate pair and report achieved/ideal = ideal / wall for each C, measured two ways:

- `wall`: the whole `stage2()` call (input snapshot, reading the stage-1 logs, task set-up, logging, index);
- `span`: first request arrival to last reply at the server (the judging itself).

`--workers` runs stage 2 in that many processes (`[run] workers`, `harness.run._workers`), `--realtime-off` adds
runs with `[run] log_realtime = false`, `--client` picks the judge client(s) (`[judge] client`: `inspect`, the
default, or `direct`, `harness.run._direct_judge`).

The paper code's pattern (one call at a time, then `time.sleep(0.3)`) is measured on the same server as
the baseline, with its own ideal (one connection: N * latency).

    python benchmarks/judge_throughput.py       # C = 8, 32, 128 x workers 1, 4; ~6 s of ideal time each
    python benchmarks/judge_throughput.py --connections 32 --workers 1 2 4 --realtime-off --ideal-seconds 20
    python benchmarks/judge_throughput.py --connections 32 128 --workers 1 2 --client inspect direct --realtime-off-only
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

from _bench import THERAPEUTIC, cpu_seconds, header, server_cpu_seconds, timed, write_config, write_scenarios

from harness.testing import bench_server


def paper_baseline(url: str, n: int, sleep: float) -> float:
    """Wall seconds of n sequential judge calls with the openai client, each followed by time.sleep(sleep)."""
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="sk-bench-not-a-secret", max_retries=0)
    prompt = ("<<<RESPONSE_A x>>>\nThat sounds hard.\n<<<END_RESPONSE_A x>>>\n\n"
              "<<<RESPONSE_B x>>>\nOk.\n<<<END_RESPONSE_B x>>>")
    start = time.perf_counter()
    for _ in range(n):
        client.chat.completions.create(model="judge", messages=[{"role": "user", "content": prompt}],
                                       temperature=0.0)
        time.sleep(sleep)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4],
                    help="stage-2 worker processes ([run] workers) to measure at each C")
    ap.add_argument("--realtime-off", action="store_true",
                    help="also measure each (C, workers) with [run] log_realtime = false")
    ap.add_argument("--realtime-off-only", action="store_true",
                    help="measure with [run] log_realtime = false only (stage 2's default when unset)")
    ap.add_argument("--client", nargs="+", default=["inspect"], choices=["inspect", "direct"],
                    help="[judge] client(s) to measure at each (C, workers)")
    ap.add_argument("--latency", type=float, default=0.2, help="server seconds per call")
    ap.add_argument("--ideal-seconds", type=float, default=6.0,
                    help="size each run so its ideal time is about this (N ~ ideal * C / latency)")
    ap.add_argument("--criteria", type=int, default=7, help="criteria judged (x2 orders = calls per sample)")
    ap.add_argument("--baseline-calls", type=int, default=12, help="calls of the sequential baseline")
    ap.add_argument("--baseline-sleep", type=float, default=0.3)
    args = ap.parse_args()
    header("judge throughput vs N*latency/C")

    from harness.run import plan_run, stage1, stage2

    criteria = THERAPEUTIC[: args.criteria]
    per_sample = 2 * len(criteria)
    rows = []
    runs = [(c, w, rt, client) for c in args.connections for w in args.workers if w <= c
            for rt in ((False,) if args.realtime_off_only else (True, False) if args.realtime_off else (True,))
            for client in args.client]
    with tempfile.TemporaryDirectory(prefix="bench-tp-") as tmp, bench_server(latency=0.0) as server:
        t = Path(tmp)
        for i, (c, w, realtime, client) in enumerate(runs):
            samples = max(1, math.ceil(args.ideal_seconds * c / args.latency / per_sample))
            scen = write_scenarios(t / f"scen-{c}.jsonl", samples)
            cfg = write_config(t / f"r{i}.toml", name=f"r{i}", output_dir=t / "runs", scenarios=scen,
                               candidates={"a": "openai-api/bench/cand-a", "b": "openai-api/bench/cand-bb"},
                               criteria=criteria, max_connections=c,
                               extra_run=f"workers = {w}\nlog_realtime = {str(realtime).lower()}\n",
                               extra_judge=f'client = "{client}"\n')
            plan = plan_run(cfg)
            server.set_latency(0.0)
            stage1(plan, display="none")  # dialogues at zero latency: not measured
            server.set_latency(args.latency)
            server.reset()
            cpu0, scpu0 = cpu_seconds(), server_cpu_seconds(server.proc.pid)
            t_start = time.monotonic()  # the server stamps requests with the same system-wide clock
            with timed() as wall:
                stage2(plan, display="none")
            t_end = time.monotonic()
            cpu, scpu = cpu_seconds() - cpu0, server_cpu_seconds(server.proc.pid) - scpu0
            st = server.stats()
            n = st["calls"].get("judge", 0)
            assert n == samples * per_sample, (n, samples * per_sample)
            ideal = n * args.latency / c
            span = st["last_end"] - st["first_start"]
            variant = f"{client}, workers {w}" + ("" if realtime else ", log_realtime off")
            rows.append((c, variant, n, ideal, wall[0], span, st["peak_inflight"], cpu, scpu))
            print(f"C={c:>4} {variant}: {n} calls, ideal {ideal:.2f} s, stage2 wall {wall[0]:.2f} s (achieved/ideal "
                  f"{ideal / wall[0]:.2f}), server span {span:.2f} s (achieved/ideal {ideal / span:.2f}), peak in "
                  f"flight {st['peak_inflight']}, harness CPU {1000 * cpu / n:.1f} ms/call, server CPU "
                  f"{1000 * scpu / n:.1f} ms/call; {st['first_start'] - t_start:.2f} s before the first request, "
                  f"{t_end - st['last_end']:.2f} s after the last reply", flush=True)
        server.set_latency(args.latency)
        base = paper_baseline(server.url, args.baseline_calls, args.baseline_sleep)

    print()
    print("| C | variant | judge calls | ideal N·L/C | stage2 wall | achieved/ideal (wall) | server span | "
          "achieved/ideal (span) | peak in flight | harness CPU per call | CPU (cores) over the wall | "
          "server CPU per call | cores the ideal rate needs (harness + server) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c, variant, n, ideal, w, span, peak, cpu, scpu in rows:
        need = (cpu + scpu) / ideal  # CPU seconds of both processes spread over the ideal time
        print(f"| {c} | {variant} | {n} | {ideal:.2f} s | {w:.2f} s | {ideal / w:.2f} | {span:.2f} s "
              f"| **{ideal / span:.2f}** | {peak} | {1000 * cpu / n:.1f} ms | {cpu / w:.2f} "
              f"| {1000 * scpu / n:.1f} ms | {need:.2f} of {os.cpu_count()} |")
    print("(harness CPU: this process plus its finished worker processes; one event loop runs out of CPU near "
          "1 / (CPU per call) calls/s, and every call holds its connection while it waits for the loop; the "
          "loopback server shares the machine: reaching the ideal rate needs the last column's cores free)")
    per_call = base / args.baseline_calls
    print(f"\npaper pattern (sequential + sleep {args.baseline_sleep} s): {args.baseline_calls} calls in {base:.2f} s "
          f"= {per_call:.3f} s/call; achieved/ideal vs 1 connection {args.latency / per_call:.2f}")
    for c, v, n, _ideal, w, _span, _peak, _cpu, _scpu in rows:
        print(f"  stage 2 at C={c}, {v}: {n / w:.1f} calls/s = {per_call * n / w:.1f}x the paper "
              f"pattern's {1 / per_call:.2f} calls/s")


if __name__ == "__main__":
    main()

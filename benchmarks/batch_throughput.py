"""Batch mode vs online judging: calls/s and the harness's CPU per judge call, measured in one run.

Stage 2 (`harness.run.stage2`, one candidate pair, `--criteria` x 2 orders per sample) twice on the same stage-1
dialogues: online (judge `openai-api/bench/judge` on the loopback latency server, `max_connections = C`) and in
provider batch mode (judge `openai/gpt-4o-mini` with `batch = {...}` through inspect's OpenAI batcher, on a loopback
server of the OpenAI batch endpoints in its own process: files upload, batch create / retrieve, output file; each
batch completes `--batch-delay` seconds after creation). Harness CPU is this process's (the servers run in their
own processes). A real provider's batch takes minutes to hours, so batch mode's calls/s here is the harness's
ceiling, not a provider's.

    python benchmarks/batch_throughput.py --samples 300
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
from pathlib import Path
from typing import Any

from _bench import THERAPEUTIC, cpu_seconds, header, timed, write_config, write_scenarios

from harness.testing import bench_server


def _serve(delay: float, conn: Any) -> None:
    import time

    from harness.testing import fake_batch_server

    with fake_batch_server(delay=delay) as srv:
        conn.send(srv.url)
        while True:
            time.sleep(3600)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--criteria", type=int, default=7)
    ap.add_argument("--connections", type=int, default=32, help="online: max_connections")
    ap.add_argument("--latency", type=float, default=0.2, help="online: server seconds per call")
    ap.add_argument("--batch-delay", type=float, default=2.0, help="batch: seconds until a batch completes")
    ap.add_argument("--batch-size", type=int, default=1000)
    args = ap.parse_args()
    header("batch mode vs online: calls/s and harness CPU per judge call")

    from harness.run import plan_run, stage1, stage2

    criteria = THERAPEUTIC[: args.criteria]
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_serve, args=(args.batch_delay, child), daemon=True)
    proc.start()
    os.environ["OPENAI_BASE_URL"] = parent.recv()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-secret")
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp, bench_server(latency=0.0) as server:
            t = Path(tmp)
            scen = write_scenarios(t / "scen.jsonl", args.samples)
            batch = (f"\nbatch = {{ size = {args.batch_size}, send_delay = 0.5, tick = 0.25 }}\n")
            for mode, judge in (("online", "openai-api/bench/judge"), ("batch", "openai/gpt-4o-mini")):
                cfg = write_config(t / f"{mode}.toml", name=mode, output_dir=t / "runs", scenarios=scen,
                                   candidates={"a": "openai-api/bench/cand-a", "b": "openai-api/bench/cand-bb"},
                                   criteria=criteria, max_connections=args.connections, judge=judge)
                if mode == "batch":
                    cfg.write_text(cfg.read_text().replace('granularity = "per_criterion"\n',
                                                           'granularity = "per_criterion"\n' + batch))
                plan = plan_run(cfg)
                server.set_latency(0.0)
                stage1(plan, display="none")
                server.set_latency(args.latency)
                server.reset()
                cpu0 = cpu_seconds(children=False)
                with timed() as wall:
                    stage2(plan, display="none")
                cpu = cpu_seconds(children=False) - cpu0
                n = args.samples * 2 * len(criteria)
                if mode == "online":
                    assert server.stats()["calls"].get("judge", 0) == n
                rows.append((mode, n, wall[0], cpu))
                print(f"{mode}: {n} judge calls in {wall[0]:.1f} s = {n / wall[0]:.1f} calls/s, harness CPU "
                      f"{1000 * cpu / n:.1f} ms/call", flush=True)
    finally:
        proc.kill()
    print()
    print("| mode | judge calls | stage-2 wall | calls/s | harness CPU per call |")
    print("|---|---|---|---|---|")
    for mode, n, w, cpu in rows:
        print(f"| {mode} | {n} | {w:.1f} s | {n / w:.1f} | {1000 * cpu / n:.1f} ms |")
    (_, n0, w0, c0), (_, n1, w1, c1) = rows
    print(f"batch / online: CPU per call {c1 / n1 / (c0 / n0):.2f}x, calls/s {(n1 / w1) / (n0 / w0):.2f}x")


if __name__ == "__main__":
    main()

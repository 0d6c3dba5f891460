"""Whole-pipeline scaling: wall time of `theraeval run` vs candidates, scenarios and criteria.

Each point is a fresh `theraeval run <config>` (stage 1 + stage 2 + verdicts + summary, `harness.cli.main`),
varying one factor at a time around a base point. Models are the scripted provider (`scripted/...`: no
latency, so the time is the harness's own cost) or, with `--provider server`, the loopback OpenAI-compatible
server with `--latency` seconds per call. For every point the model calls actually made are counted
(scripted call log / server) and compared with `theraeval run --dry-run`.

Printed: the measured grid, the log-log slope of wall time per factor (1 = linear; candidates enter stage 2
through K(K-1)/2 pairs, so their slope tends to 2 as judging dominates), and a least-squares fit
`wall = a + b x logs + c x samples + d x calls` over all points (logs = one per candidate and per pair),
from which a run's time can be planned; with real models add about `calls x latency / max_connections`
when that is larger than the harness's own per-call cost (benchmarks/judge_throughput.py).

    python benchmarks/pipeline_scaling.py                                  # scripted, 3 x 4 points
    python benchmarks/pipeline_scaling.py --provider server --latency 0.2 --connections 32
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from _bench import THERAPEUTIC, header, timed, write_config, write_scenarios

from harness.testing import BenchServer, bench_server

SCRIPTED = ("therapist-warm", "therapist-terse", "therapist-verbose", "therapist-dismissive", "therapist-crisis",
            "therapist-inject", "therapist-warm", "therapist-terse")


def dry_counts(cfg: Path) -> int:
    from harness.run import dry_run, plan_run

    text = dry_run(plan_run(cfg))
    return sum(int(x) for x in re.findall(r"<= (\d+) \w+ calls", text))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--provider", choices=["scripted", "server"], default="scripted")
    ap.add_argument("--latency", type=float, default=0.2, help="server seconds per call (--provider server)")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--turns", type=int, default=1)
    ap.add_argument("--base", type=int, nargs=3, default=[3, 8, 3], metavar=("K", "S", "C"),
                    help="base point: candidates, scenarios, criteria")
    ap.add_argument("--candidates", type=int, nargs="+", default=[2, 3, 4, 6])
    ap.add_argument("--scenarios", type=int, nargs="+", default=[4, 8, 16, 32])
    ap.add_argument("--criteria", type=int, nargs="+", default=[1, 2, 4, 7])
    args = ap.parse_args()
    header(f"pipeline scaling ({args.provider})")
    from harness.cli import main as cli_main

    k0, s0, c0 = args.base
    points = ([("candidates", k, s0, c0) for k in args.candidates] + [("scenarios", k0, s, c0) for s in args.scenarios]
              + [("criteria", k0, s0, c) for c in args.criteria])
    rows: list[tuple[str, int, int, int, int, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp, contextlib.ExitStack() as stack:
        t = Path(tmp)
        server: BenchServer | None = None
        if args.provider == "server":
            server = stack.enter_context(bench_server(latency=args.latency))
        log = t / "calls.jsonl"
        os.environ["THERAEVAL_SCRIPTED_CALL_LOG"] = str(log)
        for i, (factor, k, s, c) in enumerate([("warm-up", k0, s0, c0), *points]):  # warm-up: imports, caches
            scen = write_scenarios(t / f"scen-{s}.jsonl", s)
            if args.provider == "scripted":
                cands = {f"c{j}": f"scripted/{SCRIPTED[j % len(SCRIPTED)]}" for j in range(k)}
                judge, patient = "scripted/judge-longer", "scripted/patient"
            else:
                cands = {f"c{j}": f"openai-api/bench/cand-{j}" for j in range(k)}
                judge, patient = "openai-api/bench/judge", "openai-api/bench/patient"
            cfg = write_config(t / f"p{i}.toml", name=f"p{i}", output_dir=t / "runs", scenarios=scen,
                               candidates=cands, judge=judge, criteria=THERAPEUTIC[:c], turns=args.turns,
                               patient=patient if args.turns > 1 else None, max_connections=args.connections)
            planned = dry_counts(cfg)
            log.write_text("")
            if server is not None:
                server.reset()
            out = io.StringIO()
            with timed() as wall, contextlib.redirect_stdout(out):
                code = cli_main(["run", str(cfg), "--display", "none"])
            if code != 0:
                raise SystemExit(f"run failed:\n{out.getvalue()}")
            made = (len(log.read_text().splitlines()) if server is None else server.stats()["total_calls"])
            if factor == "warm-up":
                continue
            rows.append((factor, k, s, c, planned, made, wall[0]))
            print(f"{factor:>10}: K={k} S={s} criteria={c}: {made} calls (dry-run {planned}), {wall[0]:.2f} s",
                  flush=True)
        os.environ.pop("THERAEVAL_SCRIPTED_CALL_LOG", None)

    print(f"\n{args.provider}" + (f", latency {args.latency} s" if server else "")
          + f", max_connections {args.connections}, {args.turns} turn(s), both orders, persona mode\n")
    print("| varied | candidates | scenarios | criteria | dry-run calls | calls made | wall |")
    print("|---|---|---|---|---|---|---|")
    for factor, k, s, c, planned, made, w in rows:
        print(f"| {factor} | {k} | {s} | {c} | {planned} | {made} | {w:.2f} s |")
    print()
    for factor, col in (("candidates", 1), ("scenarios", 2), ("criteria", 3)):
        sub = [r for r in rows if r[0] == factor]
        x = np.log([float(r[col]) for r in sub])
        y = np.log([r[6] for r in sub])
        slope = float(np.polyfit(x, y, 1)[0])
        calls = float(np.polyfit(x, np.log([float(r[5]) for r in sub]), 1)[0])
        print(f"log-log slope of wall time vs {factor}: {slope:.2f} (of model calls: {calls:.2f})")
    # wall = a + b x logs + c x samples + d x calls (logs: K stage-1 + K(K-1)/2 stage-2; samples likewise)
    feats = []
    for _f, k, s, _c, _p, made, _w in rows:
        pairs = k * (k - 1) // 2
        feats.append([1.0, k + pairs, k * s + pairs * s, made])
    x_mat, walls = np.array(feats), np.array([r[6] for r in rows])
    coef, *_ = np.linalg.lstsq(x_mat, walls, rcond=None)
    pred = x_mat @ coef
    r2 = 1 - float(np.sum((walls - pred) ** 2) / np.sum((walls - walls.mean()) ** 2))
    a, b, c_, d = (float(v) for v in coef)
    print(f"fit over all points: wall = {a:.2f} s + {b:.3f} s x logs + {1000 * c_:.2f} ms x samples + "
          f"{1000 * d:.2f} ms x calls (R^2 {r2:.3f}); logs = K + K(K-1)/2, samples = (K + K(K-1)/2) x scenarios")
    print(f"dry-run count == calls made at every point: {all(r[4] == r[5] for r in rows)}")


if __name__ == "__main__":
    main()

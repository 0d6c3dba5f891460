"""Stage-2 memory at scale: peak RSS of stage 1, stage 2 and the verdict tables as the number of verdicts grows.

Two candidates with imported responses (no candidate calls) answer `n` synthetic scenarios; stage 2 judges every
comparison on all 7 criteria in both orders (14 verdict rows per comparison), so `--verdicts 100000` is 7,143
comparisons. The judge is either the offline reward-head judge (`--judge rm`, no model calls: the inspect sample,
log and verdict machinery alone) or an LLM judge on a loopback OpenAI-compatible server with no latency
(`--judge llm`: the direct judge client, which `[judge] client = "auto"` picks for this server, and its call
journal). `--keep DIR` keeps the runs (for `stage2_phases.py` and `verdict_build.py`). Each step runs in a fresh
process, so its peak RSS (`ru_maxrss`) is its own:

- `stage1`: `harness.run.stage1` (imported responses into stage-1 logs);
- `stage2`: `harness.run.stage2` (the pairwise tasks through `eval_set`);
- `verdicts`: `harness.verdicts.write_verdicts` (verdicts, transcripts, fidelity, usage, summary).

Read the RSS column against the verdicts column: a step that held every sample in memory would grow with it.

    python benchmarks/stage2_memory.py --judge rm --verdicts 10000 100000
    python benchmarks/stage2_memory.py --judge llm --verdicts 3000 10000 30000
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from _bench import ROOT, THERAPEUTIC, header, write_config, write_scenarios

from harness.testing import bench_server

STEP = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from harness.run import plan_run, stage1, stage2
from harness.verdicts import write_verdicts
plan = plan_run(Path({cfg!r}))
t = time.perf_counter()
step = {step!r}
if step == "stage1":
    stage1(plan, display="none")
elif step == "stage2":
    stage2(plan, display="none")
else:
    write_verdicts(plan.run_dir)
print("RESULT", json.dumps({{"wall": time.perf_counter() - t,
                             "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run_step(cfg: Path, step: str) -> dict[str, float]:
    """Run one step of the run `cfg` in a fresh process; its wall seconds and peak RSS (MiB)."""
    out = subprocess.run([sys.executable, "-c", STEP.format(root=str(ROOT), cfg=str(cfg), step=step)],
                         capture_output=True, text=True, check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise SystemExit(f"{step} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(line.split(" ", 1)[1])


def write_run(t: Path, i: int, target: int, judge: str, connections: int) -> Path:
    """The config of run `r<i>` in `t`: two imported candidates on enough scenarios for `target` verdicts."""
    n = max(1, math.ceil(target / (2 * len(THERAPEUTIC))))
    scen = write_scenarios(t / f"scen-{i}.jsonl", n)
    ids = [json.loads(line)["id"] for line in scen.read_text(encoding="utf-8").splitlines()]
    cands = {}
    for name, reply in (("warm", "That sounds really hard. What has it been like for you this week?"),
                        ("brief", "You should try to sleep more and keep busy.")):
        f = t / f"{name}-{i}.jsonl"
        f.write_text("".join(json.dumps({"scenario_id": s, "response": f"{reply} ({s})"}) + "\n" for s in ids),
                     encoding="utf-8")
        cands[name] = f
    cfg = write_config(t / f"r{i}.toml", name=f"r{i}", output_dir=t / "runs", scenarios=scen, candidates={},
                       max_connections=connections)
    text = cfg.read_text(encoding="utf-8")
    if judge == "rm":
        text = text.replace('model = "openai-api/bench/judge"', 'kind = "rm"')
    for name, f in cands.items():
        text += f'\n[[candidates]]\nname = "{name}"\nresponses = "{f}"\n'
    cfg.write_text(text, encoding="utf-8")
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verdicts", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--judge", choices=("rm", "llm"), default="rm")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--keep", type=Path, default=None,
                    help="write the runs in this folder and keep them (default: a temporary folder)")
    args = ap.parse_args()
    header(f"stage-2 memory vs verdicts ({args.judge} judge)")
    import pandas as pd

    per_comparison = 2 * len(THERAPEUTIC)
    rows = []
    # the server must outlive a long stage 1 with no judge calls (its idle exit would end the measurement)
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp, bench_server(latency=0.0,
                                                                               idle_exit=86_400.0) as server:
        t = args.keep or Path(tmp)
        t.mkdir(parents=True, exist_ok=True)
        for i, target in enumerate(args.verdicts):
            cfg = write_run(t, i, target, args.judge, args.connections)
            server.reset()
            steps = {s: run_step(cfg, s) for s in ("stage1", "stage2", "verdicts")}
            got = len(pd.read_parquet(t / "runs" / f"r{i}" / "verdicts.parquet"))
            calls = server.stats()["calls"].get("judge", 0)
            rows.append((got, calls, steps))
            n = math.ceil(target / per_comparison)
            print(f"{got} verdicts ({n} comparisons, {calls} judge calls): " + ", ".join(
                f"{s} {r['wall']:.1f} s / {r['rss_mib']:.0f} MiB" for s, r in steps.items()), flush=True)
    print()
    print("| verdicts | judge calls | stage 1 wall / peak RSS | stage 2 wall / peak RSS "
          "| verdict tables wall / peak RSS |")
    print("|---|---|---|---|---|")
    for got, calls, steps in rows:
        print(f"| {got:,} | {calls:,} | " + " | ".join(
            f"{steps[s]['wall']:.1f} s / {steps[s]['rss_mib']:.0f} MiB" for s in ("stage1", "stage2", "verdicts"))
            + " |")


if __name__ == "__main__":
    main()

"""Judge granularity: one call per criterion (default) vs all criteria in one call (the paper's), same run.

Stage 1 runs once; stage 2 then runs twice on the same dialogues, with `[judge] granularity =
"per_criterion"` and `"all"` (both orders each), against the loopback server, which counts calls and
tokens (prompt = every message's content, completion = the reply; a regex word/punctuation count, the same
for both variants; the server's `judge` writes a ~20-word reason per criterion either way). Wall times at the
server's latency are reported too (calls of a sample run concurrently in both variants).

    python benchmarks/judge_granularity.py                   # 2 candidates, 20 scenarios, 7 criteria
    python benchmarks/judge_granularity.py --scenarios 40 --turns 2
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _bench import THERAPEUTIC, header, timed, write_config, write_scenarios

from harness.testing import bench_server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=20)
    ap.add_argument("--criteria", type=int, default=7)
    ap.add_argument("--turns", type=int, default=1)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    header("judge granularity: per-criterion vs all-criteria calls")
    from harness.run import plan_run, stage1, stage2
    from harness.verdicts import build_verdicts

    crit = THERAPEUTIC[: args.criteria]
    res: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-gran-") as tmp, bench_server(latency=0.0) as server:
        t = Path(tmp)
        scen = write_scenarios(t / "scenarios.jsonl", args.scenarios)
        first: Path | None = None
        for gran in ("per_criterion", "all"):
            cfg = write_config(t / f"{gran}.toml", name=gran, output_dir=t / "runs", scenarios=scen,
                               candidates={"a": "openai-api/bench/cand-a", "b": "openai-api/bench/cand-bb"},
                               criteria=crit, granularity=gran, turns=args.turns, max_connections=args.connections,
                               patient="openai-api/bench/patient" if args.turns > 1 else None)
            plan = plan_run(cfg)
            if first is None:
                server.set_latency(0.0)
                stage1(plan, display="none")
                first = plan.run_dir
            else:  # the very same dialogues: copy stage 1 (and its cache) from the first run
                shutil.copytree(first / "stage1", plan.run_dir / "stage1")
            server.set_latency(args.latency)
            server.reset()
            with timed() as wall:
                logs = stage2(plan, display="none")
            st = server.stats()
            df = build_verdicts(logs, gran)
            per = df.drop_duplicates(["candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion"])
            res[gran] = {"calls": st["calls"].get("judge", 0), "prompt": st["prompt_tokens"].get("judge", 0),
                         "completion": st["completion_tokens"].get("judge", 0), "wall": wall[0],
                         "unscored": float((per["combined"] == "unscored").mean()),
                         "a_wins": float((per["combined"] == "A").mean())}
    pc, al = res["per_criterion"], res["all"]
    print(f"\n2 candidates, {args.scenarios} scenarios, {len(crit)} criteria, both orders, {args.turns} turn(s), "
          f"latency {args.latency} s, max_connections {args.connections}\n")
    print("| granularity | judge calls | prompt tokens | completion tokens | total tokens | stage-2 wall | unscored "
          "| A wins |")
    print("|---|---|---|---|---|---|---|---|")
    for gran, r in res.items():
        print(f"| {gran} | {r['calls']:.0f} | {r['prompt']:.0f} | {r['completion']:.0f} | "
              f"{r['prompt'] + r['completion']:.0f} | {r['wall']:.2f} s | {r['unscored']:.3f} | {r['a_wins']:.3f} |")
    print(f"\nper_criterion / all: calls {pc['calls'] / al['calls']:.2f}x, prompt tokens "
          f"{pc['prompt'] / al['prompt']:.2f}x, completion tokens {pc['completion'] / al['completion']:.2f}x, "
          f"total tokens {(pc['prompt'] + pc['completion']) / (al['prompt'] + al['completion']):.2f}x, "
          f"wall {pc['wall'] / al['wall']:.2f}x")


if __name__ == "__main__":
    main()

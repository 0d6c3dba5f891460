"""Incremental cost: an unchanged re-run makes 0 model calls; adding a candidate costs only its own calls.

Runs `theraeval run <config>` (`harness.cli.main`) three times against the loopback server (every model on
`openai-api/bench/...`), counting the calls the server receives:

1. M candidates: the full cost (compared with `theraeval run --dry-run`);
2. the same config again: expected 0 calls;
3. one more candidate: expected exactly its dialogues (turns calls per dialogue, plus turns - 1 patient calls)
   and, for its M new pairs, M x comparisons x criteria x 2 orders judge calls.

    python benchmarks/incremental_cost.py                        # M = 3, 6 scenarios, 7 criteria, 1 turn
    python benchmarks/incremental_cost.py --turns 2 --candidates 4
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
from pathlib import Path

from _bench import THERAPEUTIC, header, write_config, write_scenarios

from harness.cli import main as cli_main
from harness.run import dry_run
from harness.testing import bench_server


def run(cfg: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(["run", str(cfg), "--display", "none"])
    if code != 0:
        raise SystemExit(f"theraeval run failed ({code}):\n{out.getvalue()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=3, help="M, before adding one")
    ap.add_argument("--scenarios", type=int, default=6)
    ap.add_argument("--criteria", type=int, default=7)
    ap.add_argument("--turns", type=int, default=1)
    args = ap.parse_args()
    header("incremental cost (calls counted by the server)")
    from harness.run import plan_run

    m, s, crit, turns = args.candidates, args.scenarios, THERAPEUTIC[: args.criteria], args.turns
    cands = {f"c{i}": f"openai-api/bench/cand-{i}" for i in range(m + 1)}
    with tempfile.TemporaryDirectory(prefix="bench-inc-") as tmp, bench_server(latency=0.0) as server:
        t = Path(tmp)
        scen = write_scenarios(t / "scenarios.jsonl", s)

        def config(n: int) -> Path:
            return write_config(t / "run.toml", name="inc", output_dir=t / "runs", scenarios=scen,
                                candidates=dict(list(cands.items())[:n]), criteria=crit, turns=turns,
                                patient="openai-api/bench/patient" if turns > 1 else None, max_connections=16)

        def calls() -> dict[str, int]:
            st = server.stats()["calls"]
            server.reset()
            return {"candidate": sum(v for k, v in st.items() if k.startswith("cand-")),
                    "patient": st.get("patient", 0), "judge": st.get("judge", 0)}

        cfg = config(m)
        print(dry_run(plan_run(cfg)))
        run(cfg)
        first = calls()
        run(cfg)
        again = calls()
        cfg = config(m + 1)
        run(cfg)
        added = calls()

    dialogues = s  # single-turn: one per scenario; multi-turn: one per scenario x persona (1 per scenario here)
    judged = s
    exp_first = {"candidate": m * dialogues * turns, "patient": m * dialogues * (turns - 1),
                 "judge": m * (m - 1) // 2 * judged * len(crit) * 2}
    exp_added = {"candidate": dialogues * turns, "patient": dialogues * (turns - 1),
                 "judge": m * judged * len(crit) * 2}
    print(f"\n{m} candidates, {s} scenarios, {len(crit)} criteria x 2 orders, {turns} turn(s)\n")
    print("| run | candidate calls | patient calls | judge calls | expected | match |")
    print("|---|---|---|---|---|---|")
    for label, got, exp in (("first run (M candidates)", first, exp_first),
                            ("unchanged re-run", again, {"candidate": 0, "patient": 0, "judge": 0}),
                            ("one candidate added", added, exp_added)):
        e = f"{exp['candidate']} / {exp['patient']} / {exp['judge']}"
        print(f"| {label} | {got['candidate']} | {got['patient']} | {got['judge']} | {e} | "
              f"{'yes' if got == exp else 'NO'} |")
    scratch = ((m + 1) * dialogues * turns + (m + 1) * dialogues * (turns - 1)
               + (m + 1) * m // 2 * judged * len(crit) * 2)
    print(f"\nadding one candidate: {sum(added.values())} calls, vs {scratch} for a from-scratch run of all "
          f"{m + 1} candidates (ratio {sum(added.values()) / scratch:.2f})")


if __name__ == "__main__":
    main()

"""Table scale: time and peak memory of the summary and the leaderboard tables built from a large verdict table.

A synthetic verdict table of `--rows` rows (the `harness.verdicts.COLUMNS` schema: 7 candidates = 21 pairs, `k`
scenarios x 50 personas, empathy + safety, both orders; verdicts drawn at random, so the figures are about scale,
not about any judge) is written to a run directory; each step then runs in a fresh process, so its peak RSS
(`ru_maxrss`) is its own:

- `summary`: `pd.read_parquet` + `harness.verdicts.format_summary` (what `theraeval verdicts` prints);
- `leaderboard`: `harness.leaderboard.write_leaderboard` (every table, `--n-boot` bootstrap replicates).

    python benchmarks/table_scale.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench import ROOT, header, peak_rss_mib

CANDIDATES = ("base", "gpt-4o", "sft", "dpo", "soup", "joint", "modpo")
CRITERIA = ("empathy", "safety")


def synthesize(run_dir: Path, rows: int, seed: int = 0) -> int:
    """Write `<run_dir>/verdicts.parquet` with about `rows` rows and the personas snapshot; returns the row count."""
    import numpy as np
    import pandas as pd

    from harness.verdicts import COLUMNS

    rng = np.random.default_rng(seed)
    pairs = [(a, b) for i, a in enumerate(CANDIDATES) for b in CANDIDATES[i + 1:]]
    personas = [f"p{i:02d}" for i in range(50)]
    per_scenario = len(pairs) * len(personas) * len(CRITERIA) * 2
    scenarios = max(1, round(rows / per_scenario))
    idx = pd.MultiIndex.from_product([range(len(pairs)), [f"s{i:04d}" for i in range(scenarios)], personas,
                                      CRITERIA, ("ab", "ba")], names=["pair", "scenario_id", "persona_id",
                                                                      "criterion", "order"]).to_frame(index=False)
    n = len(idx)
    pair = np.array(pairs)[idx["pair"].to_numpy()]
    labels, p = np.array(["A", "B", "tie", "unscored"]), [0.45, 0.4, 0.1, 0.05]
    verdict = rng.choice(labels, n, p=p)
    from scorers import combine  # the order-combination rule (docs/architecture.md), per (ab, ba) row pair

    combined = np.repeat([combine([a, b]) for a, b in zip(verdict[0::2], verdict[1::2], strict=True)], 2)
    df = pd.DataFrame({
        "run": "scale", "judge_model": "openai/gpt-4o", "judge_kind": "llm", "judge_mode": "persona",
        "criteria_set": "therapeutic", "criteria_hash": "x", "candidate_a": pair[:, 0], "candidate_b": pair[:, 1],
        "scenario_id": idx["scenario_id"], "scenario_risk": "low", "persona_id": idx["persona_id"],
        "criterion": idx["criterion"], "order": idx["order"], "judge_label": "A", "verdict": verdict,
        "unscored_reason": np.where(verdict == "unscored", "unparseable", ""), "judge_reason": "a short reason",
        "prob_a": np.nan, "combined": combined, "position_flip": False, "injection_a": False, "injection_b": False,
        "len_a": rng.integers(100, 2000, n), "len_b": rng.integers(100, 2000, n), "stage2_log": "x.eval",
        "stage2_sample": idx["scenario_id"] + "--" + idx["persona_id"]})[list(COLUMNS)]
    (run_dir / "inputs").mkdir(parents=True, exist_ok=True)
    df.to_parquet(run_dir / "verdicts.parquet")
    (run_dir / "inputs" / "personas.jsonl").write_text("".join(
        json.dumps({"id": p, "severity": ["mild", "moderate", "severe"][i % 3], "diagnoses": ["anxiety"],
                    "priorities": {"empathy": 5, "safety": 4}}) + "\n" for i, p in enumerate(personas)))
    return n


STEPS = {  # name -> (imports, not timed; the timed step)
    "summary": ("import pandas as pd; from harness.verdicts import format_summary",
                "format_summary(pd.read_parquet(RUN / 'verdicts.parquet'))"),
    "leaderboard": ("from harness.leaderboard import write_leaderboard", "write_leaderboard(RUN, n_boot=NBOOT)"),
}


def step(name: str, run_dir: Path, n_boot: int) -> tuple[float, float]:
    """(wall seconds of the step, imports excluded; peak RSS in MiB, imports included) in a fresh process."""
    code = (f"import resource, sys, time; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
            f"RUN = Path({str(run_dir)!r}); NBOOT = {n_boot}; {STEPS[name][0]}; t = time.perf_counter(); "
            f"{STEPS[name][1]}; "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"step {name} failed:\n{out.stderr[-3000:]}")
    wall, rss = out.stdout.split()[-2:]
    return float(wall), float(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--n-boot", type=int, default=200)
    args = ap.parse_args()
    header("table scale: summary and leaderboard from a large verdict table")
    print("| verdict rows | parquet size | step | wall | peak RSS |")
    print("|---|---|---|---|---|")
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            run_dir = Path(tmp) / "scale"
            t0 = time.perf_counter()
            n = synthesize(run_dir, rows)
            size = (run_dir / "verdicts.parquet").stat().st_size / 2**20
            print(f"(synthesized {n} rows in {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
            for name in STEPS:
                wall, rss = step(name, run_dir, args.n_boot)
                print(f"| {n:,} | {size:.1f} MiB | {name} | {wall:.1f} s | {rss:.0f} MiB |", flush=True)
    me = peak_rss_mib()
    print(f"(this process, which synthesized the tables: peak RSS {me:.0f} MiB)")


if __name__ == "__main__":
    main()

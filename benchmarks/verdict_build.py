"""Building verdicts.parquet from real stage-2 logs at a million rows: wall and peak RSS of `build_verdicts`.

Judging a million verdicts on this machine takes hours, so this reuses the stage-2 log of a run kept by
`stage2_memory.py --keep` (7,143 comparisons x 7 criteria x 2 orders = 100,002 verdict rows at `--verdicts 100000`)
and reads it `--copies` times, as the logs of that many `[[judges]]` entries (each copy a separate file, judge names
j0, j1, ...): the same per-log work as a run with that many logs of that size, on logs inspect wrote.

    python benchmarks/stage2_memory.py --judge llm --verdicts 100000 --keep /tmp/mem100k
    python benchmarks/verdict_build.py --run /tmp/mem100k/runs/r0 --copies 10
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _bench import header, peak_rss_mib

from harness.core import atomic_write_parquet
from harness.run import stage2_logs
from harness.verdicts import build_verdicts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run folder with stage-2 logs (one log is used)")
    ap.add_argument("--copies", type=int, default=10)
    args = ap.parse_args()
    header("verdicts.parquet from stage-2 logs")
    src = stage2_logs(args.run)[0]
    with tempfile.TemporaryDirectory(prefix="bench-verdicts-") as tmp:
        logs = []
        for i in range(args.copies):
            logs.append(Path(tmp) / f"j{i}-{src.name}")
            shutil.copyfile(src, logs[-1])
        t = time.perf_counter()
        df = build_verdicts(logs, args.run.name, [f"j{i}" for i in range(args.copies)])
        atomic_write_parquet(df, Path(tmp) / "verdicts.parquet")
        wall = time.perf_counter() - t
        size = (Path(tmp) / "verdicts.parquet").stat().st_size / 2**20
    peak = peak_rss_mib()
    print(f"| {len(df):,} | {args.copies} x {src.stat().st_size / 2**20:.0f} MiB | {size:.1f} MiB | {wall:.1f} s "
          f"| {peak:.0f} MiB |")


if __name__ == "__main__":
    main()

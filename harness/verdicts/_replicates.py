"""Combine replicate runs (``theraeval run --replicates K``) into the run directory's verdict table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from harness.core import atomic_write_parquet, atomic_write_text


def combine_replicates(run_dir: Path, replicate_dirs: list[Path]) -> str:
    """Write ``<run_dir>/verdicts.parquet`` as the replicates' verdict tables stacked (their ``run`` column tells
    them apart), ``transcripts.parquet`` and ``inputs/`` from the first replicate (the inputs are identical; the
    report's transcript browser shows the first replicate's dialogues), and a ``summary.txt`` naming the
    replicates; returns the summary text. Each replicate keeps its own full run directory."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    frames = [pd.read_parquet(d / "verdicts.parquet") for d in replicate_dirs]
    verdicts = pd.concat(frames, ignore_index=True)
    atomic_write_parquet(verdicts, run_dir / "verdicts.parquet")
    first = replicate_dirs[0]
    if (first / "transcripts.parquet").is_file():
        shutil.copyfile(first / "transcripts.parquet", run_dir / "transcripts.parquet")
    if (first / "inputs").is_dir():
        shutil.copytree(first / "inputs", run_dir / "inputs", dirs_exist_ok=True)
    lines = [f"theraeval run {run_dir.name}: {len(replicate_dirs)} replicates (new simulator and judge seeds each)"]
    lines += [f"  {d.name}: {len(f)} verdict rows ({d})" for d, f in zip(replicate_dirs, frames, strict=True)]
    lines.append(f"Combined verdict table: {run_dir / 'verdicts.parquet'} ({len(verdicts)} rows). "
                 f"`theraeval leaderboard {run_dir}` adds the rerun-reliability table (flip rates, rank ranges, "
                 "worst-case win rates; docs/statistics.md).")
    text = "\n".join(lines) + "\n"
    atomic_write_text(run_dir / "summary.txt", text)
    return text

"""Write a run's verdict tables from its logs: verdicts.parquet, transcripts.parquet, judge.json, summary.txt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from inspect_ai.log import read_eval_log

from harness.core import atomic_write_parquet, atomic_write_text
from harness.run import stage1_logs, stage2_logs
from harness.verdicts._summary import format_summary
from harness.verdicts._tables import build_transcripts, build_verdicts


def write_verdicts(run_dir: Path) -> str:
    """Rebuild `<run>/verdicts.parquet`, `transcripts.parquet`, `judge.json` (reward heads) and `summary.txt` from
    the current stage-1 and stage-2 logs; returns the summary text."""
    logs = stage2_logs(run_dir)
    df = build_verdicts(logs, run_dir.name)
    atomic_write_parquet(df, run_dir / "verdicts.parquet")
    atomic_write_parquet(build_transcripts(stage1_logs(run_dir)), run_dir / "transcripts.parquet")
    text = format_summary(df, judge_info(run_dir, df, logs))
    atomic_write_text(run_dir / "summary.txt", text)
    return text


def judge_info(run_dir: Path, verdicts: pd.DataFrame, logs: list[Path] | None = None) -> dict[str, Any] | None:
    """For reward heads, write `<run>/judge.json` (held-out accuracy of the heads, from the stage-2 log; `logs`:
    the run's current stage-2 logs, read from its index when not given)."""
    logs = stage2_logs(run_dir) if logs is None else logs
    if verdicts.empty or not logs:
        return None
    info = (read_eval_log(str(logs[0]), header_only=True).eval.metadata or {}).get("judge_info")
    if info:
        atomic_write_text(run_dir / "judge.json", json.dumps(info, indent=2, sort_keys=True))
    return info

"""Write a run's verdict tables from its logs: verdicts.parquet, transcripts.parquet, judge.json, summary.txt and
(with a safety stage) safety.parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from inspect_ai.log import read_eval_log

from harness.core import atomic_write_parquet, atomic_write_text
from harness.run import stage1_logs, stage2_judges, stage2_logs
from harness.verdicts._fidelity import dialogue_record, fidelity_from_records, fidelity_summary
from harness.verdicts._safety import build_safety_tables, format_safety, gate_settings, write_safety
from harness.verdicts._summary import format_summary
from harness.verdicts._tables import build_verdicts, iter_stage1_samples, transcript_row, transcripts_frame
from harness.verdicts._usage import cost_table, format_cost, run_usage, snapshot_config


def write_verdicts(run_dir: Path) -> str:
    """Rebuild `<run>/verdicts.parquet`, `transcripts.parquet`, `fidelity.parquet` (per simulated patient turn),
    `judge.json` (reward heads), `safety.parquet` (with a safety stage), `usage.parquet` (tokens per role and model)
    and `summary.txt` from the current stage-1 and stage-2 logs; returns the summary text."""
    logs = stage2_logs(run_dir)
    df = build_verdicts(logs, run_dir.name, stage2_judges(run_dir))
    atomic_write_parquet(df, run_dir / "verdicts.parquet")
    rows, records = [], []
    for candidate, sample in iter_stage1_samples(stage1_logs(run_dir)):  # one pass; each sample's events let go
        rows.append(transcript_row(candidate, sample))
        records.append(dialogue_record(candidate, sample))
    atomic_write_parquet(transcripts_frame(rows), run_dir / "transcripts.parquet")
    fidelity = fidelity_from_records(records)
    atomic_write_parquet(fidelity, run_dir / "fidelity.parquet")
    card_path = run_dir / "judge_card.json"  # written by `theraeval judges validate --card`
    card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else None
    text = format_summary(df, judge_info(run_dir, df, logs), fidelity_summary(fidelity), card)
    safety = write_safety(run_dir)  # safety.parquet from the rubric logs, when the run has a safety stage
    if safety is not None:
        bar, bound = gate_settings(run_dir)
        text += "\n" + format_safety(build_safety_tables(safety, bar, bound=bound).safety)
    usage = run_usage(run_dir)  # tokens per role and model, from the logs' headers (usage.parquet)
    atomic_write_parquet(usage, run_dir / "usage.parquet")
    text += "\n" + "\n".join(format_cost(cost_table(usage, snapshot_config(run_dir)))) + "\n"
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

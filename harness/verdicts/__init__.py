"""Verdicts: the verdict table (the central contract), the transcripts table and the plain-text summary.

Reads: the current stage-1 and stage-2 logs (``stage*/index.json``). Writes: ``<run>/verdicts.parquet``,
``transcripts.parquet``, ``judge.json``, ``usage.parquet`` (tokens per role and model) and ``summary.txt``.
Everything downstream (leaderboard, calibration, reports) reads these files, never the logs. The schema
(:data:`COLUMNS`) is defined here once. May import: ``harness.run`` (the stage indexes), ``tasks`` (the
transcript of a stage-1 sample), ``scorers``,
``harness.fidelity`` (the simulated patient's fidelity, ``fidelity.parquet``), ``harness.inputs`` (the config
snapshot's ``[pricing]``), ``harness.stats``, ``harness.core``.
"""

from harness.verdicts._fidelity import build_fidelity, fidelity_summary, stage1_records
from harness.verdicts._injection import DIALOGUE_INJECTION_COLUMNS, dialogue_injections
from harness.verdicts._replicates import combine_replicates
from harness.verdicts._safety import (
    JUDGE_METHOD,
    SAFETY_COLUMNS,
    SafetyTables,
    build_safety,
    build_safety_tables,
    format_safety,
    gate_settings,
    safety_rows,
    write_safety,
)
from harness.verdicts._summary import format_summary, judge_card_lines, logprob_position_bias, summary_table
from harness.verdicts._tables import (
    COLUMNS,
    REPORT_COLUMNS,
    TRANSCRIPT_COLUMNS,
    build_transcripts,
    build_verdicts,
    verdict_rows,
)
from harness.verdicts._usage import (
    COST_COLUMNS,
    USAGE_COLUMNS,
    build_usage,
    cost_table,
    format_cost,
    run_usage,
    snapshot_config,
)
from harness.verdicts._write import judge_info, write_verdicts

__all__ = [
    "combine_replicates",
    "COLUMNS",
    "COST_COLUMNS",
    "JUDGE_METHOD",
    "DIALOGUE_INJECTION_COLUMNS",
    "REPORT_COLUMNS",
    "SAFETY_COLUMNS",
    "TRANSCRIPT_COLUMNS",
    "USAGE_COLUMNS",
    "SafetyTables",
    "build_fidelity",
    "build_safety",
    "build_safety_tables",
    "build_transcripts",
    "build_usage",
    "cost_table",
    "build_verdicts",
    "dialogue_injections",
    "fidelity_summary",
    "format_cost",
    "format_safety",
    "format_summary",
    "gate_settings",
    "judge_card_lines",
    "judge_info",
    "logprob_position_bias",
    "safety_rows",
    "stage1_records",
    "summary_table",
    "run_usage",
    "snapshot_config",
    "verdict_rows",
    "write_safety",
    "write_verdicts",
]

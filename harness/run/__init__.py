"""Run: plan a run (validate everything, nothing written), then stage 1 (dialogues) and stage 2 (judging).

Reads: the run config and every file it names (through ``harness.inputs``), stage-1 logs. Writes:
``<run>/inputs/`` (content-hashed snapshots), ``<run>/stage1/`` and ``<run>/stage2/`` (inspect logs and
``index.json``), ``<run>/cache/`` (inspect's call cache). Stage 2 has one runner: all pairs or adaptive rounds,
either of them in one process or sharded over worker processes. May import: ``tasks``, ``scorers``,
``harness.reward_heads``, ``harness.inputs``, ``harness.stats``, ``harness.core``.
"""

from harness.run._endpoints import probe_endpoints
from harness.run._estimate import HARNESS_CPU_PER_CALL_S, dry_run, stage2_seconds
from harness.run._local_models import build_model, ensure_smollm2, theraeval_home
from harness.run._plan import (
    IndexEntry,
    Pair,
    RunPlan,
    StageError,
    Units,
    eval_options,
    finished,
    plan_run,
    use_run_cache,
    write_inputs,
)
from harness.run._progress import PROGRESS_ENV, Tracker, default_display, track, worker_progress
from harness.run._replicates import REPLICATES_DIR, replicate_plans
from harness.run._safety import check_safety, safety_logs, safety_stage, validate_rubric_judge
from harness.run._schedule import (
    InspectBatchJudge,
    Outcome,
    RoundRecord,
    ScheduleConfig,
    ScheduleResult,
    Unit,
    adaptive_schedule,
    difference_variance,
    inspect_batch_judge,
    kendall_tau,
    p_wrong,
    pair_index,
    pair_weight,
    sample_ids,
    task_subset,
    unit_outcome,
)
from harness.run._stage1 import stage1, stage1_logs
from harness.run._stage2 import (
    PairTasks,
    judge_folder,
    judge_units,
    stage2,
    stage2_judges,
    stage2_logs,
    stage2_workers,
    write_stage2_index,
)
from harness.run._workers import shard_ids, shard_units, split_connections

__all__ = [
    "REPLICATES_DIR",
    "replicate_plans",
    "HARNESS_CPU_PER_CALL_S",
    "IndexEntry",
    "InspectBatchJudge",
    "PROGRESS_ENV",
    "Pair",
    "Outcome",
    "PairTasks",
    "RoundRecord",
    "RunPlan",
    "ScheduleConfig",
    "ScheduleResult",
    "StageError",
    "Tracker",
    "Unit",
    "Units",
    "adaptive_schedule",
    "build_model",
    "default_display",
    "check_safety",
    "difference_variance",
    "dry_run",
    "ensure_smollm2",
    "eval_options",
    "finished",
    "inspect_batch_judge",
    "judge_folder",
    "judge_units",
    "kendall_tau",
    "p_wrong",
    "pair_index",
    "pair_weight",
    "plan_run",
    "probe_endpoints",
    "safety_logs",
    "safety_stage",
    "sample_ids",
    "shard_ids",
    "shard_units",
    "split_connections",
    "stage1",
    "stage1_logs",
    "stage2",
    "stage2_judges",
    "stage2_logs",
    "stage2_seconds",
    "stage2_workers",
    "task_subset",
    "theraeval_home",
    "track",
    "unit_outcome",
    "use_run_cache",
    "validate_rubric_judge",
    "worker_progress",
    "write_inputs",
    "write_stage2_index",
]

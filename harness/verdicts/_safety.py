"""The safety table: one row per candidate x dialogue x rubric item x candidate turn (safety.parquet).

Rebuilt from the rubric logs of ``stage2/safety/`` (``harness.run.safety_logs``), never edited by hand. Each row
carries the turn's verdict and the dialogue's outcome for the item (``dialogue_verdict``: a failure at any turn
fails the dialogue; ``failed_turn``: the first failing turn) and for the whole dialogue (``dialogue_safe``: 1 no
critical failure, 0 a critical failure, NaN unscored). ``method`` says what produced the row: ``rubric judge`` or
``deterministic checks`` (not a rubric score). Statistics on it: ``harness.stats.safe_handling_rates``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core import atomic_write_parquet, iter_log_samples, read_toml
from harness.run import safety_logs
from harness.stats import absolute_safety_gate, fmt_percent, item_failure_rates, safe_handling_rates
from scorers import JUDGE_METHOD

SAFETY_COLUMNS: tuple[str, ...] = (
    "run", "candidate", "method", "rubric", "rubric_version", "rubric_hash", "locale", "judge_model",
    "sample_id", "scenario_id", "scenario_risk", "persona_id", "multi_turn", "turns",
    "item_id", "related_item", "severity", "turn", "verdict", "reason", "unscored_reason",
    "dialogue_verdict", "failed_turn", "dialogue_safe", "injection", "safety_log",
)
"""Every column of safety.parquet, in order."""


def safety_rows(log_path: Path, run: str) -> list[dict[str, Any]]:
    """Rows of one rubric log; every sample must have been scored (no silent drops)."""
    rows: list[dict[str, Any]] = []
    for s in iter_log_samples(log_path, all_samples_required=True):
        score = next(iter((s.scores or {}).values()), None)
        if s.error is not None or score is None or not score.metadata:
            raise ValueError(f"{log_path}: sample {s.id} has no rubric score; re-run stage 2 to complete it")
        sm, md = score.metadata, s.metadata
        safe = score.value.get("safe", math.nan) if isinstance(score.value, dict) else math.nan
        related = sm.get("related_items", {})
        for r in sm["rows"]:
            item = sm["items"][r["item_id"]]
            rows.append({
                "run": run, "candidate": md["candidate"], "method": sm["method"], "rubric": sm["rubric"],
                "rubric_version": sm["rubric_version"], "rubric_hash": sm["rubric_hash"], "locale": sm["locale"],
                "judge_model": sm.get("judge_model", ""), "sample_id": str(s.id), "scenario_id": md["scenario_id"],
                "scenario_risk": md.get("risk", ""), "persona_id": md.get("persona_id", ""),
                "multi_turn": bool(md.get("multi_turn", False)), "turns": int(sm.get("turns", 1)),
                "item_id": r["item_id"], "related_item": related.get(r["item_id"], r["item_id"]),
                "severity": r["severity"], "turn": int(r["turn"]), "verdict": r["verdict"], "reason": r["reason"],
                "unscored_reason": r["unscored_reason"], "dialogue_verdict": item["verdict"],
                "failed_turn": item["failed_turn"], "dialogue_safe": float(safe),
                "injection": bool(sm.get("injection")), "safety_log": log_path.name,
            })
    return rows


def build_safety(logs: dict[str, Path], run: str) -> pd.DataFrame:
    """The safety table of a run's rubric logs (candidate -> log), sorted for stable output."""
    rows = [r for _, p in sorted(logs.items()) for r in safety_rows(p, run)]
    df = pd.DataFrame(rows, columns=list(SAFETY_COLUMNS))
    df["failed_turn"] = pd.to_numeric(df["failed_turn"], errors="coerce").astype("Int64")
    return df.sort_values(["candidate", "sample_id", "item_id", "turn"], kind="stable").reset_index(drop=True)


def write_safety(run_dir: Path) -> pd.DataFrame | None:
    """Rebuild `<run>/safety.parquet` from the run's rubric logs; None (and nothing written) without them."""
    logs = safety_logs(run_dir)
    if not logs:
        return None
    df = build_safety(logs, run_dir.name)
    atomic_write_parquet(df, run_dir / "safety.parquet")
    return df


# --- Tables and summary lines from safety.parquet (pure) ---

@dataclass(frozen=True)
class SafetyTables:
    """The absolute-safety tables of a run."""

    safety: pd.DataFrame
    """Per candidate and method: n, safe_rate, Wilson interval, single/multi-turn rates, and the gate columns
    (`gated`, `below_min_safe_rate`, `gate_reason`; gated only for the rubric judge)."""
    safety_items: pd.DataFrame
    """Per candidate, method and item: failure rate over dialogues (any turn), Wilson interval, median first
    failing turn."""


def build_safety_tables(rows: pd.DataFrame, min_safe_rate: float | None = None, *, bound: str = "estimate",
                        level: float = 0.95) -> SafetyTables:
    """The tables from safety.parquet rows (pure). Without `min_safe_rate`, nothing is flagged (`gated` False)."""
    rates = safe_handling_rates(rows, level)
    items = item_failure_rates(rows, level)
    if min_safe_rate is not None and not rates.empty:
        gate = absolute_safety_gate(rates, min_safe_rate, judge_method=JUDGE_METHOD, bound=bound)
        g = gate.set_index("candidate")
        is_judge = rates["method"] == JUDGE_METHOD
        rates = rates.assign(
            gated=is_judge & rates["candidate"].map(g["gated"]).astype(bool),
            below_min_safe_rate=is_judge & rates["candidate"].map(g["flagged"]).astype(bool),
            gate_reason=[g.at[c, "reason"] if j else "not gated: deterministic checks are not the rubric score"
                         for c, j in zip(rates["candidate"], is_judge, strict=True)])
    else:
        rates = rates.assign(gated=False, below_min_safe_rate=False,
                             gate_reason="no [gate] min_safe_rate" if min_safe_rate is None else "")
    return SafetyTables(rates, items)


def gate_settings(run_dir: Path) -> tuple[float | None, str]:
    """`[gate] min_safe_rate` and `bound` from the run's validated config snapshot (None, "estimate" when unset)."""
    path = Path(run_dir) / "inputs" / "config.toml"
    if not path.is_file():
        return None, "estimate"
    gate = read_toml(path).get("gate", {})
    value = gate.get("min_safe_rate")
    return (float(value) if value is not None else None), str(gate.get("bound", "estimate"))


def format_safety(safety: pd.DataFrame) -> str:
    """Text lines of a safety table (:attr:`SafetyTables.safety`): one per candidate and method, the gate's marks,
    and what deterministic checks are; the summary and ``theraeval leaderboard`` both print them."""
    if safety.empty:
        return ""
    lines = ["absolute crisis safety (safe = no critical rubric failure at any turn; 95% Wilson interval):"]
    for r in safety.itertuples():
        label = "safe-handling rate" if r.method == JUDGE_METHOD else "critical deterministic checks passed"
        split = (f"; single-turn {fmt_percent(r.single_safe_rate)} (n={r.single_n}), multi-turn "
                 f"{fmt_percent(r.multi_safe_rate)} (n={r.multi_n})")
        mark = f"  BELOW min_safe_rate, whatever its win rates: {r.gate_reason}" if r.below_min_safe_rate else ""
        lines.append(f"  {r.candidate} [{r.method}]: {label} {fmt_percent(r.safe_rate)} "
                     f"({fmt_percent(r.wilson_low)}-{fmt_percent(r.wilson_high)}, n={r.n}, unscored {r.n_unscored})"
                     f"{split}{mark}")
    if (safety["method"] != JUDGE_METHOD).any():
        lines.append("  deterministic checks: text patterns only (resource present, method phrases, refusal, "
                     "deflection); not the rubric score, never gated")
    if not safety["gated"].astype(bool).any():
        lines.append("  absolute gate: not applied (needs [gate] min_safe_rate or --min-safe-rate, and an LLM "
                     "rubric judge)")
    return "\n".join(lines) + "\n"

"""Load what a report shows from a run directory: leaderboard tables, verdicts, transcripts and input snapshots.

Nothing here computes statistics or writes upstream outputs: the numbers come from ``<run>/tables/*.parquet``
(written by ``theraeval leaderboard``; a run without them is an error naming that command) and the
clinician-calibration tables when present.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core import InputError, iter_jsonl
from harness.leaderboard import POOLED
from harness.verdicts import REPORT_COLUMNS

logger = logging.getLogger(__name__)

LEADERBOARD_TABLES: tuple[str, ...] = (
    "table", "pairwise", "significance", "bias", "length", "persona_breakdown", "persona_score", "pareto",
    "gate", "injection", "settings",
)
AGREEMENT_TABLES: tuple[str, ...] = ("agreement", "judge_gate", "agreement_confusion", "clinician_outcomes")
SAFETY_TABLES: tuple[str, ...] = ("safety", "safety_items")
"""Absolute crisis-safety tables, read when present (runs with a ``[safety]`` stage)."""
FIDELITY_TABLES: tuple[str, ...] = ("fidelity",)
"""The simulated patient's fidelity per candidate, read when present (multi-turn runs)."""
STATISTICS_TABLES: tuple[str, ...] = (
    "variance", "reliability", "judge_reliability", "ensemble_ranking", "judge_agreement", "judge_win_rates",
    "clinician_corrected")
"""Variance shares and clinician-corrected figures (reports/_statistics.py), read when present."""

_BOOL_COLUMNS = ("position_flip", "injection_a", "injection_b")
"""Verdict columns that default to False in tables written before they existed."""
_LOG_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class Criterion:
    """A criterion of the run's criteria set (from the ``inputs/criteria-<hash>.toml`` snapshot)."""

    id: str
    name: str
    description: str = ""


@dataclass
class RunData:
    """Everything the renderer needs, read once from the run directory."""

    run_dir: Path
    name: str
    tables: dict[str, pd.DataFrame]
    """Leaderboard tables by name; agreement tables only when present (see :data:`AGREEMENT_TABLES`)."""
    verdicts: pd.DataFrame
    transcripts: pd.DataFrame | None
    config: dict[str, Any]
    """The run config as validated by ``harness.inputs.RunConfig`` (defaults filled), else the raw TOML."""
    config_sha256: str | None
    criteria_set: str
    criteria_hash: str
    criteria: dict[str, Criterion]
    scenarios: dict[str, dict[str, Any]]
    personas: dict[str, dict[str, Any]]
    run_started: datetime | None = None
    run_finished: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    judge_info: dict[str, Any] = field(default_factory=dict)
    """``judge.json``: for reward heads, their encoder, data hash and held-out accuracy per criterion."""

    def table(self, name: str) -> pd.DataFrame:
        """A leaderboard table (an empty frame when the file is missing)."""
        return self.tables.get(name, pd.DataFrame())

    def has(self, name: str) -> bool:
        return name in self.tables

    @property
    def settings(self) -> dict[str, str]:
        t = self.table("settings")
        if t.empty:
            return {}
        return {str(k): str(v) for k, v in zip(t["key"], t["value"], strict=True)}

    def criterion_label(self, cid: str) -> str:
        if cid == POOLED:
            return "all (pooled, excluding overall)"
        c = self.criteria.get(cid)
        return f"{cid} \u2014 {c.name}" if c and c.name and c.name != cid else cid

    def calibration(self) -> dict[str, tuple[str, str]]:
        """criterion -> (status, reason) from ``tables/judge_gate.parquet``; empty without clinician ratings.

        The pooled criterion ``all`` takes its status from the leaderboard table's ``calibration`` column when
        the leaderboard wrote one (``not_checked`` statuses are left out).
        """
        gate = self.tables.get("judge_gate")
        if gate is None or gate.empty:
            return {}
        reasons = gate["reason"] if "reason" in gate.columns else pd.Series([""] * len(gate))
        out = {str(c): (str(s), "" if pd.isna(r) else str(r))
               for c, s, r in zip(gate["criterion"], gate["status"], reasons, strict=True)}
        table = self.table("table")
        if "calibration" in table.columns:
            for c, s in zip(table["criterion"].astype(str), table["calibration"].astype(str), strict=True):
                if c not in out and s in ("calibrated", "uncalibrated", "no_ratings"):
                    out[c] = (s, "pooled criteria" if c == POOLED else "")
        return out


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [obj for _, obj in iter_jsonl(path)]  # a corrupt snapshot is an InputError naming its line


def _snapshots(inputs: Path, stem: str, suffix: str) -> list[Path]:
    """``inputs/<stem>-<hash><suffix>`` (and a plain ``<stem><suffix>``), oldest first."""
    found = [p for p in inputs.glob(f"{stem}*{suffix}") if p.is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _by_id(paths: list[Path]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in paths:  # newer snapshots win
        try:
            rows = _read_jsonl(p)
        except (OSError, ValueError) as e:
            logger.warning("report: could not read %s (%s)", p, e)
            continue
        for row in rows:
            if "id" in row:
                out[str(row["id"])] = row
    return out


def load_personas(run_dir: Path) -> list[dict[str, Any]]:
    """Persona rows of the run's snapshot(s), for the persona tables of the leaderboard."""
    return list(_by_id(_snapshots(run_dir / "inputs", "personas", ".jsonl")).values())


def _criteria(inputs: Path, wanted_hash: str) -> tuple[str, dict[str, Criterion]]:
    paths = _snapshots(inputs, "criteria", ".toml")
    preferred = [p for p in paths if wanted_hash and wanted_hash in p.name]
    for p in (preferred or paths[::-1])[:1]:
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            logger.warning("report: could not read %s (%s)", p, e)
            break
        crit = {str(c["id"]): Criterion(str(c["id"]), str(c.get("name", c["id"])), str(c.get("description", "")))
                for c in raw.get("criteria", []) if isinstance(c, dict) and "id" in c}
        return str(raw.get("name", "")), crit
    return "", {}


def _config(path: Path) -> tuple[dict[str, Any], str | None]:
    if not path.is_file():
        return {}, None
    blob = path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    try:
        raw = tomllib.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        logger.warning("report: could not parse %s (%s)", path, e)
        return {}, digest
    try:
        from harness.inputs import RunConfig

        return RunConfig.model_validate(raw).model_dump(mode="json"), digest
    except Exception as e:  # noqa: BLE001 - an old or hand-edited snapshot still renders from the raw TOML
        logger.info("report: config snapshot did not validate (%s); using the raw TOML", e)
        return raw, digest


def _log_times(run_dir: Path) -> tuple[datetime | None, datetime | None]:
    """First and last stage-log timestamps (inspect names logs ``<UTC time>_<task>_<id>.eval``)."""
    stamps: list[datetime] = []
    for stage in ("stage1", "stage2"):
        for p in (run_dir / stage).rglob("*.eval"):  # shard and adaptive-round folders too
            m = _LOG_STAMP.match(p.name)
            if m:
                stamps.append(datetime.fromisoformat(f"{m[1]}T{m[2]}:{m[3]}:{m[4]}").replace(tzinfo=UTC))
    if not stamps:
        verdicts = run_dir / "verdicts.parquet"
        if verdicts.is_file():
            t = datetime.fromtimestamp(verdicts.stat().st_mtime, tz=UTC).replace(microsecond=0)
            return t, t
        return None, None
    return min(stamps), max(stamps)


def require_tables(run_dir: Path) -> None:
    """Check that the leaderboard tables exist: the report reads them and never writes upstream outputs.

    Raises:
        InputError: ``<run>/tables/table.parquet`` is missing (run ``theraeval leaderboard`` first).
    """
    path = run_dir / "tables" / "table.parquet"
    if not path.is_file():
        raise InputError(path, "tables", str(path.parent), "this run has no leaderboard tables",
                         f"run `theraeval leaderboard {run_dir}` first, then the report")


def load_run(run_dir: Path) -> RunData:
    """Read a run directory (tables must exist: see :func:`require_tables`)."""
    tables_dir = run_dir / "tables"
    tables: dict[str, pd.DataFrame] = {}
    for name in LEADERBOARD_TABLES + AGREEMENT_TABLES + SAFETY_TABLES + FIDELITY_TABLES + STATISTICS_TABLES:
        path = tables_dir / f"{name}.parquet"
        if path.is_file():
            tables[name] = pd.read_parquet(path)
    warnings: list[str] = [f"missing table tables/{n}.parquet" for n in LEADERBOARD_TABLES if n not in tables]

    vpath = run_dir / "verdicts.parquet"
    if vpath.is_file():
        import pyarrow.parquet as pq

        present = set(pq.read_schema(vpath).names)
        verdicts = pd.read_parquet(vpath, columns=[c for c in REPORT_COLUMNS if c in present])
        for col in REPORT_COLUMNS:
            if col not in verdicts.columns:
                verdicts[col] = False if col in _BOOL_COLUMNS else ""
    else:
        verdicts = pd.DataFrame(columns=list(REPORT_COLUMNS))
        warnings.append("no verdicts.parquet: the transcript browser and unscored reasons are empty")
    tpath = run_dir / "transcripts.parquet"
    transcripts = pd.read_parquet(tpath) if tpath.is_file() else None
    if transcripts is None:
        warnings.append("no transcripts.parquet: the transcript browser shows verdicts without dialogues")

    inputs = run_dir / "inputs"
    config, config_sha = _config(inputs / "config.toml")
    hashes = sorted(set(verdicts["criteria_hash"].dropna().astype(str))) if len(verdicts) else []
    sets = sorted(set(verdicts["criteria_set"].dropna().astype(str))) if len(verdicts) else []
    set_name, criteria = _criteria(inputs, hashes[0] if len(hashes) == 1 else "")
    started, finished = _log_times(run_dir)
    return RunData(
        run_dir=run_dir,
        name=run_dir.name,
        tables=tables,
        verdicts=verdicts,
        transcripts=transcripts,
        config=config,
        config_sha256=config_sha,
        criteria_set=", ".join(sets) or set_name,
        criteria_hash=", ".join(hashes),
        criteria=criteria,
        scenarios=_by_id(_snapshots(inputs, "scenarios", ".jsonl")),
        personas=_by_id(_snapshots(inputs, "personas", ".jsonl")),
        run_started=started,
        run_finished=finished,
        warnings=warnings,
        judge_info=json.loads((run_dir / "judge.json").read_text()) if (run_dir / "judge.json").is_file() else {},
    )

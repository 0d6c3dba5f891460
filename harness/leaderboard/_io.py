"""Leaderboard I/O: read a run's verdict table and snapshots, write ``<run>/tables/``, add the judge gate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core import InputError, atomic_write_parquet, atomic_write_text, iter_jsonl
from harness.leaderboard._build import OVERALL, POOLED, Leaderboard, build_leaderboard
from harness.leaderboard._safety import with_safety
from harness.verdicts import cost_table, dialogue_injections, fidelity_summary, snapshot_config


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [obj for _, obj in iter_jsonl(path)]


def write_leaderboard(run_dir: Path, min_safe_rate: float | None = None, **kw: Any) -> Leaderboard:
    """Build the leaderboard of a run and write its tables.

    Reads ``<run_dir>/verdicts.parquet`` and, when present and ``personas`` is not passed,
    ``<run_dir>/inputs/personas.jsonl``; fills a missing ``scenario_risk`` column from
    ``<run_dir>/inputs/scenarios.jsonl``; checks the dialogues of ``<run_dir>/transcripts.parquet`` (when present
    and ``dialogues`` is not passed) for judge-directed text, for the ``injection`` table; reads
    ``<run_dir>/tables/clinician_labels.parquet`` (when present and ``clinician_labels`` is not passed) for the
    clinician-corrected (prediction-powered) table. Writes every table
    of :class:`Leaderboard` to ``<run_dir>/tables/<name>.csv`` and ``<run_dir>/tables/<name>.parquet``.

    Args:
        run_dir: the run directory.
        min_safe_rate: the absolute safety gate's bar, overriding the run config's ``[gate] min_safe_rate``.
        **kw: keyword arguments of :func:`build_leaderboard` (``personas`` included).

    Returns:
        The :class:`Leaderboard` written.

    Raises:
        InputError: no ``verdicts.parquet`` in ``run_dir``, or an unreadable snapshot.
    """
    run_dir = Path(run_dir)
    path = run_dir / "verdicts.parquet"
    if not path.is_file():
        raise InputError(path, "path", str(path), "no verdict table in this run directory",
                         "run the judge stage for this run first, or pass the right run directory")
    verdicts = pd.read_parquet(path)
    personas = kw.pop("personas", None)
    persona_path = run_dir / "inputs" / "personas.jsonl"
    if personas is None and persona_path.is_file():
        personas = _read_jsonl(persona_path)
    scenario_path = run_dir / "inputs" / "scenarios.jsonl"
    if "scenario_risk" not in verdicts.columns and scenario_path.is_file():
        risk = {str(r.get("id")): str(r.get("risk", "none")) for r in _read_jsonl(scenario_path)}
        verdicts = verdicts.assign(scenario_risk=verdicts["scenario_id"].astype(str).map(risk).fillna("none"))
    transcripts_path = run_dir / "transcripts.parquet"
    if kw.get("dialogues") is None and transcripts_path.is_file():
        kw["dialogues"] = dialogue_injections(pd.read_parquet(transcripts_path, columns=["candidate", "turns"]))
    labels_path = run_dir / "tables" / "clinician_labels.parquet"
    if kw.get("clinician_labels") is None and labels_path.is_file():  # written by `theraeval agreement`
        kw["clinician_labels"] = pd.read_parquet(labels_path)
    lb = build_leaderboard(verdicts, personas, **kw)
    lb = with_calibration(lb, run_dir / "tables" / "judge_gate.parquet")
    lb = with_safety(lb, run_dir, min_safe_rate)  # absolute crisis safety, from safety.parquet (docs/safety.md)
    fidelity_path = run_dir / "fidelity.parquet"
    if fidelity_path.is_file():  # multi-turn runs: how well the simulated patient stayed a patient
        lb = replace(lb, fidelity=fidelity_summary(pd.read_parquet(fidelity_path)))
    usage_path = run_dir / "usage.parquet"
    if usage_path.is_file():  # tokens per role and model (harness.verdicts), priced by the config's [pricing]
        lb = replace(lb, cost=cost_table(pd.read_parquet(usage_path), snapshot_config(run_dir)))
    out_dir = run_dir / "tables"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in lb.tables().items():
        atomic_write_text(out_dir / f"{name}.csv", frame.to_csv(index=False))
        atomic_write_parquet(frame, out_dir / f"{name}.parquet")
    return lb


NOT_CHECKED = "not_checked"
"""``calibration`` of a criterion without a judge gate (no ``theraeval agreement`` run, or not in the packet)."""


def with_calibration(lb: Leaderboard, gate_path: Path) -> Leaderboard:
    """Add ``calibration`` to the table: the judge-gate status of each criterion from ``tables/judge_gate.parquet``.

    Statuses are those of :func:`harness.calibration.agreement_report` (calibrated | uncalibrated | no_ratings), or
    ``not_checked`` when there is no gate file or no row for the criterion. The pooled criterion ``all`` is
    uncalibrated when any pooled criterion is, calibrated when all are, else not_checked.
    """
    status: dict[str, str] = {}
    if gate_path.is_file():
        gate = pd.read_parquet(gate_path)
        status = dict(zip(gate["criterion"].astype(str), gate["status"].astype(str), strict=True))
    members = [status.get(str(c), NOT_CHECKED) for c in lb.table["criterion"].unique() if c not in (POOLED, OVERALL)]
    if POOLED not in status and members:
        status[POOLED] = ("uncalibrated" if "uncalibrated" in members
                          else "calibrated" if all(m == "calibrated" for m in members) else NOT_CHECKED)
    table = lb.table.assign(calibration=lb.table["criterion"].astype(str).map(status).fillna(NOT_CHECKED))
    return replace(lb, table=table)

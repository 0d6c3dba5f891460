"""The verdict table: one row per candidate pair x scenario x persona x criterion x judge order.

This long-format table (verdicts.parquet) is the central contract: statistics, reports and
calibration read only it. It is rebuilt from the stage-2 logs, never edited by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from sys import intern
from typing import Any

import pandas as pd
from inspect_ai.log import EvalSample, read_eval_log

from harness.core import iter_log_samples
from scorers import injection_metadata

COLUMNS: tuple[str, ...] = (
    "run", "judge_model", "judge_kind", "judge_mode", "judge_name", "criteria_set", "criteria_hash",
    "candidate_a", "candidate_b", "scenario_id", "scenario_risk", "persona_id", "criterion", "order",
    "judge_label", "verdict", "unscored_reason", "judge_reason", "prob_a", "combined", "position_flip",
    "injection_a", "injection_b", "len_a", "len_b",
    "stage2_log", "stage2_sample",
)
"""Every column of verdicts.parquet, in order (``judge_name``: the ``[[judges]]`` entry, ``""`` for ``[judge]``)."""

REPORT_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in (
    "run", "prob_a", "len_a", "len_b", "stage2_log", "stage2_sample"))
"""The verdict columns the HTML report reads (the rest are for statistics and provenance)."""


def verdict_columns(log_path: Path, run: str, judge_name: str = "") -> dict[str, list[Any]]:
    """The verdict table of one stage-2 log (of the `[[judges]]` entry `judge_name`) as one list per column of
    :data:`COLUMNS`; every sample must have been scored (no silent drops).

    Column lists, not a dict per row: a row dict of 27 entries costs ~1.2 KiB, 1.2 GiB at a million rows. The
    repeated strings (candidates, scenario and persona ids, criteria, labels) are interned, so the rows share one
    copy instead of each keeping its parsed sample's (benchmarks/README.md, *Verdict tables at 100 k and 1 M rows*)."""
    header = read_eval_log(str(log_path), header_only=True)
    meta = header.eval.metadata or {}
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    put = [cols[c].append for c in COLUMNS]
    mode, log_name = meta.get("judge_mode", "persona"), log_path.name
    for s in iter_log_samples(log_path, all_samples_required=True, header=header):
        score = next(iter((s.scores or {}).values()), None)
        if s.error is not None or score is None or not score.metadata:
            raise ValueError(f"{log_path}: sample {s.id} has no judge score ({s.error.message if s.error else ''}); "
                             "re-run stage 2 to complete it")
        sm, md = score.metadata, s.metadata
        # judge-directed text of each candidate (scorers/_injection.py); older logs: detected from the transcripts
        inj = sm.get("injection") or injection_metadata(md["transcript_a"], md["transcript_b"])
        shared = [intern(str(x)) for x in (sm["judge_model"], sm.get("judge_kind", "llm"), mode, judge_name,
                                             sm["criteria_set"], sm["criteria_hash"], md["candidate_a"],
                                             md["candidate_b"], md["scenario_id"], md.get("risk", "none"),
                                             md.get("persona_id", ""))]
        sample_id = str(s.id)
        for criterion, d in sm["verdicts"].items():
            for order in sm["orders"]:
                o = d[order]
                for add, value in zip(put, (
                        run, *shared, intern(criterion), intern(order), intern(o["label"] or "unscored"),
                        intern(o["verdict"]), intern(o["unscored_reason"]), o["reason"], o.get("prob_a"),
                        intern(d["combined"]), bool(d["position_flip"]), bool(inj["a"]), bool(inj["b"]),
                        int(md["len_a"]), int(md["len_b"]), log_name, sample_id), strict=True):
                    add(value)
    return cols


def verdict_rows(log_path: Path, run: str, judge_name: str = "") -> list[dict[str, Any]]:
    """:func:`verdict_columns` of one stage-2 log as one dict per row."""
    cols = verdict_columns(log_path, run, judge_name)
    return [dict(zip(COLUMNS, values, strict=True)) for values in zip(*cols.values(), strict=True)]


def build_verdicts(logs: list[Path], run: str, judges: Sequence[str] | None = None) -> pd.DataFrame:
    """The verdict table of a run's stage-2 logs (`judges`: each log's `[[judges]]` name, from the stage index;
    None: a single `[judge]`), sorted for stable output (judge names in the order given)."""
    names = list(judges) if judges is not None else [""] * len(logs)
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for p, name in zip(logs, names, strict=True):
        for c, values in verdict_columns(p, run, name).items():
            cols[c] += values
    df = pd.DataFrame(cols, columns=list(COLUMNS))
    df = df.astype({"position_flip": bool, "injection_a": bool, "injection_b": bool, "len_a": "int64",
                    "len_b": "int64", "prob_a": "float64"})
    # criteria keep the criteria set's order (first appearance), everything else sorts by value
    rank = {c: i for i, c in enumerate(dict.fromkeys(df["criterion"]))}
    df = df.assign(_rank=df["criterion"].map(rank))
    jrank = {j: i for i, j in enumerate(dict.fromkeys(df["judge_name"]))}
    df = df.assign(_judge=df["judge_name"].map(jrank))
    keys = ["_judge", "candidate_a", "candidate_b", "scenario_id", "persona_id", "_rank", "order"]
    return df.sort_values(keys, kind="stable").drop(columns=["_rank", "_judge"]).reset_index(drop=True)


TRANSCRIPT_COLUMNS: tuple[str, ...] = ("candidate", "sample_id", "scenario_id", "persona_id", "turns",
                                       "truncated_turns")
"""``truncated_turns``: how many of the candidate's replies in the dialogue stopped at the token limit."""

TRUNCATED_STOP_REASONS = frozenset({"max_tokens", "model_length"})
"""inspect's ``ModelOutput.stop_reason`` values of a reply cut at the token limit (``length`` in OpenAI terms)."""


def truncated_replies(sample: EvalSample) -> int:
    """Candidate replies of a stage-1 dialogue that stopped at the token limit (the simulated patient's, which
    run under the ``patient`` model role, are not counted; imported responses have no model events: 0)."""
    from inspect_ai.event import ModelEvent

    return sum(1 for e in sample.events if isinstance(e, ModelEvent) and e.role != "patient"
               and e.output is not None and e.output.stop_reason in TRUNCATED_STOP_REASONS)


def iter_stage1_samples(stage1: dict[str, Path]) -> Iterator[tuple[str, EvalSample]]:
    """(candidate, sample) for every sample of the run's stage-1 logs (candidate name -> log), streamed one sample
    at a time: a caller keeps what it needs of each sample (its transcript row, its dialogue record) and lets the
    sample, with its events, go (issue 18: no step holds every stage-1 sample in memory at once)."""
    for candidate, log in stage1.items():
        yield from ((candidate, s) for s in iter_log_samples(log, all_samples_required=False))


def transcript_row(candidate: str, s: EvalSample) -> dict[str, Any]:
    """The transcripts-table row of one stage-1 sample (:data:`TRANSCRIPT_COLUMNS`)."""
    from tasks import transcript

    return {"candidate": candidate, "sample_id": str(s.id), "scenario_id": s.metadata["scenario_id"],
            "persona_id": s.metadata.get("persona_id", ""), "turns": json.dumps(transcript(s)),
            "truncated_turns": truncated_replies(s)}


def transcripts_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The transcripts table of :func:`transcript_row` rows, sorted by candidate and sample id."""
    return pd.DataFrame(list(rows), columns=list(TRANSCRIPT_COLUMNS)).sort_values(["candidate", "sample_id"],
                                                                                  ignore_index=True)


def build_transcripts(samples: Iterable[tuple[str, EvalSample]]) -> pd.DataFrame:
    """One row per candidate dialogue: `turns` is a JSON list of [role, text] (role patient | therapist)."""
    return transcripts_frame(transcript_row(candidate, s) for candidate, s in samples)

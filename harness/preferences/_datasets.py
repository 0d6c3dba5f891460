"""Preference datasets on disk: one HF dataset per criterion, the joint-loss dataset, rankings, votes, summary."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.core import InputError, atomic_write_text
from harness.preferences._records import SUMMARY_KIND, PreferenceResult

JOINT = "joint"
"""Folder of the joint-loss dataset (every criterion's pair of a scenario in one row)."""


def _features(columns: Sequence[str], messages: Sequence[str]) -> Any:
    from datasets import Features, List, Value

    msg = List({"role": Value("string"), "content": Value("string")})
    types = {"scenario_id": Value("string"), "chosen_candidate": Value("string"),
             "rejected_candidate": Value("string"), "score_margin": Value("float64"), "n_votes": Value("int64")}
    return Features({c: msg if c in messages else types[c] for c in columns})


def _dataset(rows: list[dict[str, Any]], columns: list[str], messages: list[str]) -> Any:
    from datasets import Dataset

    return Dataset.from_dict({c: [r[c] for r in rows] for c in columns}, features=_features(columns, messages))


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


PAIR_COLUMNS = ["prompt", "chosen", "rejected", "scenario_id", "chosen_candidate", "rejected_candidate",
                "score_margin", "n_votes"]


def pair_rows(result: PreferenceResult, criterion: str) -> list[dict[str, Any]]:
    """One criterion's pairs as TRL conversational preference rows (plus provenance columns)."""
    return [{"prompt": _user(p.prompt), "chosen": _assistant(p.chosen), "rejected": _assistant(p.rejected),
             "scenario_id": p.scenario_id, "chosen_candidate": p.chosen_candidate,
             "rejected_candidate": p.rejected_candidate, "score_margin": p.score_margin, "n_votes": p.n_votes}
            for p in result.pairs[criterion]]


def joint_rows(result: PreferenceResult) -> list[dict[str, Any]]:
    """Joint-loss rows (docs/training.md): `prompt`, `scenario_id`, `chosen_<c>`/`rejected_<c>` per criterion,
    one per scenario that has a pair on every criterion."""
    by = {c: {p.scenario_id: p for p in result.pairs[c]} for c in result.criteria}
    rows = []
    for sid in result.joint_scenarios():
        row: dict[str, Any] = {"prompt": _user(result.prompts[sid]), "scenario_id": sid}
        for c in result.criteria:
            row[f"chosen_{c}"] = _assistant(by[c][sid].chosen)
            row[f"rejected_{c}"] = _assistant(by[c][sid].rejected)
        rows.append(row)
    return rows


def _save(ds: Any, dest: Path) -> None:
    from datasets.utils.tqdm import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    tmp = dest.with_name(f".{dest.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    quiet = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        # an empty dataset saved without a shard does not load back (datasets 5.2): write one empty shard
        ds.save_to_disk(str(tmp), **({"num_shards": 1} if len(ds) == 0 else {}))
    finally:
        if not quiet:
            enable_progress_bars()
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(tmp, dest)


def check_out_dir(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError(None, "out_dir", str(out_dir), "exists and is not a directory", "pick another output path")
    summary = out_dir / "summary.json"
    if any(out_dir.iterdir()):
        try:
            kind = json.loads(summary.read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError, AttributeError):
            kind = None
        if kind != SUMMARY_KIND:
            raise InputError(None, "out_dir", str(out_dir), "a non-empty directory that is not a preferences folder",
                             "pick an empty or new directory (a previous preferences folder is replaced)")


def ranking_calls(result: PreferenceResult) -> list[dict[str, Any]]:
    """The rankings grouped by judge call (scenario x persona), as written to `rankings.jsonl`: the shown order,
    the raw reply once, and per criterion the ranking (candidate names, best first), validity and reason."""
    calls: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in result.rankings:
        call = calls.setdefault((r.log, r.scenario_id, r.persona_id), {
            "scenario_id": r.scenario_id, "persona_id": r.persona_id, "shown_order": r.shown_order,
            "judge_model": r.judge_model, "raw": r.raw, "explanation": r.explanation, "log": r.log, "rankings": {}})
        entry: dict[str, Any] = {"valid": r.valid, "ranking": r.ranking, "reason": r.reason, "labels": r.labels,
                                 "given": r.given}
        if r.scores is not None:
            entry["scores"] = r.scores
        call["rankings"][r.criterion] = entry
    return list(calls.values())


def write_preference_datasets(result: PreferenceResult, out_dir: str | Path) -> Path:
    """Write `out_dir/<criterion>/` (one `datasets` dataset per criterion, `save_to_disk`), `out_dir/joint/`,
    `summary.json`, `rankings.jsonl` (every persona's ranking) and `votes.jsonl` (totals per scenario and
    criterion, with the pair or the reason there is none). A previous preferences folder is replaced.

    Raises:
        InputError: `out_dir` is a non-empty directory that is not a preferences folder, or a criterion is
            named `joint`.
    """
    out = Path(out_dir)
    if JOINT in result.criteria:
        raise InputError(None, "criterion", JOINT, "clashes with the joint-loss dataset's folder name",
                         "rename the criterion")
    check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    for c in result.criteria:
        _save(_dataset(pair_rows(result, c), PAIR_COLUMNS, ["prompt", "chosen", "rejected"]), out / c)
    joint_cols = ["prompt", "scenario_id"] + [f"{s}_{c}" for c in result.criteria for s in ("chosen", "rejected")]
    _save(_dataset(joint_rows(result), joint_cols, [x for x in joint_cols if x != "scenario_id"]), out / JOINT)
    lines = [json.dumps(call, ensure_ascii=False) + "\n" for call in ranking_calls(result)]
    atomic_write_text(out / "rankings.jsonl", "".join(lines))
    votes: list[dict[str, Any]] = []
    for c in result.criteria:
        for p in result.pairs[c]:
            votes.append({"criterion": c, "scenario_id": p.scenario_id, "pair": True, "chosen": p.chosen_candidate,
                          "rejected": p.rejected_candidate, "score_margin": p.score_margin, "n_votes": p.n_votes,
                          "totals": p.totals, "reason": "", "detail": ""})
        for x in result.no_pair[c]:
            votes.append({"criterion": c, "scenario_id": x.scenario_id, "pair": False, "chosen": None,
                          "rejected": None, "score_margin": None, "n_votes": x.n_votes, "totals": x.totals,
                          "reason": x.reason, "detail": x.detail})
    votes.sort(key=lambda v: (result.criteria.index(str(v["criterion"])), str(v["scenario_id"])))
    atomic_write_text(out / "votes.jsonl", "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in votes))
    atomic_write_text(out / "summary.json", json.dumps(result.summary(), indent=2, ensure_ascii=False) + "\n")
    return out

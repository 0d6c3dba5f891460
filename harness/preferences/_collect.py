"""Preference datasets from persona rankings: symmetrical voting, best-vs-worst pairs, HF datasets on disk.

Aggregation (the paper's "symmetrical weighted voting", shared/reference/paper.md §1.4, without its bugs §5.2):
for each scenario and criterion, every persona whose ranking of the N responses is VALID votes with weights
evenly spaced from +10 (best) to -10 (worst): `[10, 5, 0, -5, -10]` for N = 5 exactly, `[10, -10]` for N = 2,
`[10, 0, -10]` for N = 3, `[10, 10/3, -10/3, -10]` for N = 4 (in general `10 * (N - 1 - 2i) / (N - 1)` for
the i-th place, so the weights sum to 0). The candidate with the highest total is `chosen`, the lowest
`rejected`. There is NO pair (counted, with the reason) when

- no persona gave a valid ranking for that scenario and criterion (`no_valid_ranking`; the paper's code
  emitted response 1 vs response 5 here),
- two or more candidates tie exactly for best, or for worst (`tie`; never broken by position or name),
- the chosen and rejected texts are identical (`identical_responses`; nothing to learn).

Ties are exact: totals are summed in integer units (`N - 1 - 2i`) and only scaled afterwards.

`collect_preferences_main` runs the whole loop on a run directory whose stage 1 is done.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from inspect_ai.log import read_eval_log, read_eval_log_samples

from harness.core import InputError, atomic_write_text, local_path

logger = logging.getLogger(__name__)

SUMMARY_KIND = "theraeval-preferences"
"""`summary.json` marks a preferences folder with this `kind` (a rewrite is refused anywhere else)."""
PAPER_WEIGHTS: tuple[float, ...] = (10.0, 5.0, 0.0, -5.0, -10.0)
JOINT = "joint"
NO_VALID = "no_valid_ranking"
TIE = "tie"
IDENTICAL = "identical_responses"


def _units(n: int) -> list[int]:
    if n < 2:
        raise ValueError(f"voting needs at least 2 responses, got {n}")
    return [n - 1 - 2 * i for i in range(n)]


def voting_weights(n: int) -> tuple[float, ...]:
    """Symmetrical voting weights for ranks 1..n: evenly spaced from +10 to -10 ([10, 5, 0, -5, -10] for n = 5)."""
    return tuple(10.0 * u / (n - 1) for u in _units(n))


def tally(rankings: Sequence[Sequence[str]], candidates: Sequence[str]) -> dict[str, float]:
    """Total votes per candidate over `rankings` (each a full ranking, best first) with `voting_weights`.

    Summed exactly in integer units and scaled once, so equal totals compare equal.
    """
    n = len(candidates)
    units = _units(n)
    total = dict.fromkeys(candidates, 0)
    for ranking in rankings:
        if sorted(ranking) != sorted(candidates):
            raise ValueError(f"ranking {list(ranking)} is not a permutation of {list(candidates)}")
        for place, name in enumerate(ranking):
            total[name] += units[place]
    return {c: 10.0 * v / (n - 1) for c, v in total.items()}


class Decision(NamedTuple):
    """Best vs worst of one scenario and criterion, or why there is no pair (`reason`, with `detail`)."""

    chosen: str | None
    rejected: str | None
    reason: str
    detail: str


def decide(totals: Mapping[str, float], n_votes: int) -> Decision:
    """The pair from vote totals: the unique best vs the unique worst; no pair without votes or on a tie."""
    if n_votes == 0 or not totals:
        return Decision(None, None, NO_VALID, "no persona gave a valid ranking")
    top, bottom = max(totals.values()), min(totals.values())
    best = sorted(c for c, v in totals.items() if v == top)
    worst = sorted(c for c, v in totals.items() if v == bottom)
    if len(best) > 1:
        return Decision(None, None, TIE, f"tie for best: {', '.join(best)} ({top:g})")
    if len(worst) > 1:
        return Decision(None, None, TIE, f"tie for worst: {', '.join(worst)} ({bottom:g})")
    return Decision(best[0], worst[0], "", "")


@dataclass(frozen=True)
class RankingRecord:
    """One persona's ranking of one scenario on one criterion (a judge call covers every criterion)."""

    scenario_id: str
    persona_id: str
    criterion: str
    valid: bool
    ranking: list[str] | None
    """Candidate names, best first (None when invalid)."""
    reason: str
    """Why it is invalid (`unparseable`, `not_a_permutation: duplicate R2`, `sample_error: ...`), else ""."""
    shown_order: list[str]
    """Candidates in the order shown (label R1 = the first)."""
    labels: list[str] | None
    given: Any
    """What the judge replied for this criterion (JSON value)."""
    raw: str
    """The whole reply of the call."""
    explanation: str
    judge_model: str
    log: str
    scores: dict[str, float] | None = None
    """Reward-head scores per candidate (judge = rm)."""


@dataclass(frozen=True)
class DPOPair:
    """Best vs worst response of one scenario on one criterion."""

    criterion: str
    scenario_id: str
    prompt: str
    chosen_candidate: str
    rejected_candidate: str
    chosen: str
    rejected: str
    score_margin: float
    """Total votes of chosen minus total votes of rejected."""
    n_votes: int
    """Personas whose ranking was valid."""
    totals: dict[str, float]


@dataclass(frozen=True)
class NoPair:
    """A scenario without a pair on a criterion, and why (`no_valid_ranking`, `tie`, `identical_responses`)."""

    criterion: str
    scenario_id: str
    reason: str
    detail: str
    n_votes: int
    totals: dict[str, float]


@dataclass
class PreferenceResult:
    """Everything aggregated from preference logs."""

    logs: list[str]
    candidates: list[str]
    criteria: list[str]
    criteria_set: str
    criteria_hash: str
    judge_kind: str
    judge_models: list[str]
    weights: tuple[float, ...]
    prompts: dict[str, str]
    """Scenario id -> the patient's message."""
    responses: dict[str, dict[str, str]]
    """Scenario id -> candidate -> response."""
    rankings: list[RankingRecord]
    pairs: dict[str, list[DPOPair]]
    no_pair: dict[str, list[NoPair]]
    calls: int = 0
    """Judge calls (samples): one per scenario x persona (one per scenario for judge = rm)."""
    errored_calls: int = 0
    """Samples that errored (no reply at all); their rankings are invalid with reason `sample_error`."""
    failed_calls: int = 0
    """Calls where no criterion's ranking was valid (errored, empty, unparseable, refused, ...)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def joint_scenarios(self) -> list[str]:
        """Scenarios with a pair on EVERY criterion (rows of the joint-loss dataset)."""
        sets = [{p.scenario_id for p in self.pairs[c]} for c in self.criteria]
        return sorted(set.intersection(*sets)) if sets else []

    def summary(self) -> dict[str, Any]:
        """Counts for `summary.json`: pairs per criterion, scenarios without a pair and why, invalid rankings."""
        per: dict[str, Any] = {}
        for c in self.criteria:
            recs = [r for r in self.rankings if r.criterion == c]
            invalid = Counter(r.reason.split(":")[0] for r in recs if not r.valid)
            per[c] = {
                "pairs": len(self.pairs[c]),
                "no_pair": len(self.no_pair[c]),
                "no_pair_reasons": dict(Counter(x.reason for x in self.no_pair[c])),
                "scenarios_without_pair": [{"scenario_id": x.scenario_id, "reason": x.reason, "detail": x.detail,
                                            "n_votes": x.n_votes} for x in self.no_pair[c]],
                "rankings": len(recs),
                "valid_rankings": sum(r.valid for r in recs),
                "invalid_rankings": sum(not r.valid for r in recs),
                "invalid_reasons": dict(invalid),
            }
        return {
            "kind": SUMMARY_KIND,
            "version": 1,
            "logs": self.logs,
            "candidates": self.candidates,
            "criteria": self.criteria,
            "criteria_set": self.criteria_set,
            "criteria_hash": self.criteria_hash,
            "judge_kind": self.judge_kind,
            "judge_models": self.judge_models,
            "weights": list(self.weights),
            "scenarios": len(self.prompts),
            "calls": self.calls,
            "errored_calls": self.errored_calls,
            "failed_calls": self.failed_calls,
            "per_criterion": per,
            "joint": {"rows": len(self.joint_scenarios()), "criteria": self.criteria},
        } | self.extra


def _as_list(logs: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(logs, str | Path):
        return [local_path(logs)]
    return [local_path(x) for x in logs]


def _read_log(path: Path, allow_incomplete: bool) -> tuple[dict[str, Any], list[Any]]:
    if not path.is_file():
        raise InputError(path, "log", str(path), "preference log not found", "collect preferences first")
    header = read_eval_log(str(path), header_only=True)
    if header.eval.task != "preference":
        raise InputError(path, "task", header.eval.task, "not a preference log",
                         "pass logs written by tasks/preference.py@preference")
    if header.status != "success" and not allow_incomplete:
        raise InputError(path, "status", header.status, "preference log is not complete",
                         "re-run the collection (it resumes), or pass allow_incomplete=True")
    samples = [s for s in read_eval_log_samples(str(path), all_samples_required=False) if s.epoch == 1]
    return dict(header.eval.metadata or {}), samples


def aggregate_preferences(logs: str | Path | Sequence[str | Path], *,
                          allow_incomplete: bool = False) -> PreferenceResult:
    """Read preference logs and vote: one pair (or a counted reason for none) per scenario and criterion.

    Several logs may be given (e.g. shards over different scenarios); they must rank the same candidates on
    the same criteria set, and no (scenario, persona) may be judged twice.

    Raises:
        InputError: a missing, non-preference or incomplete log, or logs that do not fit together.
    """
    paths = _as_list(logs)
    if not paths:
        raise InputError(None, "logs", [], "no preference logs given", "pass at least one preference log")
    meta0: dict[str, Any] | None = None
    rankings: list[RankingRecord] = []
    prompts: dict[str, str] = {}
    responses: dict[str, dict[str, str]] = {}
    seen: set[tuple[str, str]] = set()
    judge_models: set[str] = set()
    calls = errored = failed = 0
    for path in paths:
        meta, samples = _read_log(path, allow_incomplete)
        if meta0 is None:
            meta0 = meta
        for key in ("candidates", "criteria_hash", "judge_kind"):
            if meta.get(key) != meta0.get(key):
                raise InputError(path, key, meta.get(key), f"differs from {paths[0].name} ({meta0.get(key)!r})",
                                 "aggregate logs of one collection (same candidates, criteria and judge kind)")
        criteria: list[str] = list(meta["criteria"])
        for s in samples:
            md = s.metadata
            sid, pid = str(md["scenario_id"]), str(md.get("persona_id", ""))
            if (sid, pid) in seen:
                raise InputError(path, "sample", f"{sid}--{pid}", "this scenario and persona are in two logs",
                                 "aggregate each judge call once")
            seen.add((sid, pid))
            prompts[sid] = str(md["patient_message"])
            responses[sid] = {str(k): str(v) for k, v in md["responses"].items()}
            calls += 1
            score = next(iter(s.scores.values())) if s.scores else None
            if s.error is not None or score is None:
                errored += 1
                failed += 1
                why = f"sample_error: {s.error.message[:80]}" if s.error is not None else "sample_error: no score"
                for c in criteria:
                    rankings.append(RankingRecord(sid, pid, c, False, None, why, list(md["shown_order"]), None, None,
                                                  "", "", "", str(path)))
                continue
            sm = score.metadata or {}
            judge_models.add(str(sm.get("judge_model", "")))
            detail = sm.get("rankings", {})
            any_valid = False
            for c in criteria:
                d = detail.get(c, {"valid": False, "reason": "missing_criterion"})
                valid = bool(d.get("valid")) and d.get("ranking") is not None
                any_valid |= valid
                rankings.append(RankingRecord(
                    scenario_id=sid, persona_id=pid, criterion=c, valid=valid,
                    ranking=list(d["ranking"]) if valid else None, reason=str(d.get("reason", "")),
                    shown_order=list(sm.get("shown_order", md["shown_order"])), labels=d.get("labels"),
                    given=d.get("given"), raw=str(sm.get("raw", "")), explanation=str(score.explanation or ""),
                    judge_model=str(sm.get("judge_model", "")), log=str(path), scores=d.get("scores"),
                ))
            failed += not any_valid
    assert meta0 is not None
    candidates = list(meta0["candidates"])
    criteria = list(meta0["criteria"])
    pairs: dict[str, list[DPOPair]] = {c: [] for c in criteria}
    no_pair: dict[str, list[NoPair]] = {c: [] for c in criteria}
    votes: dict[tuple[str, str], list[list[str]]] = {}
    for r in rankings:
        if r.ranking is not None:
            votes.setdefault((r.criterion, r.scenario_id), []).append(r.ranking)
    for c in criteria:
        for sid in sorted(prompts):
            ballots = votes.get((c, sid), [])
            totals = tally(ballots, candidates) if ballots else {}
            d = decide(totals, len(ballots))
            if d.chosen is None or d.rejected is None:
                no_pair[c].append(NoPair(c, sid, d.reason, d.detail, len(ballots), totals))
                continue
            chosen, rejected = responses[sid][d.chosen], responses[sid][d.rejected]
            if chosen == rejected:
                no_pair[c].append(NoPair(c, sid, IDENTICAL, f"{d.chosen} and {d.rejected} wrote the same text",
                                         len(ballots), totals))
                continue
            pairs[c].append(DPOPair(c, sid, prompts[sid], d.chosen, d.rejected, chosen, rejected,
                                           totals[d.chosen] - totals[d.rejected], len(ballots), totals))
    return PreferenceResult(
        logs=[str(p) for p in paths], candidates=candidates, criteria=criteria,
        criteria_set=str(meta0.get("criteria_set", "")), criteria_hash=str(meta0.get("criteria_hash", "")),
        judge_kind=str(meta0.get("judge_kind", "")), judge_models=sorted(judge_models),
        weights=voting_weights(len(candidates)), prompts=prompts, responses=responses, rankings=rankings,
        pairs=pairs, no_pair=no_pair, calls=calls, errored_calls=errored, failed_calls=failed,
    )


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


def _check_out_dir(out_dir: Path) -> None:
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
    _check_out_dir(out)
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


def _current_criteria(run_dir: Path) -> Path:
    """The run's criteria snapshot: the only `inputs/criteria-*.toml`, else the one stage 2 used, else the newest."""
    found = sorted((run_dir / "inputs").glob("criteria-*.toml"))
    if not found:
        raise InputError(run_dir / "inputs", "criteria", "criteria-*.toml", "no criteria snapshot in this run",
                         "run `theraeval stage1` first, or pass criteria=<set or .toml>")
    if len(found) == 1:
        return found[0]
    index = run_dir / "stage2" / "index.json"
    if index.is_file():
        for entry in json.loads(index.read_text(encoding="utf-8")):
            log = run_dir / "stage2" / str(entry.get("log", ""))
            if log.is_file():
                h = (read_eval_log(str(log), header_only=True).eval.metadata or {}).get("criteria_hash")
                match = [p for p in found if p.stem == f"criteria-{h}"]
                if match:
                    return match[0]
    return max(found, key=lambda p: p.stat().st_mtime)


def _run_config(run_dir: Path) -> Any:
    """The run's config snapshot (`inputs/config.toml`), or None when it is missing or no longer loads."""
    from harness.inputs import load_run_config

    path = run_dir / "inputs" / "config.toml"
    if not path.is_file():
        return None
    try:
        return load_run_config(path)[0]
    except InputError:
        return None


def collect_preferences_main(run_dir: Path, out_dir: Path, *, judge: str = "rm", judge_model: str | None = None,
                             personas_per_scenario: int = 5, seed: int = 42, display: str | None = "none",
                             criteria: str | None = None, heads: str = "builtin") -> Path:
    """Rank the run's stage-1 responses per scenario, aggregate, and write the preference datasets to `out_dir`.

    `run_dir` must have finished stage 1 (`stage1/index.json`) with single-turn dialogues of >= 2 candidates.
    The preference task runs through `inspect_ai.eval_set` into `<run>/preferences/` (resumable; judge calls
    cached forever in `<run>/cache`, scoped by the judge's full spec, so an unchanged re-run makes no call).
    `judge = "llm"` uses `judge_model` (any inspect model string), or the run config's LLM judge when None;
    `judge = "rm"` ranks by reward-head score (`heads`: `builtin` or a folder), no model call. `criteria`
    defaults to the run's criteria snapshot. Returns `out_dir`.

    Raises:
        InputError: no stage 1, fewer than 2 candidates, multi-turn dialogues, a bad judge or output folder.
        harness.run.StageError: the collection did not complete (re-run to resume).
    """
    from inspect_ai import eval_set
    from pydantic import ValidationError

    from harness.inputs import JudgeSpec
    from harness.run import StageError, build_model, stage1_logs, use_run_cache
    from tasks import preference

    run_dir = Path(run_dir).resolve()
    out_dir = Path(out_dir).resolve()
    if judge not in ("llm", "rm"):
        raise InputError(None, "judge", judge, "unknown preference judge", 'use "rm" (reward heads) or "llm"')
    logs1 = stage1_logs(run_dir)
    if len(logs1) < 2:
        raise InputError(run_dir / "stage1" / "index.json", "candidates", len(logs1),
                         "preference collection needs at least 2 candidates", "add candidates and run stage 1")
    personas = run_dir / "inputs" / "personas.jsonl"
    if judge == "llm" and not personas.is_file():
        raise InputError(personas, "personas", str(personas), "no personas snapshot in this run",
                         "run `theraeval stage1` first")
    crit = criteria if criteria is not None else str(_current_criteria(run_dir))
    _check_out_dir(out_dir)
    cfg = _run_config(run_dir)
    roles = None
    scope: str | None = None
    spec: JudgeSpec | None = None
    if judge == "llm":
        if judge_model is not None:
            try:
                spec = JudgeSpec(model=judge_model, kind="llm", max_tokens=1024)
            except ValidationError as e:
                raise InputError(None, "judge_model", judge_model, e.errors()[0]["msg"].removeprefix("Value error, "),
                                 "use an inspect model string '<provider>/<name>'") from None
        elif cfg is not None and cfg.judge.kind == "llm":
            spec = cfg.judge
        else:
            raise InputError(None, "judge_model", None, "an LLM judge needs a model and the run config has none",
                             'pass judge_model="<provider>/<name>", or use judge="rm"')
        assert spec is not None
        roles = {"judge": build_model(spec)}
        scope = f"preference:{spec.spec_hash()}"
    task = preference(
        logs=",".join(str(logs1[name]) for name in sorted(logs1)), criteria=crit, personas=str(personas),
        personas_per_scenario=personas_per_scenario, seed=seed, judge="llm" if judge == "llm" else "rm",
        rm_heads=heads,
        judge_temperature=(spec.temperature or 0.0) if spec is not None else 0.0,
        judge_seed=(spec.seed or 0) if spec is not None else 0,
        judge_max_tokens=max(spec.max_tokens or 0, 1024) if spec is not None else 1024,
        structured=spec.use_structured() if spec is not None else False,
        cache_scope=scope,
    )
    use_run_cache(run_dir)
    opts: dict[str, Any] = {"max_connections": cfg.run.max_connections if cfg is not None else 10,
                            "display": display}
    if cfg is not None and cfg.run.attempt_timeout is not None:
        opts["attempt_timeout"] = cfg.run.attempt_timeout
    if cfg is not None and cfg.run.max_retries is not None:
        opts["max_retries"] = cfg.run.max_retries
    log_dir = run_dir / "preferences"
    ok, logs = eval_set([task], log_dir=str(log_dir), model="none", model_roles=roles, retry_attempts=3,
                        retry_wait=1, log_dir_allow_dirty=True, log_level="warning", **opts)
    bad = [lg for lg in logs if lg.status != "success"]
    if not ok or bad or not logs:
        detail = "; ".join(f"{lg.eval.task} ({lg.status}): {lg.error.message if lg.error else ''}" for lg in bad)
        raise StageError(f"preference collection did not complete: {detail or 'see the logs'}. Re-run to resume.")
    log = local_path(logs[0].location)
    index = {"log": log.name, "judge": judge, "judge_model": spec.model if spec is not None else f"rm/{heads}",
             "criteria": Path(crit).name, "seed": seed, "personas_per_scenario": personas_per_scenario,
             "out_dir": str(out_dir)}
    atomic_write_text(log_dir / "index.json", json.dumps(index, indent=2, sort_keys=True))
    result = aggregate_preferences(log)
    result.extra["run_dir"] = str(run_dir)
    logger.info("preferences: %s", {c: len(p) for c, p in result.pairs.items()})
    return write_preference_datasets(result, out_dir)

"""Ranking records read from preference logs, and their aggregation into DPO pairs (`aggregate_preferences`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.log import read_eval_log

from harness.core import InputError, iter_log_samples, local_path
from harness.preferences._voting import IDENTICAL, decide, tally, voting_weights

SUMMARY_KIND = "theraeval-preferences"
"""`summary.json` marks a preferences folder with this `kind` (a rewrite is refused anywhere else)."""


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
    samples = [s for s in iter_log_samples(path, all_samples_required=False, header=header) if s.epoch == 1]
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

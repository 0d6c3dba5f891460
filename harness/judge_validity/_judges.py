"""Judges run on validation pairs: reward heads directly, generative judges through an inspect task, or any
Python function (tests, custom judges). Every verdict is in "response space": "A" means response_a is better.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from harness.core import InputError, atomic_write_text
from harness.judge_validity._sets import ValidationPair

if TYPE_CHECKING:
    from harness.reward_heads import RewardHeads
    from harness.run import RunPlan


@dataclass(frozen=True)
class JudgedPair:
    """A judge's combined verdict on one pair (both orders), whether the orders flipped, and pointwise scores."""

    verdict: str
    """"A", "B", "tie" or "unscored" (A = response_a)."""
    flip: bool | None = None
    """True when the two orders disagreed; None when fewer than two orders were scored."""
    reason: str = ""
    """Why the pair is unscored (empty otherwise)."""
    score_a: float | None = None
    score_b: float | None = None


class PairJudge(Protocol):
    """What the validator needs of a judge."""

    name: str
    kind: str

    def judge(self, criterion: str, pairs: Sequence[ValidationPair]) -> list[JudgedPair]: ...

    def pointwise(self, criterion: str, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray | None: ...


Display = Literal["full", "conversation", "rich", "plain", "log", "none"]
Positional = Callable[[str, str, str, str], str | None]
"""(context shown first, response shown first, context shown second, response shown second) -> "A", "B", "tie" or
None (unscored): a judge that sees positions, as an LLM does."""


class FunctionJudge:
    """A positional Python function judged in both orders, combined by the stage-2 rule (``scorers.combine``)."""

    kind = "function"

    def __init__(self, fn: Positional, name: str = "function", orders: tuple[str, ...] = ("ab", "ba")) -> None:
        self.fn, self.name, self.orders = fn, name, orders

    def judge(self, criterion: str, pairs: Sequence[ValidationPair]) -> list[JudgedPair]:
        from scorers import combine, position_flip, to_candidate_space

        out = []
        for p in pairs:
            vs = []
            for order in self.orders:
                shown = ((p.context, p.response_a, p.context_of_b, p.response_b) if order == "ab" else
                         (p.context_of_b, p.response_b, p.context, p.response_a))
                vs.append(to_candidate_space(self.fn(*shown), order))
            comb = combine(vs)
            out.append(JudgedPair(comb, position_flip(vs) if len(vs) == 2 and "unscored" not in vs else None,
                                  "unscored order" if comb == "unscored" else ""))
        return out

    def pointwise(self, criterion: str, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray | None:
        return None


class RewardHeadJudge:
    """Reward heads (``judge.kind = "rm"``): score each (context, response) on the criterion's head; the higher
    wins, a tie when the gap is under the head's tie margin. Position-free by construction (flip rate 0)."""

    kind = "rm"

    def __init__(self, heads: RewardHeads, name: str = "rm/builtin", tie_margin: float | None = None) -> None:
        self.heads, self.name, self.tie_margin = heads, name, tie_margin

    def _head(self, criterion: str) -> None:
        if criterion not in self.heads.criteria:
            raise InputError(None, "criterion", criterion, "the reward heads have no head for this criterion",
                             f"validate one of {list(self.heads.criteria)} (--criterion), or train a head for it")

    def judge(self, criterion: str, pairs: Sequence[ValidationPair]) -> list[JudgedPair]:
        self._head(criterion)
        if not pairs:
            return []
        margin = self.heads.tie_margin(criterion) if self.tie_margin is None else self.tie_margin
        sa = self.pointwise(criterion, [p.context for p in pairs], [p.response_a for p in pairs])
        sb = self.pointwise(criterion, [p.context_of_b for p in pairs], [p.response_b for p in pairs])
        assert sa is not None and sb is not None
        out = []
        for a, b in zip(sa, sb, strict=True):
            v = "tie" if abs(a - b) < margin or a == b else "A" if a > b else "B"
            out.append(JudgedPair(v, False, "", float(a), float(b)))
        return out

    def pointwise(self, criterion: str, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray | None:
        self._head(criterion)
        scores = [self.heads.score(criterion, list(contexts[i:i + 256]), list(responses[i:i + 256]))
                  for i in range(0, len(contexts), 256)]
        return np.concatenate(scores) if scores else np.zeros(0)


def _criteria_spec(plan: RunPlan) -> str:
    spec = plan.cfg.data.criteria
    return str(plan.config_path.parent / spec) if spec.endswith(".toml") and not Path(spec).is_absolute() else spec


class InspectJudge:
    """A generative judge (``kind = "llm"`` or ``"logprob"``) of a run config, run through the inspect task
    ``tasks.judge_validation`` (the stage-2 scorers, both orders unless ``judge.orders = "ab"``)."""

    def __init__(self, plan: RunPlan, log_dir: Path | None = None, display: Display | None = "none") -> None:
        self.plan, self.log_dir, self.display = plan, log_dir, display
        j = plan.cfg.judge
        self.kind: str = j.kind
        self.name: str = f"{j.kind}/{j.model}"

    def judge(self, criterion: str, pairs: Sequence[ValidationPair]) -> list[JudgedPair]:
        if criterion not in self.plan.criteria.ids:
            raise InputError(self.plan.config_path, "data.criteria", criterion,
                             "the validation criterion is not in the config's criteria set",
                             f"validate one of {self.plan.criteria.ids} (--criterion), or add it to the criteria set")
        if not pairs:
            return []
        if self.log_dir is not None:
            return self._run(criterion, pairs, self.log_dir)
        with tempfile.TemporaryDirectory(prefix="theraeval-validate-") as tmp:
            return self._run(criterion, pairs, Path(tmp))

    def _run(self, criterion: str, pairs: Sequence[ValidationPair], folder: Path) -> list[JudgedPair]:
        from inspect_ai import eval as inspect_eval

        from harness.run import build_model, default_display, finished, track, use_run_cache
        from tasks import judge_validation

        folder.mkdir(parents=True, exist_ok=True)
        ids = [f"p{i:06d}" for i in range(len(pairs))]
        lines = [json.dumps({"id": sid, "context": p.context, "response_a": p.response_a, "response_b": p.response_b,
                             **({"context_b": p.context_b} if p.context_b is not None else {})}, ensure_ascii=False)
                 for sid, p in zip(ids, pairs, strict=True)]
        file = folder / f"pairs-{criterion}.jsonl"
        atomic_write_text(file, "\n".join(lines) + "\n")
        j, cfg = self.plan.cfg.judge, self.plan.cfg
        scope = None
        if self.log_dir is not None:
            use_run_cache(folder)  # a re-run of the same validation repeats no call
            scope = j.spec_hash()
        task = judge_validation(pairs=str(file), criterion=criterion, criteria=_criteria_spec(self.plan),
                                judge="logprob" if j.kind == "logprob" else "llm", orders=j.orders,
                                judge_temperature=j.temperature or 0.0, judge_seed=j.seed or 0,
                                judge_max_tokens=j.max_tokens or 512, structured=j.structured,
                                cache_scope=scope, logprob_margin=j.logprob_margin)
        with track(f"judges validate ({criterion})", self.display, unit="pairs", task_label=self.name,
                   calls_per_sample=2 if j.orders == "both" else 1):
            logs = inspect_eval(task, model="none", model_roles={"judge": build_model(j)},
                                log_dir=str(folder / "logs"), display=default_display(self.display),
                                log_level="warning", max_connections=cfg.run.max_connections, retry_on_error=3)
        finished(True, logs, "judge validation")
        by_id: dict[str, JudgedPair] = {}
        for s in logs[0].samples or []:
            score = next(iter((s.scores or {}).values()), None)
            detail = ((score.metadata or {}).get("verdicts") or {}).get(criterion) if score is not None else None
            if detail is None:
                by_id[str(s.id)] = JudgedPair("unscored", None, "no score")
                continue
            orders = [detail[o] for o in ("ab", "ba") if o in detail]
            both = len(orders) == 2 and all(o["verdict"] != "unscored" for o in orders)
            reason = next((o["unscored_reason"] for o in orders if o.get("unscored_reason")), "")
            by_id[str(s.id)] = JudgedPair(detail["combined"], bool(detail["position_flip"]) if both else None,
                                          reason if detail["combined"] == "unscored" else "")
        return [by_id.get(sid, JudgedPair("unscored", None, "no sample")) for sid in ids]

    def pointwise(self, criterion: str, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray | None:
        return None


def judge_from_config(config: str | Path, *, log_dir: Path | None = None,
                      display: Display | None = "none") -> tuple[PairJudge, RunPlan]:
    """The `[judge]` of a run config as a :class:`PairJudge` (and the validated plan: nothing is written)."""
    from harness.run import plan_run

    plan = plan_run(config)
    j = plan.cfg.judge
    if j.kind == "rm":
        from scorers import load_reward_judge, reward_judge_name

        heads = plan.heads()
        rm = load_reward_judge(heads, plan.criteria)
        return RewardHeadJudge(rm, reward_judge_name(heads, rm)), plan
    return InspectJudge(plan, log_dir, display), plan

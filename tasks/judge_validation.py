"""Judge validation: the `judge` role compares two human-labelled responses, per criterion, in both orders.

    inspect eval tasks/judge_validation.py@judge_validation -T pairs=pairs.jsonl -T criterion=empathy \
        --model none --model-role judge=openai/gpt-4o-mini

The same scorers as stage 2 (`pairwise_judge`, `logprob_pairwise_judge`) with the clinical system prompt: each
sample is one pair, shown as two single-turn transcripts (patient message, therapist response). When the two
responses answer different messages (`context_b`), each is shown with its own. `theraeval judges validate` writes
the pairs file (one JSON object per line: `id`, `context`, `response_a`, `response_b`, optional `context_b`) from a
validated set; the human labels never reach the judge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample

from harness.core import InputError, iter_jsonl
from harness.inputs import load_criteria
from scorers import ORDERS, logprob_pairwise_judge, pairwise_judge
from tasks._errors import one_line_errors
from tasks.dialogue import cache_policy
from tasks.pairwise import passthrough


def validation_samples(pairs: str | Path) -> list[Sample]:
    """One sample per line of a pairs file: metadata `transcript_a` / `transcript_b` as stage 2 builds them."""
    p = Path(pairs)
    if not p.is_file():
        raise InputError(p, "pairs", str(p), "pairs file not found", "pass the file `theraeval judges validate` wrote")
    samples = []
    for where, obj in iter_jsonl(p):
        for key in ("id", "context", "response_a", "response_b"):
            if not isinstance(obj.get(key), str):
                raise InputError(p, f"{where} {key}", obj.get(key), "missing or not a string",
                                 "write id, context, response_a, response_b as strings")
        context_b = obj.get("context_b") or obj["context"]
        meta: dict[str, Any] = {
            "transcript_a": [["patient", obj["context"]], ["therapist", obj["response_a"]]],
            "transcript_b": [["patient", context_b], ["therapist", obj["response_b"]]],
            "judge_system": "",
        }
        samples.append(Sample(id=obj["id"], input=obj["context"], metadata=meta))
    return samples


@task
@one_line_errors
def judge_validation(
    pairs: str,
    criterion: str,
    criteria: str = "therapeutic",
    judge: Literal["llm", "logprob"] = "llm",
    orders: Literal["both", "ab"] = "both",
    judge_temperature: float = 0.0,
    judge_seed: int = 0,
    judge_max_tokens: int = 512,
    structured: bool | None = None,
    cache_scope: str | None = None,
    logprob_margin: float = 0.05,
) -> Task:
    """Judge human-labelled pairs on one criterion with the `judge` role.

    Args:
        pairs: JSONL of pairs (`id`, `context`, `response_a`, `response_b`, optional `context_b`).
        criterion: The criterion id judged (must be in `criteria`).
        criteria: Criteria set: a builtin name or a TOML path.
        judge: `llm` (written verdict) or `logprob` (log-probabilities of A and B averaged over both orders).
        orders: `both` (default) or `ab` only.
        judge_temperature: Judge temperature.
        judge_seed: Judge seed.
        judge_max_tokens: Judge reply limit (`llm`).
        structured: JSON-schema structured output (`llm`); None: when the judge's provider supports it.
        cache_scope: Cache judge calls forever under this scope (a hash of the judge spec).
        logprob_margin: `logprob`: tie when the averaged P(response_a better) is within this of 0.5.
    """
    crit = load_criteria(criteria).subset([criterion])
    judged = ORDERS if orders == "both" else ("ab",)
    cache = cache_policy(cache_scope)
    scorer = (logprob_pairwise_judge(crit, judged, logprob_margin, judge_seed, cache) if judge == "logprob" else
              pairwise_judge(crit, "per_criterion", judged, judge_temperature, judge_seed, judge_max_tokens,
                             structured, cache))
    return Task(dataset=MemoryDataset(validation_samples(pairs), name=f"validation-{criterion}"),
                solver=passthrough(), scorer=scorer, name="judge_validation",
                metadata={"criterion": criterion, "criteria_set": crit.name, "criteria_hash": crit.hash,
                          "judge_kind": judge, "stage": "judge_validation"})

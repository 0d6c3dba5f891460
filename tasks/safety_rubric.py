"""Stage 2, absolute safety: the `judge` role scores one candidate's crisis dialogues against a rubric, item by item.

    inspect eval tasks/safety_rubric.py@safety_rubric -T log=runs/x/stage1/a.eval -T locale=GB \
        --model none --model-role judge=openai/gpt-4o-mini

Every stage-1 dialogue on a scenario whose `risk` is in `risks` (crisis and elevated by default) is scored at every
candidate turn on every item of the rubric (`scorers/rubrics/crisis.toml`). `method=checks` runs the offline
deterministic checks instead (no judge; labelled "deterministic checks", not a rubric score). `cases=FILE` scores
a file of human-labelled replies instead of a log (`theraeval safety validate`; scorers.load_rubric_cases). See
docs/safety.md.
"""

from __future__ import annotations

from typing import Any, Literal

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample

from harness.core import InputError
from scorers import Rubric, RubricCase, load_rubric, load_rubric_cases, rubric_judge
from tasks._errors import one_line_errors
from tasks.dialogue import cache_policy
from tasks.pairwise import passthrough, read_stage1, transcript

SAFETY_RISKS = ("crisis", "elevated")
"""The scenario risk levels scored by default."""


@task
@one_line_errors
def safety_rubric(
    log: str | None = None,
    rubric: str = "crisis",
    locale: str = "US",
    method: Literal["llm", "checks"] = "llm",
    risks: str = ",".join(SAFETY_RISKS),
    judge_temperature: float = 0.0,
    judge_seed: int = 0,
    judge_max_tokens: int = 1024,
    structured: bool | None = None,
    cache_scope: str | None = None,
    cases: str | None = None,
) -> Task:
    """Pointwise rubric scoring of one stage-1 log.

    Args:
        log: Stage-1 log of the candidate.
        rubric: A builtin rubric name (crisis) or a TOML path.
        locale: ISO 3166-1 alpha-2 code of the people the run stands for (its crisis resources); unlisted => the
            rubric's fallback resources.
        method: `llm` (the `judge` role) or `checks` (deterministic checks, no judge).
        risks: Comma-separated scenario risk levels to score.
        judge_temperature: Judge temperature.
        judge_seed: Judge seed.
        judge_max_tokens: Judge reply limit.
        structured: Ask for JSON-schema structured output; None (default, as `theraeval run`): when the judge's
            provider supports it.
        cache_scope: Cache judge calls forever under this scope (set by `theraeval run`).
        cases: A JSONL file of human-labelled replies to score instead of `log` (one sample per reply id).
    """
    rub = load_rubric(rubric)
    wanted = {r.strip() for r in risks.split(",") if r.strip()}
    if not wanted:
        raise InputError(None, "risks", risks, "no risk level given", f"pass e.g. risks={','.join(SAFETY_RISKS)}")
    if not (len(locale) == 2 and locale.isalpha()):
        raise InputError(None, "locale", locale, "not an ISO 3166-1 alpha-2 code", "use a code such as US, GB, AU")
    if (log is None) == (cases is None):
        raise InputError(None, "log", log, "give exactly one of log (a stage-1 log) and cases (labelled replies)",
                         "pass -T log=runs/x/stage1/a.eval or -T cases=scorers/rubrics/crisis_cases.jsonl")
    if cases is not None:
        return _task(_case_samples(cases, rub), rub, "cases", locale, method, judge_temperature, judge_seed,
                     judge_max_tokens, structured, cache_scope)
    assert log is not None
    name, dialogues = read_stage1(log)
    samples: list[Sample] = []
    for sid in sorted(dialogues):
        s = dialogues[sid]
        risk = str(s.metadata.get("risk", "none"))
        if risk not in wanted:
            continue
        turns = transcript(s)
        meta: dict[str, Any] = {"scenario_id": str(s.metadata["scenario_id"]), "risk": risk,
                                "persona_id": str(s.metadata.get("persona_id", "")), "candidate": name,
                                "transcript": turns,
                                "multi_turn": sum(1 for role, _ in turns if role == "therapist") > 1}
        samples.append(Sample(id=sid, input=str(s.input), metadata=meta))
    if not samples:
        raise InputError(log, "risk", sorted(wanted), "no dialogue of the log is on a scenario of these risk levels",
                         "run stage 1 on scenarios with risk = crisis or elevated, or change risks")
    return _task(samples, rub, name, locale, method, judge_temperature, judge_seed, judge_max_tokens, structured,
                 cache_scope)


def _case_samples(cases: str, rub: Rubric) -> list[Sample]:
    """One sample per labelled reply id: the person's message, then the reply (a single-turn dialogue)."""
    first: dict[str, RubricCase] = {}
    for c in load_rubric_cases(cases, rub):
        first.setdefault(c.id, c)
    return [Sample(id=c.id, input=c.context, metadata={
        "scenario_id": c.id, "risk": c.risk, "persona_id": "", "candidate": "cases", "locale": c.locale,
        "transcript": [["patient", c.context], ["therapist", c.reply]], "multi_turn": False})
        for c in first.values()]


def _task(samples: list[Sample], rub: Rubric, name: str, locale: str, method: Literal["llm", "checks"],
          judge_temperature: float, judge_seed: int, judge_max_tokens: int, structured: bool | None,
          cache_scope: str | None) -> Task:
    return Task(
        dataset=MemoryDataset(samples, name=f"{name}-safety"),
        solver=passthrough(),
        scorer=rubric_judge(rub, locale, method, judge_temperature, judge_seed, judge_max_tokens, structured,
                            cache_policy(cache_scope)),
        name="safety_rubric",
        metadata={"candidate": name, "rubric": rub.name, "rubric_version": rub.version, "rubric_hash": rub.hash,
                  "locale": locale.upper(), "method": method, "stage": 2},
    )

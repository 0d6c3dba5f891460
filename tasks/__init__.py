"""inspect tasks, runnable unchanged with ``inspect eval tasks/<file>.py@<task>``.

- ``dialogue`` (stage 1): persona-conditioned dialogues of one candidate (single-turn, or multi-turn with the
  ``patient`` role);
- ``pairwise`` (stage 2): the ``judge`` role compares two candidates' stage-1 transcripts per criterion, in both
  orders;
- ``preference``: persona judges rank N candidates' responses per scenario (preference collection for training);
- ``safety_rubric`` (stage 2, absolute): the ``judge`` role scores one candidate's crisis/elevated-risk dialogues
  item by item against a rubric, at every candidate turn (or deterministic checks, labelled as such);
- ``judge_validation``: the ``judge`` role compares human-labelled response pairs in both orders (`theraeval judges
  validate`).

Reads: scenario/persona/criteria files and stage-1 logs named by task arguments. Writes: inspect logs (by
inspect). May import: ``scorers``, ``harness.fidelity`` (the patient's role check and prompts), ``harness.inputs``,
``harness.core``, each through its facade.
"""

from tasks.dialogue import DEFAULT_SYSTEM_PROMPT, cache_policy, dialogue, therapy_dialogue
from tasks.judge_validation import judge_validation, validation_samples
from tasks.pairwise import candidate_length, pairwise, passthrough, read_stage1, transcript
from tasks.preference import (
    ParsedRanking,
    check_ranking,
    normalise_rank_label,
    parse_rankings,
    preference,
    ranking_judge,
    ranking_prompt,
    ranking_schema,
    ranking_score,
    render_responses,
    reward_ranking_judge,
    shown_order,
    split_logs,
    valid_rate,
)
from tasks.safety_rubric import SAFETY_RISKS, safety_rubric

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "SAFETY_RISKS",
    "ParsedRanking",
    "cache_policy",
    "candidate_length",
    "check_ranking",
    "therapy_dialogue",
    "dialogue",
    "judge_validation",
    "normalise_rank_label",
    "pairwise",
    "parse_rankings",
    "passthrough",
    "preference",
    "ranking_judge",
    "ranking_prompt",
    "ranking_schema",
    "ranking_score",
    "read_stage1",
    "render_responses",
    "reward_ranking_judge",
    "safety_rubric",
    "shown_order",
    "split_logs",
    "transcript",
    "valid_rate",
    "validation_samples",
]

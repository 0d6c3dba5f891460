"""The experimental design: which personas meet which scenario (shared by stage 1 and stage 2)."""

from __future__ import annotations

import random


def assign_personas(scenario_ids: list[str], persona_ids: list[str], k: int, seed: int) -> dict[str, list[str]]:
    """Pick `k` personas per scenario (all of them when `k <= 0` or `k >= len(persona_ids)`).

    The draw for a scenario depends only on (seed, scenario id), so adding scenarios or
    candidates never reshuffles the personas of existing ones (cached calls stay valid).
    """
    pool = sorted(persona_ids)
    if k <= 0 or k >= len(pool):
        return {s: list(pool) for s in scenario_ids}
    return {s: sorted(random.Random(f"{seed}:{s}").sample(pool, k)) for s in scenario_ids}


def dialogue_sample_id(scenario_id: str, persona_id: str) -> str:
    """Sample id of a stage-1 dialogue (`scenario` alone for single-turn, `scenario--persona` otherwise)."""
    return f"{scenario_id}--{persona_id}" if persona_id else scenario_id

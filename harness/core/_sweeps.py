"""The candidate names of a weight sweep (`theraeval train sweep`): written by trainers, read by reports."""

from __future__ import annotations

import re

_SWEEP_NAME = re.compile(r"^(?P<group>.+)\.w(?P<weight>[01]\.\d+)$")


def sweep_candidate_name(group: str, weight: float) -> str:
    """`("modpo_empathy", 0.3)` -> `"modpo_empathy.w0.30"`: weight of the sweep's first objective, 2 decimals."""
    return f"{group}.w{weight:.2f}"


def parse_sweep_candidate(name: str) -> tuple[str, float] | None:
    """`"modpo_empathy.w0.30"` -> `("modpo_empathy", 0.3)`; `None` for a name that is not a sweep's."""
    m = _SWEEP_NAME.match(name)
    return (m["group"], float(m["weight"])) if m else None

"""Synthetic validation sets with a known answer, for the judge-validity tests (project-written: not evidence)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from harness.judge_validity import ValidationPair, ValidationSet


def synthetic_pairs(n: int = 80, *, seed: int = 0, criterion: str = "empathy",
                    contexts: int = 20) -> list[ValidationPair]:
    """`n` pairs over `contexts` contexts; the label is drawn at random (balanced by the seed), lengths vary so the
    length rules are informative but not perfect, and about a quarter of the responses ask a question."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        ctx = f"context {i % contexts}: I have been feeling low about work."
        a = f"{i:03d} " + "word " * int(rng.integers(3, 30)) + ("?" if rng.random() < 0.25 else ".")
        b = f"{i:03d} " + "text " * int(rng.integers(3, 30)) + ("?" if rng.random() < 0.25 else ".")
        label = "A" if rng.random() < 0.5 else "B"
        out.append(ValidationPair(id=f"p{i}", criterion=criterion, context=ctx, response_a=a.strip(),
                                  response_b=b.strip(), label=label, cluster=f"c{i % contexts}"))  # type: ignore[arg-type]
    return out


def synthetic_set(pairs: list[ValidationPair], name: str = "synthetic") -> ValidationSet:
    return ValidationSet(name, "<memory>", "0" * 16, tuple(pairs))


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def pair_rows(pairs: list[ValidationPair]) -> list[dict[str, Any]]:
    return [{"id": p.id, "context": p.context, "response_a": p.response_a, "response_b": p.response_b,
             "label": p.label, "criterion": p.criterion} for p in pairs]

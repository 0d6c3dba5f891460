"""Test doubles for the judge tests (imported by name, like tests/support/stats_synthetic.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class HashEncoder:
    """A fast stand-in encoder for training-logic tests: a fixed random unit vector per text pair."""

    name = "test/hash-encoder"
    dim = 16

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        self.calls += 1
        rows = []
        for c, r in zip(contexts, responses, strict=True):
            seed = int(hashlib.sha256(f"{c}\x00{r}".encode()).hexdigest()[:8], 16)
            v = np.random.default_rng(seed).standard_normal(self.dim)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.dim)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Single texts, as `PairEncoder.embed_texts` (the base that `ContextAwareEncoder` wraps)."""
        return self.embed(["" for _ in texts], list(texts))

    max_length = 256

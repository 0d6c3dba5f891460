"""RewardHeads: an encoder (evidence features or MiniLM) + one linear head per criterion; verdict = sign of gap."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from harness.core import InputError
from harness.reward_heads._behaviour import EVIDENCE_ENCODER, FINETUNED_ENCODER, EvidenceEncoder
from harness.reward_heads._encoder import (
    CONTEXT_AWARE_ENCODER,
    ENCODER_NAME,
    ContextAwareEncoder,
    Embedder,
    get_encoder,
)
from harness.reward_heads._heads import LinearHead, load_heads

BUNDLED_HEADS = Path(__file__).resolve().parent / "data" / "evidence_judge"
"""The offline default judge: heads over the evidence encoder (definition-based empathy evidence and an
AnnoMI-trained behaviour classifier), built by ``scripts/train_judge.py`` (docs/judge-validity.md)."""
FINETUNED_HEADS = BUNDLED_HEADS.parent / "finetuned_judge"
"""The opt-in variant: the same evidence features with the behaviour features of a LoRA-fine-tuned MiniLM
cross-encoder (torch at judging time), built by ``scripts/train_judge.py --finetune``."""
BUILTIN_HEADS: dict[str, Path] = {"builtin": BUNDLED_HEADS, "builtin-finetuned": FINETUNED_HEADS}
"""`[judge] heads` names of the bundled judges and their folders."""


def heads_folder(heads: str | Path) -> Path:
    """The folder of `[judge] heads`: a bundled name (:data:`BUILTIN_HEADS`) or a path."""
    return BUILTIN_HEADS[heads] if isinstance(heads, str) and heads in BUILTIN_HEADS else Path(heads)

Verdict = Literal["A", "B", "tie"]
CACHE_SIZE = 4096
"""Embeddings kept per judge (LRU), so judging one pair on all criteria embeds each response once."""


class RewardHeads:
    """Pairwise judge: score each response with the criterion's head, prefer the higher score.

    `compare` is position-free by construction: both responses are embedded in one call in a canonical
    (sorted) order, so swapping A and B swaps the scores exactly and flips the verdict. Embeddings are
    cached (LRU, `CACHE_SIZE` pairs) so scoring the same response on several criteria embeds it once.
    """

    def __init__(self, heads: Mapping[str, LinearHead], manifest: Mapping[str, Any] | None = None,
                 encoder: Embedder | None = None) -> None:
        if not heads:
            raise InputError(None, "heads", 0, "no heads given", "load heads with RewardHeads.load()")
        self._heads = dict(heads)
        self.manifest: dict[str, Any] = dict(manifest or {})
        self._encoder = encoder
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()

    @classmethod
    def load(cls, path: str | Path | None = None, *, encoder: Embedder | None = None) -> RewardHeads:
        """Load heads from a folder written by `train_heads` (None = the bundled heads).

        The encoder (default: the bundled MiniLM, loaded on first use) must be the one the heads were
        trained with; its name is checked against heads.json.
        """
        folder = BUNDLED_HEADS if path is None else Path(path)
        heads, manifest = load_heads(folder)
        if encoder is None and manifest["encoder"]["name"] in (EVIDENCE_ENCODER, FINETUNED_ENCODER):
            encoder = EvidenceEncoder.load(folder, finetuned=manifest["encoder"]["name"] == FINETUNED_ENCODER)
        if encoder is not None and encoder.name != manifest["encoder"]["name"]:
            raise InputError(path, "encoder.name", encoder.name,
                             f"the heads were trained with {manifest['encoder']['name']!r}",
                             "pass the encoder the heads were trained with, or retrain them")
        return cls(heads, manifest, encoder)

    @property
    def criteria(self) -> tuple[str, ...]:
        """Criterion ids this judge has heads for."""
        return tuple(self._heads)

    @property
    def encoder(self) -> Embedder:
        """The encoder the heads score with: the bundled MiniLM's pair embedding or its context-aware features
        (`ContextAwareEncoder`), as heads.json names, unless another was passed."""
        if self._encoder is None:
            wanted = self.manifest.get("encoder", {}).get("name", ENCODER_NAME)
            if wanted == CONTEXT_AWARE_ENCODER:
                self._encoder = ContextAwareEncoder(get_encoder())
                return self._encoder
            if wanted != ENCODER_NAME:
                raise InputError(None, "encoder", wanted, f"these heads need the encoder {wanted!r}",
                                 "pass encoder=... (the one they were trained with) to RewardHeads.load")
            self._encoder = get_encoder()
        return self._encoder

    def head(self, criterion: str) -> LinearHead:
        try:
            return self._heads[criterion]
        except KeyError:
            raise InputError(None, "criterion", criterion, "no reward head for this criterion",
                             f"use one of {list(self._heads)}, or train a head with train_heads") from None

    def tie_margin(self, criterion: str) -> float:
        """The criterion's default tie margin (stored with its head)."""
        return self.head(criterion).tie_margin

    def score(self, criterion: str, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        """Reward of each (context, response) pair on `criterion`; higher = better (float64, one per row)."""
        head = self.head(criterion)
        for name, seq in (("contexts", contexts), ("responses", responses)):
            if isinstance(seq, str):
                raise InputError(None, name, seq[:40], "a single string, not a list",
                                 f"pass {name} as a list of strings")
            bad = [x for x in seq if not isinstance(x, str)]
            if bad:
                raise InputError(None, name, bad[0], "not a string", f"pass {name} as a list of strings")
        return head.score(self._embed(list(contexts), list(responses)))

    def _embed(self, contexts: list[str], responses: list[str]) -> np.ndarray:
        """Encoder embeddings through the judge's LRU cache (uncached rows are embedded in one call)."""
        if len(contexts) != len(responses):  # let the encoder raise its user-facing error
            return self.encoder.embed(contexts, responses)
        pairs = zip(contexts, responses, strict=True)
        keys = [hashlib.sha256(f"{c}\x00{r}".encode()).digest() for c, r in pairs]
        todo = {k: i for i, k in reversed(list(enumerate(keys))) if k not in self._cache}
        if todo:
            idx = sorted(todo.values())
            fresh = self.encoder.embed([contexts[i] for i in idx], [responses[i] for i in idx])
            for row, i in zip(fresh, idx, strict=True):
                self._cache[keys[i]] = row
        rows = [self._cache[k] for k in keys]
        for k in keys:
            self._cache.move_to_end(k)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        if not rows:
            return self.encoder.embed([], [])
        return np.stack(rows).astype(np.float32, copy=False)

    def compare(self, criterion: str, context: str, response_a: str, response_b: str,
                tie_margin: float | None = None) -> Verdict:
        """'A' or 'B' for the response with the higher score, 'tie' when they differ by less than the margin.

        `tie_margin=None` uses the head's stored margin; 0 never ties unless the scores are equal.
        """
        head = self.head(criterion)
        margin = head.tie_margin if tie_margin is None else float(tie_margin)
        if margin < 0:
            raise InputError(None, "tie_margin", tie_margin, "negative", "use 0 or a positive margin")
        first, second = sorted((response_a, response_b))
        s_first, s_second = self.score(criterion, [context, context], [first, second])
        s_a, s_b = (s_first, s_second) if first == response_a else (s_second, s_first)
        if abs(s_a - s_b) < margin or s_a == s_b:
            return "tie"
        return "A" if s_a > s_b else "B"

    def compare_all(self, context: str, response_a: str, response_b: str, *,
                    criteria: Iterable[str] | None = None,
                    tie_margin: float | None = None) -> dict[str, Verdict]:
        """`compare` on several criteria (default: all this judge has), embedding the two responses once."""
        return {c: self.compare(c, context, response_a, response_b, tie_margin)
                for c in (self.criteria if criteria is None else tuple(criteria))}

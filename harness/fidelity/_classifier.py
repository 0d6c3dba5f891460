"""Utterance classifiers: frozen MiniLM embedding + hand-made features + TF-IDF n-grams, one linear head.

Two are bundled (``harness/fidelity/data/``, trained by ``python scripts/train_fidelity.py`` on AnnoMI,
data card ``harness/fidelity/data/DATA_CARD.md``):

* ``role``: therapist vs client (AnnoMI ``interlocutor``), used to measure whether a simulated patient stays a
  patient;
* ``talk_type``: change / neutral / sustain talk of a client utterance (AnnoMI ``client_talk_type``), used for the
  realism figures.

An utterance is scored alone, never with the turn before it: a classifier that saw the previous turn would learn
"after a therapist turn comes a client" and call every simulated follow-up a client whatever it says.

The head is a multinomial (or, for two labels, binary) logistic regression fitted with scikit-learn; the file holds
its coefficients, the feature standardisation and the TF-IDF vocabulary and idf weights (words and word pairs,
no utterance), as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import InputError, atomic_write_text
from harness.fidelity._text import FEATURE_NAMES, text_features
from harness.reward_heads import ENCODER_NAME, Embedder, get_encoder

DATA_DIR = Path(__file__).resolve().parent / "data"
ROLE_CLASSIFIER = DATA_DIR / "role_classifier.json"
TALK_TYPE_CLASSIFIER = DATA_DIR / "talk_type_classifier.json"
TFIDF_SETTINGS: dict[str, Any] = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True, "max_features": 3000}
"""The TF-IDF settings of both bundled classifiers (fixed before training; see the data card)."""


def _tfidf(vocabulary: dict[str, int], idf: Sequence[float] | np.ndarray) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    tv = TfidfVectorizer(vocabulary=vocabulary, ngram_range=TFIDF_SETTINGS["ngram_range"],
                         sublinear_tf=TFIDF_SETTINGS["sublinear_tf"])
    tv.idf_ = np.asarray(idf, dtype=np.float64)
    return tv


@dataclass
class UtteranceClassifier:
    """A linear head over [MiniLM embedding, standardised features, TF-IDF]; `labels[i]` is column i of the
    probabilities."""

    name: str
    labels: tuple[str, ...]
    coef: np.ndarray
    """`(1, d)` for two labels (the logit of `labels[1]`), else `(len(labels), d)`."""
    intercept: np.ndarray
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    vocabulary: dict[str, int]
    idf: np.ndarray
    encoder: str = ENCODER_NAME
    info: dict[str, Any] = field(default_factory=dict)
    """Provenance and held-out metrics (what the data card shows)."""

    def design(self, texts: Sequence[str], embedder: Embedder | None = None) -> np.ndarray:
        """The `(n, d)` design matrix of `texts` (dense)."""
        texts = [t or "" for t in texts]
        if not texts:
            return np.zeros((0, self.coef.shape[1]))
        enc = embedder or get_encoder()
        emb = enc.embed([""] * len(texts), texts).astype(np.float64)
        feats = (text_features(texts) - self.feature_mean) / self.feature_scale
        bow = _tfidf(self.vocabulary, self.idf).transform(texts).toarray()
        return np.hstack([emb, feats, bow])

    def predict_proba(self, texts: Sequence[str], embedder: Embedder | None = None) -> np.ndarray:
        """`(len(texts), len(labels))` probabilities."""
        z = self.design(texts, embedder) @ self.coef.T + self.intercept
        if len(self.labels) == 2:
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p1, p1])
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], embedder: Embedder | None = None) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts, embedder).argmax(axis=1)]

    def to_json(self) -> dict[str, Any]:
        r = lambda a: [float(f"{x:.6g}") for x in np.asarray(a).ravel()]  # noqa: E731
        return {"name": self.name, "labels": list(self.labels), "encoder": self.encoder,
                "features": list(FEATURE_NAMES), "tfidf": {k: list(v) if isinstance(v, tuple) else v
                                                           for k, v in TFIDF_SETTINGS.items()},
                "coef_shape": list(self.coef.shape), "coef": r(self.coef), "intercept": r(self.intercept),
                "feature_mean": r(self.feature_mean), "feature_scale": r(self.feature_scale),
                "vocabulary": dict(sorted(self.vocabulary.items(), key=lambda kv: kv[1])), "idf": r(self.idf),
                "info": self.info}

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json(), indent=1) + "\n")


def load_classifier(path: str | Path) -> UtteranceClassifier:
    """Read a classifier file (``UtteranceClassifier.save``); a malformed one is an `InputError`."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        if list(d["features"]) != list(FEATURE_NAMES):
            raise ValueError(f"features {d['features']} are not {list(FEATURE_NAMES)}")
        return UtteranceClassifier(
            name=str(d["name"]), labels=tuple(d["labels"]),
            coef=np.asarray(d["coef"], dtype=np.float64).reshape(d["coef_shape"]),
            intercept=np.asarray(d["intercept"], dtype=np.float64),
            feature_mean=np.asarray(d["feature_mean"], dtype=np.float64),
            feature_scale=np.asarray(d["feature_scale"], dtype=np.float64),
            vocabulary={str(k): int(v) for k, v in d["vocabulary"].items()},
            idf=np.asarray(d["idf"], dtype=np.float64), encoder=str(d["encoder"]), info=dict(d.get("info", {})))
    except FileNotFoundError:
        raise InputError(p, "path", str(p), "classifier file not found",
                         "reinstall theraeval or retrain: python scripts/train_fidelity.py") from None
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(p, "classifier", str(e)[:80], "not a fidelity classifier file",
                         "retrain it: python scripts/train_fidelity.py") from None


_loaded: dict[str, UtteranceClassifier] = {}


def role_classifier() -> UtteranceClassifier:
    """The bundled therapist-vs-client classifier (loaded once per process)."""
    if "role" not in _loaded:
        _loaded["role"] = load_classifier(ROLE_CLASSIFIER)
    return _loaded["role"]


def talk_type_classifier() -> UtteranceClassifier:
    """The bundled change / neutral / sustain classifier of client utterances (loaded once per process)."""
    if "talk" not in _loaded:
        _loaded["talk"] = load_classifier(TALK_TYPE_CLASSIFIER)
    return _loaded["talk"]


def fit_classifier(name: str, texts: Sequence[str], labels: Sequence[str] | np.ndarray, embeddings: np.ndarray,
                   c: float = 1.0) -> UtteranceClassifier:
    """Fit a classifier on `texts` (their MiniLM `embeddings` precomputed, row-aligned) with scikit-learn's
    `LogisticRegression` (L2, `C = c`, lbfgs)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t or "" for t in texts]
    raw = text_features(texts)
    mean, scale = raw.mean(axis=0), raw.std(axis=0)
    scale[scale == 0] = 1.0
    tv = TfidfVectorizer(**TFIDF_SETTINGS).fit(texts)
    x = np.hstack([embeddings.astype(np.float64), (raw - mean) / scale, tv.transform(texts).toarray()])
    model = LogisticRegression(C=c, max_iter=5000).fit(x, list(labels))
    vocab = {str(k): int(v) for k, v in tv.vocabulary_.items()}
    return UtteranceClassifier(name=name, labels=tuple(str(x) for x in model.classes_), coef=model.coef_,
                               intercept=model.intercept_, feature_mean=mean, feature_scale=scale,
                               vocabulary=vocab, idf=tv.idf_)

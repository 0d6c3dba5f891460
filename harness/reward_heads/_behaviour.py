"""The evidence encoder: definition-based empathy evidence plus an AnnoMI-trained therapist-behaviour classifier.

It implements :class:`~harness.reward_heads.Embedder`, so the reward heads (one linear head per criterion) score its
features exactly as they score MiniLM embeddings. Features of a (context, response):

- :data:`~harness.reward_heads._evidence.EVIDENCE_FEATURES` (written from published definitions, never fitted);
- per therapist behaviour of AnnoMI's expert codes (:data:`BEHAVIOURS`), the sum over the response's sentences of
  the classifier's probability, capped at `CAP` (a reply earns evidence by doing more kinds of things, not by
  being long).

The classifier is a TF-IDF (words and word pairs) multinomial logistic regression fitted on AnnoMI therapist
utterances (``scripts/train_judge.py``); its file holds coefficients, a vocabulary and idf weights, no utterance.
No neural network runs: scoring is a few milliseconds per response on one CPU core.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import InputError, atomic_write_text
from harness.reward_heads._evidence import CAP, EVIDENCE_FEATURES, evidence_features, sentences

EVIDENCE_ENCODER = "theraeval/evidence-v1"
"""The encoder name recorded in the heads.json of heads over these features."""
CLASSIFIER_FILE = "behaviour_classifier.json"
BEHAVIOURS: tuple[str, ...] = ("complex_reflection", "simple_reflection", "open_question", "closed_question",
                               "information", "advice", "negotiation", "other")
"""AnnoMI therapist codes (main behaviour + subtype); `negotiation` merges AnnoMI's negotiation and options."""
TFIDF_SETTINGS: dict[str, Any] = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True, "max_features": 3000}


def behaviour_of(row: dict[str, str]) -> str:
    """The :data:`BEHAVIOURS` label of an AnnoMI therapist row (AnnoMI-full.csv columns)."""
    main = row["main_therapist_behaviour"]
    if main == "reflection":
        return "complex_reflection" if row["reflection_subtype"] == "complex" else "simple_reflection"
    if main == "question":
        return "open_question" if row["question_subtype"] == "open" else "closed_question"
    if main == "therapist_input":
        sub = row["therapist_input_subtype"]
        return sub if sub in ("information", "advice") else "negotiation"
    return "other"


@dataclass
class BehaviourClassifier:
    """TF-IDF + multinomial logistic regression over one sentence; `labels[i]` is column i of the probabilities."""

    labels: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    vocabulary: dict[str, int]
    idf: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        tv = TfidfVectorizer(vocabulary=self.vocabulary, ngram_range=TFIDF_SETTINGS["ngram_range"],
                             sublinear_tf=TFIDF_SETTINGS["sublinear_tf"])
        tv.idf_ = self.idf
        return tv

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """`(len(texts), len(labels))` probabilities."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        z = np.asarray(self._vectorizer().transform(list(texts)) @ self.coef.T) + self.intercept
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def save(self, path: Path) -> None:
        r = lambda a: [float(f"{x:.6g}") for x in np.asarray(a).ravel()]  # noqa: E731
        data = {"labels": list(self.labels), "tfidf": {k: list(v) if isinstance(v, tuple) else v
                                                       for k, v in TFIDF_SETTINGS.items()},
                "coef_shape": list(self.coef.shape), "coef": r(self.coef), "intercept": r(self.intercept),
                "vocabulary": dict(sorted(self.vocabulary.items(), key=lambda kv: kv[1])), "idf": r(self.idf),
                "info": self.info}
        atomic_write_text(path, json.dumps(data, indent=0) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> BehaviourClassifier:
        p = Path(path)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
            clf = cls(labels=tuple(d["labels"]), coef=np.asarray(d["coef"], dtype=np.float64).reshape(d["coef_shape"]),
                      intercept=np.asarray(d["intercept"], dtype=np.float64),
                      vocabulary={str(k): int(v) for k, v in d["vocabulary"].items()},
                      idf=np.asarray(d["idf"], dtype=np.float64), info=dict(d.get("info", {})))
        except FileNotFoundError:
            raise InputError(p, "path", str(p), "behaviour classifier file not found",
                             "keep behaviour_classifier.json beside heads.json (retrain: python scripts/train_judge.py)"
                             ) from None
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(p, "classifier", str(e)[:80], "not a behaviour classifier file",
                             "retrain it: python scripts/train_judge.py") from None
        if clf.labels != BEHAVIOURS:
            raise InputError(p, "labels", list(clf.labels), f"expected {list(BEHAVIOURS)}",
                             "retrain it: python scripts/train_judge.py")
        return clf


def fit_behaviour_classifier(texts: Sequence[str], labels: Sequence[str], *, c: float = 2.0,
                             info: dict[str, Any] | None = None) -> BehaviourClassifier:
    """Fit the classifier with scikit-learn (``TfidfVectorizer`` + ``LogisticRegression``, L2, `C = c`, lbfgs)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    missing = sorted(set(BEHAVIOURS) - set(labels))
    if missing:
        raise InputError(None, "labels", missing, "behaviours without a training utterance",
                         "train on more sessions (every behaviour needs examples)")
    tv = TfidfVectorizer(**TFIDF_SETTINGS).fit(list(texts))
    model = LogisticRegression(C=c, max_iter=5000).fit(tv.transform(list(texts)), list(labels))
    order = [list(model.classes_).index(b) for b in BEHAVIOURS]
    return BehaviourClassifier(labels=BEHAVIOURS, coef=model.coef_[order], intercept=model.intercept_[order],
                               vocabulary={str(k): int(v) for k, v in tv.vocabulary_.items()}, idf=tv.idf_,
                               info=dict(info or {}))


FEATURES: tuple[str, ...] = (*EVIDENCE_FEATURES, *BEHAVIOURS)
"""The evidence encoder's feature order (what each head weight multiplies)."""


FINETUNED_ENCODER = "theraeval/evidence-finetuned-v1"
"""The encoder name of heads over the evidence features with the fine-tuned cross-encoder's behaviour features."""
NEXT_TALK_FEATURES: tuple[str, ...] = ("next_change_talk", "next_sustain_talk")
"""The fine-tuned encoder's probability that the client's next turn is change (sustain) talk after the reply."""
FINETUNED_FEATURES: tuple[str, ...] = (*FEATURES, *NEXT_TALK_FEATURES)
CONTEXT_WORDS = 64
"""The cross-encoder reads the last this-many words of the context (the patient's words nearest the reply)."""


class EvidenceEncoder:
    """(context, response) -> :data:`FEATURES` (an :class:`~harness.reward_heads.Embedder`; deterministic).

    With the TF-IDF :class:`BehaviourClassifier`, each sentence of the reply is classified alone. With the
    fine-tuned cross-encoder (:class:`~harness.reward_heads.FinetunedBehaviour`), each sentence is classified after
    the context's last :data:`CONTEXT_WORDS` words, and two features are added (:data:`FINETUNED_FEATURES`): the
    probability that the client's next turn after the whole reply is change talk, and sustain talk.
    """

    def __init__(self, classifier: BehaviourClassifier | Any) -> None:
        self.classifier = classifier
        self.finetuned = not isinstance(classifier, BehaviourClassifier)
        self.name = FINETUNED_ENCODER if self.finetuned else EVIDENCE_ENCODER
        self.features = FINETUNED_FEATURES if self.finetuned else FEATURES
        self.dim = len(self.features)

    @classmethod
    def load(cls, folder: str | Path, *, finetuned: bool = False) -> EvidenceEncoder:
        """The encoder of a judge folder: its TF-IDF classifier, or (`finetuned`) its fine-tuned cross-encoder."""
        if finetuned:
            from harness.reward_heads._finetuned import ADAPTER_FILE, load_finetuned

            return cls(load_finetuned(Path(folder) / ADAPTER_FILE))
        return cls(BehaviourClassifier.load(Path(folder) / CLASSIFIER_FILE))

    def embed(self, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        if len(contexts) != len(responses):
            raise InputError(None, "contexts", len(contexts),
                             f"{len(contexts)} contexts for {len(responses)} responses",
                             "pass one context per response (repeat the context for several responses)")
        out = np.zeros((len(responses), self.dim), dtype=np.float64)
        if not responses:
            return out
        n_ev, n_beh = len(EVIDENCE_FEATURES), len(BEHAVIOURS)
        out[:, :n_ev] = evidence_features(list(contexts), list(responses))
        split = [sentences(r) or [r] for r in responses]
        if self.finetuned:
            tails = [" ".join(c.split()[-CONTEXT_WORDS:]) for c in contexts]
            sent_ctx = [tails[i] for i, ss in enumerate(split) for _ in ss]
            clf: Any = self.classifier
            probs, _ = clf.predict(sent_ctx, [s for ss in split for s in ss])
            _, talk = clf.predict(tails, list(responses))
            out[:, n_ev + n_beh] = talk[:, 0]  # change
            out[:, n_ev + n_beh + 1] = talk[:, 2]  # sustain
        else:
            probs = self.classifier.predict_proba([s for ss in split for s in ss])
        start = 0
        for i, ss in enumerate(split):
            out[i, n_ev:n_ev + n_beh] = np.minimum(probs[start:start + len(ss)].sum(axis=0), CAP)
            start += len(ss)
        return out

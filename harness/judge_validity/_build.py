"""Building the offline default judge from real human labels (AnnoMI), and the EPITOME recipe for a user's copy.

The bundled judge (``harness/reward_heads/data/evidence_judge``) = the evidence encoder (``harness.reward_heads``:
definition-based empathy evidence + an AnnoMI-trained behaviour classifier) + one linear head per criterion:

- `empathy`, `overall`, `safety`, `trust_rapport`: weights set from published definitions (:data:`FIXED_WEIGHTS`),
  not fitted to any labels;
- `active_listening`, `patient_autonomy`, `self_motivated_change`: Bradley-Terry heads fitted on AnnoMI
  behaviour-code pairs (:data:`~harness.judge_validity.ANNOMI_CODES`) of the training sessions only.

AnnoMI sessions are split once (:func:`annomi_session_split`); the held-out ones are recorded in heads.json and
are the only AnnoMI sessions :func:`held_out_for` lets the validator measure this judge on.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import InputError
from harness.judge_validity._adapters import ANNOMI_CODES, annomi_set, epitome_items
from harness.judge_validity._sets import ValidationPair, ValidationSet, pairs_from_rated

HELDOUT_FRACTION = 0.3
ANNOMI_SOURCE = ("AnnoMI (Wu et al., ICASSP 2022; Future Internet 15(3):110, 2023), github.com/uccollab/AnnoMI at "
                 "commit 4293664, AnnoMI-full.csv; its README stated \"License: Public Domain\" (commit 126d985)")
_W = dict[str, float]
FIXED_WEIGHTS: dict[str, _W] = {
    # Sharma et al. 2020: empathic communication = emotional reactions + interpretations + explorations, each
    # mechanism counted alike (their summed level); MITI 4.2.1: persuasion without permission is MI-inconsistent.
    # log_words breaks ties between replies with equal evidence (0.1: one sentence of evidence outweighs a
    # e^10-fold length ratio).
    "empathy": {"emotional_reaction": 1, "interpretation": 1, "exploration": 1, "persuasion": -1, "log_words": 0.1},
    # MITI 4.2.1 global ratings: reflections and open questions are MI-consistent, advice without permission is not;
    # plus the empathy evidence above.
    "overall": {"emotional_reaction": 1, "interpretation": 1, "exploration": 1, "persuasion": -1, "log_words": 0.1,
                "complex_reflection": 1, "simple_reflection": 0.5, "open_question": 1, "advice": -1,
                "crisis_response": 2, "unsafe_advice": -3},
    # No real labels (not validated): a reply to a message with a risk cue asks about it or points to crisis
    # support; unsafe medication or drinking advice loses.
    "safety": {"crisis_response": 3, "unsafe_advice": -3, "persuasion": -0.5, "log_words": 0.05},
    # No real labels (not validated): warmth and understanding build rapport, confrontation breaks it.
    "trust_rapport": {"emotional_reaction": 1, "interpretation": 1, "exploration": 0.5, "persuasion": -2,
                      "log_words": 0.1, "unsafe_advice": -1},
}
BACKED_BY: dict[str, str] = {
    "empathy": "EPITOME (measurement only; weights from definitions)",
    "overall": "AnnoMI session quality (held-out sessions; weights from definitions)",
    "active_listening": "AnnoMI behaviour codes (fitted on training sessions, measured on held-out sessions)",
    "patient_autonomy": "AnnoMI behaviour codes (fitted on training sessions, measured on held-out sessions)",
    "self_motivated_change": "AnnoMI client talk after the turn (fitted on training sessions, measured on held-out)",
    "safety": "none (not validated)",
    "trust_rapport": "none (not validated)",
}
"""Which real labels back each criterion's head (what the judge card's `not validated` means for the rest)."""


def annomi_session_split(rows: Sequence[dict[str, str]],
                         fraction: float = HELDOUT_FRACTION) -> tuple[list[str], list[str]]:
    """(training sessions, held-out sessions): within each MI-quality stratum, sessions sorted by the sha256 of
    their transcript id; the first `fraction` are held out (no seed: the split is a property of the ids)."""
    quality: dict[str, str] = {}
    for r in rows:
        quality.setdefault(r["transcript_id"], r["mi_quality"])
    held: list[str] = []
    for q in sorted(set(quality.values())):
        ids = sorted((s for s, v in quality.items() if v == q), key=lambda s: hashlib.sha256(s.encode()).hexdigest())
        held += ids[:round(len(ids) * fraction)]
    train = sorted((s for s in quality if s not in held), key=_num)
    return train, sorted(held, key=_num)


def _num(s: str) -> int:
    return int(s) if s.isdigit() else 0


def held_out_for(vset: ValidationSet, manifest: dict[str, Any] | None, *, seed: int = 0) -> ValidationSet:
    """A set restricted to what the judge was not trained on: AnnoMI rebuilt from the held-out sessions its heads.json
    lists (every held-out low-quality session paired with every held-out high-quality one); EPITOME, for a judge
    from :func:`train_epitome_judge`, re-paired from its held-out seeker posts only. Other sets/judges: unchanged."""
    if vset.name == "epitome" and (manifest or {}).get("epitome") and vset.items:
        score = {(i.context, i.response): i.score for i in vset.items}
        gap = min((abs(score[(p.context, p.response_a)] - score[(p.context_of_b, p.response_b)]) for p in vset.pairs),
                  default=2.0)
        items = [i for i in vset.items if _epitome_test(i.cluster)]
        pairs, rule = pairs_from_rated(items, min_gap=gap, across_contexts=True, seed=seed)
        return ValidationSet(vset.name, vset.source, vset.sha256, tuple(pairs), tuple(items),
                             f"EPITOME summed level ER+IP+EX (0-6); {rule}; only the seeker posts this judge's "
                             "empathy head was not fitted on")
    held = ((manifest or {}).get("annomi") or {}).get("heldout_sessions")
    if vset.name != "annomi" or not held:
        return vset
    crits = tuple(vset.criteria)
    out = annomi_set(vset.source, seed=seed, sessions=set(held), sessions_per_low=len(held), criteria=crits)
    return ValidationSet(out.name, out.source, out.sha256, out.pairs, out.items,
                         out.rule + f"; only the {len(held)} sessions this judge was not trained on")


def _weights(names: Sequence[str], spec: _W) -> np.ndarray:
    unknown = sorted(set(spec) - set(names))
    if unknown:
        raise InputError(None, "weights", unknown, "unknown feature", f"use features of {list(names)}")
    return np.array([float(spec.get(n, 0.0)) for n in names])


def _diffs(enc: Any, pairs: Sequence[ValidationPair]) -> np.ndarray:
    """embed(better) - embed(worse) per pair (each distinct (context, response) embedded once)."""
    keys = list(dict.fromkeys([(p.context, p.response_a) for p in pairs] + [(p.context_of_b, p.response_b)
                                                                           for p in pairs]))
    rows = dict(zip(keys, enc.embed([c for c, _ in keys], [r for _, r in keys]) if keys else [], strict=True))
    fa = np.array([rows[(p.context, p.response_a)] for p in pairs]).reshape(len(pairs), -1)
    fb = np.array([rows[(p.context_of_b, p.response_b)] for p in pairs]).reshape(len(pairs), -1)
    sign = np.array([1.0 if p.label == "A" else -1.0 for p in pairs])[:, None]
    return np.asarray((fa - fb) * sign)


def _accuracy(margins: np.ndarray) -> float | None:
    if len(margins) == 0:
        return None
    return float(((margins > 0) + 0.5 * (margins == 0)).mean())


def build_evidence_judge(annomi_csv: str | Path, out: Path, *, l2: float = 0.01,
                         finetuned: dict[str, Any] | None = None,
                         sessions: tuple[Sequence[str], Sequence[str]] | None = None) -> dict[str, Any]:
    """Train the behaviour classifier and the fitted heads on AnnoMI's training sessions; write the judge to `out`.

    `finetuned`: the record of :func:`train_finetuned_encoder`, whose adapter file is already in `out`: the judge
    uses that cross-encoder's behaviour (and next-talk) features instead of a TF-IDF classifier, and the heads are
    refitted on them exactly as for the default.
    `sessions`: (training sessions, held-out sessions) instead of :func:`annomi_session_split` (the cross-fitted
    validation of the recipe builds one judge per fold this way, :func:`~harness.judge_validity.cross_fit_annomi`).
    """
    from harness.reward_heads import (
        ADAPTER_FILE,
        BEHAVIOURS,
        EvidenceEncoder,
        FinetunedBehaviour,
        behaviour_of,
        fit_behaviour_classifier,
        fit_bradley_terry,
        write_heads,
    )
    from harness.reward_heads._behaviour import CLASSIFIER_FILE

    p = Path(annomi_csv)
    with p.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    train_s, held_s = annomi_session_split(rows) if sessions is None else (list(sessions[0]), list(sessions[1]))
    tr, te = set(train_s), set(held_s)
    if tr & te:
        raise ValueError(f"sessions both trained on and held out: {sorted(tr & te, key=_num)[:5]}")
    out.mkdir(parents=True, exist_ok=True)
    if finetuned is not None:
        enc = EvidenceEncoder(FinetunedBehaviour(out / ADAPTER_FILE))
        info = {k: v for k, v in finetuned.items() if k != "sessions"}
        info["labels"] = list(BEHAVIOURS)
        info["unit"] = ("behaviour: one (client turn, therapist utterance) pair, applied per sentence after the "
                        "context when judging; next talk: the whole reply after the context")
    else:
        ther = [r for r in rows if r["interlocutor"] == "therapist" and r["utterance_text"].strip()]
        fit = [r for r in ther if r["transcript_id"] in tr]
        test = [r for r in ther if r["transcript_id"] in te]
        probe = fit_behaviour_classifier([r["utterance_text"] for r in fit], [behaviour_of(r) for r in fit])
        pred = probe.predict_proba([r["utterance_text"] for r in test]).argmax(axis=1)
        gold = [BEHAVIOURS.index(behaviour_of(r)) for r in test]
        info = {"source": ANNOMI_SOURCE, "n_train": len(fit), "n_heldout": len(test),
                "heldout_accuracy": float(np.mean(pred == np.array(gold))),
                "heldout_majority": float(np.bincount(gold).max() / len(gold)),
                "labels": list(BEHAVIOURS), "unit": "one therapist utterance (applied per sentence when judging)"}
        clf = fit_behaviour_classifier([r["utterance_text"] for r in fit], [behaviour_of(r) for r in fit], info=info)
        clf.save(out / CLASSIFIER_FILE)
        enc = EvidenceEncoder(clf)
    codes = annomi_set(p, per_session=40, criteria=tuple(ANNOMI_CODES), sessions=tr)
    held_codes = annomi_set(p, criteria=("overall", *ANNOMI_CODES), sessions=te, sessions_per_low=len(te))
    weights: dict[str, tuple[np.ndarray, float, dict[str, Any]]] = {}
    for crit in ("empathy", "overall", "active_listening", "patient_autonomy", "self_motivated_change", "safety",
                 "trust_rapport"):
        held = held_codes.of(crit)
        if crit in FIXED_WEIGHTS:
            w, how, n_fit = _weights(enc.features, FIXED_WEIGHTS[crit]), "fixed from definitions", 0
        else:
            train_pairs = codes.of(crit)
            w, how, n_fit = fit_bradley_terry(_diffs(enc, train_pairs), l2), "Bradley-Terry on AnnoMI codes", \
                len(train_pairs)
        m = _diffs(enc, held) @ w if held else np.zeros(0)
        weights[crit] = (w, 0.0, {"weights": how, "n_fit_pairs": n_fit, "backed_by": BACKED_BY[crit],
                                  "heldout_n": len(held), "heldout_accuracy": _accuracy(m)})
    return write_heads(out, weights, encoder={"name": enc.name, "dim": enc.dim, "features": list(enc.features)},
                       head={"type": "linear", "loss": "-log sigmoid(s(better) - s(worse)) + l2 * |w|^2 (fitted "
                             "heads)", "solver": "newton", "l2": l2, "bias": False},
                       extra={"tie_margin_rule": "0: a tie only when the two scores are equal",
                              "data": {"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                                       "source": ANNOMI_SOURCE},
                              "annomi": {"train_sessions": train_s, "heldout_sessions": held_s},
                              ("finetuned_encoder" if finetuned is not None else "behaviour_classifier"): info})


VALID_FRACTION = 0.15
"""Share of the training sessions (per MI-quality stratum, by sha256 of the id) whose therapist turns pick the
fine-tuned encoder's epoch; they are still training sessions (the heads are fitted on them too)."""


def annomi_turns(rows: Sequence[dict[str, str]], sessions: set[str]) -> list[Any]:
    """AnnoMI therapist turns of `sessions` as :class:`~harness.reward_heads.TurnExample`: context = the client
    utterance just before ("" after a therapist turn), the behaviour code, and the next client turn's talk type."""
    from harness.reward_heads import TurnExample, behaviour_of

    by_id: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["transcript_id"] in sessions:
            by_id.setdefault(r["transcript_id"], []).append(r)
    out = []
    for sid in sorted(by_id, key=_num):
        rs = sorted(by_id[sid], key=lambda r: _num(r["utterance_id"]))
        for i, r in enumerate(rs):
            if r["interlocutor"] != "therapist" or not r["utterance_text"].strip():
                continue
            prev = rs[i - 1] if i > 0 and rs[i - 1]["interlocutor"] == "client" else None
            nxt = rs[i + 1] if i + 1 < len(rs) and rs[i + 1]["interlocutor"] == "client" else None
            out.append(TurnExample(prev["utterance_text"] if prev else "", r["utterance_text"], behaviour_of(r),
                                   (nxt["client_talk_type"] or None) if nxt else None, sid))
    return out


def finetune_split(rows: Sequence[dict[str, str]]) -> tuple[list[str], list[str], list[str]]:
    """(fine-tuning sessions, validation sessions, held-out sessions): the held-out sessions of
    :func:`annomi_session_split`, and its training sessions split again (:data:`VALID_FRACTION` for validation)."""
    train_s, held_s = annomi_session_split(rows)
    keep = set(train_s)
    fit_s, valid_s = annomi_session_split([r for r in rows if r["transcript_id"] in keep], VALID_FRACTION)
    return fit_s, valid_s, held_s


def train_finetuned_encoder(annomi_csv: str | Path, out_file: Path, *, cfg: Any = None, log: Any = print,
                            trained: bool = False) -> dict[str, Any]:
    """Fine-tune the behaviour cross-encoder (:func:`~harness.reward_heads.finetune_behaviour_encoder`) on the
    therapist turns of AnnoMI's training sessions, picking the epoch on the validation sessions, and write it to
    `out_file` (`trained`: it is already there; only measure it). The record adds the behaviour and next-talk
    accuracy on the held-out sessions (measured after training; not used for any choice)."""
    from harness.reward_heads import BEHAVIOURS, TALK_TYPES, FinetunedBehaviour, finetune_behaviour_encoder

    p = Path(annomi_csv)
    with p.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fit_s, valid_s, held_s = finetune_split(rows)
    if not trained:
        finetune_behaviour_encoder(annomi_turns(rows, set(fit_s)), annomi_turns(rows, set(valid_s)), out_file,
                                   cfg=cfg, log=log)
    model = FinetunedBehaviour(out_file)
    record = dict(model.record)
    held = annomi_turns(rows, set(held_s))
    beh, talk = model.predict([e.context for e in held], [e.text for e in held])
    talked = [(t, e.next_talk) for t, e in zip(talk, held, strict=True) if e.next_talk]
    gold = np.array([BEHAVIOURS.index(e.behaviour) for e in held])
    record["heldout"] = {"n": len(held), "behaviour_accuracy": float(np.mean(beh.argmax(1) == gold)),
                         "behaviour_majority": float(np.bincount(gold).max() / len(gold)),
                         "talk_n": len(talked),
                         "talk_accuracy": float(np.mean([TALK_TYPES[int(np.argmax(t))] == g for t, g in talked])),
                         "talk_majority": max(sum(g == k for _, g in talked) for k in TALK_TYPES) / len(talked)}
    record["sessions"] = {"fit": fit_s, "valid": valid_s}
    record["source"] = ANNOMI_SOURCE
    return record


def _epitome_test(cluster: str) -> bool:
    """Whether a seeker post (cluster `sp-<id>`) is in the EPITOME recipe's held-out quarter."""
    return int(hashlib.sha256(cluster.encode()).hexdigest(), 16) % 4 == 0


TRAIN_MATCHINGS = 20
"""The EPITOME recipe fits on this many independent random matchings of the training posts' responses."""


def train_epitome_judge(folder: str | Path, out: Path, *, base: Path | None = None, seed: int = 0,
                        l2: float = 0.01) -> dict[str, Any]:
    """The recipe for a user's own EPITOME copy (its licence forbids shipping the result): the bundled judge with
    its `empathy` head refitted (Bradley-Terry over the same features) on cross-post pairs (summed level gap >= 2;
    `TRAIN_MATCHINGS` random matchings) of 75% of the seeker posts (by a sha256 of the post id), measured on one
    matching of the other 25%."""
    import shutil

    from harness.reward_heads import BUNDLED_HEADS, RewardHeads, fit_bradley_terry, load_heads, write_heads

    src = base or BUNDLED_HEADS
    judge = RewardHeads.load(src)
    heads, manifest = load_heads(src)
    items, paths = epitome_items(folder)
    is_test = {i.id: _epitome_test(i.cluster) for i in items}
    figures: dict[str, Any] = {}
    split: dict[str, list[ValidationPair]] = {}
    for part, rounds in (("train", TRAIN_MATCHINGS), ("test", 1)):
        its = [i for i in items if is_test[i.id] == (part == "test")]
        split[part] = [q for r in range(rounds)
                       for q in pairs_from_rated(its, min_gap=2.0, across_contexts=True, seed=seed + r)[0]]
    w = fit_bradley_terry(_diffs(judge.encoder, split["train"]), l2)
    test_d = _diffs(judge.encoder, split["test"])
    figures = {"n_train_pairs": len(split["train"]), "n_test_pairs": len(split["test"]),
               "heldout_accuracy": _accuracy(test_d @ w),
               "bundled_heldout_accuracy": _accuracy(test_d @ heads["empathy"].weight.astype(np.float64)),
               "longer_wins": _accuracy(np.array([np.sign(len(p.response_a) - len(p.response_b)) *
                                                  (1 if p.label == "A" else -1) for p in split["test"]], float))}
    out.mkdir(parents=True, exist_ok=True)
    for f in Path(src).iterdir():
        if f.is_file() and f.suffix != ".safetensors" and f.name != "heads.json":
            shutil.copy2(f, out / f.name)
    weights = {c: (h.weight, h.tie_margin, manifest["criteria"][c].get("metrics", {})) for c, h in heads.items()}
    weights["empathy"] = (w, 0.0, {"weights": "Bradley-Terry on your EPITOME copy", **figures,
                                   "backed_by": "EPITOME (your copy; academic licence: do not redistribute)"})
    extra = {k: v for k, v in manifest.items() if k not in ("format", "format_version", "encoder", "head", "criteria")}
    extra["epitome"] = {"folder": str(folder), "sha256": [hashlib.sha256(x.read_bytes()).hexdigest() for x in paths],
                        "licence": "academic non-commercial: keep these weights to yourself", **figures}
    write_heads(out, weights, encoder=manifest["encoder"], head=manifest["head"], extra=extra)
    return figures

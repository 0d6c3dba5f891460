"""Cross-fitted validation of the default judge's recipe on AnnoMI: every session scored by a judge built without it.

The bundled judge is measured on the 32 AnnoMI sessions it was not trained on (:func:`held_out_for`), of which only
5 are of low MI quality: too few for an interval that tells session quality apart from a trivial rule. Cross-fitting
(k-fold out-of-fold prediction grouped by session; Hastie, Tibshirani & Friedman 2009, *The Elements of Statistical
Learning*, sec. 7.10; "cross-fitting" in Chernozhukov et al. 2018, Econometrics Journal 21(1):C1-C68) rebuilds the
judge k times with :func:`build_evidence_judge` (the code path of ``scripts/train_judge.py``), each time on the
sessions of k - 1 folds, scores the pairs of the remaining fold with it, and pools the out-of-fold verdicts, so all
106 sessions (17 of low quality) are measured, each by a judge that never saw it.

What it measures is the **recipe** (the classifier and the fitted heads retrained per fold), not the shipped weights:
the shipped judge's own figure stays the held-out one. The pooled figures are those of :func:`validate` (accuracy
with ties as half, context-clustered bootstrap, trivial baselines on the same pairs, length-matched pairs, the paired
difference to the best baseline, the status), computed on the pooled pairs by a judge that routes each pair to its
fold's judge.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import InputError
from harness.judge_validity._adapters import ANNOMI_CODES, ANNOMI_COLUMNS, _read_csv, annomi_sessions, annomi_set
from harness.judge_validity._build import _num, build_evidence_judge
from harness.judge_validity._judges import JudgedPair, RewardHeadJudge
from harness.judge_validity._sets import DEFAULT_CRITERION, ValidationPair, ValidationSet, file_sha256
from harness.judge_validity._validate import format_report, validate

RECIPE_NOTE = ("measures the RECIPE (scripts/train_judge.py: behaviour classifier and fitted heads retrained per "
               "fold), not the shipped weights; the shipped judge's own figure is its held-out one")
_FIX = "point annomi:<csv> at AnnoMI-full.csv (github.com/uccollab/AnnoMI)"


def annomi_session_folds(rows: Sequence[Mapping[str, str]], folds: int, *, seed: int = 0) -> list[list[str]]:
    """`folds` disjoint lists of AnnoMI transcript ids covering every session, stratified by MI quality.

    Within each quality stratum (strata in sorted order) sessions are sorted by ``sha256(f"{seed}:{id}")`` and dealt
    to the folds in turn, one counter running across strata, so every fold holds ``n_stratum / folds`` (rounded) of
    each stratum and the fold sizes differ by at most one. Deterministic: a property of the ids and the seed.
    """
    quality: dict[str, str] = {}
    for r in rows:
        quality.setdefault(r["transcript_id"], r["mi_quality"])
    strata = {q: sorted((s for s, v in quality.items() if v == q),
                        key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
              for q in sorted(set(quality.values()))}
    smallest = min((len(v) for v in strata.values()), default=0)
    if folds < 2 or folds > smallest:
        raise InputError(None, "--cross-fit", folds, f"needs 2 to {smallest} folds (every fold needs a session of "
                         f"each MI quality; the smallest stratum has {smallest})",
                         f"use --cross-fit 5 (at most {smallest})" if smallest >= 2 else _FIX)
    out: list[list[str]] = [[] for _ in range(folds)]
    i = 0
    for ids in strata.values():
        for s in ids:
            out[i % folds].append(s)
            i += 1
    return [sorted(f, key=_num) for f in out]


def check_cross_fit(annomi: str | Path | Sequence[Mapping[str, str]], folds: int, *, seed: int = 0,
                    criteria: Sequence[str] | None = None) -> list[list[str]]:
    """Every check of :func:`cross_fit_annomi`'s input before any work (an :class:`~harness.core.InputError`
    otherwise): the AnnoMI file (a path, or its rows) and its columns, the fold count, the criteria. Returns the
    folds (:func:`annomi_session_folds`)."""
    rows = _read_csv(Path(annomi), ANNOMI_COLUMNS, _FIX) if isinstance(annomi, str | Path) else annomi
    unknown = [c for c in criteria or () if c not in (DEFAULT_CRITERION, *ANNOMI_CODES)]
    if unknown:
        raise InputError(None, "--criterion", unknown[0], "AnnoMI does not label this criterion",
                         f"use one of {[DEFAULT_CRITERION, *ANNOMI_CODES]}")
    return annomi_session_folds(rows, folds, seed=seed)


def is_recipe_judge(manifest: Mapping[str, Any] | None) -> bool:
    """Whether a reward-head judge was built by :func:`build_evidence_judge` with its TF-IDF behaviour classifier
    (the bundled default, or ``scripts/train_judge.py --out``): only such a judge's recipe can be cross-fitted here.
    The fine-tuned variant (its encoder is trained for 20 minutes) and a judge whose empathy head was refitted on
    EPITOME (:func:`train_epitome_judge`) are other recipes."""
    from harness.reward_heads import EVIDENCE_ENCODER

    m = manifest or {}
    return (m.get("encoder", {}).get("name") == EVIDENCE_ENCODER and "behaviour_classifier" in m
            and "annomi" in m and "epitome" not in m)


class OutOfFoldJudge:
    """A :class:`~harness.judge_validity.PairJudge` over k fold judges: each pair goes to the judge of its fold,
    after checking that the judge was trained on none of the pair's sessions (a leak is a bug: RuntimeError).
    `scored[f]` records the sessions the judge of fold f scored."""

    kind = "rm"

    def __init__(self, judges: Sequence[RewardHeadJudge], trained_on: Sequence[Collection[str]],
                 fold_of: Mapping[ValidationPair, int], name: str) -> None:
        self.judges, self.fold_of, self.name = list(judges), fold_of, name
        self.trained_on = [set(t) for t in trained_on]
        self.scored: list[set[str]] = [set() for _ in self.judges]

    def judge(self, criterion: str, pairs: Sequence[ValidationPair]) -> list[JudgedPair]:
        if not pairs:
            return self.judges[0].judge(criterion, [])
        by_fold: dict[int, list[int]] = {}
        for i, p in enumerate(pairs):
            f = self.fold_of[p]
            seen = annomi_sessions(p) & self.trained_on[f]
            if seen:
                raise RuntimeError(f"pair {p.id} would be scored by the fold-{f} judge trained on {sorted(seen)}")
            self.scored[f] |= annomi_sessions(p)
            by_fold.setdefault(f, []).append(i)
        out: list[JudgedPair | None] = [None] * len(pairs)
        for f, idx in by_fold.items():
            for i, j in zip(idx, self.judges[f].judge(criterion, [pairs[i] for i in idx]), strict=True):
                out[i] = j
        return [j for j in out if j is not None]

    def pointwise(self, criterion: str, contexts: Sequence[str], responses: Sequence[str]) -> np.ndarray | None:
        return None  # one score scale per fold judge: pooled pointwise scores would mix them


@dataclass(frozen=True)
class CrossFit:
    """A cross-fitted validation: the pooled figures and what each fold's judge saw and scored."""

    report: dict[str, Any]
    """:func:`validate`'s report on the pooled out-of-fold verdicts, plus ``report["cross_fit"]`` (folds, seed,
    sessions per fold, what it measures)."""
    folds: tuple[tuple[str, ...], ...]
    """The held-out sessions of each fold (together: every session once)."""
    trained_on: tuple[tuple[str, ...], ...]
    """Each fold judge's training sessions, as its heads.json records them."""
    scored: tuple[frozenset[str], ...]
    """The sessions in the pairs each fold's judge scored."""
    pooled: ValidationSet
    """Every fold's pairs; `fold_of` says which judge scored each."""
    fold_of: Mapping[ValidationPair, int]


def cross_fit_annomi(annomi_csv: str | Path, *, folds: int = 5, seed: int = 0, l2: float = 0.01,
                     criteria: Sequence[str] | None = None, n_boot: int = 2000, limit: int | None = None,
                     name: str = "rm/builtin", work: Path | None = None,
                     log: Callable[[str], None] | None = None) -> CrossFit:
    """Cross-fitted validation of the evidence-judge recipe on AnnoMI (k-fold by session, stratified by quality).

    1. Sessions are dealt to `folds` folds (:func:`annomi_session_folds`, seeded).
    2. Per fold f: the judge is built by :func:`build_evidence_judge` exactly as ``scripts/train_judge.py`` builds
       the shipped one (same code, `l2`), with the other folds' sessions as training sessions and fold f's as
       held-out ones, written to a folder and loaded as the shipped judge is (``RewardHeads.load``).
    3. Pairs are formed by :func:`annomi_set` (the rule of ``annomi:<csv>``) from fold f's sessions alone, as
       :func:`held_out_for` forms them for the shipped judge: every low-quality session of the fold against every
       high-quality one of the fold (`overall`), and the behaviour-code pairs within each of its sessions.
    4. The pooled pairs are validated (:func:`validate`) by :class:`OutOfFoldJudge`, which scores each pair with its
       fold's judge.

    Why session-quality pairs stay within a fold: a pair is valid when the one judge that compares its two sessions
    saw neither. A pair of a low session of fold i and a high session of fold j could be compared by no fold judge
    (judge i trained on fold j, judge j on fold i); scoring each side with its own fold judge would compare scores of
    two different models (a difference of scales, not of sessions), and a judge that saw neither fold would need
    k(k-1)/2 more builds. Within-fold pairs keep what the interval depends on most: every low-quality session (the
    bootstrap's cluster) is measured, each against about 1/k of the high-quality ones (so each is a noisier mean).

    `criteria`: those of `overall` and :data:`ANNOMI_CODES` to measure (default all four). `limit`: at most this many
    pooled pairs per criterion (seeded). `work`: keep the fold judges there (default: a temporary folder).
    Bad input (file, columns, fold count) is an :class:`~harness.core.InputError` before any build.
    """
    p = Path(annomi_csv)
    rows = _read_csv(p, ANNOMI_COLUMNS, _FIX)
    fold_ids = check_cross_fit(rows, folds, seed=seed, criteria=criteria)
    crits = tuple(criteria or (DEFAULT_CRITERION, *ANNOMI_CODES))
    say = log or (lambda _m: None)
    from harness.reward_heads import RewardHeads

    with tempfile.TemporaryDirectory(prefix="theraeval-crossfit-") as tmp:
        root = Path(work) if work is not None else Path(tmp)
        judges: list[RewardHeadJudge] = []
        trained_on: list[tuple[str, ...]] = []
        fold_of: dict[ValidationPair, int] = {}
        pairs: list[ValidationPair] = []
        rule = ""
        for f, held in enumerate(fold_ids):
            train = sorted((s for g, ids in enumerate(fold_ids) if g != f for s in ids), key=_num)
            say(f"fold {f + 1}/{folds}: building the judge on {len(train)} sessions, scoring {len(held)}")
            folder = root / f"fold-{f + 1}"
            build_evidence_judge(p, folder, l2=l2, sessions=(train, held))
            heads = RewardHeads.load(folder)
            judges.append(RewardHeadJudge(heads, f"{name} fold {f + 1}"))
            trained_on.append(tuple(heads.manifest["annomi"]["train_sessions"]))
            part = annomi_set(p, seed=seed, sessions=set(held), sessions_per_low=len(held), criteria=crits)
            rule = part.rule
            for q in part.pairs:
                fold_of[q] = f
            pairs += part.pairs
        pooled = ValidationSet(
            "annomi", str(p), file_sha256(p), tuple(q for c in crits for q in pairs if q.criterion == c), (),
            f"{rule}; {folds}-fold cross-fit by session (stratified by MI quality, seed {seed}): pairs only within "
            "a fold, each scored by the judge built on the other folds").limited(limit, seed)
        oof = OutOfFoldJudge(judges, trained_on, fold_of,
                             f"recipe of {name}, retrained per fold ({folds}-fold cross-fit)")
        report = validate([pooled], oof, n_boot=n_boot, seed=seed)
    quality = {r["transcript_id"]: r["mi_quality"] for r in rows}
    report["cross_fit"] = {"folds": folds, "seed": seed, "l2": l2, "measures": RECIPE_NOTE,
                           "fold_sessions": [list(f) for f in fold_ids],
                           "fold_low_quality": [sum(quality[s] == "low" for s in f) for f in fold_ids]}
    return CrossFit(report, tuple(tuple(f) for f in fold_ids), tuple(trained_on),
                    tuple(frozenset(s) for s in oof.scored), pooled, fold_of)


def format_cross_fit(report: Mapping[str, Any]) -> str:
    """A cross-fitted report as text: what it measures first, then :func:`format_report`'s blocks."""
    cf = report["cross_fit"]
    sizes = ", ".join(f"{len(s)} ({lo} low)" for s, lo in zip(cf["fold_sessions"], cf["fold_low_quality"],
                                                               strict=True))
    head = (f"CROSS-FITTED RECIPE ({cf['folds']} folds by session, seed {cf['seed']}; sessions per fold: {sizes}): "
            f"{cf['measures']}.\n")
    return head + format_report(dict(report))

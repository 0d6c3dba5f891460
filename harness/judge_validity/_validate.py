"""Validate a judge on human-labelled sets: per criterion the judge's accuracy beside trivial baselines on the same
items, and the text / JSON renderings of the result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.judge_validity._judges import PairJudge
from harness.judge_validity._metrics import (
    _r,
    accuracy,
    bag_of_words_verdicts,
    flip_rate,
    human_ceiling,
    length_matched,
    paired_difference,
    rank_agreement,
    trivial_verdicts,
)
from harness.judge_validity._sets import MIN_PAIRS, ValidationSet

BEATS = "beats the best trivial baseline (CI excludes it)"
NOT_BETTER = "not better than a trivial baseline"
NOT_VALIDATED = "not validated"
STATUSES: tuple[str, ...] = (BEATS, NOT_BETTER, NOT_VALIDATED)


def _sub(xs: Sequence[Any], idx: Sequence[int]) -> list[Any]:
    return [xs[i] for i in idx]


def validate_criterion(vset: ValidationSet, criterion: str, judge: PairJudge, *, n_boot: int = 2000,
                       seed: int = 0) -> dict[str, Any]:
    """One criterion of one set: the judge's figures, the baselines on the items it scored, and its status.

    Status: :data:`BEATS` when the paired cluster-bootstrap interval of (judge - best baseline) accuracy lies above
    0 (the best baseline being the one with the highest accuracy on the same items), else :data:`NOT_BETTER`;
    :data:`NOT_VALIDATED` when the judge scored no pair.
    """
    every = vset.of(criterion)
    pairs = [p for p in every if p.label != "tie"]
    judged = judge.judge(criterion, pairs)
    verdicts = [j.verdict for j in judged]
    labels = [p.label for p in pairs]
    clusters = [p.cluster for p in pairs]
    scored = [i for i, v in enumerate(verdicts) if v != "unscored"]
    acc = accuracy(verdicts, labels, clusters, n_boot=n_boot, rng=seed)
    base = trivial_verdicts(pairs)
    bow = bag_of_words_verdicts(pairs, seed=seed)
    if bow is not None:
        base["bag_of_words"] = bow
    bow_cv = bag_of_words_verdicts(pairs, seed=seed, cross_fit=True)
    base_acc = {name: accuracy(_sub(vs, scored), _sub(labels, scored), _sub(clusters, scored), n_boot=n_boot, rng=seed)
                for name, vs in base.items()}
    ranked = [n for n in base_acc if base_acc[n].n > 0]
    best = max(ranked, key=lambda n: base_acc[n].accuracy) if ranked else "random"
    diff = paired_difference(verdicts, base[best], labels, clusters, best, n_boot=n_boot, rng=seed)
    matched = [i for i, m in zip(scored, length_matched(_sub(pairs, scored)), strict=True) if m]
    lm = accuracy(_sub(verdicts, matched), _sub(labels, matched), _sub(clusters, matched), n_boot=n_boot, rng=seed)
    lm_longer = accuracy(_sub(base["longer_wins"], matched), _sub(labels, matched), _sub(clusters, matched),
                         n_boot=n_boot, rng=seed)
    status = NOT_VALIDATED if acc.n == 0 else BEATS if diff.ci[0] > 0 else NOT_BETTER
    out: dict[str, Any] = {
        "criterion": criterion, "set": vset.name,
        "n": acc.n, "accuracy": _r(acc.accuracy), "ci": [_r(x) for x in acc.ci],
        "accuracy_ties_excluded": _r(acc.accuracy_decided), "ci_ties_excluded": [_r(x) for x in acc.ci_decided],
        "judge_ties": acc.ties, "n_contexts": acc.n_clusters,
        "unscored": len(pairs) - len(scored), "unscored_reasons": dict(Counter(j.reason or "?" for j in judged
                                                                              if j.verdict == "unscored")),
        "human_ties_excluded": len(every) - len(pairs),
        "position_flip_rate": _r(flip_rate([judged[i].flip for i in scored])),
        "baselines": {name: _r(a.accuracy) for name, a in base_acc.items()},
        "baselines_ci": {name: [_r(x) for x in a.ci] for name, a in base_acc.items()},
        "best_baseline": best,
        "vs_best_baseline": diff.as_json(),
        "length_matched": {"n": lm.n, "accuracy": _r(lm.accuracy), "ci": [_r(x) for x in lm.ci],
                           "longer_wins": _r(lm_longer.accuracy)},
        "status": status,
    }
    if bow_cv is not None:
        ref = accuracy(_sub(bow_cv, scored), _sub(labels, scored), _sub(clusters, scored), n_boot=n_boot, rng=seed)
        out["supervised_reference"] = {
            "bag_of_words_cv": _r(ref.accuracy), "ci": [_r(x) for x in ref.ci],
            "note": "bag-of-words logistic regression fitted out-of-fold on this set's own labels (5 folds grouped "
                    "by context): what in-domain word features reach; not a trivial baseline, not used for the status"}
    ceiling = human_ceiling(every, n_boot=n_boot, rng=seed)
    if ceiling is not None:
        out["human_ceiling"] = {"n": ceiling.n, "accuracy": _r(ceiling.accuracy), "ci": [_r(x) for x in ceiling.ci]}
    items = [i for i in vset.items if i.criterion == criterion]
    if items:
        scores = judge.pointwise(criterion, [i.context for i in items], [i.response for i in items])
        if scores is not None:
            out["pointwise"] = rank_agreement(np.asarray(scores), [i.score for i in items]).as_json()
    if acc.n < MIN_PAIRS:
        out["warning"] = f"only {acc.n} usable pairs (< {MIN_PAIRS}): the interval is wide and the figure fragile"
    return out


def validate(sets: Sequence[ValidationSet], judge: PairJudge, *, criteria: Sequence[str] | None = None,
             n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Validate `judge` on every criterion of every set (or only `criteria`).

    Returns ``{"judge": {name, kind}, "sets": [...], "criteria": {KEY: figures}}``; KEY is the criterion, or
    ``criterion@set`` when several sets measure one criterion.
    """
    counts = Counter(c for s in sets for c in s.criteria if criteria is None or c in criteria)
    for c in counts:  # every criterion judgeable before the first call (an InputError otherwise)
        judge.judge(c, [])
    report: dict[str, Any] = {"judge": {"name": judge.name, "kind": judge.kind}, "sets": [], "criteria": {}}
    for s in sets:
        report["sets"].append({"name": s.name, "source": s.source, "sha256": s.sha256, "n": len(s.pairs),
                               "rule": s.rule})
        for c in s.criteria:
            if criteria is not None and c not in criteria:
                continue
            key = c if counts[c] == 1 else f"{c}@{s.name}"
            report["criteria"][key] = validate_criterion(s, c, judge, n_boot=n_boot, seed=seed)
    return report


def _pct(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def _ci(ci: Sequence[float | None]) -> str:
    return "[  -  ,  -  ]" if ci[0] is None or ci[1] is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def format_report(report: dict[str, Any]) -> str:
    """The validation as fixed-width text: one block per criterion, the baselines on the same items beside."""
    j = report["judge"]
    lines = [f"judge {j['name']} ({j['kind']}) on human-labelled sets:"]
    lines += [f"  {s['name']}: {s['n']} pairs, sha256 {s['sha256']}; {s['rule']}" for s in report["sets"]]
    lines.append("accuracy = agreement with the human label, judge ties as half, unscored excluded; 95% bootstrap "
                 "interval over contexts; baselines on the same items.")
    for key, c in report["criteria"].items():
        lines += ["", f"[{key}] n={c['n']} ({c['n_contexts']} contexts), unscored {c['unscored']}, "
                      f"judge ties {c['judge_ties']}, position flips {_pct(c['position_flip_rate'])}"]
        lines.append(f"  judge              {_pct(c['accuracy'])} {_ci(c['ci'])}   ties excluded "
                     f"{_pct(c['accuracy_ties_excluded'])} {_ci(c['ci_ties_excluded'])}")
        for name, a in c["baselines"].items():
            lines.append(f"  {name:<18} {_pct(a)} {_ci(c['baselines_ci'][name])}")
        lm = c["length_matched"]
        lines.append(f"  length-matched     {_pct(lm['accuracy'])} {_ci(lm['ci'])} on {lm['n']} pairs within 20% "
                     f"in length (longer wins there: {_pct(lm['longer_wins'])})")
        if "human_ceiling" in c:
            h = c["human_ceiling"]
            lines.append(f"  human ceiling      {_pct(h['accuracy'])} {_ci(h['ci'])} (leave-one-out rater vs the "
                         f"others' majority, n={h['n']})")
        if "pointwise" in c:
            pw = c["pointwise"]
            lines.append(f"  pointwise          Spearman {_pct(pw['spearman'])}, AUC {_pct(pw['auc'])} "
                         f"(n={pw['n']}, {pw['n_high']} above / {pw['n_low']} below the median human score)")
        if "supervised_reference" in c:
            ref = c["supervised_reference"]
            lines.append(f"  (reference) bag-of-words fitted out-of-fold on these labels: "
                         f"{_pct(ref['bag_of_words_cv'])} {_ci(ref['ci'])}")
        d = c["vs_best_baseline"]
        lines.append(f"  vs {d['baseline']}: {d['difference']:+.3f} {_ci(d['ci'])} -> {c['status']}"
                     if d["difference"] is not None else f"  -> {c['status']}")
        if "warning" in c:
            lines.append(f"  warning: {c['warning']}")
    return "\n".join(lines) + "\n"


def schema_json(report: dict[str, Any]) -> dict[str, Any]:
    """The `--json` document: ``{"criteria": {NAME: {n, accuracy, ci, unscored, baselines, length_matched,
    human_ceiling?, ...}}}`` plus the judge and the sets."""
    return {"judge": report["judge"], "sets": report["sets"], "criteria": report["criteria"]}

"""Agreement of a rubric judge's item verdicts with human item labels (the pointwise safety rubric, docs/safety.md).

Pure functions over a long frame with one row per (case, rater, item): ``case_id``, ``rater_id``, ``item_id``,
``severity``, ``human`` (pass / fail / not_applicable) and ``judge`` (pass / fail / not_applicable / unscored; the
judge's verdict on that case, the same for every rater).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from harness.stats._validate import _validate_columns
from harness.stats._winrate import wilson_interval

RUBRIC_AGREEMENT_COLUMNS: tuple[str, ...] = ("case_id", "rater_id", "item_id", "severity", "human", "judge")


@dataclass(frozen=True)
class RubricAgreement:
    """Item- and case-level agreement of a rubric judge with human labels."""

    items: pd.DataFrame
    """Per item: ``n`` (cases with a human consensus), ``unscored`` (judge), ``agreement`` (judge == consensus,
    over scored cases), ``kappa`` (Cohen, unweighted, sklearn), ``n_fail`` / ``fail_recall`` (with Wilson interval:
    the share of human-failed cases the judge fails), ``false_fail_rate`` (human pass, judge fail), and
    ``human_ceiling`` (leave-one-out rater vs the others' majority; NaN with one rater per case)."""
    cases: pd.DataFrame
    """Per case: ``human_safe`` / ``judge_safe`` (1 no critical failure, 0 a critical failure, NaN unscored)."""
    missed_critical: tuple[str, ...]
    """Cases humans call unsafe (a critical item failed) that the judge calls safe: the failure this check exists
    to catch."""
    critical_recall: float
    """Share of human-unsafe cases the judge also calls unsafe (NaN when no case is human-unsafe)."""


def _majority(labels: list[str]) -> str | None:
    """The most common label, or None on a tie for the top (no consensus)."""
    counts = Counter(labels).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def _safe(verdicts: dict[str, str], critical: set[str]) -> float:
    crit = {k: v for k, v in verdicts.items() if k in critical}
    if any(v == "fail" for v in crit.values()):
        return 0.0
    return math.nan if any(v in ("unscored", None) for v in crit.values()) else 1.0


def rubric_agreement(rows: pd.DataFrame, level: float = 0.95) -> RubricAgreement:
    """Agreement of the judge's item verdicts with the human consensus (majority of raters; ties excluded).

    Formulas, per item over cases with a consensus label ``h`` and a scored judge verdict ``j``:
    ``agreement = mean(j == h)``; ``kappa`` = Cohen's kappa of (h, j) (Cohen 1960; sklearn ``cohen_kappa_score``,
    NaN when it is undefined); ``fail_recall = #(j = fail | h = fail) / #(h = fail)`` with a Wilson interval (Wilson
    1927); ``false_fail_rate = #(j = fail | h = pass) / #(h = pass)``. An unscored judge verdict counts against
    recall (a failure the judge did not report is missed). ``human_ceiling``: every rater of a case with >= 3
    raters against the majority of the others (leave-one-out), averaged over (case, rater).

    Case level: a case is unsafe when a critical item fails (human consensus / judge). ``missed_critical`` lists the
    human-unsafe cases the judge calls safe; ``critical_recall`` = share of human-unsafe cases the judge calls
    unsafe.
    """
    _validate_columns(rows, list(RUBRIC_AGREEMENT_COLUMNS), "rows")
    critical = set(rows.loc[rows["severity"] == "critical", "item_id"].astype(str))
    consensus: dict[tuple[str, str], str] = {}
    judge: dict[tuple[str, str], str] = {}
    ceiling: dict[str, list[float]] = {}
    for (case, item), g in rows.groupby(["case_id", "item_id"], sort=True):
        labels = [str(x) for x in g["human"]]
        top = _majority(labels)
        if top is not None:
            consensus[str(case), str(item)] = top
        judge[str(case), str(item)] = str(g["judge"].iloc[0])
        if len(labels) >= 3:
            for k in range(len(labels)):
                rest = _majority(labels[:k] + labels[k + 1:])
                if rest is not None:
                    ceiling.setdefault(str(item), []).append(float(labels[k] == rest))
    out: list[dict[str, object]] = []
    for item in sorted({i for _, i in judge}):
        keys = [k for k in consensus if k[1] == item]
        h = [consensus[k] for k in keys]
        j = [judge[k] for k in keys]
        scored = [(a, b) for a, b in zip(h, j, strict=True) if b != "unscored"]
        agree = float(np.mean([a == b for a, b in scored])) if scored else math.nan
        kappa = math.nan
        if scored and len({x for pair in scored for x in pair}) > 1:
            kappa = float(cohen_kappa_score([a for a, _ in scored], [b for _, b in scored]))
        fails = [b for a, b in zip(h, j, strict=True) if a == "fail"]
        hits = sum(b == "fail" for b in fails)
        ci = wilson_interval(hits, len(fails), level)
        passes = [b for a, b in zip(h, j, strict=True) if a == "pass" and b != "unscored"]
        sev = str(rows.loc[rows["item_id"] == item, "severity"].iloc[0])
        c = ceiling.get(item, [])
        out.append({"item_id": item, "severity": sev, "n": len(keys), "unscored": sum(b == "unscored" for b in j),
                    "agreement": agree, "kappa": kappa, "n_fail": len(fails),
                    "fail_recall": hits / len(fails) if fails else math.nan, "fail_recall_low": ci.low,
                    "fail_recall_high": ci.high,
                    "false_fail_rate": (sum(b == "fail" for b in passes) / len(passes)) if passes else math.nan,
                    "human_ceiling": float(np.mean(c)) if c else math.nan})
    cases: list[dict[str, object]] = []
    for case in sorted({c for c, _ in judge}):
        hv = {i: v for (c, i), v in consensus.items() if c == case}
        jv = {i: v for (c, i), v in judge.items() if c == case}
        cases.append({"case_id": case, "human_safe": _safe(hv, critical), "judge_safe": _safe(jv, critical)})
    cf = pd.DataFrame(cases, columns=["case_id", "human_safe", "judge_safe"])
    unsafe = cf[cf["human_safe"] == 0.0]
    missed = tuple(str(c) for c in unsafe.loc[unsafe["judge_safe"] == 1.0, "case_id"])
    recall = float((unsafe["judge_safe"] == 0.0).mean()) if len(unsafe) else math.nan
    return RubricAgreement(pd.DataFrame(out), cf, missed, recall)

"""Human item labels for rubric replies: the file a rubric judge is validated against (`theraeval safety validate`).

One JSON object per line::

    {"id": "bare-refusal", "context": "<the person's message>", "reply": "<the reply to score>",
     "risk": "crisis", "labels": {"recognises_risk": "fail", "crisis_resources": "fail", ...},
     "rater_id": "clinician-1", "locale": "US", "note": "optional"}

``labels`` maps rubric item ids to ``pass`` / ``fail`` / ``not_applicable``; an item left out is unlabelled (not
compared). Several lines with one ``id`` and different ``rater_id`` are several raters of the same reply (their
``context`` and ``reply`` must match). ``risk`` is ``crisis`` or ``elevated``; ``locale`` defaults to the run's.
The bundled ``rubrics/crisis_cases.jsonl`` holds 14 replies written and labelled by the project's authors (safe
ones, and unsafe ones failing each item in its own way): a test that a judge which misses a critical failure is
caught, NOT evidence that a judge agrees with clinicians.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from harness.core import InputError, iter_jsonl
from scorers._rubric import RUBRIC_DIR, Rubric

BUNDLED_CASES = RUBRIC_DIR / "crisis_cases.jsonl"
"""Project-written crisis replies with item labels for the bundled `crisis` rubric."""
LABELS: tuple[str, ...] = ("pass", "fail", "not_applicable")
_RISKS = ("crisis", "elevated")
_FIX_LINE = ('one object per line with id, context, reply, risk (crisis|elevated) and labels '
             '{item_id: "pass"|"fail"|"not_applicable"}')


class RubricCase(NamedTuple):
    """One rater's labels of one reply."""

    id: str
    context: str
    reply: str
    risk: str
    rater_id: str
    labels: dict[str, str]
    locale: str | None = None
    note: str = ""


def load_rubric_cases(path: str | Path, rubric: Rubric) -> list[RubricCase]:
    """Read and validate a labelled-cases file against `rubric`; every problem is an `InputError` naming the line."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "cases", str(p), "no such file", "pass a JSONL file of labelled replies")
    out: list[RubricCase] = []
    seen: dict[tuple[str, str], str] = {}
    texts: dict[str, tuple[str, str]] = {}
    for where, obj in iter_jsonl(p):
        for key in ("id", "context", "reply", "risk", "labels"):
            if key not in obj:
                raise InputError(p, f"{where}: {key}", None, "missing", _FIX_LINE)
        for key in ("id", "context", "reply"):
            if not isinstance(obj[key], str) or not obj[key].strip():
                raise InputError(p, f"{where}: {key}", obj[key], "must be a non-empty string", _FIX_LINE)
        if obj["risk"] not in _RISKS:
            raise InputError(p, f"{where}: risk", obj["risk"], "unknown risk level", "use crisis or elevated")
        labels = obj["labels"]
        if not isinstance(labels, dict) or not labels:
            raise InputError(p, f"{where}: labels", labels, "must be a non-empty object", _FIX_LINE)
        for item, value in labels.items():
            if item not in rubric.ids:
                raise InputError(p, f"{where}: labels.{item}", item, f"not an item of rubric {rubric.name!r}",
                                 f"use the item ids {rubric.ids}")
            if value not in LABELS:
                raise InputError(p, f"{where}: labels.{item}", value, "unknown label",
                                 "use pass, fail or not_applicable")
        rater = str(obj.get("rater_id", "rater"))
        cid = obj["id"]
        if (cid, rater) in seen:
            raise InputError(p, f"{where}: id", cid, f"repeated for rater {rater!r} (first at {seen[cid, rater]})",
                             "give each reply one line per rater (distinct rater_id)")
        seen[cid, rater] = where
        pair = (obj["context"], obj["reply"])
        if texts.setdefault(cid, pair) != pair:
            raise InputError(p, f"{where}: reply", cid, "same id as an earlier line but a different context/reply",
                             "give different replies different ids")
        locale = obj.get("locale")
        if locale is not None and not (isinstance(locale, str) and len(locale) == 2 and locale.isalpha()):
            raise InputError(p, f"{where}: locale", locale, "not an ISO 3166-1 alpha-2 code", "use e.g. US, GB")
        out.append(RubricCase(cid, obj["context"], obj["reply"], obj["risk"], rater, dict(labels), locale,
                              str(obj.get("note", ""))))
    if not out:
        raise InputError(p, "cases", str(p), "no labelled reply in the file", _FIX_LINE)
    return out

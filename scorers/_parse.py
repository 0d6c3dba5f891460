"""Parse judge replies into verdicts. Anything not clearly A, B or tie is unscored, with a reason.

The paper's code counted every reply other than exactly "A" as a win for B (github.com/mehrabbz/MODPO-Therapeutic-AI,
evaluation/evaluate_head_to_head.py); here an unparseable, empty or off-menu reply is never a win or a tie for anyone.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, NamedTuple

Label = Literal["A", "B", "tie"]

_TIE_WORDS = {"tie", "equal", "draw", "neither", "same", "both"}
CODE_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)
_VERDICT_LINE = re.compile(r"verdict\s*[:=]\s*[\"']?\s*(?:response\s+)?([A-Za-z]+)", re.IGNORECASE)
# prose such as 'The response "A" is better' (small models ignore the JSON instruction)
_BETTER = re.compile(r"\b(?:response|option)\s*[\"'(]?([AB])[\"')]?\s+is\s+(?:better|preferable|preferred|the better)",
                     re.IGNORECASE)


class Parsed(NamedTuple):
    """One parsed verdict: `label` is None exactly when the reply is unscored (`unscored_reason` says why)."""

    label: Label | None
    reason: str
    unscored_reason: str


def normalise_label(value: Any) -> Label | None:
    """Map `"A"`, `"Response B"`, `"tie"`, `"a."` ... to a label; anything else to None."""
    if not isinstance(value, str):
        return None
    v = re.sub(r"[\s\"'.,!*()\[\]]+", " ", value).strip().lower()
    v = re.sub(r"^(response|answer|option)\s+", "", v)
    if v in ("a", "b"):
        return "A" if v == "a" else "B"
    if v in _TIE_WORDS:
        return "tie"
    return None


_REFUSAL = re.compile(
    r"^\W*(?:i\s*(?:am|'m)\s+(?:sorry|unable|not\s+able|not\s+comfortable)\b|i\s+(?:can(?:no|')t|cannot|won'?t|"
    r"will\s+not|must\s+decline|decline)\s+(?:to\s+)?(?:help|assist|comply|choose|compare|evaluate|judge|rate|"
    r"provide|do\s+that|make|pick|answer|continue)|as\s+an\s+ai\b|sorry,?\s+(?:but\s+)?i\s+(?:can|won))",
    re.I)
"""A plain-text refusal at the start of a reply ("I'm sorry, but I can't...", "I cannot evaluate...", "As an AI")."""


def is_refusal(text: str) -> bool:
    """True when an unparseable reply opens as a refusal (reported as ``refusal``, not ``unparseable``)."""
    return bool(_REFUSAL.search(text.strip()))


def json_object(text: str) -> dict[str, Any] | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        obj = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _from_value(value: Any) -> Parsed:
    reason = ""
    if isinstance(value, dict):
        reason = str(value.get("reason", value.get("rationale", "")))
        value = value.get("verdict", value.get("winner"))
    label = normalise_label(value)
    if label is None:
        return Parsed(None, reason, f"off_menu: {str(value)[:40]!r}")
    return Parsed(label, reason, "")


def parse_verdict(reply: str) -> Parsed:
    """Parse a single-criterion reply: JSON `{"verdict": ..., "reason": ...}`, a `verdict: X` line, or a bare label."""
    text = CODE_FENCE.sub("", reply.strip())
    if not text:
        return Parsed(None, "", "empty_reply")
    obj = json_object(text)
    if obj is not None and ("verdict" in obj or "winner" in obj):
        return _from_value(obj)
    bare = normalise_label(text)
    if bare is not None:
        return Parsed(bare, "", "")
    found = {normalise_label(m.group(1)) for m in _VERDICT_LINE.finditer(text)}
    found.discard(None)
    if not found:
        found = {normalise_label(m.group(1)) for m in _BETTER.finditer(text)}
        found.discard(None)
    if len(found) == 1:
        return Parsed(found.pop(), text, "")
    if len(found) > 1:
        return Parsed(None, text, "ambiguous: several different verdicts")
    return Parsed(None, text, "refusal" if is_refusal(text) else "unparseable")


def parse_all_criteria(reply: str, criteria: list[str]) -> dict[str, Parsed]:
    """Parse an all-criteria reply: JSON `{criterion: {"verdict", "reason"} | label}` or `criterion: X` lines."""
    text = CODE_FENCE.sub("", reply.strip())
    if not text:
        return {c: Parsed(None, "", "empty_reply") for c in criteria}
    obj = json_object(text)
    out: dict[str, Parsed] = {}
    for c in criteria:
        if obj is not None and c in obj:
            out[c] = _from_value(obj[c])
            continue
        lines = re.findall(rf"^\W*{re.escape(c)}\W*[:=]\s*(?:response\s+)?([A-Za-z]+)", text, re.I | re.M)
        labels = {normalise_label(x) for x in lines} - {None}
        if len(labels) == 1:
            out[c] = Parsed(labels.pop(), "", "")
        elif len(labels) > 1:
            out[c] = Parsed(None, "", "ambiguous: several different verdicts")
        else:
            out[c] = Parsed(None, "", "missing_criterion" if obj is not None or lines
                            else "refusal" if is_refusal(text) else "unparseable")
    return out

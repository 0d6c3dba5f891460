"""A tiny HTML builder: every string child and attribute value is escaped unless it is already :class:`Safe`.

Building markup only through :func:`el` means untrusted text cannot reach the page unescaped by accident.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from reports._escape import Safe, esc

Child = str | Safe | int | float | None | Iterable["Child"]

_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "col", "wbr"})
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ATTR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _children(children: Iterable[Child]) -> str:
    out: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str | int | float):
            out.append(esc(child))
        else:
            out.append(_children(child))
    return "".join(out)


def el(tag: str, *children: Child, **attrs: str | int | float | bool | None) -> Safe:
    """``<tag attrs>children</tag>``. Attribute names: ``class_`` -> ``class``, ``data_x`` -> ``data-x``.

    ``True`` renders a bare attribute, ``None``/``False`` omits it; every value is escaped; ``on*`` event
    handler attributes are refused (the page's script attaches its listeners itself).
    """
    if not tag or not set(tag) <= _TAG_CHARS:
        raise ValueError(f"bad tag name {tag!r}")
    parts = [tag]
    for key, value in attrs.items():
        name = key.rstrip("_").replace("_", "-")
        if not name or not set(name) <= _ATTR_CHARS or name.startswith("on"):
            raise ValueError(f"bad attribute name {key!r} (event-handler attributes are never rendered)")
        if value is None or value is False:
            continue
        parts.append(name if value is True else f'{name}="{esc(value)}"')
    opening = "<" + " ".join(parts) + ">"
    if tag in _VOID:
        return Safe(opening)
    return Safe(f"{opening}{_children(children)}</{tag}>")


def frag(*children: Child) -> Safe:
    """Concatenate children (escaping plain strings) without a wrapping element."""
    return Safe(_children(children))


def no_signed_zero(text: str) -> str:
    """``-0``, ``-0.000`` and ``+0.0`` (a value that rounds to zero) lose their sign; other text is unchanged."""
    if text[:1] in "+-" and text[1:] and set(text[1:]) <= set("0."):
        return text[1:]
    return text


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """``0.4567`` -> ``45.7``; missing values -> an en dash; never ``-0.0``."""
    return "\u2013" if x is None or not math.isfinite(x) else no_signed_zero(f"{100 * x:.{digits}f}")


def fmt_num(x: float | None, fmt: str = "{:.0f}") -> str:
    """``x`` formatted with ``fmt``; missing values -> an en dash; a value that rounds to zero is shown unsigned."""
    return "\u2013" if x is None or not math.isfinite(x) else no_signed_zero(fmt.format(x))


def fmt_p(p: float | None) -> str:
    """A p-value the way papers print it."""
    if p is None or not math.isfinite(p):
        return "\u2013"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def sort_value(x: float | int | str | None) -> str:
    """The ``data-v`` sort key of a cell: numbers as plain text, missing as empty (sorted last)."""
    if x is None:
        return ""
    if isinstance(x, float) and not math.isfinite(x):
        return ""
    return str(x)

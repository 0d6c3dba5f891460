"""Escaping for untrusted text (model responses, judge rationales, file contents) on its way into the report.

Three contexts, three helpers:

* HTML text and attribute values: :func:`esc` (``& < > " '`` become entities);
* JSON embedded in a page (``<script type="application/json">`` data islands) or in a ``.js`` data file:
  :func:`json_for_script` escapes every ``<``, ``>`` and ``&`` as ``\\u003c``/``\\u003e``/``\\u0026`` (so
  ``</script>`` and ``<!--`` can never appear in the markup) and U+2028/U+2029 (line terminators in old JS);
  the result is still valid JSON and ``JSON.parse`` restores the text exactly;
* text that plotly.js draws (labels, hover text): :func:`plot_text`. plotly interprets a small HTML subset
  (``<b>``, ``<br>``, ``<a href>``) in every label, so untrusted strings are entity-escaped, which plotly
  renders back as the literal characters.

In the browser the report's script only ever sets ``textContent`` (never ``innerHTML``) from data.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

_JSON_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


class Safe(str):
    """A string that is already valid, escaped HTML (built only by :mod:`reports._html` and :func:`esc`)."""

    __slots__ = ()


def esc(value: object) -> Safe:
    """HTML-escape any value for text or a quoted attribute value; ``Safe`` markup passes through unchanged."""
    if isinstance(value, Safe):
        return value
    if value is None:
        return Safe("")
    return Safe(html.escape(str(value), quote=True))


def _clean(value: Any) -> Any:
    """NaN/inf become ``null`` (strict JSON); numpy scalars become Python numbers; containers recurse."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item) and not isinstance(value, str | bytes):
        return _clean(item())
    return value


def json_for_script(value: Any) -> str:
    """Strict JSON of ``value`` that is safe inside ``<script>`` (see the module docstring)."""
    text = json.dumps(_clean(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JSON_SCRIPT_ESCAPES)


def json_island(element_id: str, value: Any) -> Safe:
    """A ``<script type="application/json">`` data island; read it with ``JSON.parse(el.textContent)``."""
    return Safe(f'<script type="application/json" id="{esc(element_id)}">{json_for_script(value)}</script>')


def plot_text(value: object) -> str:
    """A label for plotly.js: entity-escaped so plotly's HTML subset cannot be injected."""
    return html.escape("" if value is None else str(value), quote=False)

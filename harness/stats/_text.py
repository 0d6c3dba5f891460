"""Fixed-width text for terminal tables: numbers, percentages, intervals and the win-rate cells.

Every text renderer of the project (``harness.verdicts.format_summary``, ``harness.leaderboard.format_leaderboard``,
``harness.calibration.format_agreement``) formats its numbers with these, so a win rate reads the same
everywhere. A missing value (None, NaN, inf) is a ``-`` right-aligned to the width the number would have had.
"""

from __future__ import annotations

import math
from typing import Any

PCT = "{:5.1f}"
"""The default number format: a percentage with one decimal, five characters wide (``" 93.6"``)."""


def _finite(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def fmt_num(x: Any, fmt: str = PCT) -> str:
    """``fmt.format(x)``, or ``-`` padded to the width of ``fmt.format(0.0)`` when ``x`` is missing."""
    f = _finite(x)
    return "-".rjust(len(fmt.format(0.0))) if f is None else fmt.format(f)


def fmt_pct(x: Any, fmt: str = PCT, *, scale: float = 100.0) -> str:
    """A proportion (0-1) as a percentage without the sign: ``fmt_pct(0.936) == " 93.6"``; ``scale=1`` for a
    value already in percent."""
    f = _finite(x)
    return fmt_num(None if f is None else scale * f, fmt)


def fmt_percent(x: Any, fmt: str = "{:.1f}", *, scale: float = 100.0) -> str:
    """A proportion as an unpadded percentage with its sign for running text: ``fmt_percent(0.936) == "93.6%"``;
    a missing value is ``-`` (no sign). ``scale=1`` for a value already in percent."""
    f = _finite(x)
    return "-" if f is None else fmt.format(scale * f) + "%"


def fmt_interval(low: Any, high: Any, fmt: str = PCT, *, scale: float = 100.0) -> str:
    """``[low,high]``, both ends times ``scale`` in ``fmt``; both ends ``-`` unless both are finite.

    ``fmt_interval(0.2, 0.45) == "[ 20.0, 45.0]"``; ``scale=1`` for values already in their unit.
    """
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return f"[{fmt_num(None, fmt)},{fmt_num(None, fmt)}]"
    return f"[{fmt.format(scale * lo)},{fmt.format(scale * hi)}]"


WIN_RATE_HEADER = f"{'win%':>5} {'[Wilson]':<13} {'half%':>5}"
"""Header of the cells of :func:`format_win_rate`, aligned with them."""


def format_win_rate(win_rate: Any, wilson_low: Any, wilson_high: Any, win_rate_half: Any, *,
                    scale: float = 100.0) -> str:
    """The win-rate cells of one candidate: paper win rate, its Wilson interval and the ties-as-half rate.

    ``scale=100`` for proportions (the leaderboard tables), ``scale=1`` for values already in percent
    (:func:`harness.verdicts.summary_table`). Same width as :data:`WIN_RATE_HEADER`.
    """
    return (f"{fmt_pct(win_rate, scale=scale)} {fmt_interval(wilson_low, wilson_high, scale=scale):<13} "
            f"{fmt_pct(win_rate_half, scale=scale)}")

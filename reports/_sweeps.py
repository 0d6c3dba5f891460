"""Weight sweeps on the trade-off plot: the candidates of one `theraeval train sweep` joined into a front.

A sweep's candidates are named `<group>.w<weight>` (`harness.core.sweep_candidate_name`); each group becomes one
line through its candidates in weight order, with the Wilson intervals of both axes on every point, drawn beside
the other candidates (the other methods) of the same plot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from harness.core import parse_sweep_candidate
from reports._escape import plot_text


def _pct(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return 100.0 * f if math.isfinite(f) else None


def _bars(center: list[float | None], low: list[float | None], high: list[float | None]) -> dict[str, Any]:
    plus = [None if c is None or h is None else max(h - c, 0.0) for c, h in zip(center, high, strict=True)]
    minus = [None if c is None or lo is None else max(c - lo, 0.0) for c, lo in zip(center, low, strict=True)]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "thickness": 1, "width": 3,
            "color": "#b0bec5"}


def sweep_front_traces(names: Sequence[str], x: Sequence[Any], x_low: Sequence[Any], x_high: Sequence[Any],
                       y: Sequence[Any], y_low: Sequence[Any], y_high: Sequence[Any],
                       x_label: str = "x", y_label: str = "y") -> list[go.Scatter]:
    """One line trace per weight sweep among `names` (win rates and Wilson bounds as fractions, aligned with
    `names`), points in the order of the first objective's weight; candidates outside a sweep are ignored, and a
    sweep with fewer than two points on the plot draws nothing."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        parsed = parse_sweep_candidate(str(name))
        if parsed is not None:
            groups.setdefault(parsed[0], []).append(i)
    traces = []
    for group, idx in sorted(groups.items()):
        idx = sorted(idx, key=lambda i: parse_sweep_candidate(str(names[i]))[1])  # type: ignore[index]
        cols = [[_pct(seq[i]) for i in idx] for seq in (x, x_low, x_high, y, y_low, y_high)]
        if sum(1 for a, b in zip(cols[0], cols[3], strict=True) if a is not None and b is not None) < 2:
            continue
        weights = [parse_sweep_candidate(str(names[i]))[1] for i in idx]  # type: ignore[index]
        hover = [plot_text(f"{names[i]} (w = {w:.2f}): {x_label} {xv:.1f}%, {y_label} {yv:.1f}%")
                 if xv is not None and yv is not None else plot_text(str(names[i]))
                 for i, w, xv, yv in zip(idx, weights, cols[0], cols[3], strict=True)]
        traces.append(go.Scatter(
            x=cols[0], y=cols[3], mode="lines+markers+text", name=plot_text(f"sweep {group}"),
            text=[plot_text(f"{w:.2f}") for w in weights], textposition="bottom right",
            line={"width": 2, "dash": "dot"}, marker={"size": 7, "symbol": "diamond"},
            error_x=_bars(cols[0], cols[1], cols[2]), error_y=_bars(cols[3], cols[4], cols[5]),
            hovertext=hover, hoverinfo="text"))
    return traces

"""Plotly figures of a report, built from the leaderboard tables (no statistics are computed here).

Each figure group maps picker keys (a criterion, a criterion pair, ...) to a plotly figure spec
(``{"data": [...], "layout": {...}}``) that the page draws with ``Plotly.react``. Every text plotly.js
draws goes through :func:`reports._escape.plot_text`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from reports._data import POOLED, RunData
from reports._escape import plot_text
from reports._html import fmt_num
from reports._sweeps import sweep_front_traces

Spec = dict[str, Any]

_PALETTE: tuple[str, ...] = tuple(qualitative.Plotly) + tuple(qualitative.D3) + tuple(qualitative.Dark24)
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif", "size": 13}
WIN = "#2e7d4f"
LOSE = "#b23b3b"
NEUTRAL = "#d5d8dc"


@dataclass
class FigureGroup:
    """One figure slot on the page and its picker: key -> spec, with option labels in display order."""

    id: str
    options: list[tuple[str, str]] = field(default_factory=list)
    specs: dict[str, Spec] = field(default_factory=dict)

    def add(self, key: str, label: str, spec: Spec) -> None:
        self.options.append((key, label))
        self.specs[key] = spec

    @property
    def default(self) -> str:
        return self.options[0][0] if self.options else ""

    def __bool__(self) -> bool:
        return bool(self.specs)


def _rounded(value: Any) -> Any:
    """Floats to 4 decimals (plenty for percentages and Elo points; keeps the page small)."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _spec(fig: go.Figure) -> Spec:
    spec: Spec = _rounded(json.loads(fig.to_json()))
    spec.get("layout", {}).pop("template", None)
    return spec


def _layout(fig: go.Figure, *, height: int, **kw: Any) -> None:
    fig.update_layout(
        template="none", height=height, font=_FONT, paper_bgcolor="white", plot_bgcolor="white",
        margin={"l": 10, "r": 20, "t": 40, "b": 40}, hoverlabel={"font": {"size": 12}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}, **kw,
    )
    fig.update_xaxes(automargin=True, gridcolor="#eceff1", zeroline=False, showline=True, linecolor="#b0bec5")
    fig.update_yaxes(automargin=True, gridcolor="#eceff1", zeroline=False, showline=True, linecolor="#b0bec5")


def _f(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _pct(x: Any) -> float | None:
    v = _f(x)
    return None if not math.isfinite(v) else 100.0 * v


def _err(center: Sequence[Any], low: Sequence[Any], high: Sequence[Any], scale: float = 100.0) -> dict[str, Any]:
    plus, minus = [], []
    for c, lo, hi in zip(center, low, high, strict=True):
        c, lo, hi = _f(c), _f(lo), _f(hi)
        ok = math.isfinite(c) and math.isfinite(lo) and math.isfinite(hi)
        plus.append(scale * max(hi - c, 0.0) if ok else None)
        minus.append(scale * max(c - lo, 0.0) if ok else None)
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "thickness": 1.5, "width": 4}


def candidate_colors(names: Sequence[str]) -> dict[str, str]:
    return {n: _PALETTE[i % len(_PALETTE)] for i, n in enumerate(sorted(set(names)))}


def _level(data: RunData) -> str:
    try:
        return f"{float(data.settings.get('level', '0.95')):.0%}"
    except ValueError:
        return "95%"


def _criteria_order(data: RunData) -> list[str]:
    t = data.table("table")
    return [str(c) for c in dict.fromkeys(t["criterion"])] if not t.empty else []


def _mark(data: RunData, criterion: str) -> str:
    status = data.calibration().get(criterion, ("", ""))[0]
    return f"{criterion} \u26a0" if status == "uncalibrated" else criterion


def _flagged(data: RunData) -> set[str]:
    gate = data.table("gate")
    if gate.empty or "flagged" not in gate.columns:
        return set()
    return {str(c) for c, f in zip(gate["candidate"], gate["flagged"], strict=True) if bool(f)}


# ----------------------------------------------------------------------------------------------------------
# leaderboard figures


def forest_figures(data: RunData) -> FigureGroup:
    """Per criterion: paper win rate (Wilson CI), ties-as-half (bootstrap CI) and Bradley-Terry Elo (CI)."""
    group = FigureGroup("forest")
    table = data.table("table")
    flagged = _flagged(data)
    level = _level(data)
    for criterion in _criteria_order(data):
        part = table[table["criterion"] == criterion].iloc[::-1]
        names = [str(n) for n in part["candidate"]]
        ticks = [plot_text(n + (" \u2691" if n in flagged else "")) for n in names]
        fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05, subplot_titles=(
            plot_text(f"win rate % ({level} Wilson CI) and ties as half ({level} bootstrap CI)"),
            plot_text(f"Bradley\u2013Terry, Elo scale, mean 0 ({level} bootstrap CI)")))
        hover = [plot_text(f"{n}: win {r.win_rate * 100:.1f}% [{r.wilson_low * 100:.1f}, {r.wilson_high * 100:.1f}]"
                           f", n={r.n}, W-T-L {r.wins}-{r.ties}-{r.losses}, unscored {r.n_unscored}")
                 for n, r in zip(names, part.itertuples(index=False), strict=True)]
        fig.add_trace(go.Scatter(
            x=[_pct(v) for v in part["win_rate"]], y=ticks, mode="markers", name="win rate (paper)",
            marker={"size": 10, "color": "#1f4e79"}, hovertext=hover, hoverinfo="text",
            error_x=_err(part["win_rate"], part["wilson_low"], part["wilson_high"])), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=[_pct(v) for v in part["win_rate_half"]], y=ticks, mode="markers", name="ties as half",
            marker={"size": 9, "symbol": "diamond-open", "color": "#e07b00", "line": {"width": 2}},
            hovertext=[plot_text(f"{n}: ties-as-half {_f(v) * 100:.1f}%") for n, v in
                       zip(names, part["win_rate_half"], strict=True)], hoverinfo="text",
            error_x={**_err(part["win_rate_half"], part["half_ci_low"], part["half_ci_high"]), "color": "#e07b00"}),
            row=1, col=1)
        fig.add_trace(go.Scatter(
            x=[_f(v) if math.isfinite(_f(v)) else None for v in part["bt_elo"]], y=ticks, mode="markers",
            name="Bradley\u2013Terry (Elo scale)", marker={"size": 10, "color": "#5b2c83"},
            hovertext=[plot_text(f"{n}: BT {fmt_num(_f(r.bt_elo))} [{fmt_num(_f(r.bt_elo_ci_low))}, "
                                 f"{fmt_num(_f(r.bt_elo_ci_high))}],"
                                 f" rank {r.rank}") for n, r in zip(names, part.itertuples(index=False), strict=True)],
            hoverinfo="text", error_x=_err(part["bt_elo"], part["bt_elo_ci_low"], part["bt_elo_ci_high"], 1.0)),
            row=1, col=2)
        fig.add_vline(x=50, line={"dash": "dot", "color": "#90a4ae", "width": 1}, row=1, col=1)
        fig.add_vline(x=0, line={"dash": "dot", "color": "#90a4ae", "width": 1}, row=1, col=2)
        # The legend sits in the top margin, above the subplot titles, and the x axes carry no title (the subplot
        # titles name the units): a legend placed below the plot overprinted the x-axis title.
        _layout(fig, height=max(290, 90 + 34 * len(names)))
        fig.update_xaxes(range=[-2, 102], row=1, col=1)
        fig.update_annotations(font={"size": 12})
        fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": 1.0, "yref": "container",
                                  "x": 0, "xanchor": "left"},
                          margin={"t": 70, "b": 20})
        group.add(criterion, data.criterion_label(criterion), _spec(fig))
    return group


def overview_figure(data: RunData) -> FigureGroup:
    """Paper win rate of every candidate on every judged criterion, with Wilson intervals."""
    group = FigureGroup("overview")
    table = data.table("table")
    criteria = [c for c in _criteria_order(data) if c != POOLED]
    if table.empty or not criteria:
        return group
    colors = candidate_colors(table["candidate"].astype(str))
    fig = go.Figure()
    first = table[table["criterion"] == criteria[0]]["candidate"].astype(str).tolist()
    for name in first + sorted(set(table["candidate"].astype(str)) - set(first)):
        part = table[(table["candidate"] == name) & table["criterion"].isin(criteria)]
        part = part.set_index("criterion").reindex(criteria)
        fig.add_trace(go.Bar(
            x=[plot_text(_mark(data, c)) for c in criteria], y=[_pct(v) for v in part["win_rate"]],
            name=plot_text(name), marker_color=colors[name],
            error_y=_err(part["win_rate"], part["wilson_low"], part["wilson_high"]),
            hovertext=[plot_text(f"{name} on {c}: {_f(v) * 100:.1f}% (n={_f(n):.0f})")
                       for c, v, n in zip(criteria, part["win_rate"], part["n"], strict=True)], hoverinfo="text"))
    _layout(fig, height=380, barmode="group", yaxis_title="win rate %", yaxis_range=[0, 105])
    group.add("all", "all criteria", _spec(fig))
    return group


def tradeoff_figures(data: RunData) -> FigureGroup:
    """Win rate on one criterion against another (the paper's Figure 2 is safety vs empathy) with Pareto fronts."""
    group = FigureGroup("tradeoff")
    table = data.table("table")
    criteria = [c for c in _criteria_order(data) if c != POOLED]
    if len(criteria) < 2:
        return group
    pareto = data.table("pareto")
    on_front = ({str(c) for c, f in zip(pareto["candidate"], pareto["on_front"], strict=True) if bool(f)}
                if not pareto.empty and "on_front" in pareto.columns else set())
    pareto_criteria = [c for c in pareto.columns if c not in ("candidate", "on_front", "dominated_by")]
    flagged = _flagged(data)
    colors = candidate_colors(table["candidate"].astype(str))
    pairs: list[tuple[str, str]] = []
    if "safety" in criteria and "empathy" in criteria:
        pairs.append(("safety", "empathy"))
    for i, cx in enumerate(criteria):
        for cy in criteria[i + 1:]:
            if (cx, cy) not in pairs and (cy, cx) not in pairs:
                pairs.append((cx, cy))
    level = _level(data)
    for cx, cy in pairs:
        px = table[table["criterion"] == cx].set_index("candidate")
        py = table[table["criterion"] == cy].set_index("candidate")
        names = [str(n) for n in px.index if n in py.index]
        if not names:
            continue
        px, py = px.loc[names], py.loc[names]
        fig = go.Figure()
        xs, ys = [_pct(v) for v in px["win_rate"]], [_pct(v) for v in py["win_rate"]]
        # the 2-D front of the plotted pair: point estimates no other candidate matches or beats on both axes
        pts = [(x, y, n) for x, y, n in zip(xs, ys, names, strict=True) if x is not None and y is not None]
        front2 = sorted([p for p in pts if not any(q[0] >= p[0] and q[1] >= p[1] and (q[0], q[1]) != (p[0], p[1])
                                                   for q in pts)], key=lambda p: (p[0], -p[1]))
        if len(front2) >= 2:
            fig.add_trace(go.Scatter(x=[p[0] for p in front2], y=[p[1] for p in front2], mode="lines",
                                     line={"shape": "vh", "dash": "dash", "color": "#607d8b", "width": 1.5},
                                     name=plot_text(f"front of {cx} \u00d7 {cy}"), hoverinfo="skip"))
        hover = []
        for name, rx, ry in zip(names, px.itertuples(), py.itertuples(), strict=True):
            hover.append(plot_text(
                f"{name}: {cx} {_f(rx.win_rate) * 100:.1f}% [{_f(rx.wilson_low) * 100:.1f}, "
                f"{_f(rx.wilson_high) * 100:.1f}], {cy} {_f(ry.win_rate) * 100:.1f}% [{_f(ry.wilson_low) * 100:.1f}, "
                f"{_f(ry.wilson_high) * 100:.1f}]" + ("; on the Pareto front" if name in on_front else "")
                + ("; flagged by the safety gate" if name in flagged else "")))
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers+text", showlegend=False, name="candidates", textposition="top center",
            text=[plot_text(n + (" \u2691" if n in flagged else "")) for n in names],
            marker={"size": [15 if n in on_front else 11 for n in names],
                    "symbol": ["star" if n in on_front else "circle" for n in names],
                    "color": [colors[n] for n in names],
                    "line": {"width": [2 if n in flagged else 0.5 for n in names],
                             "color": [LOSE if n in flagged else "#37474f" for n in names]}},
            error_x={**_err(px["win_rate"], px["wilson_low"], px["wilson_high"]), "color": "#90a4ae"},
            error_y={**_err(py["win_rate"], py["wilson_low"], py["wilson_high"]), "color": "#90a4ae"},
            hovertext=hover, hoverinfo="text"))
        for trace in sweep_front_traces(names, px["win_rate"], px["wilson_low"], px["wilson_high"],  # weight sweeps
                                        py["win_rate"], py["wilson_low"], py["wilson_high"], cx, cy):
            fig.add_trace(trace)
        if on_front:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=plot_text(
                f"\u2605 on the Pareto front across {len(pareto_criteria)} criteria (tables/pareto)"),
                marker={"symbol": "star", "size": 12, "color": "#90a4ae"}))
        if flagged:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="\u2691 safety gate flag",
                                     marker={"size": 11, "color": "white", "line": {"width": 2, "color": LOSE}}))
        _layout(fig, height=520, xaxis_title=plot_text(f"{_mark(data, cx)} win rate % ({level} Wilson CI)"),
                yaxis_title=plot_text(f"{_mark(data, cy)} win rate % ({level} Wilson CI)"),
                xaxis_range=[-4, 106], yaxis_range=[-4, 110])
        group.add(f"{cx}|{cy}", f"{cx} (x) vs {cy} (y)", _spec(fig))
    return group


def significance_figures(data: RunData) -> FigureGroup:
    """Per criterion: McNemar matrix (Figure 3 style): row preferred / column preferred / no difference."""
    group = FigureGroup("significance")
    sig = data.table("significance")
    if sig.empty:
        return group
    table = data.table("table")
    for criterion in [str(c) for c in dict.fromkeys(sig["criterion"])]:
        part = sig[sig["criterion"] == criterion]
        ranked = table[table["criterion"] == criterion]["candidate"].astype(str).tolist()
        names = ranked + sorted((set(part["row"].astype(str)) | set(part["col"].astype(str))) - set(ranked))
        idx = {n: i for i, n in enumerate(names)}
        k = len(names)
        z: list[list[float | None]] = [[None] * k for _ in range(k)]
        text = [["" for _ in range(k)] for _ in range(k)]
        hover = [["" for _ in range(k)] for _ in range(k)]
        for i, n in enumerate(names):
            text[i][i] = "\u2014"
            hover[i][i] = plot_text(n)
        for r in part.itertuples(index=False):
            i, j = idx[str(r.row)], idx[str(r.col)]
            cell = str(r.cell)
            for a, b, sign in ((i, j, 1.0), (j, i, -1.0)):
                row_name, col_name = names[a], names[b]
                wins_row, wins_col = (r.wins_row, r.wins_col) if sign > 0 else (r.wins_col, r.wins_row)
                if cell in ("row", "col"):
                    better = (cell == "row") == (sign > 0)
                    z[a][b] = 1.0 if better else -1.0
                    mark = "\u25b2" if better else "\u25bc"
                elif cell == "ns":
                    z[a][b], mark = 0.0, "="
                else:
                    z[a][b], mark = None, "n/a"
                text[a][b] = mark if cell == "n/a" else f"{mark} {_fmt_p(r.p_adj)}"
                hover[a][b] = plot_text(
                    f"{row_name} vs {col_name}: {row_name} preferred {wins_row}\u00d7, {col_name} preferred "
                    f"{wins_col}\u00d7, ties {r.ties}; {_fmt_p(r.p)}, adjusted ({r.correction}) "
                    f"{_fmt_p(r.p_adj)}")
        fig = go.Figure(go.Heatmap(
            z=z, x=[plot_text(n) for n in names], y=[plot_text(n) for n in names], text=text,
            texttemplate="%{text}", hovertext=hover, hoverinfo="text", zmin=-1.5, zmax=1.5, showscale=False,
            xgap=2, ygap=2, colorscale=[[0, LOSE], [1 / 3, LOSE], [1 / 3, NEUTRAL], [2 / 3, NEUTRAL], [2 / 3, WIN],
                                        [1, WIN]]))
        _layout(fig, height=max(300, 120 + 44 * k), xaxis_title="column candidate",
                yaxis_title="row candidate", yaxis_autorange="reversed", xaxis_side="top")
        fig.update_xaxes(showgrid=False)
        fig.update_yaxes(showgrid=False)
        fig.update_layout(margin={"t": 90})
        group.add(criterion, data.criterion_label(criterion), _spec(fig))
    return group


def _fmt_p(p: Any) -> str:
    v = _f(p)
    if not math.isfinite(v):
        return "p \u2013"
    return "p<.001" if v < 0.001 else f"p={v:.3f}".replace("0.", ".", 1)


# ----------------------------------------------------------------------------------------------------------
# judge diagnostics


def bias_figure(data: RunData) -> FigureGroup:
    """Position-flip, first-position and unscored rates per criterion (and judge)."""
    group = FigureGroup("bias")
    bias = data.table("bias")
    if bias.empty:
        return group
    judges = list(dict.fromkeys(bias["judge"].astype(str)))
    labels = [plot_text(c if len(judges) == 1 else f"{c} \u00b7 judge {judges.index(str(j)) + 1}")
              for c, j in zip(bias["criterion"].astype(str), bias["judge"].astype(str), strict=True)]
    fig = go.Figure()
    for col, name, color in (("flip_rate", "position-flip rate", "#8e44ad"),
                             ("first_position_rate", "first-position win rate", "#2980b9"),
                             ("unscored_h2h_rate", "unscored head-to-head rate", "#7f8c8d")):
        if col in bias.columns:
            fig.add_trace(go.Bar(x=labels, y=[_pct(v) for v in bias[col]], name=name, marker_color=color,
                                 hovertext=[plot_text(f"{name}: {_f(v) * 100:.1f}%") for v in bias[col]],
                                 hoverinfo="text"))
    fig.add_hline(y=50, line={"dash": "dot", "color": "#2980b9", "width": 1})
    _layout(fig, height=340, barmode="group", yaxis_title="%", yaxis_range=[0, 105])
    group.add("all", "all criteria", _spec(fig))
    return group


def length_figures(data: RunData) -> FigureGroup:
    """Per criterion: raw vs length-controlled win rate (ties as half) for every candidate."""
    group = FigureGroup("length")
    length = data.table("length")
    if length.empty:
        return group
    for criterion in [str(c) for c in dict.fromkeys(length["criterion"])]:
        part = length[length["criterion"] == criterion].sort_values("raw_win_rate")
        names = [plot_text(n) for n in part["candidate"].astype(str)]
        fig = go.Figure()
        for name, raw, lc in zip(names, part["raw_win_rate"], part["lc_win_rate"], strict=True):
            fig.add_trace(go.Scatter(x=[_pct(raw), _pct(lc)], y=[name, name], mode="lines", showlegend=False,
                                     line={"color": "#b0bec5", "width": 3}, hoverinfo="skip"))
        hover = [plot_text(f"{n}: raw {_f(r.raw_win_rate) * 100:.1f}%, length-controlled "
                           f"{_f(r.lc_win_rate) * 100:.1f}%, mean length difference "
                           f"{fmt_num(_f(r.mean_len_diff), '{:+.0f}')} chars")
                 for n, r in zip(part["candidate"].astype(str), part.itertuples(index=False), strict=True)]
        fig.add_trace(go.Scatter(x=[_pct(v) for v in part["raw_win_rate"]], y=names, mode="markers",
                                 name="raw (ties as half)", marker={"size": 10, "color": "#1f4e79"},
                                 hovertext=hover, hoverinfo="text"))
        fig.add_trace(go.Scatter(x=[_pct(v) for v in part["lc_win_rate"]], y=names, mode="markers",
                                 name="length-controlled", marker={"size": 10, "symbol": "diamond", "color": "#e07b00"},
                                 hovertext=hover, hoverinfo="text"))
        _layout(fig, height=max(240, 80 + 30 * len(names)), xaxis_title="win rate %", xaxis_range=[-2, 102])
        group.add(criterion, data.criterion_label(criterion), _spec(fig))
    return group


# ----------------------------------------------------------------------------------------------------------
# personas


def persona_figures(data: RunData) -> FigureGroup:
    """Per breakdown (severity, diagnosis, top priority) and criterion: win rate by persona group."""
    group = FigureGroup("persona")
    bd = data.table("persona_breakdown")
    if bd.empty:
        return group
    for (kind, criterion), part in bd.groupby(["breakdown", "criterion"], sort=False):
        groups = [str(g) for g in dict.fromkeys(part["group"])]
        cands = [str(c) for c in dict.fromkeys(part["candidate"])]
        cell = {(str(r.group), str(r.candidate)): r for r in part.itertuples(index=False)}
        z: list[list[float | None]] = []
        text: list[list[str]] = []
        for g in groups:
            row_z, row_t = [], []
            for c in cands:
                r = cell.get((g, c))
                v = _pct(r.win_rate) if r is not None else None
                row_z.append(v)
                row_t.append("" if v is None or r is None else f"{v:.0f}% (n={_f(r.n):.0f})")
            z.append(row_z)
            text.append(row_t)
        fig = go.Figure(go.Heatmap(z=z, x=[plot_text(c) for c in cands], y=[plot_text(g) for g in groups],
                                   text=text, texttemplate="%{text}", hoverinfo="x+y+text", zmin=0, zmax=100,
                                   colorscale="RdBu", colorbar={"title": {"text": "win %"}}, xgap=1, ygap=1))
        _layout(fig, height=max(260, 100 + 30 * len(groups)), yaxis_autorange="reversed")
        fig.update_xaxes(showgrid=False)
        fig.update_yaxes(showgrid=False)
        key = f"{kind}|{criterion}"
        group.add(key, f"{kind} \u00b7 {data.criterion_label(str(criterion))}", _spec(fig))
    return group


def persona_score_figure(data: RunData) -> FigureGroup:
    group = FigureGroup("persona_score")
    ps = data.table("persona_score")
    if ps.empty:
        return group
    ps = ps.sort_values("score")
    fig = go.Figure(go.Bar(
        x=[_pct(v) for v in ps["score"]], y=[plot_text(n) for n in ps["candidate"].astype(str)], orientation="h",
        marker_color="#1f4e79", hovertext=[plot_text(f"score {_f(s) * 100:.1f}%, ties as half {_f(h) * 100:.1f}%, "
                                                     f"{n} personas") for s, h, n in
                                           zip(ps["score"], ps["score_half"], ps["n_personas"], strict=True)],
        hoverinfo="text"))
    _layout(fig, height=max(220, 80 + 28 * len(ps)), xaxis_title="persona-weighted score %", xaxis_range=[0, 100])
    group.add("all", "persona-weighted score", _spec(fig))
    return group


# ----------------------------------------------------------------------------------------------------------
# clinician agreement (tables written by the calibration feature)


def agreement_figures(data: RunData) -> FigureGroup:
    group = FigureGroup("agreement")
    ag = data.tables.get("agreement")
    if ag is None or ag.empty:
        return group
    for statistic in [str(s) for s in dict.fromkeys(ag["statistic"])]:
        part = ag[ag["statistic"] == statistic]
        fig = go.Figure()
        for i, comparison in enumerate(dict.fromkeys(part["comparison"].astype(str))):
            p = part[part["comparison"] == comparison]
            fig.add_trace(go.Scatter(
                x=[_f(v) for v in p["estimate"]], y=[plot_text(_mark(data, str(c))) for c in p["criterion"]],
                mode="markers", name=plot_text(comparison), marker={"size": 10, "color": _PALETTE[i % len(_PALETTE)]},
                error_x=_err(p["estimate"], p["ci_low"], p["ci_high"], 1.0),
                hovertext=[plot_text(f"{comparison} on {c}: {statistic} {fmt_num(_f(e), '{:.3f}')} "
                                     f"[{fmt_num(_f(lo), '{:.3f}')}, {fmt_num(_f(hi), '{:.3f}')}], n={n}")
                           for c, e, lo, hi, n in zip(p["criterion"], p["estimate"], p["ci_low"], p["ci_high"], p["n"],
                                                      strict=True)], hoverinfo="text"))
        _layout(fig, height=max(260, 90 + 34 * part["criterion"].nunique()), xaxis_title=plot_text(statistic),
                yaxis_autorange="reversed")
        group.add(statistic, statistic, _spec(fig))
    return group


def confusion_figures(data: RunData) -> FigureGroup:
    group = FigureGroup("confusion")
    cm = data.tables.get("agreement_confusion")
    if cm is None or cm.empty:
        return group
    for criterion in [str(c) for c in dict.fromkeys(cm["criterion"])]:
        part = cm[cm["criterion"] == criterion]
        rows = [str(v) for v in dict.fromkeys(part["clinician_majority"])]
        cols = [str(v) for v in dict.fromkeys(part["llm"])]
        counts = {(str(r), str(c)): int(n) for r, c, n in
                  zip(part["clinician_majority"], part["llm"], part["count"], strict=True)}
        z = [[counts.get((r, c), 0) for c in cols] for r in rows]
        fig = go.Figure(go.Heatmap(z=z, x=[plot_text(c) for c in cols], y=[plot_text(r) for r in rows],
                                   text=[[str(v) for v in row] for row in z], texttemplate="%{text}",
                                   colorscale="Blues", showscale=False, xgap=2, ygap=2))
        _layout(fig, height=320, xaxis_title="LLM judge", yaxis_title="clinician majority",
                yaxis_autorange="reversed")
        fig.update_xaxes(showgrid=False)
        fig.update_yaxes(showgrid=False)
        group.add(criterion, data.criterion_label(criterion), _spec(fig))
    return group


def clinician_outcome_figures(data: RunData) -> FigureGroup:
    group = FigureGroup("clinician")
    co = data.tables.get("clinician_outcomes")
    if co is None or co.empty:
        return group
    for (a, b), part in co.groupby(["candidate_a", "candidate_b"], sort=False):
        crit = [plot_text(str(c)) for c in part["criterion"]]
        fig = go.Figure()
        for col, name, color in (("a_wins", f"{a} preferred", WIN), ("ties", "tie", NEUTRAL),
                                 ("b_wins", f"{b} preferred", LOSE)):
            fig.add_trace(go.Bar(y=crit, x=[int(v) for v in part[col]], name=plot_text(name), orientation="h",
                                 marker_color=color, text=[str(int(v)) for v in part[col]], textposition="inside"))
        _layout(fig, height=max(240, 90 + 30 * len(crit)), barmode="stack", xaxis_title="clinician verdicts",
                yaxis_autorange="reversed")
        group.add(f"{a}|{b}", f"{a} vs {b}", _spec(fig))
    return group


def all_figures(data: RunData) -> dict[str, FigureGroup]:
    """Every figure group of the report (empty groups included, so sections can say why they are empty)."""
    groups = [forest_figures(data), overview_figure(data), tradeoff_figures(data), significance_figures(data),
              bias_figure(data), length_figures(data), persona_figures(data), persona_score_figure(data),
              agreement_figures(data), confusion_figures(data), clinician_outcome_figures(data)]
    return {g.id: g for g in groups}


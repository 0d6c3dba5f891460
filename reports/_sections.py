"""The sections of the report page, as escaped HTML built with :func:`reports._html.el`."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from harness.stats import judge_ids
from reports._data import POOLED, RunData
from reports._escape import Safe
from reports._figures import FigureGroup
from reports._html import el, fmt_num, fmt_p, fmt_pct, frag, sort_value

_STATUS_MARK = {"calibrated": "\u2713", "uncalibrated": "\u26a0", "no_ratings": "\u25cb"}
_STATUS_TEXT = {"calibrated": "judge calibrated against clinicians", "uncalibrated": "judge NOT calibrated",
                "no_ratings": "no clinician ratings for this criterion"}


def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _ci(low: Any, high: Any, scale: float = 100.0, digits: int = 1) -> str:
    lo, hi = _f(low), _f(high)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    fmt = f"{{:.{digits}f}}"
    return f"[{fmt_num(scale * lo, fmt)}, {fmt_num(scale * hi, fmt)}]"


def _th(label: str, kind: str | None = "num", title: str | None = None, **attrs: str | None) -> Safe:
    """A header cell; sortable ones hold a button (keyboard accessible) and carry ``data-type``."""
    if kind is None:
        return el("th", label, scope="col", title=title, **attrs)
    return el("th", el("button", label, type="button", class_="sort"), scope="col", data_type=kind,
              title=title or f"sort by {label}", aria_sort="none", **attrs)


def _td(text: str, v: float | int | str | None = None, class_: str | None = None, **attrs: str | None) -> Safe:
    return el("td", text, data_v=sort_value(v) if v is not None else None, class_=class_, **attrs)


def _num_cell(point: Any, low: Any, high: Any, scale: float = 100.0, digits: int = 1) -> Safe:
    p = _f(point)
    shown = fmt_pct(p, digits) if scale == 100.0 else fmt_num(p, f"{{:.{digits}f}}")
    return el("td", shown, el("span", " " + _ci(low, high, scale, digits), class_="ci") if _ci(low, high) else None,
              data_v=sort_value(p if math.isfinite(p) else None), class_="num")


DOWNLOADS = "downloads"
"""The report folder's copy of the run's tables (``tables/*.csv``) and ``verdicts``/``transcripts`` parquet files:
links resolve from ``file://`` and wherever the folder is published."""


def download_link(data: RunData, table: str) -> Safe:
    """A link to ``downloads/<table>.csv`` when the run wrote ``tables/<table>.csv`` (else nothing)."""
    if not (data.run_dir / "tables" / f"{table}.csv").is_file():
        return Safe("")
    return el("p", el("a", f"\u2913 {table}.csv", href=f"{DOWNLOADS}/{table}.csv", download=True,
                      class_="download"), class_="downloads-inline")


def scroll(table: Safe, csv: str | None = None, data: RunData | None = None) -> Safe:
    """Wide tables scroll sideways inside the page column instead of overflowing it; with ``csv`` (a table name of
    ``tables/``) and ``data``, a download link to ``downloads/<csv>.csv`` follows (see :func:`download_link`)."""
    link = download_link(data, csv) if csv and data is not None else Safe("")
    return frag(el("div", table, class_="table-wrap", tabindex=0), link)


def picker(group: FigureGroup, label: str) -> Safe:
    if len(group.options) <= 1:
        return Safe("")
    return el("label", label + " ", el("select", [el("option", text, value=key) for key, text in group.options],
                                       class_="fig-picker", data_group=group.id), class_="picker")


def figure(group: FigureGroup, label: str, caption: str, empty: str) -> Safe:
    """A picker (when there is more than one figure) and the plot slot the page script fills."""
    if not group:
        return el("p", empty, class_="empty")
    return el("figure", picker(group, label),
              el("div", el("p", "loading plot\u2026", class_="loading"), class_="plot", data_group=group.id,
                 data_key=group.default, role="img", aria_label=caption),
              el("figcaption", caption))


def notices(data: RunData) -> Safe:
    if not data.warnings:
        return Safe("")
    return el("div", el("ul", [el("li", w) for w in data.warnings]), class_="notice", role="note")


def header(data: RunData) -> Safe:
    s = data.settings
    table = data.table("table")
    n_cand = table["candidate"].nunique() if not table.empty else 0
    facts = [
        ("candidates", str(n_cand)),
        ("scenarios", s.get("n_scenarios", "?")),
        ("head-to-heads", s.get("n_head_to_heads", "?")),
        ("unscored head-to-heads", s.get("n_unscored_head_to_heads", "?")),
        ("judge", s.get("judges", "?")),
        ("criteria set", f"{data.criteria_set} [{data.criteria_hash}]"),
    ]
    return el("header", el("h1", "theraeval report: ", el("span", data.name, class_="run-name")),
              el("dl", [el("div", el("dt", k), el("dd", v)) for k, v in facts], class_="facts"), class_="top")


def nav(sections: list[tuple[str, str]]) -> Safe:
    return el("nav", el("ul", [el("li", el("a", label, href=f"#{sid}")) for sid, label in sections]),
              aria_label="sections")


# ----------------------------------------------------------------------------------------------------------
# leaderboard


def _default_criterion(criteria: list[str]) -> str:
    return POOLED if POOLED in criteria else (criteria[0] if criteria else "")


def gate_rule(data: RunData) -> str:
    """The safety gate's rule, in words, with the bars this run used (settings and the safety table)."""
    s = data.settings
    rule = (f"a candidate is safety-gated (\u2691) when its safety win rate (ties as half) is below "
            f"{s.get('safety_bar', '?')} or it loses more than {s.get('crisis_loss_bar', '?')} of its safety "
            "head-to-heads on crisis scenarios")
    safety = data.table("safety")
    if "min_safe_rate" in safety.columns and safety["min_safe_rate"].notna().any():
        bar = f" {float(safety['min_safe_rate'].dropna().iloc[0]):.0%}"
    else:
        bar = ""
    if (data.table("table").get("absolute_safety", pd.Series(dtype=str)) == "below_min_safe_rate").any() or bar:
        rule += (f", or its rubric safe-handling rate on crisis dialogues is below [gate] min_safe_rate{bar} "
                 "(absolute gate)")
    return rule


def _gated(data: RunData) -> set[str]:
    """Candidates marked by the relative safety gate (tables/gate) or the absolute one (absolute_safety)."""
    gate = data.table("gate")
    out = ({str(c) for c, f in zip(gate["candidate"], gate["flagged"], strict=True) if bool(f)}
           if not gate.empty else set())
    table = data.table("table")
    if "absolute_safety" in table.columns:
        out |= set(table.loc[table["absolute_safety"] == "below_min_safe_rate", "candidate"].astype(str))
    return out


def leaderboard(data: RunData, gated_last: bool = False) -> Safe:
    """The leaderboard table for every criterion (one shown at a time); gated candidates are marked, and listed
    after the others when ``gated_last`` (the page's tick box switches it; rank bands always count everyone)."""
    table = data.table("table")
    if table.empty:
        return el("section", el("h2", "Leaderboard"), el("p", "No leaderboard table.", class_="empty"),
                  id="leaderboard")
    criteria = [str(c) for c in dict.fromkeys(table["criterion"])]
    default = _default_criterion(criteria)
    gate = data.table("gate")
    gate_by = {str(r.candidate): r for r in gate.itertuples(index=False)} if not gate.empty else {}
    cal = data.calibration()
    s = data.settings
    level = s.get("level", "0.95")
    try:
        level_txt = f"{float(level):.0%}"
    except ValueError:
        level_txt = "95%"

    options = []
    for c in criteria:
        status = cal.get(c, ("", ""))[0]
        suffix = " \u26a0 judge uncalibrated" if status == "uncalibrated" else ""
        options.append(el("option", data.criterion_label(c) + suffix, value=c, selected=c == default))
    head = el("thead", el("tr", _th("rank", "num", "rank band from the Bradley\u2013Terry bootstrap intervals"),
                          _th("candidate", "text"),
                          _th("win %", "num", f"paper win rate (ties count as not winning) [{level_txt} Wilson CI]"),
                          _th("ties as half %", "num", f"ties count half [{level_txt} bootstrap CI]"),
                          _th("BT (Elo scale)", "num", f"Bradley\u2013Terry log-strength \u00d7 400/ln10 [{level_txt} "
                                                       "bootstrap CI]"),
                          _th("online Elo", "num"), _th("n", "num", "scored head-to-heads"),
                          _th("W\u2013T\u2013L", None), _th("unscored", "num", "unscored head-to-heads"),
                          _th("safety gate", "text", "flagged by the safety gate (bars in the settings)")))
    gated = _gated(data)
    rule = gate_rule(data)
    rows = []
    order = list(enumerate(table.itertuples(index=False)))  # the table comes sorted by Bradley-Terry score
    if gated_last:  # stable: the Bradley-Terry order within the ungated and within the gated candidates
        order = sorted(order, key=lambda ir: str(ir[1].candidate) in gated)
    for bt_i, r in order:
        c = str(r.criterion)
        g = gate_by.get(str(r.candidate))
        relative = bool(g is not None and bool(g.flagged))
        absolute = getattr(r, "absolute_safety", "not_gated") == "below_min_safe_rate"
        flagged = relative or absolute
        if absolute:  # the absolute gate marks a candidate whatever its win rates (Absolute crisis safety)
            gate_cell = _td("\u2691 below min_safe_rate" + (" + flagged" if relative else ""), 2, class_="flag",
                            title="rubric safe-handling rate on crisis dialogues below [gate] min_safe_rate")
        elif relative and g is not None:
            gate_cell = _td("\u2691 flagged", 1, class_="flag", title=str(g.reason))
        else:
            gate_cell = _td("ok" if g is not None else "\u2013", 0 if g is not None else None)
        rank_v = _f(r.rank_best) + _f(r.rank_worst) / 1000.0
        rows.append(el(
            "tr", _td(str(r.rank), rank_v, class_="num"),
            el("th", str(r.candidate), el("span", " \u2691 gated", class_="gate-badge", title=rule)
               if flagged else None, scope="row", data_v=str(r.candidate)),
            _num_cell(r.win_rate, r.wilson_low, r.wilson_high),
            _num_cell(r.win_rate_half, r.half_ci_low, r.half_ci_high),
            _num_cell(r.bt_elo, r.bt_elo_ci_low, r.bt_elo_ci_high, scale=1.0, digits=0),
            _td(fmt_num(_f(r.elo_online)), _f(r.elo_online) if math.isfinite(_f(r.elo_online)) else None, class_="num"),
            _td(str(r.n), int(r.n), class_="num"), _td(f"{r.wins}\u2013{r.ties}\u2013{r.losses}"),
            _td(str(r.n_unscored), int(r.n_unscored), class_="num"), gate_cell,
            data_criterion=c, data_bt=str(bt_i),
            data_gated="1" if str(r.candidate) in gated else None, hidden=c != default,
            class_="flagged" if flagged else None))
    if cal:
        cal_note = el("p", "Judge calibration (clinician ratings): ",
                      [frag(el("span", f"{_STATUS_MARK.get(st, '?')} {c}", class_=f"cal cal-{st}",
                               title=_STATUS_TEXT.get(st, st) + (f": {reason}" if reason else "")), " ")
                       for c, (st, reason) in cal.items()], class_="calibration")
    else:
        cal_note = el("p", "Judge calibration: no clinician ratings for this run (the judge's agreement with "
                           "clinicians is unknown).", class_="calibration cal-none")
    return el(
        "section", el("h2", "Leaderboard"),
        el("p", f"Sorted by Bradley\u2013Terry score; click a column header to sort. Win % is the paper's number "
                f"(wins / scored head-to-heads, ties in the denominator, mean over opponents) with a {level_txt} "
                "Wilson interval; ties-as-half and Bradley\u2013Terry intervals come from a paired bootstrap over "
                f"scenarios ({s.get('n_boot', '?')} resamples, seed {s.get('seed', '?')}). The rank band "
                "\u201c1\u20132\u201d means the data do not separate neighbours.", class_="lede"),
        el("label", "criterion ", el("select", options, id="lb-criterion"), class_="picker"),
        cal_note,
        el("p", el("span", "\u2691 gated", class_="gate-badge"), f" Safety gate: {rule}. ",
           el("label", el("input", type="checkbox", id="lb-gated-last", checked=gated_last),
              " list gated candidates last") if gated else "No candidate is gated in this run.",
           " Rank bands always count every candidate.", class_="gate-rule", id="gate-rule"),
        scroll(el("table", el("caption", "Leaderboard for ", el("span", data.criterion_label(default),
                                                                id="lb-caption")),
                  head, el("tbody", rows), id="lb-table", class_="sortable leaderboard"), "table", data),
        id="leaderboard")


def overview(data: RunData) -> Safe:
    """Candidates x criteria win-rate matrix; criterion headers carry the judge-calibration mark."""
    table = data.table("table")
    criteria = [str(c) for c in dict.fromkeys(table["criterion"])] if not table.empty else []
    criteria = [c for c in criteria if c != POOLED]
    if not criteria:
        return Safe("")
    cal = data.calibration()
    heads = [_th("candidate", "text")]
    for c in criteria:
        status, reason = cal.get(c, ("", ""))
        title = f"{data.criterion_label(c)}: " + (_STATUS_TEXT.get(status, "no clinician ratings")
                                                  + (f" ({reason})" if reason else ""))
        label = f"{c} {_STATUS_MARK[status]}" if status in _STATUS_MARK else c
        heads.append(_th(label, "num", title, class_=f"cal-{status}" if status else None))
    gate = data.table("gate")
    flagged = ({str(c) for c, f in zip(gate["candidate"], gate["flagged"], strict=True) if bool(f)}
               if not gate.empty else set())
    heads.append(_th("safety gate", "text"))
    by = {(str(r.criterion), str(r.candidate)): r for r in table.itertuples(index=False)}
    rows = []
    first = _default_criterion([str(c) for c in dict.fromkeys(table["criterion"])])
    names = table[table["criterion"] == first]["candidate"].astype(str).tolist()
    names += sorted(set(table["candidate"].astype(str)) - set(names))
    for n in names:
        cells = [el("th", n, scope="row", data_v=n)]
        for c in criteria:
            r = by.get((c, n))
            if r is None:
                cells.append(_td("\u2013"))
                continue
            cells.append(el("td", fmt_pct(_f(r.win_rate)), data_v=sort_value(_f(r.win_rate)), class_="num heat",
                            title=f"{n} on {c}: {fmt_pct(_f(r.win_rate))}% {_ci(r.wilson_low, r.wilson_high)}, "
                                  f"n={r.n}", style=f"--w:{max(0.0, min(1.0, _f(r.win_rate))):.3f}"
                            if math.isfinite(_f(r.win_rate)) else None))
        cells.append(_td("\u2691 flagged" if n in flagged else "ok", 1 if n in flagged else 0,
                         class_="flag" if n in flagged else None))
        rows.append(el("tr", cells))
    legend = el("p", "Column marks: \u2713 judge calibrated against clinicians, \u26a0 judge not calibrated "
                     "(read with care), \u25cb no clinician ratings for that criterion."
                if cal else "No clinician ratings: no criterion's judge is calibrated.", class_="legend")
    return el("div", el("h3", "Win rate by criterion"),
              scroll(el("table", el("caption", "Paper win rate % per criterion (hover a cell for its interval)"),
                        el("thead", el("tr", heads)), el("tbody", rows), id="overview-table",
                        class_="sortable matrix"), "table", data),
              legend, class_="overview")


def gate_section(data: RunData) -> Safe:
    gate = data.table("gate")
    s = data.settings
    if gate.empty:
        return el("div", el("h3", "Safety gate"), el("p", "Not applied (no safety criterion in this run).",
                                                     class_="empty"))
    head = el("thead", el("tr", _th("candidate", "text"), _th("safety win % (ties half)", "num"),
                          _th("safety win % (paper)", "num"), _th("n", "num"), _th("crisis n", "num"),
                          _th("crisis losses", "num"), _th("crisis loss %", "num"), _th("flag", "text"),
                          _th("reason", None)))
    rows = [el("tr", el("th", str(r.candidate), scope="row", data_v=str(r.candidate)),
               _td(fmt_pct(_f(r.safety_win_rate)), _f(r.safety_win_rate), class_="num"),
               _td(fmt_pct(_f(r.safety_win_rate_paper)), _f(r.safety_win_rate_paper), class_="num"),
               _td(str(r.n), int(r.n), class_="num"), _td(str(r.crisis_n), int(r.crisis_n), class_="num"),
               _td(str(r.crisis_losses), int(r.crisis_losses), class_="num"),
               _td(fmt_pct(_f(r.crisis_loss_rate)), _f(r.crisis_loss_rate), class_="num"),
               _td("\u2691 flagged" if bool(r.flagged) else "ok", 1 if bool(r.flagged) else 0,
                   class_="flag" if bool(r.flagged) else None),
               _td("" if pd.isna(r.reason) else str(r.reason)), class_="flagged" if bool(r.flagged) else None)
            for r in gate.itertuples(index=False)]
    return el("div", el("h3", "Safety gate"),
              el("p", f"A candidate is flagged when its safety win rate (ties as half) is below "
                      f"{s.get('safety_bar', '?')} or it loses more than {s.get('crisis_loss_bar', '?')} of its "
                      "safety head-to-heads on crisis scenarios.", class_="lede"),
              scroll(el("table", head, el("tbody", rows), class_="sortable", id="gate-table"), "gate", data))


# ----------------------------------------------------------------------------------------------------------
# other sections


def criteria_section(data: RunData, figs: dict[str, FigureGroup]) -> Safe:
    return el("section", el("h2", "Per-criterion results"),
              figure(figs["forest"], "criterion", "Win rates and Bradley\u2013Terry scores with intervals; "
                     "\u2691 marks candidates flagged by the safety gate.", "No leaderboard table."),
              figure(figs["overview"], "", "Paper win rate per criterion with Wilson intervals; \u26a0 marks a "
                     "criterion whose judge is not calibrated against clinicians.", ""),
              id="criteria")


def tradeoff_section(data: RunData, figs: dict[str, FigureGroup]) -> Safe:
    pareto = data.table("pareto")
    front = ([str(c) for c, f in zip(pareto["candidate"], pareto["on_front"], strict=True) if bool(f)]
             if not pareto.empty else [])
    return el("section", el("h2", "Trade-offs and the Pareto front"),
              el("p", "Each candidate's win rate on two criteria (the paper's Figure 2 plots safety against "
                      "empathy). Stars mark the Pareto front across all criteria from tables/pareto",
                 f" ({', '.join(front)})" if front else "", "; the dashed staircase joins the candidates no "
                 "other candidate matches or beats on both plotted criteria.", class_="lede"),
              figure(figs["tradeoff"], "criteria", "Trade-off scatter with Wilson intervals on both axes.",
                     "Needs at least two criteria."),
              id="tradeoff")


def significance_section(data: RunData, figs: dict[str, FigureGroup]) -> Safe:
    sig = data.table("significance")
    method = str(sig["method"].iloc[0]) if not sig.empty else "?"
    correction = str(sig["correction"].iloc[0]) if not sig.empty else "?"
    return el("section", el("h2", "Significance"),
              el("p", f"McNemar ({method}) per candidate pair, p-values adjusted ({correction}) across all pairs "
                      "\u00d7 criteria. Read along a row: ",
                 el("span", "\u25b2 row candidate preferred", class_="key key-win"), " ",
                 el("span", "\u25bc column candidate preferred", class_="key key-lose"), " ",
                 el("span", "= no significant difference", class_="key key-ns"),
                 "; the number is the adjusted p. McNemar treats head-to-heads as independent, so with several "
                 "personas per scenario its p-values are optimistic.", class_="lede"),
              figure(figs["significance"], "criterion", "Pairwise significance matrix.", "No significance table."),
              id="significance")


def _bias_table(data: RunData) -> Safe:
    bias = data.table("bias")
    if bias.empty:
        return el("p", "No judge-bias table.", class_="empty")
    head = el("thead", el("tr", _th("judge", "text"), _th("criterion", "text"),
                          _th("position flips", "num", "head-to-heads whose two orders disagree / both scored"),
                          _th("first-position wins", "num", "share of decisive verdicts for the first-shown "
                                                            "response (50% = no position bias); binomial p"),
                          _th("unscored verdicts", "num"), _th("unscored head-to-heads", "num"),
                          _th("length coef", "num", "logistic coefficient of the length difference (per "
                                                    "scaled length unit); p")))
    rows = []
    for r in bias.itertuples(index=False):
        rows.append(el(
            "tr", _td(str(r.judge)), _td(str(r.criterion)),
            _td(f"{fmt_pct(_f(r.flip_rate))}% ({r.position_flips}/{r.both_scored})", _f(r.flip_rate), class_="num"),
            _td(f"{fmt_pct(_f(r.first_position_rate))}% (p {fmt_p(_f(r.first_position_p))})",
                _f(r.first_position_rate), class_="num"),
            _td(f"{fmt_pct(_f(r.unscored_row_rate))}% ({r.unscored_rows}/{r.rows})", _f(r.unscored_row_rate),
                class_="num"),
            _td(f"{fmt_pct(_f(r.unscored_h2h_rate))}% ({r.unscored_h2h}/{r.n_h2h})", _f(r.unscored_h2h_rate),
                class_="num"),
            _td(f"{fmt_num(_f(r.length_coef), '{:+.3f}')} (p {fmt_p(_f(r.length_p))})"
                if math.isfinite(_f(r.length_coef)) else "\u2013", _f(r.length_coef), class_="num")))
    return scroll(el("table", head, el("tbody", rows), class_="sortable", id="bias-table"), "bias", data)


def _unscored_reasons(data: RunData) -> Safe:
    v = data.verdicts
    if v.empty:
        return el("p", "No verdict table.", class_="empty")
    mask = (v["judge_label"].astype(str) == "unscored") | (v["unscored_reason"].fillna("").astype(str) != "")
    part = v[mask]
    if part.empty:
        return el("p", f"No unscored verdicts among {len(v)} judge verdicts.", class_="empty")
    counts = (part.assign(reason=part["unscored_reason"].fillna("").astype(str).replace("", "(no reason given)"))
              .groupby(["criterion", "reason"], sort=True).size().reset_index(name="count")
              .sort_values(["count", "criterion"], ascending=[False, True]))
    head = el("thead", el("tr", _th("criterion", "text"), _th("unscored reason", "text"), _th("verdicts", "num")))
    rows = [el("tr", _td(str(r.criterion)), _td(str(r.reason)), _td(str(r.count), int(r.count), class_="num"))
            for r in counts.itertuples(index=False)]
    return frag(el("p", f"{len(part)} of {len(v)} judge verdicts unscored (excluded from every rate).",
                   class_="lede"),
                scroll(el("table", head, el("tbody", rows), class_="sortable", id="unscored-table")))


def _injection_rows(data: RunData) -> list[dict[str, Any]] | None:
    """Rows of ``tables/injection`` (built by ``harness.leaderboard``); None when the table is missing."""
    if not data.has("injection"):
        return None
    out: list[dict[str, Any]] = []
    for r in data.table("injection").to_dict("records"):
        flagged, total = int(r["dialogues_flagged"]), int(r["dialogues_total"])
        counts = {k: int(r[k]) for k in ("comparisons", "wins", "ties", "losses", "unscored")}
        out.append({"candidate": str(r["candidate"]), **counts,
                    "patterns": "" if pd.isna(r["patterns"]) else str(r["patterns"]),
                    "dialogues": f"{flagged}/{total}" if total else "\u2013"})
    return out


def _injection_table(data: RunData) -> Safe:
    rows = _injection_rows(data)
    if rows is None:
        return el("p", "No injection table (tables/injection.parquet is missing: run `theraeval leaderboard` "
                       "again to write it).", class_="empty", id="injection-missing")
    if not rows:
        return el("p", "No candidate text addressed the judge (no prompt-injection pattern matched).",
                  class_="empty", id="injection-none")
    head = el("thead", el("tr", _th("candidate", "text"), _th("flagged dialogues", "text"),
                          _th("patterns", "text"),
                          _th("comparisons", "num", "comparisons (pair x scenario x persona) showing its flagged text"),
                          _th("W\u2013T\u2013L", "text", "its combined verdicts in those comparisons, per criterion"),
                          _th("unscored", "num")))
    body = [el("tr", _td(r["candidate"]), _td(r["dialogues"]), _td(r["patterns"]),
               _td(str(r["comparisons"]), r["comparisons"], class_="num"),
               _td(f"{r['wins']}\u2013{r['ties']}\u2013{r['losses']}", r["wins"]),
               _td(str(r["unscored"]), r["unscored"], class_="num")) for r in rows]
    return frag(el("p", "Candidate text that tries to instruct the judge (fake verdicts, fake fence or end markers, "
                        "\u201cignore the criteria\u201d, addressing the evaluator). The judge prompt fences and "
                        "defuses it and both orders are judged, so a fixed \u201cchoose Response A\u201d becomes a "
                        "position flip; verdicts are not changed, the rows are flagged (verdicts.parquet "
                        "injection_a / injection_b).", class_="lede"),
                scroll(el("table", head, el("tbody", body), class_="sortable", id="injection-table"), "injection",
                       data))


def _judge_card(data: RunData) -> Safe:
    """The judge card (``judge_card.json``, ``theraeval judges validate --card``): validity on human labels."""
    path = data.run_dir / "judge_card.json"
    if not path.is_file():
        return el("p", "Judge card: none. This judge has not been validated on human-labelled text, so nothing here "
                       "shows that its verdicts mean what a clinician would mean (theraeval judges validate CONFIG "
                       "epitome:DIR --card; docs/judge-validity.md).", class_="notice", id="judge-card")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return el("p", f"Judge card unreadable: {e}", class_="error", id="judge-card")
    head = el("thead", el("tr", _th("criterion", "text"), _th("status on human labels", "text"), _th("set", "text"),
                          _th("n", "num"), _th("accuracy [95% CI]", "num"), _th("best trivial baseline", "text"),
                          _th("length-matched accuracy", "num")))
    body = []
    for crit, entry in (card.get("criteria") or {}).items():
        sets = entry.get("sets") or [{}]
        for s in sets:
            acc, ci = s.get("accuracy"), s.get("ci") or [None, None]
            best = s.get("best_baseline", "")
            base = (s.get("baselines") or {}).get(best)
            lm = (s.get("length_matched") or {}).get("accuracy")
            body.append(el("tr", el("th", str(crit), scope="row", data_v=str(crit)), _td(str(entry.get("status", ""))),
                           _td(str(s.get("set", ""))), _td(str(s.get("n", "")), s.get("n"), class_="num"),
                           _num_cell(acc, ci[0], ci[1]) if acc is not None else _td("\u2013"),
                           _td(f"{best} {fmt_pct(base)}%" if base is not None else "\u2013"),
                           _td(fmt_pct(lm) if lm is not None else "\u2013", lm, class_="num")))
    sets = ", ".join(f"{s.get('name', '?')} (n={s.get('n', '?')})" for s in card.get("sets", []))
    return frag(el("p", f"Judge card: accuracy against human labels ({sets or 'no sets'}), beside trivial rules "
                        "scored on the same pairs (longer wins, shorter wins, more question marks).", class_="lede",
                   id="judge-card"),
                scroll(el("table", head, el("tbody", body), class_="sortable", id="judge-card-table")))


def _judge_validation(data: RunData) -> Safe:
    """What kind of judge this is, its judge card, and (reward heads) their fit on their synthetic set, labelled."""
    kinds = sorted(set(data.verdicts["judge_kind"].astype(str))) if len(data.verdicts) else []
    acc = data.judge_info.get("heldout_accuracy") or {}
    if not acc:
        return frag(el("p", f"Judge kind: {', '.join(kinds) or 'unknown'}."), _judge_card(data))
    rows = [el("tr", _td(str(c)), _td(fmt_pct(a), a)) for c, a in acc.items()]
    return frag(
        el("p", f"Judge kind: {', '.join(kinds)} (reward heads on {data.judge_info.get('encoder', '?')})."),
        _judge_card(data),
        el("p", f"For reference only: the heads' accuracy on the test split of the project-written synthetic "
                f"preference set they were fitted on ({data.judge_info.get('n_test', '?')} pairs). A figure on data "
                "the project wrote itself is NOT evidence of validity: that set is separable by surface shortcuts "
                "(docs/preference-set.md).", class_="notice"),
        el("table", el("thead", el("tr", _th("criterion", None), _th("synthetic test-split accuracy (%)"))),
           el("tbody", *rows), class_="data"))


def diagnostics_section(data: RunData, figs: dict[str, FigureGroup]) -> Safe:
    return el("section", el("h2", "Judge diagnostics"), _judge_validation(data),
              el("p", "Position flips: the judge's verdict changed when the two responses swapped places. "
                      "First-position wins far from 50% mean position bias. Unscored verdicts are excluded from "
                      "every rate and counted here.", class_="lede"),
              _bias_table(data),
              figure(figs["bias"], "", "Position-flip, first-position and unscored rates per criterion "
                     "(dotted line: 50%).", ""),
              el("h3", "Length bias"),
              figure(figs["length"], "criterion", "Raw vs length-controlled win rate (ties as half): a large "
                     "gap means the judge rewards length.", "No length table."),
              el("h3", "Unscored verdicts by reason"), _unscored_reasons(data),
              el("h3", "Judge-directed text (prompt injection)"), _injection_table(data),
              id="diagnostics")


def _judge_gate_table(data: RunData) -> Safe:
    jg = data.tables.get("judge_gate")
    if jg is None or jg.empty:
        return Safe("")
    head = el("thead", el("tr", _th("criterion", "text"), _th("status", "text"),
                          _th("LLM\u2013clinician agreement", "num"), _th("clinician leave-one-out", "num"),
                          _th("reason", None)))
    rows = []
    for r in jg.itertuples(index=False):
        st = str(r.status)
        rows.append(el("tr", el("th", str(r.criterion), scope="row", data_v=str(r.criterion)),
                       _td(f"{_STATUS_MARK.get(st, '')} {st}", st, class_=f"cal-{st}"),
                       _num_cell(r.llm_agreement, r.llm_ci_low, r.llm_ci_high),
                       _num_cell(r.human_loo_agreement, r.human_ci_low, r.human_ci_high),
                       _td("" if pd.isna(r.reason) else str(r.reason))))
    return scroll(el("table", el("caption", "Judge gate: is the LLM judge as consistent with clinicians as "
                                            "clinicians are with each other?"), head, el("tbody", rows),
                     class_="sortable", id="judge-gate-table"), "judge_gate", data)


def _agreement_table(data: RunData) -> Safe:
    ag = data.tables.get("agreement")
    if ag is None or ag.empty:
        return Safe("")
    head = el("thead", el("tr", _th("criterion", "text"), _th("comparison", "text"), _th("statistic", "text"),
                          _th("estimate", "num"), _th("CI", None), _th("n", "num")))
    rows = [el("tr", _td(str(r.criterion)), _td(str(r.comparison)), _td(str(r.statistic)),
               _td(fmt_num(_f(r.estimate), "{:.3f}"), _f(r.estimate), class_="num"),
               _td(_ci(r.ci_low, r.ci_high, 1.0, 3)), _td(str(r.n), _f(r.n), class_="num"))
            for r in ag.itertuples(index=False)]
    return el("details", el("summary", "All agreement statistics"),
              scroll(el("table", head, el("tbody", rows), class_="sortable", id="agreement-table"), "agreement", data))


def agreement_section(data: RunData, figs: dict[str, FigureGroup]) -> Safe:
    present = [n for n in ("agreement", "judge_gate", "agreement_confusion", "clinician_outcomes") if data.has(n)]
    if not present:
        return el("section", el("h2", "Clinician agreement"),
                  el("p", "No clinician ratings for this run: the judge's agreement with clinicians has not been "
                          "measured, and no criterion is marked calibrated.", class_="empty", id="no-ratings"),
                  id="agreement")
    return el("section", el("h2", "Clinician agreement"), _judge_gate_table(data),
              figure(figs["agreement"], "statistic", "Agreement with clinicians per criterion, with intervals.",
                     "No agreement table."),
              _agreement_table(data),
              el("h3", "Clinician majority vs LLM judge"),
              figure(figs["confusion"], "criterion", "Confusion matrix of verdicts.", "No confusion table."),
              el("h3", "Clinician verdicts"),
              figure(figs["clinician"], "pair", "Clinicians' head-to-head verdicts per criterion.",
                     "No clinician outcomes table."),
              id="agreement")


def persona_section(data: RunData, figs: dict[str, FigureGroup]) -> Safe:
    if not figs["persona"] and not figs["persona_score"]:
        return el("section", el("h2", "Personas"),
                  el("p", "No persona tables (the leaderboard was written without the personas snapshot).",
                     class_="empty"), id="personas")
    ps = data.table("persona_score")
    note = (f"Weighting: {ps['weighting'].iloc[0]}; criteria {ps['criteria'].iloc[0]}." if not ps.empty else "")
    return el("section", el("h2", "Personas"),
              figure(figs["persona_score"], "", "Persona-weighted overall score. " + note, ""),
              figure(figs["persona"], "breakdown", "Win rate by persona group (n = scored head-to-heads).",
                     "No persona breakdown."),
              id="personas")


def _injection_note(data: RunData) -> Safe:
    rows = _injection_rows(data)
    if not rows:
        return Safe("")
    parts = "; ".join(f"{r['candidate']} in {r['comparisons']} comparisons ({r['patterns'] or 'see judge diagnostics'})"
                      for r in rows)
    return el("p", f"\u26a0 Judge-directed text was flagged in the dialogues of: {parts}. Choose the candidate in the "
                   "filter below to read them.", class_="notice", id="injection-note")


def _truncation_note(data: RunData) -> Safe:
    """Candidates with replies cut at the token limit (``transcripts.parquet`` ``truncated_turns``)."""
    t = data.transcripts
    if t is None or t.empty or "truncated_turns" not in t.columns:
        return Safe("")
    n = t.assign(_n=t["truncated_turns"].fillna(0).astype(int))
    per = n[n["_n"] > 0].groupby("candidate")["_n"].agg(["count", "sum"])
    if per.empty:
        return el("p", "No candidate reply stopped at the token limit.", class_="muted", id="truncation-note")
    total = n.groupby("candidate").size()
    parts = "; ".join(f"{c}: {int(r['sum'])} repl{'ies' if r['sum'] > 1 else 'y'} in {int(r['count'])} of "
                      f"{int(total[c])} dialogues" for c, r in per.iterrows())
    return el("p", f"\u2702 Replies cut at the token limit (stop reason max_tokens / model_length; judged as "
                   f"written): {parts}. Tick \u201creplies cut at the token limit only\u201d to read them; raise "
                   "the candidate's max_tokens to avoid judging unfinished replies.", class_="notice",
              id="truncation-note")


DOWNLOAD_NOTES = {
    "verdicts.parquet": "every judge verdict: one row per pair \u00d7 scenario \u00d7 persona \u00d7 criterion "
                        "\u00d7 order, with rationales (docs/data-formats.md)",
    "transcripts.parquet": "every candidate dialogue, with replies cut at the token limit (truncated_turns)",
    "table.csv": "the leaderboard: every candidate \u00d7 criterion",
}


def download_files(data: RunData) -> list[tuple[str, Any]]:
    """(name in the report's downloads folder, source path) of every file the report offers for download."""
    files = [(p.name, p) for p in sorted((data.run_dir / "tables").glob("*.csv")) if p.is_file()]
    files += [(n, data.run_dir / n) for n in ("verdicts.parquet", "transcripts.parquet")
              if (data.run_dir / n).is_file()]
    return files


def downloads_section(data: RunData) -> Safe:
    """Links to the copies of the run's tables and parquet files in ``downloads/`` (written by the renderer)."""
    files = download_files(data)
    if not files:
        return el("section", el("h2", "Downloads"), el("p", "No table files in this run.", class_="empty"),
                  id="downloads")
    items = [el("li", el("a", name, href=f"{DOWNLOADS}/{name}", download=True, class_="download"),
                el("span", f" {path.stat().st_size / 1024:,.1f} KiB", class_="muted"),
                f" \u2014 {DOWNLOAD_NOTES[name]}" if name in DOWNLOAD_NOTES else "")
             for name, path in files]
    return el("section", el("h2", "Downloads"),
              el("p", "Every table of this report as written by theraeval leaderboard (tables/*.csv), and the "
                      "verdict and transcript tables (parquet). The files are copied into the report folder, so "
                      "the links work offline and wherever the folder is published.", class_="lede"),
              el("ul", items, class_="downloads"), id="downloads")


def transcripts_section(data: RunData, counts: dict[str, Any]) -> Safe:
    v = data.verdicts
    criteria = [str(c) for c in dict.fromkeys(v["criterion"].astype(str))] if not v.empty else []
    criteria = [c for c in data.criteria if c in criteria] + [c for c in criteria if c not in data.criteria]
    cands = sorted(set(v["candidate_a"].astype(str)) | set(v["candidate_b"].astype(str))) if not v.empty else []
    risks = sorted({str(r) for r in v["scenario_risk"].astype(str)} - {""}) if not v.empty else []
    if not counts.get("comparisons"):
        return el("section", el("h2", "Transcripts"), el("p", "No verdicts to browse.", class_="empty"),
                  id="transcripts")
    filters = el(
        "div",
        el("label", "criterion ", el("select", el("option", "all criteria", value=""),
                                     [el("option", data.criterion_label(c), value=str(i))
                                      for i, c in enumerate(criteria)], id="tb-criterion")),
        el("label", "candidate ", el("select", el("option", "any", value=""),
                                     [el("option", c, value=str(i)) for i, c in enumerate(cands)], id="tb-candidate")),
        el("label", "scenario risk ", el("select", el("option", "any", value=""),
                                         [el("option", r, value=r) for r in risks], id="tb-risk")),
        el("label", el("input", type="checkbox", id="tb-flips"), " position flips only"),
        el("label", el("input", type="checkbox", id="tb-unscored"), " unscored only"),
        el("label", el("input", type="checkbox", id="tb-cut"), " replies cut at the token limit only"),
        # several judges ([[judges]]): comparisons on which two judges' verdicts differ
        el("label", el("input", type="checkbox", id="tb-disagree"), " judges disagree")
        if not v.empty and judge_ids(v).nunique() > 1 else "",
        el("label", "scenario id ", el("input", type="search", id="tb-search", placeholder="contains\u2026",
                                       autocomplete="off")),
        el("label", "text ", el("input", type="search", id="tb-text", autocomplete="off",
                                placeholder="words in dialogues or rationales\u2026",
                                title="case-insensitive; searches both dialogues, the scenario and every judge "
                                      "rationale of the comparisons that pass the other filters")),
        el("label", "per page ", el("select", [el("option", str(n), value=str(n), selected=n == 10)
                                               for n in (5, 10, 25, 50)], id="tb-size")),
        class_="filters")
    pager = el("div", el("button", "\u2039 previous", type="button", class_="tb-prev"),
               el("span", "", class_="tb-status", aria_live="polite"),
               el("button", "next \u203a", type="button", class_="tb-next"), class_="pager")
    return el("section", el("h2", "Transcripts"),
              el("p", f"{counts['comparisons']} comparisons (candidate pair \u00d7 scenario \u00d7 persona) over "
                      f"{counts['scenarios']} scenarios. Each shows both dialogues and, for every criterion, the "
                      "judge's verdict and rationale in both presentation orders. Data load page by page.",
                 class_="lede"),
              _injection_note(data), _truncation_note(data),
              filters, pager, el("div", el("p", "Scroll here to load the transcripts.", class_="loading"),
                                 id="tb-list"),
              pager, el("noscript", "The transcript browser needs JavaScript."),
              id="transcripts")


def footer(items: list[tuple[str, str]]) -> Safe:
    return el("footer", el("h2", "Provenance"),
              el("dl", [frag(el("dt", k), el("dd", v)) for k, v in items]), id="provenance")

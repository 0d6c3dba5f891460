"""One static page comparing several runs: different judges, criteria sets or dates, candidates aligned by name.

``render_comparison([runs/a, runs/b, ...], out_dir)`` writes ``<out_dir>/index.html`` (+ ``assets/``): each run's
provenance and judge card, the leaderboards side by side for one criterion at a time (kept in the URL like the
run report's), and, for every run after the first (the reference), its per-criterion differences from the
reference: win-rate and Bradley-Terry differences per candidate x criterion and rank changes. Nothing is
recomputed: every number comes from the runs' ``tables/`` (``theraeval leaderboard``). Differences between runs
are descriptive; a cell is marked when the two runs' Wilson intervals do not overlap.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.core import InputError, atomic_write_text
from reports import _sections as sec
from reports._data import POOLED, RunData, load_run, require_tables
from reports._escape import Safe
from reports._html import el, fmt_num, fmt_pct, frag, sort_value
from reports._provenance import provenance
from reports._render import CSP, _copy_assets

logger = logging.getLogger(__name__)


def _rows(data: RunData) -> dict[tuple[str, str], Any]:
    """(criterion, candidate) -> the leaderboard table's row."""
    return {(str(r.criterion), str(r.candidate)): r for r in data.table("table").itertuples(index=False)}


def _criteria(runs: list[RunData]) -> list[str]:
    """Union of the runs' criteria, pooled first, then in first-seen order."""
    seen: dict[str, None] = {}
    for d in runs:
        for c in d.table("table")["criterion"].astype(str):
            seen.setdefault(c, None)
    ordered = list(seen)
    return [POOLED] + [c for c in ordered if c != POOLED] if POOLED in seen else ordered


def _candidates(runs: list[RunData]) -> list[str]:
    """Union of the candidates, the reference run's Bradley-Terry order first."""
    seen: dict[str, None] = {}
    for d in runs:
        for c in d.table("table")["candidate"].astype(str):
            seen.setdefault(c, None)
    return list(seen)


def _judge_card(data: RunData) -> Safe:
    """The run's judge card in one line per criterion (``judge_card.json``), or a plain statement that there is none."""
    path = data.run_dir / "judge_card.json"
    if not path.is_file():
        return el("p", "Judge card: none (this judge is not validated on human labels).", class_="notice")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return el("p", f"Judge card unreadable: {e}", class_="error")
    items = []
    for crit, entry in (card.get("criteria") or {}).items():
        sets = entry.get("sets") or [{}]
        accs = ", ".join(f"{s.get('set', '?')} {fmt_pct(s.get('accuracy'))}% (n={s.get('n', '?')})" for s in sets)
        items.append(el("li", f"{crit}: {entry.get('status', '?')}; accuracy on human labels {accs}"))
    return frag(el("p", "Judge card (accuracy against human labels):"), el("ul", items))


def _run_card(data: RunData, generated_at: datetime, i: int) -> Safe:
    items = [(k, v) for k, v in provenance(data, generated_at) if k not in ("theraeval", "report generated", "plotly")]
    role = "reference" if i == 0 else f"run {i + 1}"
    return el("article",
              el("h3", f"{role}: ", el("span", data.name, class_="run-name")),
              el("dl", [frag(el("dt", k), el("dd", v)) for k, v in items]),
              _judge_card(data), class_="run-card", data_run=str(i))


def _side_by_side(runs: list[RunData], criteria: list[str], candidates: list[str]) -> Safe:
    rows_by_run = [_rows(d) for d in runs]
    default = criteria[0] if criteria else ""
    head = [sec._th("candidate", "text")]
    for d in runs:
        head += [sec._th(f"{d.name}: rank", "num", f"rank band in {d.name}"),
                 sec._th(f"{d.name}: win %", "num", f"paper win rate in {d.name} [Wilson CI]"),
                 sec._th(f"{d.name}: BT", "num", f"Bradley\u2013Terry (Elo scale) in {d.name}")]
    body = []
    for bt_i, (c, k) in enumerate((c, k) for c in criteria for k in candidates):
        cells: list[Safe] = [el("th", k, scope="row", data_v=k)]
        for rows in rows_by_run:
            r = rows.get((c, k))
            if r is None:
                cells += [sec._td("\u2013"), sec._td("\u2013"), sec._td("\u2013")]
                continue
            cells += [sec._td(str(r.rank), sec._f(r.rank_best) + sec._f(r.rank_worst) / 1000.0, class_="num"),
                      sec._num_cell(r.win_rate, r.wilson_low, r.wilson_high),
                      sec._num_cell(r.bt_elo, r.bt_elo_ci_low, r.bt_elo_ci_high, scale=1.0, digits=0)]
        body.append(el("tr", cells, data_criterion=c, data_bt=str(bt_i), hidden=c != default))
    labels = {c: next((d.criterion_label(c) for d in runs if c in set(d.table("table")["criterion"].astype(str))), c)
              for c in criteria}
    options = [el("option", labels[c], value=c, selected=c == default) for c in criteria]
    return frag(
        el("label", "criterion ", el("select", options, id="lb-criterion"), class_="picker"),
        sec.scroll(el("table", el("caption", "Leaderboards for ", el("span", labels.get(default, ""), id="lb-caption")),
                      el("thead", el("tr", head)), el("tbody", body), id="lb-table", class_="sortable leaderboard"))
    )


def _overlap(a: Any, b: Any) -> bool:
    lo1, hi1, lo2, hi2 = (sec._f(x) for x in (a.wilson_low, a.wilson_high, b.wilson_low, b.wilson_high))
    if not all(math.isfinite(x) for x in (lo1, hi1, lo2, hi2)):
        return True
    return lo1 <= hi2 and lo2 <= hi1


def _rank_text(a: Any, b: Any) -> str:
    ra, rb = sec._f(a.rank_best), sec._f(b.rank_best)
    if str(a.rank) == str(b.rank):
        return f"rank {b.rank}"
    arrow = "\u2191" if math.isfinite(ra) and math.isfinite(rb) and rb < ra else "\u2193"
    return f"rank {a.rank} \u2192 {b.rank} {arrow}"


def _differences(ref: RunData, other: RunData, criteria: list[str], candidates: list[str]) -> Safe:
    """Candidates x criteria: win-rate difference (percentage points), BT difference and rank change vs ``ref``."""
    r_rows, o_rows = _rows(ref), _rows(other)
    shared = [c for c in criteria if any((c, k) in r_rows for k in candidates) and any((c, k) in o_rows
                                                                                     for k in candidates)]
    only = [c for c in criteria if c not in shared]
    head = el("thead", el("tr", sec._th("candidate", "text"),
                          [sec._th(c if c != POOLED else "all (pooled)", "num", ref.criterion_label(c))
                           for c in shared]))
    body = []
    for k in candidates:
        cells: list[Safe] = [el("th", k, scope="row", data_v=k)]
        for c in shared:
            a, b = r_rows.get((c, k)), o_rows.get((c, k))
            if a is None or b is None:
                cells.append(sec._td("\u2013", None, title=f"{k} is not in both runs for {c}"))
                continue
            d_win = sec._f(b.win_rate) - sec._f(a.win_rate)
            d_bt = sec._f(b.bt_elo) - sec._f(a.bt_elo)
            apart = not _overlap(a, b)
            sign = "up" if d_win > 0.0005 else ("down" if d_win < -0.0005 else "same")
            cells.append(el(
                "td", el("span", f"{fmt_num(100 * d_win, '{:+.1f}')} pp" + (" \u2020" if apart else ""),
                         class_="delta"),
                el("span", f" BT {fmt_num(d_bt, '{:+.0f}')}", class_="ci"),
                el("span", _rank_text(a, b), class_="rank-change"),
                data_v=sort_value(d_win if math.isfinite(d_win) else None), class_=f"num diff diff-{sign}",
                title=f"{k} on {c}: win {fmt_pct(sec._f(a.win_rate))}% in {ref.name}, {fmt_pct(sec._f(b.win_rate))}% "
                      f"in {other.name}; BT {fmt_num(sec._f(a.bt_elo))} \u2192 {fmt_num(sec._f(b.bt_elo))}"
                      + ("; the Wilson intervals do not overlap" if apart else "")))
        body.append(el("tr", cells))
    note = (el("p", "Criteria in only one of the two runs (no difference shown): " + ", ".join(only) + ".",
               class_="muted") if only else Safe(""))
    return el("div",
              el("h3", f"{other.name} \u2212 {ref.name}"),
              el("p", f"Each cell: the paper win-rate difference in percentage points ({other.name} minus "
                      f"{ref.name}), the Bradley\u2013Terry difference (Elo scale; each run's scale is centred on "
                      "its own candidates, so compare it only when both runs have the same candidates) and the rank "
                      "band change. \u2020: the two runs' 95% Wilson intervals do not overlap.", class_="lede"),
              sec.scroll(el("table", head, el("tbody", body), class_="sortable matrix diff-table",
                            data_run=other.name)),
              note, class_="run-diff")


def comparison_page(runs: list[RunData], generated_at: datetime) -> str:
    """The comparison page's HTML (see the module docstring)."""
    criteria = _criteria(runs)
    candidates = _candidates(runs)
    names = " vs ".join(d.name for d in runs)
    judges = {d.name: d.settings.get("judges", "?") for d in runs}
    sets = {d.name: f"{d.criteria_set} [{d.criteria_hash}]" for d in runs}
    nav = sec.nav([("runs", "Runs"), ("leaderboards", "Leaderboards"), ("differences", "Differences")])
    body = [
        el("header", el("h1", "theraeval comparison: ", el("span", names, class_="run-name")),
           el("p", f"{len(runs)} runs, {len(candidates)} candidates aligned by name, {len(criteria)} criteria. "
                   f"Generated {generated_at.strftime('%Y-%m-%d %H:%M:%S UTC')}.", class_="lede"), class_="top"),
        nav,
        el("main",
           el("section", el("h2", "Runs"),
              el("p", "Judges: " + "; ".join(f"{n}: {j}" for n, j in judges.items()) + ". Criteria sets: "
                 + "; ".join(f"{n}: {s}" for n, s in sets.items()) + ".", class_="lede"),
              el("div", [_run_card(d, generated_at, i) for i, d in enumerate(runs)], class_="run-cards"),
              id="runs"),
           el("section", el("h2", "Leaderboards side by side"),
              el("p", "One criterion at a time (the choice is kept in the URL); \u2013 marks a candidate or criterion "
                      "missing from a run.", class_="lede"),
              _side_by_side(runs, criteria, candidates), id="leaderboards"),
           el("section", el("h2", "Differences from the reference run"),
              el("p", f"Reference: {runs[0].name}. Differences between runs are descriptive: with a different "
                      "judge they show where the judges disagree; with the same judge on other dates, drift. No "
                      "test is applied across runs.", class_="lede"),
              [_differences(runs[0], d, criteria, candidates) for d in runs[1:]], id="differences")),
    ]
    head = el("head", el("meta", charset="utf-8"),
              el("meta", http_equiv="Content-Security-Policy", content=CSP),
              el("meta", name="viewport", content="width=device-width, initial-scale=1"),
              el("meta", name="referrer", content="no-referrer"),
              el("title", f"theraeval comparison \u2014 {names}"),
              el("link", rel="stylesheet", href="assets/report.css"))
    page_body = [Safe(b) for b in body] + [el("script", src="assets/report.js")]
    return "<!doctype html>\n" + el("html", head, el("body", page_body, class_="comparison"), lang="en") + "\n"


def render_comparison(run_dirs: list[Path], out_dir: Path) -> Path:
    """Write the multi-run comparison page and return the path of its ``index.html``.

    Args:
        run_dirs: two or more run directories (``runs/<name>``), each with ``tables/`` from ``theraeval
            leaderboard``; the first is the reference the differences are taken from.
        out_dir: the folder to write (``index.html`` and ``assets/``).

    Raises:
        harness.core.InputError: fewer than two runs, a run listed twice, or a run without leaderboard tables.
    """
    dirs = [Path(d) for d in run_dirs]
    if len(dirs) < 2:
        raise InputError(None, "run_dirs", " ".join(map(str, dirs)), "a comparison needs at least two runs",
                         "pass two or more run directories: theraeval report runs/a runs/b --out compare")
    resolved = [d.resolve() for d in dirs]
    if len(set(resolved)) != len(resolved):
        dup = next(d for d in dirs if resolved.count(d.resolve()) > 1)
        raise InputError(None, "run_dirs", str(dup), "the same run is listed twice", "list each run once")
    for d in dirs:
        require_tables(d)
    names = [d.name for d in dirs]
    if len(set(names)) != len(names):
        raise InputError(None, "run_dirs", " ".join(names), "two runs share a directory name",
                         "rename one run directory so each run has its own name")
    runs = [load_run(d) for d in dirs]
    out = Path(out_dir)
    _copy_assets(out / "assets", plotly=False)
    index = out / "index.html"
    atomic_write_text(index, comparison_page(runs, datetime.now(UTC).replace(microsecond=0)))
    logger.info("report: wrote the comparison of %d runs to %s", len(runs), index)
    return index


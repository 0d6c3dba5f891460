"""The report's absolute crisis-safety section: safe-handling rates, item failure rates and the worst dialogues.

Reads ``tables/safety`` and ``tables/safety_items`` (``theraeval leaderboard``) and ``<run>/safety.parquet`` (the
rubric rows, for the worst dialogues and the judge's reasons). Every string from a model is escaped by
:func:`reports._html.el`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harness.verdicts import JUDGE_METHOD
from reports._data import SAFETY_TABLES, RunData
from reports._escape import Safe
from reports._html import el, fmt_pct
from reports._sections import _num_cell, _td, _th, download_link, scroll

__all__ = ["SAFETY_TABLES", "safety_section"]
WORST_SHOWN = 10


def _rows(data: RunData) -> pd.DataFrame:
    path = data.run_dir / "safety.parquet"
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame()


def _rate_table(safety: pd.DataFrame) -> Safe:
    head = el("thead", el("tr", _th("candidate", "text"), _th("method", "text"), _th("safe-handling % [Wilson 95%]"),
                          _th("n", "num"), _th("unscored", "num"), _th("single-turn %"), _th("multi-turn %"),
                          _th("absolute gate", "text")))
    body = []
    for r in safety.itertuples(index=False):
        below = bool(r.below_min_safe_rate)
        gate = ("\u2691 below min_safe_rate" if below else "ok" if bool(r.gated) else "not gated")
        body.append(el("tr", el("th", str(r.candidate), scope="row", data_v=str(r.candidate)),
                       _td(str(r.method) + ("" if r.method == JUDGE_METHOD else " (not the rubric score)")),
                       _num_cell(r.safe_rate, r.wilson_low, r.wilson_high),
                       _td(str(r.n), int(r.n), class_="num"), _td(str(r.n_unscored), int(r.n_unscored), class_="num"),
                       _td(fmt_pct(r.single_safe_rate) + f" (n={r.single_n})", r.single_safe_rate, class_="num"),
                       _td(fmt_pct(r.multi_safe_rate) + f" (n={r.multi_n})", r.multi_safe_rate, class_="num"),
                       _td(gate, 1 if below else 0, class_="flag" if below else None,
                           title=str(r.gate_reason) if isinstance(r.gate_reason, str) else None),
                       class_="flagged" if below else None))
    return scroll(el("table", head, el("tbody", body), class_="sortable", id="safety-table"))


def _item_table(items: pd.DataFrame) -> Safe:
    head = el("thead", el("tr", _th("candidate", "text"), _th("method", "text"), _th("item", "text"),
                          _th("severity", "text"), _th("failure % [Wilson 95%]"), _th("failures", "num"),
                          _th("n", "num"), _th("unscored", "num"), _th("median first failing turn")))
    body = [el("tr", el("th", str(r.candidate), scope="row", data_v=str(r.candidate)), _td(str(r.method)),
               _td(str(r.item_id)), _td(str(r.severity)), _num_cell(r.failure_rate, r.wilson_low, r.wilson_high),
               _td(str(r.failures), int(r.failures), class_="num"), _td(str(r.n), int(r.n), class_="num"),
               _td(str(r.n_unscored), int(r.n_unscored), class_="num"),
               _td("" if math.isnan(float(r.first_failed_turn_median)) else f"{r.first_failed_turn_median:g}",
                   float(r.first_failed_turn_median), class_="num"))
            for r in items.itertuples(index=False)]
    return scroll(el("table", head, el("tbody", body), class_="sortable", id="safety-items-table"))


def _worst(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Unsafe dialogues (a critical failure), most critical failures first, then earliest failing turn."""
    if rows.empty:
        return []
    fails = rows[(rows["dialogue_safe"] == 0.0) & (rows["verdict"] == "fail") & (rows["severity"] == "critical")]
    out: list[dict[str, Any]] = []
    for (cand, method, sid), g in fails.groupby(["candidate", "method", "sample_id"], sort=True):
        first = g.sort_values("turn").drop_duplicates("item_id")
        out.append({"candidate": str(cand), "method": str(method), "sample_id": str(sid),
                    "scenario_id": str(g["scenario_id"].iloc[0]), "multi_turn": bool(g["multi_turn"].iloc[0]),
                    "n_items": int(first["item_id"].nunique()), "turn": int(first["turn"].min()),
                    "failures": [(str(r.item_id), int(r.turn), str(r.reason)) for r in first.itertuples()]})
    return sorted(out, key=lambda d: (-int(d["n_items"]), int(d["turn"]), str(d["candidate"]),
                                      str(d["sample_id"])))[:WORST_SHOWN]


def _worst_list(worst: list[dict[str, Any]]) -> Safe:
    if not worst:
        return el("p", "No dialogue failed a critical item.", class_="empty")
    items = []
    for w in worst:
        fails = el("ul", [el("li", el("code", item), f" failed at candidate turn {turn}",
                               f": \u201c{reason}\u201d" if reason else "") for item, turn, reason in w["failures"]])
        items.append(el("li", el("strong", w["candidate"]), f" [{w['method']}] on scenario ",
                        el("code", w["scenario_id"]), " (multi-turn)" if w["multi_turn"] else " (single-turn)", " ",
                        el("a", "open in the transcript browser", href="#transcripts", class_="tb-link",
                           data_scenario=w["scenario_id"], data_candidate=w["candidate"]), fails))
    return el("ol", items, class_="worst-dialogues")


def safety_section(data: RunData) -> Safe:
    """The section; says plainly when the run has no safety stage."""
    safety = data.table("safety")
    if safety.empty:
        return el("section", el("h2", "Absolute crisis safety"),
                  el("p", "Not measured: this run has no [safety] stage (a rubric score for every crisis dialogue; "
                          "docs/safety.md). The safety gate above is relative: it cannot tell whether any "
                          "candidate handles a crisis safely.", class_="empty"), id="safety")
    checks_only = (safety["method"] != JUDGE_METHOD).all()
    lede = ("Every dialogue on a crisis or elevated-risk scenario is scored on its own against the crisis rubric, "
            "item by item, at every candidate turn. A dialogue is handled safely when no critical item fails at any "
            "turn. Unlike the pairwise safety win rate, this is absolute: if every candidate mishandles a crisis, "
            "every one of them shows it.")
    note = (el("p", "Scored by deterministic checks only (no LLM rubric judge): text patterns for resources, method "
                    "information, refusals and deflection. This is NOT the rubric score and is never gated.",
               class_="notice") if checks_only else None)
    return el("section", el("h2", "Absolute crisis safety"), el("p", lede, class_="lede"), note,
              el("h3", "Safe-handling rate"), _rate_table(safety), download_link(data, "safety"),
              el("h3", "Failure rate per rubric item"), _item_table(data.table("safety_items")),
              download_link(data, "safety_items"),
              el("h3", f"Worst dialogues (up to {WORST_SHOWN})"), _worst_list(_worst(_rows(data))),
              id="safety")

"""The report's statistical-validity section: where the verdicts vary, and the clinician-corrected leaderboard.

Reads ``tables/variance`` and ``tables/clinician_corrected`` (``theraeval leaderboard``; the second only when
``theraeval agreement`` wrote clinician labels). The rank column of the leaderboard above is already the
simultaneous rank band; this section says how much of each column the candidates explain (vs the simulator seed,
the judge, scenarios, personas) and shows the judge-only win rates beside the ones corrected by the clinicians'
labels (prediction-powered inference). Definitions: docs/statistics.md.
"""

from __future__ import annotations

import math

import pandas as pd

from reports._data import RunData
from reports._escape import Safe
from reports._html import el, fmt_num, fmt_pct, frag
from reports._sections import _num_cell, _td, _th, scroll

__all__ = ["statistics_section"]


def _variance_table(variance: pd.DataFrame) -> Safe:
    terms = list(dict.fromkeys(variance["term"]))
    head = el("thead", el("tr", _th("criterion", "text"), *[_th(f"{t} %", "num") for t in terms],
                          _th("candidates / systematic %", "num"), _th("flag", "text")))
    rows = []
    for criterion, part in variance.groupby("criterion", sort=False):
        share = dict(zip(part["term"], part["omega2"], strict=True))
        first = part.iloc[0]
        flag = ""
        if bool(first["flagged"]):
            dominant = str(first["dominant"])
            flag = ("mostly noise (nothing systematic)" if dominant == "residual"
                    else f"this column mostly measures the {dominant}")
        note = f" ({first['confounded']}: one observation per cell, inside residual)" if first["confounded"] else ""
        rows.append(el("tr", el("th", str(criterion), scope="row", data_v=str(criterion)),
                       *[_td(fmt_pct(share.get(t, math.nan)), float(share.get(t, math.nan)), class_="num")
                         for t in terms],
                       _td(fmt_pct(float(first["candidate_share"])), float(first["candidate_share"]), class_="num"),
                       _td(flag + note, class_="flag" if flag else None)))
    return scroll(el("table", head, el("tbody", rows), class_="sortable"))


def _corrected_table(cc: pd.DataFrame) -> Safe:
    head = el("thead", el("tr", _th("criterion", "text"), _th("rank (PPI)", "num"), _th("candidate", "text"),
                          _th("judge only %", "num"), _th("corrected % [interval]", "num"),
                          _th("clinician labels only % [interval]", "num"), _th("labels", "num"),
                          _th("effective labels", "num"), _th("more labels for the target", "num"),
                          _th("BT judge only", "num"), _th("BT corrected [interval]", "num")))
    rows = []
    for r in cc.sort_values(["criterion", "bt_elo_ppi"], ascending=[True, False]).itertuples(index=False):
        more = float(r.more_labels_for_target)
        more_text = "-" if math.isnan(more) else ("never" if math.isinf(more) else f"{more:.0f}")
        rows.append(el("tr", _td(str(r.criterion), str(r.criterion)),
                       _td(str(r.rank_ppi), float(r.rank_ppi_best) + float(r.rank_ppi_worst) / 1000.0, class_="num"),
                       el("th", str(r.candidate), scope="row", data_v=str(r.candidate)),
                       _td(fmt_pct(float(r.judge_only)), float(r.judge_only), class_="num"),
                       _num_cell(r.ppi, r.ppi_low, r.ppi_high),
                       _num_cell(r.clinician_only, r.clinician_only_low, r.clinician_only_high),
                       _td(str(r.n_labeled), int(r.n_labeled), class_="num"),
                       _td(fmt_num(float(r.n_effective)), float(r.n_effective), class_="num"),
                       _td(more_text, more if math.isfinite(more) else None, class_="num"),
                       _td(fmt_num(float(r.bt_elo_judge_only)), float(r.bt_elo_judge_only), class_="num"),
                       _num_cell(r.bt_elo_ppi, r.bt_elo_ppi_low, r.bt_elo_ppi_high, scale=1.0, digits=0)))
    return scroll(el("table", head, el("tbody", rows), class_="sortable"))


def _simple_table(frame: pd.DataFrame, columns: list[tuple[str, str, str]]) -> Safe:
    """A sortable table of ``(column, header, kind)``; kind ``pct`` (a 0-1 share), ``num`` or ``text``."""
    head = el("thead", el("tr", *[_th(h, "text" if k == "text" else "num") for _, h, k in columns]))
    rows = []
    for r in frame.to_dict("records"):
        cells = []
        for col, _, kind in columns:
            v = r[col]
            if kind == "pct":
                cells.append(_td(fmt_pct(float(v)), float(v), class_="num"))
            elif kind == "num":
                cells.append(_td(fmt_num(float(v), "{:.2f}"), float(v), class_="num"))
            else:
                cells.append(_td(str(v), str(v)))
        rows.append(el("tr", *cells))
    return scroll(el("table", head, el("tbody", rows), class_="sortable"))


def _replicates_and_judges(data: RunData) -> list[Safe]:
    parts: list[Safe] = []
    rel = data.table("reliability")
    if not rel.empty:
        parts.append(el("h3", "Rerun reliability"))
        parts.append(el("p", f"{int(rel['n_replicates'].max())} replicate runs with new simulator and judge seeds "
                        "(theraeval run --replicates): the share of each candidate's head-to-heads whose verdict "
                        "changed, its rank range over replicates, and its mean and worst-case win rate."))
        parts.append(_simple_table(rel, [("criterion", "criterion", "text"), ("candidate", "candidate", "text"),
                                         ("flip_rate", "flip %", "pct"), ("rank_min", "best rank", "num"),
                                         ("rank_max", "worst rank", "num"), ("win_rate_mean", "mean win %", "pct"),
                                         ("win_rate_min", "worst win %", "pct")]))
    main = data.settings.get("main_judge")
    judges = data.table("judge_reliability")
    if not judges.empty or main:
        parts.append(el("h3", "Judge ensemble"))
    if main:
        parts.append(el("p", f"Several judges judged this run. The leaderboard's main tables are the first "
                        f"judge's alone ({main}, the first [[judges]] entry; judges are never pooled); below, each "
                        "judge's win rates, "
                        "their agreement and the ranking that weights each judge by its reliability. The transcript "
                        "browser's \u201cjudges disagree\u201d filter shows where they part."))
    if not judges.empty:
        parts.append(el("p", "Judge-aware Bradley-Terry (arXiv:2601.21817): each judge's reliability (mean 1; near "
                        "0 = a coin); the ensemble ranking weights each judge by it."))
        parts.append(_simple_table(judges, [("criterion", "criterion", "text"), ("judge", "judge", "text"),
                                            ("reliability", "reliability", "num"),
                                            ("n_comparisons", "comparisons", "num")]))
    ranking = data.table("ensemble_ranking")
    if not ranking.empty:
        parts.append(el("p", "Ensemble ranking (each judge weighted by its reliability; Elo scale):"))
        parts.append(_simple_table(ranking, [("criterion", "criterion", "text"), ("rank", "rank", "num"),
                                             ("candidate", "candidate", "text"),
                                             ("bt_elo_ensemble", "BT (Elo scale)", "num")]))
    per_judge = data.table("judge_win_rates")
    if not per_judge.empty:
        parts.append(el("p", "Each judge's own win rates (wins / scored head-to-heads, mean over opponents):"))
        parts.append(_simple_table(per_judge, [("criterion", "criterion", "text"), ("judge", "judge", "text"),
                                               ("candidate", "candidate", "text"), ("win_rate", "win %", "pct"),
                                               ("n", "n", "num")]))
    agreement = data.table("judge_agreement")
    if not agreement.empty:
        shown = agreement.assign(
            kappa_ci=[f"{k:.2f} [{lo:.2f}, {hi:.2f}]" for k, lo, hi in
                      zip(agreement["kappa"], agreement["kappa_low"], agreement["kappa_high"], strict=True)],
            ac1_ci=[f"{k:.2f} [{lo:.2f}, {hi:.2f}]" for k, lo, hi in
                    zip(agreement["ac1"], agreement["ac1_low"], agreement["ac1_high"], strict=True)])
        parts.append(el("p", "Agreement between judges (theraeval judge-agreement), units both judges scored, with "
                        "95% intervals:"))
        parts.append(_simple_table(shown, [("criterion", "criterion", "text"), ("judge_1", "judge", "text"),
                                           ("judge_2", "judge", "text"), ("n", "n", "num"),
                                           ("agreement", "agreement %", "pct"),
                                           ("kappa_ci", "Cohen's kappa", "text"), ("ac1_ci", "Gwet's AC1", "text")]))
    return parts


def statistics_section(data: RunData) -> Safe:
    """The "Statistical validity" section (variance shares; clinician-corrected figures when labels exist)."""
    variance = data.table("variance")
    cc = data.table("clinician_corrected")
    parts: list[Safe] = [el("h2", "Statistical validity")]
    parts.append(el("p", "Rank bands in the leaderboard are simultaneous: with 95% probability every candidate's "
                    "true rank lies in its band at once (bootstrap max-t over all pairs). See docs/statistics.md."))
    parts.append(el("h3", "Where the verdicts vary"))
    if variance.empty:
        parts.append(el("p", "No variance table (re-run theraeval leaderboard).", class_="empty"))
    else:
        parts.append(el("p", "Omega-squared share of each criterion's head-to-head outcomes explained by which two "
                        "candidates met, and by the scenario, persona, run (simulator seed) and judge they met in "
                        "(each as its interaction with the pair). A column is flagged when the candidates explain "
                        f"less than {fmt_pct(float(variance['min_candidate_share'].iloc[0]))}% of the systematic "
                        "(non-residual) variance."))
        parts.append(_variance_table(variance))
    parts.extend(_replicates_and_judges(data))
    parts.append(el("h3", "Clinician-corrected win rates"))
    if cc.empty:
        parts.append(el("p", "No clinician labels for this run: the figures above are the judge's alone. "
                        "Rate a packet (theraeval packets, then theraeval agreement) to correct them.", class_="empty"))
    else:
        target = float(cc["target_width"].iloc[0])
        parts.append(el("p", "Prediction-powered inference: the judge's verdicts on every head-to-head, corrected by "
                        "the clinicians' labels on the packet items (ties as half, pooled over head-to-heads). "
                        "Effective labels: how many clinician labels alone would be as precise. More labels: how "
                        f"many more would give an interval {fmt_pct(target)} points wide ('never': more "
                        "head-to-heads, or a better judge, are needed)."))
        parts.append(_corrected_table(cc))
    return el("section", frag(*parts), id="statistics")

"""Text of the statistical-validity tables: variance shares with their flags, clinician-corrected win rates."""

from __future__ import annotations

import math

import pandas as pd

from harness.leaderboard._build import Leaderboard
from harness.stats import fmt_interval, fmt_num, fmt_pct


def variance_flags(lb: Leaderboard) -> dict[str, str]:
    """Criterion -> one warning line, for each criterion whose candidates explain less than the stated share."""
    out: dict[str, str] = {}
    if lb.variance.empty:
        return out
    for criterion, part in lb.variance.groupby("criterion", sort=False):
        first = part.iloc[0]
        if bool(first["flagged"]):
            dominant = str(first["dominant"])
            what = "noise (nothing systematic)" if dominant == "residual" else f"the {dominant}"
            out[str(criterion)] = (
                f"candidates explain {fmt_pct(first['candidate_share']).strip()}% of the systematic verdict variance "
                f"(< {fmt_pct(first['min_candidate_share']).strip()}%): this column mostly measures {what}")
    return out


def _variance_lines(variance: pd.DataFrame) -> list[str]:
    if variance.empty:
        return []
    terms = list(dict.fromkeys(variance["term"]))
    lines = ["", "Where the verdicts vary (omega-squared share of each criterion's head-to-head outcomes; "
             "facets enter as their interaction with the candidate pair; cand/syst = candidates' share of the "
             "non-residual variance, which the flag reads; docs/statistics.md)"]
    cw = max(len("criterion"), *(len(str(c)) for c in variance["criterion"]))
    lines.append(f"  {'criterion':<{cw}} " + " ".join(f"{t:>14}" for t in terms) + f" {'cand/syst':>9}  flag")
    for criterion, part in variance.groupby("criterion", sort=False):
        share = dict(zip(part["term"], part["omega2"], strict=True))
        cells = " ".join(f"{fmt_pct(share.get(t, math.nan)):>14}" for t in terms)
        first = part.iloc[0]
        note = "FLAG" if bool(first["flagged"]) else ""
        if str(first["confounded"]):
            note += f" ({first['confounded']} = one observation per cell: inside residual)"
        lines.append(f"  {criterion!s:<{cw}} {cells} {fmt_pct(first['candidate_share']):>9}  {note}".rstrip())
    return lines


def _corrected_lines(table: pd.DataFrame) -> list[str]:
    if table.empty:
        return []
    lines = ["", "Clinician-corrected (prediction-powered, PPI++; ties as half, pooled over head-to-heads): the "
             "judge's verdicts on every head-to-head, corrected by the clinicians' labels on the packet items",
             "  judge = judge-only rate (uncorrected); PPI = corrected rate [interval]; clin = clinician labels "
             "alone [interval]; n_eff = clinician labels alone that would be as precise; +labels = more labels "
             "for an interval of the target width"]
    width = max(len("candidate"), *(len(str(c)) for c in table["candidate"]))
    for criterion, part in table.groupby("criterion", sort=False):
        target = float(part["target_width"].iloc[0])
        lines.append(f"  {criterion} (target width {fmt_pct(target).strip()} points):")
        lines.append(f"    {'rank':<6}{'candidate':<{width}}  {'judge':>5} {'PPI':>5} {'[interval]':<13} "
                     f"{'clin':>5} {'[interval]':<13} {'n':>4} {'n_eff':>6} {'+labels':>8}  {'BT judge':>8} "
                     f"{'BT PPI':>7}")
        for r in part.sort_values("bt_elo_ppi", ascending=False).itertuples(index=False):
            more = r.more_labels_for_target
            more_text = "-" if not isinstance(more, float) or math.isnan(more) else (
                "never" if math.isinf(more) else f"{more:.0f}")
            lines.append(
                f"    {r.rank_ppi:<6}{r.candidate:<{width}}  {fmt_pct(r.judge_only)} {fmt_pct(r.ppi)} "
                f"{fmt_interval(r.ppi_low, r.ppi_high):<13} {fmt_pct(r.clinician_only)} "
                f"{fmt_interval(r.clinician_only_low, r.clinician_only_high):<13} {r.n_labeled:>4d} "
                f"{fmt_num(r.n_effective, '{:6.0f}')} {more_text:>8}  {fmt_num(r.bt_elo_judge_only, '{:8.0f}')} "
                f"{fmt_num(r.bt_elo_ppi, '{:7.0f}')}")
    lines.append("  'never' = the judge-side variance alone is wider than the target: more head-to-heads (or a "
                 "better judge) are needed, not more labels")
    return lines


def _reliability_lines(table: pd.DataFrame) -> list[str]:
    if table.empty:
        return []
    lines = ["", f"Rerun reliability over {int(table['n_replicates'].max())} replicate runs (new simulator and judge "
             "seeds): flip% = the candidate's head-to-heads whose verdict changed between replicates [Wilson]; "
             "ranks = best-worst rank over replicates; win% mean / worst (ties as half)"]
    width = max(len("candidate"), *(len(str(c)) for c in table["candidate"]))
    for criterion, part in table.groupby("criterion", sort=False):
        lines.append(f"  {criterion}:")
        for r in part.sort_values("win_rate_mean", ascending=False).itertuples(index=False):
            ranks = str(r.rank_min) if r.rank_min == r.rank_max else f"{r.rank_min}\u2013{r.rank_max}"
            lines.append(f"    {r.candidate:<{width}}  flip {fmt_pct(r.flip_rate)} "
                         f"{fmt_interval(r.flip_low, r.flip_high):<13} ranks {ranks:<5} win% {fmt_pct(r.win_rate_mean)}"
                         f" / worst {fmt_pct(r.win_rate_min)}  ({r.n_units} head-to-heads)")
    return lines


def _ensemble_lines(lb: Leaderboard) -> list[str]:
    if lb.judge_reliability.empty:
        return []
    lines = ["", "Judge ensemble (judge-aware Bradley-Terry, arXiv:2601.21817): reliability = how sharply each judge's "
             "verdicts follow the strengths (mean 1; near 0 = a coin); the ranking weights each judge by it"]
    for criterion, part in lb.judge_reliability.groupby("criterion", sort=False):
        judges = ", ".join(f"{r.judge} {r.reliability:.2f} (n={r.n_comparisons})" for r in part.itertuples())
        ranking = lb.ensemble_ranking[lb.ensemble_ranking["criterion"] == criterion]
        order = ", ".join(f"{r.rank}. {r.candidate} ({r.bt_elo_ensemble:.0f})" for r in ranking.itertuples())
        lines.append(f"  {criterion}: {judges}")
        lines.append(f"    ranking: {order}")
    if not lb.judge_win_rates.empty:
        lines.append("Win% per judge (the paper's win rate, each judge's own verdicts)")
        for criterion, part in lb.judge_win_rates.groupby("criterion", sort=False):
            for judge, rows in part.groupby("judge", sort=False):
                cells = ", ".join(f"{r.candidate} {fmt_pct(r.win_rate).strip()}%" for r in rows.itertuples(index=False))
                lines.append(f"  {criterion} / {judge}: {cells}")
    return lines


def format_statistics(lb: Leaderboard) -> list[str]:
    """The variance-share, rerun-reliability and clinician-corrected blocks of the text leaderboard (each only
    when its table has rows)."""
    return (_variance_lines(lb.variance) + _reliability_lines(lb.reliability) + _ensemble_lines(lb)
            + _corrected_lines(lb.clinician_corrected))

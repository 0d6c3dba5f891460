"""The plain-text win-rate summary written next to the verdict table after every run.

It reads only the verdict table and uses `harness.stats` (the full leaderboard, with Bradley-Terry,
significance and bias diagnostics, is `theraeval leaderboard`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.fidelity import format_fidelity
from harness.stats import (
    WIN_RATE_HEADER,
    average_win_rates,
    format_win_rate,
    head_to_heads,
    judge_ids,
    main_judge,
)


def summary_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per criterion (in the criteria set's order) and candidate: the paper's average win rate over opponents
    (ties in the denominator, unscored excluded and counted), ties-as-half, Wilson interval, counts; in %."""
    rates = average_win_rates(head_to_heads(verdicts))
    for col in ("win_rate", "wilson_low", "wilson_high", "win_rate_half"):
        rates[col] = rates[col] * 100
    rank = {c: i for i, c in enumerate(dict.fromkeys(verdicts["criterion"]))}
    rates = rates.assign(_rank=rates["criterion"].map(rank))
    rates = rates.sort_values(["_rank", "win_rate"], ascending=[True, False], kind="stable", na_position="last")
    return rates.drop(columns="_rank").reset_index(drop=True)


def logprob_position_bias(verdicts: pd.DataFrame) -> float | None:
    """Mean P(the response shown first is better) - 0.5 over a log-probability judge's calls; None otherwise."""
    lp = verdicts[verdicts["prob_a"].notna()] if "prob_a" in verdicts else verdicts.iloc[:0]
    if lp.empty:
        return None
    p_first = lp["prob_a"].where(lp["order"] == "ab", 1.0 - lp["prob_a"])
    return float(p_first.mean() - 0.5)


def judge_card_lines(card: dict[str, Any]) -> list[str]:
    """The judge card (``judge_card.json``, written by ``theraeval judges validate --card``) as text: per criterion
    its status on human labels and the first set's accuracy beside the best trivial baseline."""
    judge = card.get("judge", {})
    sets = ", ".join(s["name"] for s in card.get("sets", [])) or "no sets"
    lines = [f"judge card ({judge.get('name', '?')}, spec {judge.get('spec_hash', '?')}): validity on human labels "
             f"({sets})"]
    for crit, entry in card.get("criteria", {}).items():
        fig = ""
        first = (entry.get("sets") or [{}])[0]
        if first.get("accuracy") is not None:
            best = first.get("best_baseline", "random")
            fig = (f" ({first['set']}: accuracy {first['accuracy']:.2f} vs {best} "
                   f"{first['baselines'].get(best, 0.5):.2f}, n={first['n']})")
        lines.append(f"  {crit}: {entry['status']}{fig}")
    return lines


def format_summary(verdicts: pd.DataFrame, judge_info: dict[str, Any] | None = None,
                   fidelity: pd.DataFrame | None = None, judge_card: dict[str, Any] | None = None) -> str:
    """A readable fixed-width summary of a run's verdict table (and the judge card when the run has one; for
    multi-turn runs, the simulated patient's fidelity by candidate, `fidelity_summary`)."""
    if verdicts.empty:
        return "No verdicts.\n"
    main, judges = main_judge(verdicts)
    ensemble = []
    if len(judges) > 1:  # never pool judges: the first judge's tables, the rest in `theraeval leaderboard`
        verdicts = verdicts[judge_ids(verdicts) == main]
        ensemble = [f"judges: {', '.join(judges)}; the tables below are the first judge's ({main}); theraeval "
                    "leaderboard shows each judge's win rates, their agreement and the ensemble ranking"]
    first = verdicts.iloc[0]
    h2h = head_to_heads(verdicts)
    calls = len(verdicts)
    unscored_calls = int((verdicts["verdict"] == "unscored").sum())
    lines = [
        f"theraeval run {first.run}: judge {first.judge_model} ({first.judge_kind}, {first.judge_mode}), "
        f"criteria {first.criteria_set} [{first.criteria_hash}]",
        f"{len(h2h)} head-to-heads from {calls} judge verdicts; unscored verdicts: {unscored_calls} "
        f"({100 * unscored_calls / calls:.1f}%); position flips: {100 * h2h['position_flip'].mean():.1f}% "
        "of head-to-heads",
        "win% = mean over opponents of wins / scored head-to-heads (ties count in the denominator, as in the "
        "paper); half% counts ties as half a win; 95% Wilson interval on pooled counts.",
        *ensemble,
    ]
    if judge_info and judge_info.get("heldout_accuracy"):
        lines.append("reward heads: fitted on a project-written synthetic preference set; their accuracy on its test "
                     "split is not evidence of validity on real text (theraeval judges validate measures that).")
    if judge_card:
        lines += judge_card_lines(judge_card)
    else:
        lines.append("judge card: none in this run directory, so the judge is not validated on human labels "
                     "(theraeval judges validate CONFIG ... --card writes one).")
    bias = logprob_position_bias(verdicts)
    if bias is not None:
        lines.append(f"log-probability judge: mean P(Response A) = {0.5 + bias:.3f}, a position bias of {bias:+.3f}; "
                     "averaging P(candidate better) over both orders cancels it.")
    table = summary_table(verdicts)
    width = max(9, *(len(c) for c in table["candidate"]))
    for crit, grp in table.groupby("criterion", sort=False):
        lines += ["", f"[{crit}]", f"{'candidate':<{width}}  {WIN_RATE_HEADER}  {'W-T-L':>11}  unscored"]
        for r in grp.itertuples():
            # the same cells as the leaderboard's (harness.stats.format_win_rate); the table is in percent
            rates = format_win_rate(r.win_rate, r.wilson_low, r.wilson_high, r.win_rate_half, scale=1.0)
            wtl = f"{r.wins}-{r.ties}-{r.losses}"
            lines.append(f"{r.candidate:<{width}}  {rates}  {wtl:>11}  {r.n_unscored}")
    if fidelity is not None:
        lines += format_fidelity(fidelity)
    return "\n".join(lines) + "\n"

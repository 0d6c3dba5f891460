"""Leaderboard text: the fixed-width terminal rendering of a :class:`Leaderboard`."""

from __future__ import annotations

from harness.leaderboard._build import Leaderboard
from harness.leaderboard._format_statistics import format_statistics, variance_flags
from harness.stats import WIN_RATE_HEADER, fmt_interval, fmt_num, fmt_pct, fmt_percent, format_win_rate
from harness.verdicts import format_cost, format_safety


def format_leaderboard(lb: Leaderboard) -> str:
    """Render a leaderboard as fixed-width text for a terminal.

    One block per criterion (simultaneous rank band, candidate, paper win rate with Wilson interval,
    ties-as-half rate with bootstrap interval, Bradley-Terry Elo-scale score, online Elo, n, unscored; a flag line
    when the candidates explain too little of the verdict variance), then the significance matrices, safety
    gate, variance shares, clinician-corrected win rates, Pareto front, judge-bias table and persona score.
    """
    settings = dict(zip(lb.settings["key"], lb.settings["value"], strict=True))
    level = float(settings.get("level", "0.95"))
    lines: list[str] = []
    lines.append("theraeval leaderboard")
    lines.append(f"  win% = wins / scored head-to-heads (ties in the denominator), mean over opponents "
                 f"[Wilson {level:.0%}]; half% = ties as half [bootstrap {level:.0%}]")
    lines.append(f"  BT = Bradley-Terry on the Elo scale (mean 0; its uncertainty is the rank band, per-candidate "
                 f"intervals in tables/table.csv); Elo = online Elo; n = scored "
                 f"head-to-heads; bootstrap: {settings.get('n_boot', '?')} resamples of scenarios, "
                 f"seed {settings.get('seed', '?')}")
    if "main_judge" in settings:
        lines.append(f"  judges: {settings['judges']}; these tables are the first judge's alone "
                     f"({settings['main_judge']}); each judge's win rates, their agreement and the ensemble "
                     "ranking follow below")
    below = set(lb.table.loc[lb.table["absolute_safety"] == "below_min_safe_rate", "candidate"].astype(str)) \
        if "absolute_safety" in lb.table.columns else set()
    width = max([len("candidate")] + [len(str(c)) + (2 if c in below else 0) for c in lb.table["candidate"]])
    header = (f"{'rank':<6}{'candidate':<{width}}  {WIN_RATE_HEADER} {'[bootstrap]':<13} {'BT':>6} "
              f"{'Elo':>6} {'n':>7} {'unscored':>8}")
    if "calibration" in lb.table.columns and (lb.table["calibration"] == "uncalibrated").any():
        lines.append("  (uncalibrated) = the judge agrees with clinicians less than clinicians agree with each "
                     "other on this criterion (theraeval agreement, tables/judge_gate)")
    if below:
        lines.append("  ! = below the absolute safety bar ([gate] min_safe_rate) on crisis dialogues, whatever its "
                     "win rates (Absolute crisis safety, below)")
    lines.append(f"  rank = simultaneous {level:.0%} rank band (bootstrap max-t over all pairs): every candidate's "
                 "true rank lies in its band at once")
    variance_notes = variance_flags(lb)
    for criterion, part in lb.table.groupby("criterion", sort=False):
        flagged = "calibration" in part.columns and (part["calibration"] == "uncalibrated").any()
        mark = " (uncalibrated)" if flagged else ""
        lines.append("")
        lines.append(f"== {criterion}{mark} ==")
        if str(criterion) in variance_notes:
            lines.append(f"  ! {variance_notes[str(criterion)]}")
        lines.append(header)
        lines.append("-" * len(header))
        for row in part.itertuples(index=False):
            lines.append(
                f"{row.rank:<6}{row.candidate + (' !' if row.candidate in below else ''):<{width}}  "
                f"{format_win_rate(row.win_rate, row.wilson_low, row.wilson_high, row.win_rate_half)} "
                f"{fmt_interval(row.half_ci_low, row.half_ci_high):<13} {fmt_num(row.bt_elo, '{:6.0f}')} "
                f"{fmt_num(row.elo_online, '{:6.0f}')} {row.n:>7d} {row.n_unscored:>8d}"
            )
    if not lb.significance.empty:
        correction = str(lb.significance["correction"].iloc[0])
        method = str(lb.significance["method"].iloc[0])
        lines.append("")
        lines.append(f"Significance (McNemar {method}, {correction}-adjusted across all pairs x criteria): "
                     "'>' row preferred, '<' column preferred, '.' not significant, '?' no decisive verdict")
        symbol = {"row": ">", "col": "<", "ns": ".", "n/a": "?", "-": " ", "": " "}
        for criterion in lb.significance["criterion"].unique():
            matrix = lb.significance_matrix(str(criterion))
            names = list(matrix.index)
            w = max(len(n) for n in names)
            lines.append(f"  {criterion}:")
            lines.append("  " + " " * (w + 4) + " ".join(f"{i + 1:>2}" for i in range(len(names))))
            for i, name in enumerate(names):
                cells = " ".join(f"{symbol[str(matrix.iat[i, j])]:>2}" for j in range(len(names)))
                lines.append(f"  {i + 1:>2} {name:<{w}}  {cells}")
    lines.append("")
    if lb.gate.empty:
        lines.append("Safety gate: not applied (no safety criterion)")
    else:
        flagged = lb.gate[lb.gate["flagged"]]
        bars = f"bars: safety win rate >= {settings.get('safety_bar', '?')}, crisis loss share <= " \
               f"{settings.get('crisis_loss_bar', '?')}"
        if flagged.empty:
            lines.append(f"Safety gate: no candidate flagged ({bars})")
        else:
            lines.append(f"Safety gate: {len(flagged)} flagged ({bars})")
            for row in flagged.itertuples(index=False):
                lines.append(f"  FLAG {row.candidate}: {row.reason}")
    lines.extend(_absolute_safety_lines(lb))
    lines.extend(format_statistics(lb))
    if not lb.fidelity.empty:
        lines.append("Simulated patient fidelity (multi-turn; role read by an AnnoMI-trained classifier, "
                     "harness/fidelity/data/DATA_CARD.md):")
        for r in lb.fidelity.itertuples(index=False):
            lines.append(f"  {r.candidate}: in role {fmt_percent(r.in_role_pct, scale=1)} of {r.follow_ups} "
                         f"follow-ups, crisis kept {fmt_percent(r.crisis_kept_pct, scale=1)} "
                         f"(n={r.crisis_dialogues}), model-written {fmt_percent(r.model_written_pct, scale=1)} "
                         f"(regenerated {r.regenerated}, fallback {r.fallback}, flagged {r.flagged})")
    if not lb.pareto.empty:
        front = lb.pareto[lb.pareto["on_front"]]["candidate"].tolist()
        crit = [c for c in lb.pareto.columns if c not in ("candidate", "on_front", "dominated_by")]
        lines.append(f"Pareto front ({', '.join(crit)}; paper win rates): {', '.join(front) or '(none)'}")
    if not lb.bias.empty:
        lines.append("")
        lines.append("Judge bias (per judge and criterion)")
        cw = max(len("criterion"), *(len(str(c)) for c in lb.bias["criterion"]))
        lines.append(f"  {'criterion':<{cw}} {'flip%':>6} {'first%':>6} {'unscored%':>9} {'len coef':>9} "
                     f"{'n h2h':>7}  judge")
        for row in lb.bias.itertuples(index=False):
            lines.append(f"  {row.criterion:<{cw}} {fmt_pct(row.flip_rate):>6} "
                         f"{fmt_pct(row.first_position_rate):>6} {fmt_pct(row.unscored_h2h_rate):>9} "
                         f"{fmt_num(row.length_coef, '{:9.3f}'):>9} {row.n_h2h:>7d}  {row.judge}")
    if not lb.persona_score.empty:
        lines.append("")
        weighting = str(lb.persona_score["weighting"].iloc[0])
        lines.append(f"Persona-weighted score ({weighting}; criteria {lb.persona_score['criteria'].iloc[0]})")
        for row in lb.persona_score.sort_values("score", ascending=False).itertuples(index=False):
            lines.append(f"  {row.candidate:<{width}}  {fmt_pct(row.score)}%  (half {fmt_pct(row.score_half)}%, "
                         f"{row.n_personas} personas)")
    if not lb.cost.empty:  # tokens and dollars per role and model (tables/cost)
        lines += ["", *format_cost(lb.cost)]
    return "\n".join(lines) + "\n"


def _absolute_safety_lines(lb: Leaderboard) -> list[str]:
    """The absolute crisis-safety block: the summary's lines (:func:`harness.verdicts.format_safety`)."""
    if lb.safety.empty:
        return ["Absolute safety: not measured (no [safety] stage in this run; docs/safety.md)"]
    return format_safety(lb.safety).rstrip("\n").split("\n")

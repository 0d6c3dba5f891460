"""Agreement between judges of one run (several judges' verdicts in one verdict table): kappa and AC1 with intervals.

A unit is one head-to-head without the judge (pair, scenario, persona, criterion); each judge's combined verdict
(A / B / tie; unscored = missing) is its rating. Per criterion and judge pair: observed agreement, Cohen's kappa
and Gwet's AC1 over the units both judges scored, with the intervals of :mod:`harness.calibration._precision`
(the same coefficients as the judge-versus-clinician tables; categories declared: A, B, tie). Writes
``tables/judge_agreement`` (``theraeval judge-agreement``); the leaderboard's ``judge_reliability`` table fits a
reliability per judge from the same verdicts.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.calibration._coefficients import CATEGORIES
from harness.calibration._precision import cohen_kappa_interval, gwet_ac2
from harness.core import InputError, atomic_write_parquet, atomic_write_text
from harness.stats import head_to_heads

JUDGE_AGREEMENT_COLUMNS: tuple[str, ...] = (
    "criterion", "judge_1", "judge_2", "n", "agreement", "kappa", "kappa_low", "kappa_high", "ac1", "ac1_low",
    "ac1_high",
)
_UNIT = ["candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion"]


def judges_agreement(verdicts: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Per criterion and judge pair: agreement, Cohen's kappa and Gwet's AC1 with intervals (module docstring).

    Returns:
        DataFrame with ``JUDGE_AGREEMENT_COLUMNS``; empty when no criterion has two judges.
    """
    h2h = head_to_heads(verdicts)
    rows: list[dict[str, Any]] = []
    for criterion, part in h2h.groupby("criterion", sort=True):
        judges = sorted(part["judge"].unique())
        if len(judges) < 2:
            continue
        wide = part.assign(outcome=part["outcome"].where(part["outcome"] != "unscored", None)).pivot_table(
            index=[c for c in _UNIT if c != "criterion"], columns="judge", values="outcome", aggfunc="first")
        for j1, j2 in combinations(judges, 2):
            both = wide[[j1, j2]].dropna()
            if both.empty:
                continue
            first, second = both[j1].tolist(), both[j2].tolist()
            kappa = cohen_kappa_interval(first, second, CATEGORIES, level=level)
            ac1 = gwet_ac2(np.array([first, second], dtype=object).T, CATEGORIES, level=level)
            rows.append({"criterion": criterion, "judge_1": j1, "judge_2": j2, "n": len(both),
                         "agreement": kappa.pa, "kappa": kappa.estimate, "kappa_low": kappa.ci_low,
                         "kappa_high": kappa.ci_high, "ac1": ac1.estimate, "ac1_low": ac1.ci_low,
                         "ac1_high": ac1.ci_high})
    return pd.DataFrame(rows, columns=list(JUDGE_AGREEMENT_COLUMNS))


def judge_agreement_main(run_dir: Path) -> str:
    """``theraeval judge-agreement RUN_DIR``: write ``tables/judge_agreement`` and return its text."""
    path = Path(run_dir) / "verdicts.parquet"
    if not path.is_file():
        raise InputError(path, "run_dir", str(run_dir), "no verdict table in this run directory",
                         "pass runs/<run name> of a run whose judge stage finished")
    table = judges_agreement(pd.read_parquet(path))
    out = Path(run_dir) / "tables"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_parquet(table, out / "judge_agreement.parquet")
    atomic_write_text(out / "judge_agreement.csv", table.to_csv(index=False))
    if table.empty:
        return "Judge agreement: one judge per criterion in this verdict table; nothing to compare.\n"
    lines = ["Judge agreement (per criterion and judge pair; units both judges scored; Cohen's kappa and Gwet's "
             "AC1 with 95% intervals)"]
    for r in table.itertuples(index=False):
        lines.append(f"  {r.criterion}: {r.judge_1} vs {r.judge_2}: n={r.n}, agreement {100 * r.agreement:.1f}%, "
                     f"kappa {r.kappa:.2f} [{r.kappa_low:.2f}, {r.kappa_high:.2f}], AC1 {r.ac1:.2f} "
                     f"[{r.ac1_low:.2f}, {r.ac1_high:.2f}]")
    return "\n".join(lines) + f"\nTable: {out / 'judge_agreement.csv'}\n"

"""The calibration report: clinicians against each other and against the LLM judge, per criterion, plus a gate.

:func:`agreement_report` reads a run's verdict table, a packet key and the clinicians' ratings, computes every
statistic of :mod:`harness.calibration._judge` per criterion and writes four tables into ``<run>/tables/``
(parquet, plus CSV copies):

* ``agreement``: ``criterion, comparison, statistic, estimate, ci_low, ci_high, n``;
* ``judge_gate``: ``criterion, status, llm_agreement, llm_ci_low, llm_ci_high, human_loo_agreement,
  human_ci_low, human_ci_high, reason`` (one row per judged criterion);
* ``agreement_confusion``: ``criterion, clinician_majority, llm, count`` (3-class consensus x judge verdict);
* ``clinician_outcomes``: ``criterion, candidate_a, candidate_b, a_wins, b_wins, ties`` (items by the clinicians'
  3-class consensus, like the paper's clinician win rates, e.g. empathy 85/6/9).

**Judge gate** (per criterion). ``H`` = the clinicians' leave-one-out agreement on the non-tie subset (each
clinician's decisive label against the decisive majority of the other clinicians, pooled); ``L`` = the judge's
agreement with the same leave-one-out references, with its percentile bootstrap interval ``[L_lo, L_hi]``
over items. The rule:

* ``uncalibrated`` when ``L_hi < H``: even the optimistic end of the judge's interval is below the point
  estimate of how well a clinician agrees with colleagues;
* ``calibrated`` otherwise (``L_hi >= H``): the data do not show the judge to be worse than a clinician. This is
  absence of evidence, not proof of equivalence; with few decisive items the interval is wide and the gate
  passes easily, so the reason states ``n``;
* ``no_ratings`` when the criterion has no ratings, fewer than two clinicians rated it, or ``L`` or ``H`` is
  undefined (no decisive comparison).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.calibration._clinician_agreement import AGREEMENT_COLUMNS, STRENGTHS, consensus_3class, judge_agreement
from harness.calibration._clinician_labels import clinician_labels
from harness.calibration._coefficients import MISSING
from harness.calibration._ratings import ITEM_KEY, item_verdicts, load_ratings, read_key
from harness.core import InputError, atomic_write_parquet, atomic_write_text
from harness.stats import fmt_interval, fmt_num, fmt_pct

logger = logging.getLogger(__name__)

AGREEMENT_TABLE_COLUMNS: tuple[str, ...] = ("criterion", *AGREEMENT_COLUMNS)
GATE_COLUMNS: tuple[str, ...] = (
    "criterion", "status", "llm_agreement", "llm_ci_low", "llm_ci_high", "human_loo_agreement", "human_ci_low",
    "human_ci_high", "reason",
)
CONFUSION_COLUMNS: tuple[str, ...] = ("criterion", "clinician_majority", "llm", "count")
OUTCOME_COLUMNS: tuple[str, ...] = ("criterion", "candidate_a", "candidate_b", "a_wins", "b_wins", "ties")
GATE_STATUSES: tuple[str, ...] = ("calibrated", "uncalibrated", "no_ratings")
_CODES = {"A": 0, "B": 1, "tie": 2}
_LABELS = ("A", "B", "tie")
_SMALL_N = 30


@dataclass(frozen=True)
class AgreementResult:
    """Every table of a calibration report (``tables()`` maps file stems to frames)."""

    agreement: pd.DataFrame
    gate: pd.DataFrame
    confusion: pd.DataFrame
    clinician_outcomes: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    """Seed, n_boot, level, paths, packet id, judge, counts of raters and items, SIMULATED flag."""

    def tables(self) -> dict[str, pd.DataFrame]:
        """File stem -> table (the names :func:`agreement_report` writes under ``<run>/tables/``)."""
        return {"agreement": self.agreement, "judge_gate": self.gate, "agreement_confusion": self.confusion,
                "clinician_outcomes": self.clinician_outcomes}

    def status(self, criterion: str) -> str:
        """The gate status of one criterion (``no_ratings`` for a criterion the report does not know)."""
        part = self.gate[self.gate["criterion"] == criterion]
        return str(part["status"].iloc[0]) if not part.empty else "no_ratings"


def judge_gate(criterion: str, stats: pd.DataFrame | None, n_raters: int) -> dict[str, Any]:
    """One ``judge_gate`` row from a criterion's agreement statistics (rule in the module docstring)."""
    row: dict[str, Any] = {"criterion": criterion, "status": "no_ratings", "llm_agreement": math.nan,
                           "llm_ci_low": math.nan, "llm_ci_high": math.nan, "human_loo_agreement": math.nan,
                           "human_ci_low": math.nan, "human_ci_high": math.nan, "reason": ""}
    if stats is None or stats.empty:
        row["reason"] = "no clinician rated this criterion"
        return row
    llm = stats[(stats["comparison"] == "llm_loo_nontie") & (stats["statistic"] == "accuracy")].iloc[0]
    human = stats[(stats["comparison"] == "human_loo_nontie") & (stats["statistic"] == "accuracy")].iloc[0]
    row.update(llm_agreement=float(llm["estimate"]), llm_ci_low=float(llm["ci_low"]),
               llm_ci_high=float(llm["ci_high"]), human_loo_agreement=float(human["estimate"]),
               human_ci_low=float(human["ci_low"]), human_ci_high=float(human["ci_high"]))
    if n_raters < 2:
        row["reason"] = f"only {n_raters} clinician rated this criterion; leave-one-out agreement needs two or more"
        return row
    if not (math.isfinite(row["llm_agreement"]) and math.isfinite(row["human_loo_agreement"])
            and math.isfinite(row["llm_ci_high"])):
        row["reason"] = "no decisive (non-tie) comparison between the judge or a clinician and the others"
        return row
    n_llm, n_human = int(llm["n"]), int(human["n"])
    detail = (f"judge {row['llm_agreement']:.1%} [{row['llm_ci_low']:.1%}, {row['llm_ci_high']:.1%}] "
              f"(n={n_llm}) vs clinicians {row['human_loo_agreement']:.1%} (n={n_human}), leave-one-out, non-tie")
    if row["llm_ci_high"] < row["human_loo_agreement"]:
        row.update(status="uncalibrated", reason=f"{detail}: the judge's upper bound is below the clinicians")
    else:
        small = f"; few decisive comparisons (n < {_SMALL_N}): weak evidence" if n_llm < _SMALL_N else ""
        row.update(status="calibrated", reason=f"{detail}: not shown to be worse than a clinician{small}")
    return row


def _read_verdicts(run_dir: Path) -> pd.DataFrame:
    path = run_dir / "verdicts.parquet"
    if not path.is_file():
        raise InputError(path, "run_dir", str(run_dir), "no verdict table in this run directory",
                         "pass runs/<run name> of the run the packet was exported from")
    return pd.read_parquet(path)


def _judged_items(run_dir: Path, key: pd.DataFrame, key_path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Key items joined with the judge's verdict per criterion, and the run's criteria in the set's order.

    Raises:
        InputError: the key belongs to another run or names a head-to-head the verdict table lacks.
    """
    verdicts = _read_verdicts(run_dir)
    runs = set(verdicts["run"].astype(str)) if "run" in verdicts.columns else {""}
    foreign = sorted(set(key["run"]) - runs)
    if foreign:
        raise InputError(key_path, "run", foreign[0], f"the key belongs to another run (this run has {sorted(runs)})",
                         "pass the run directory the packet was exported from, or that run's key")
    run_criteria = [str(c) for c in dict.fromkeys(verdicts["criterion"])]
    for rated in dict.fromkeys(c for cs in key["criteria"] for c in cs.split(";")):
        if rated not in run_criteria:
            raise InputError(key_path, "criteria", rated, f"criterion not judged in this run ({run_criteria})",
                             "pass the run directory the packet was exported from")
    judged = item_verdicts(verdicts, collapse_personas=bool((key["persona_id"] == "").all()))
    items = key[["item_id", *ITEM_KEY]].merge(judged, on=list(ITEM_KEY), how="left")
    lost = items[items["verdict"].isna()]
    if not lost.empty:
        r = lost.iloc[0]
        raise InputError(key_path, "item_id", r["item_id"],
                         f"no head-to-head {r['candidate_a']} vs {r['candidate_b']} on {r['scenario_id']} in the "
                         "run's verdict table", "pass the run directory the packet was exported from")
    return items, run_criteria


def agreement_report(
    run_dir: str | Path,
    ratings_path: str | Path,
    key_path: str | Path,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> AgreementResult:
    """Compute and write the calibration tables of a run (definitions: :mod:`harness.calibration._judge`).

    Args:
        run_dir: the run the packet was exported from.
        ratings_path: the clinicians' ratings CSV (or a folder of CSVs), see :func:`load_ratings`.
        key_path: the packet's ``key.csv``.
        n_boot: bootstrap replicates per criterion (>= 1).
        seed: bootstrap seed (each criterion restarts from it, so results do not depend on which criteria are
            present); written into ``settings``.
        level: interval level.

    Returns:
        :class:`AgreementResult`; its tables are also written to ``<run_dir>/tables/*.parquet`` and ``*.csv``.

    Raises:
        InputError: invalid ratings or key, a key of another run, no verdict table.
        ValueError: ``n_boot`` < 1, ``level`` outside (0, 1) or a negative seed.
    """
    run_dir, ratings_path, key_path = Path(run_dir), Path(ratings_path), Path(key_path)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"`n_boot` must be an integer >= 1 (the gate needs an interval); got {n_boot!r}")
    ratings = load_ratings(ratings_path, key_path)
    key = read_key(key_path)
    items, criteria = _judged_items(run_dir, key, key_path)
    judge = ", ".join(sorted(items["judge"].dropna().unique()))
    stat_rows: list[pd.DataFrame] = []
    gate_rows: list[dict[str, Any]] = []
    confusion_rows: list[dict[str, Any]] = []
    outcome_rows: list[dict[str, Any]] = []
    for criterion in criteria:
        part = ratings[ratings["criterion"] == criterion]
        if part.empty:
            gate_rows.append(judge_gate(criterion, None, 0))
            continue
        wide = part.pivot(index="item_id", columns="rater_id", values="verdict")
        clinicians = wide.apply(lambda col: col.map(_CODES)).fillna(MISSING).astype(np.int64)
        judged = items[items["criterion"] == criterion].set_index("item_id")["verdict"].reindex(wide.index)
        llm = judged.map(_CODES).fillna(MISSING).astype(np.int64).to_numpy()
        ja = judge_agreement(clinicians.to_numpy(), llm, n_boot=n_boot, level=level, rng=seed)
        stat_rows.append(ja.statistics.assign(criterion=criterion))
        gate_rows.append(judge_gate(criterion, ja.statistics, int(clinicians.shape[1])))
        for i, majority in enumerate(_LABELS):
            for j, verdict in enumerate((*_LABELS, "unscored")):
                count = int(ja.confusion[i, j])
                if j < len(_LABELS) or count:
                    confusion_rows.append({"criterion": criterion, "clinician_majority": majority, "llm": verdict,
                                           "count": count})
        counts = np.stack([(clinicians.to_numpy() == k).sum(axis=1) for k in range(3)], axis=1)
        consensus = pd.Series(consensus_3class(counts), index=wide.index)
        pairs = key.set_index("item_id").loc[wide.index, ["candidate_a", "candidate_b"]].assign(consensus=consensus)
        pairs = pairs[pairs["consensus"] != MISSING]
        for (a, b), grp in pairs.groupby(["candidate_a", "candidate_b"], sort=True):
            tally = np.bincount(grp["consensus"].to_numpy(dtype=np.int64), minlength=3)
            outcome_rows.append({"criterion": criterion, "candidate_a": a, "candidate_b": b,
                                 "a_wins": int(tally[0]), "b_wins": int(tally[1]), "ties": int(tally[2])})
    agreement = (pd.concat(stat_rows, ignore_index=True)[list(AGREEMENT_TABLE_COLUMNS)] if stat_rows
                 else pd.DataFrame(columns=list(AGREEMENT_TABLE_COLUMNS)))
    agreement["n"] = agreement["n"].astype("int64")
    settings: dict[str, Any] = {
        "seed": seed, "n_boot": n_boot, "level": level, "judge": judge, "ratings": str(ratings_path),
        "key": str(key_path), "packet_id": ", ".join(sorted(key["packet_id"].unique())),
        "n_raters": int(ratings["rater_id"].nunique()), "n_items_rated": int(ratings["item_id"].nunique()),
        "n_ratings": len(ratings), "simulated": "simulated" in ratings_path.name.lower(),
        "bootstrap": "percentile bootstrap over items (each item a cluster), all statistics resampled jointly",
        "gate_rule": "uncalibrated when the upper bound of the judge's leave-one-out non-tie agreement is below "
                     "the clinicians' leave-one-out non-tie agreement (point estimate)",
    }
    result = AgreementResult(
        agreement, pd.DataFrame(gate_rows, columns=list(GATE_COLUMNS)),
        pd.DataFrame(confusion_rows, columns=list(CONFUSION_COLUMNS)),
        pd.DataFrame(outcome_rows, columns=list(OUTCOME_COLUMNS)), settings)
    out = run_dir / "tables"
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in result.tables().items():
        atomic_write_parquet(frame, out / f"{name}.parquet")
        atomic_write_text(out / f"{name}.csv", frame.to_csv(index=False))
    labels = clinician_labels(ratings)  # per-item labels for the leaderboard's prediction-powered tables
    atomic_write_parquet(labels, out / "clinician_labels.parquet")
    atomic_write_text(out / "clinician_labels.csv", labels.to_csv(index=False))
    return result


# ----------------------------------------------------------------------------------------------------------
# terminal rendering


def _pct(x: float) -> str:
    return fmt_pct(x)


def _coef(x: float) -> str:
    return fmt_num(x, "{:5.2f}")


def _ci(low: float, high: float, pct: bool) -> str:
    return fmt_interval(low, high) if pct else fmt_interval(low, high, "{:5.2f}", scale=1.0)


def format_agreement(result: AgreementResult) -> str:
    """Render a calibration report as fixed-width text for a terminal."""
    s = result.settings
    lines = ["theraeval judge calibration"]
    if s.get("simulated"):
        lines.append("  *** SIMULATED ratings (the file name says so): these are not clinician judgements ***")
    lines.append(f"  judge {s.get('judge', '?')}; {s.get('n_raters', '?')} clinicians, {s.get('n_items_rated', '?')} "
                 f"items, {s.get('n_ratings', '?')} ratings; packet {s.get('packet_id', '?')}")
    lines.append(f"  intervals: {float(s.get('level', 0.95)):.0%} percentile bootstrap over items, "
                 f"{s.get('n_boot', '?')} resamples, seed {s.get('seed', '?')}")
    lines.append("  non-tie = items where the rater (or judge) and the majority of the others chose A or B; "
                 "leave-one-out = against the majority of the OTHER clinicians")
    stats = result.agreement
    for g in result.gate.itertuples(index=False):
        crit = str(g.criterion)
        lines.append("")
        lines.append(f"== {crit} ==  {g.status.upper()}")
        part = stats[stats["criterion"] == crit]
        if part.empty:
            lines.append(f"  {g.reason}")
            continue

        def get(comparison: str, statistic: str, part: pd.DataFrame = part) -> pd.Series:
            return part[(part["comparison"] == comparison) & (part["statistic"] == statistic)].iloc[0]

        pa = get("inter_clinician", "percent_agreement")
        lines.append(f"  inter-clinician (3-class, {int(pa['n'])} items with 2+ ratings):")
        for label, stat, pct in (("percent agreement", "percent_agreement", True), ("Fleiss kappa", "fleiss_kappa",
                                 False), ("Gwet AC1", "gwet_ac1", False), ("Krippendorff alpha",
                                 "krippendorff_alpha", False), ("Cohen kappa, pair mean", "cohen_kappa_mean", False)):
            r = get("inter_clinician", stat)
            value = _pct(r["estimate"]) + "%" if pct else _coef(r["estimate"])
            lines.append(f"    {label:<24}{value:>7} {_ci(r['ci_low'], r['ci_high'], pct)}")
        kmin, kmax = get("inter_clinician", "cohen_kappa_min"), get("inter_clinician", "cohen_kappa_max")
        lines.append(f"    {'Cohen kappa, pair range':<24}{_coef(kmin['estimate']):>7} .. {_coef(kmax['estimate'])}")
        lines.append(f"  non-tie {'':<30}{'agree%':>7} {'[interval]':<15}{'kappa':>6} {'AC1':>6} {'n':>6}")
        for label, comp in (("clinician vs others (LOO)", "human_loo_nontie"),
                            ("judge vs same references", "llm_loo_nontie"),
                            ("judge vs all clinicians", "llm_majority_nontie")):
            acc, kap, ac1 = get(comp, "accuracy"), get(comp, "cohen_kappa"), get(comp, "gwet_ac1")
            lines.append(f"    {label:<35}{_pct(acc['estimate'])} {_ci(acc['ci_low'], acc['ci_high'], True):<15}"
                         f"{_coef(kap['estimate']):>6} {_coef(ac1['estimate']):>6} {int(acc['n']):>6}")
        hh, hl = get("human_human_3class", "agreement"), get("human_llm_3class", "agreement")
        lm = get("llm_majority_3class", "agreement")
        lines.append(f"  3-class exact agreement: clinician-clinician {_pct(hh['estimate'])}%, clinician-judge "
                     f"{_pct(hl['estimate'])}%, judge-consensus {_pct(lm['estimate'])}% "
                     f"{_ci(lm['ci_low'], lm['ci_high'], True)}")
        strength = [get("llm_by_consensus_strength", f"accuracy_{k}") for k in STRENGTHS]
        lines.append("  judge agreement by consensus: " + ", ".join(
            f"{k} {_pct(r['estimate']).strip()}% (n={int(r['n'])})" for k, r in zip(STRENGTHS, strength, strict=True)))
        conf = result.confusion[result.confusion["criterion"] == crit]
        if not conf.empty:
            cols = list(dict.fromkeys(conf["llm"]))
            lines.append("  confusion (rows: clinician consensus, columns: judge): "
                         + " ".join(f"{c:>8}" for c in cols))
            for maj in _LABELS:
                row = conf[conf["clinician_majority"] == maj].set_index("llm")["count"]
                lines.append(f"    {maj:<52}" + " ".join(f"{int(row.get(c, 0)):>8}" for c in cols))
        outs = result.clinician_outcomes[result.clinician_outcomes["criterion"] == crit]
        for o in outs.itertuples(index=False):
            total = o.a_wins + o.b_wins + o.ties
            lines.append(f"  clinicians: {o.candidate_a} {o.a_wins} / {o.candidate_b} {o.b_wins} / ties {o.ties} "
                         f"(of {total} items)")
        lines.append(f"  gate: {g.status}: {g.reason}")
    return "\n".join(lines) + "\n"


def agreement_main(run_dir: Path, ratings: Path, key: Path | None, *, n_boot: int, seed: int) -> str:
    """CLI entry point of ``theraeval agreement``: compute, write tables, return the terminal text.

    ``key`` defaults to ``<run_dir>/packets/key.csv``. Every input problem is an :class:`InputError` (the CLI
    prints its one line and exits 2).
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise InputError(None, "n_boot", n_boot, "must be a whole number >= 1", "pass e.g. --n-boot 1000")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(None, "seed", seed, "must be a whole number >= 0", "pass e.g. --seed 0")
    key_path = Path(key) if key is not None else Path(run_dir) / "packets" / "key.csv"
    result = agreement_report(run_dir, ratings, key_path, n_boot=n_boot, seed=seed)
    return format_agreement(result) + f"Tables: {Path(run_dir) / 'tables'}\n"


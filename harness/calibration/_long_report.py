"""Agreement report for any long ratings file with declared scales (``theraeval agreement RATINGS --scale ...``).

Per criterion (definitions of every coefficient in :mod:`harness.calibration._coefficients` and
:mod:`harness.calibration._precision`):

* **design**: items rated by a human, human raters, raters per item (mean, min, max), items with a single
  human rating (kept in the counts, left out of every pairwise statistic), ratings, judge ratings;
* **inter-rater** (humans only), the coefficients fitting the scale, each with its standard error and interval:

  - nominal: percent agreement, Fleiss' kappa, Gwet's AC1 (Gwet 2014 variances), Krippendorff's alpha nominal
    (bootstrap) -- *primary*: alpha;
  - ordinal: exact percent agreement, Gwet's AC2 and Fleiss' kappa with quadratic weights (Gwet 2014
    variances), Krippendorff's alpha ordinal (bootstrap; *primary*), and Cohen's quadratic-weighted kappa of
    every rater pair with at least two common items (Fleiss-Cohen-Everitt SE), with their mean;
  - continuous: Krippendorff's alpha interval (bootstrap; *primary*) and ICC(1,1), ICC(2,1), ICC(3,1) with
    their F intervals on the items every rater scored (NaN in a rotating design without complete items);

* **leave-one-out agreement**, the packet report's comparison generalised to any scale: each human rating on an
  item with at least one other human rating is compared with the *consensus of the other humans* (nominal: their
  most common label, no reference when two labels tie; ordinal: their median position; continuous: their mean),
  ``human_loo``; the judge is compared with the *same* references (one per human who rated the item),
  ``judge_loo``, and with the consensus of all humans (items with two or more), ``judge_consensus``. Agreement
  is the exact match rate (nominal) or the closeness ``1 - |x - ref| / span`` (ordinal: span = q - 1 positions;
  continuous: the declared range, else the observed one); ordinal and continuous also report the mean absolute
  difference ``mae`` (in scale units). Intervals: one percentile bootstrap over items, all three resampled
  jointly (paired), seeded.
* **gate**: the packet report's rule (:func:`harness.calibration.judge_gate`) on these numbers: ``uncalibrated``
  when the upper end of the judge's leave-one-out interval is below the humans' leave-one-out agreement,
  ``calibrated`` otherwise (absence of evidence, not proof of equivalence), ``no_ratings`` without a judge, with
  fewer than two human raters or without a leave-one-out comparison.

Writes ``agreement_long.{parquet,csv}`` and ``judge_gate_long.{parquet,csv}`` into the output folder, only after
the whole input has been validated.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.calibration._long_ratings import LongRatings, Scale, collect_scales, read_long_ratings
from harness.calibration._precision import (
    AgreementInterval,
    cohen_kappa_interval,
    fleiss_kappa_interval,
    gwet_ac2,
    krippendorff_alpha_interval,
    percent_agreement_interval,
)
from harness.calibration._report import GATE_COLUMNS
from harness.calibration._scores import icc
from harness.core import InputError, atomic_write_parquet, atomic_write_text
from harness.stats import cluster_bootstrap, fmt_interval, fmt_num

LONG_AGREEMENT_COLUMNS: tuple[str, ...] = (
    "criterion", "scale", "comparison", "statistic", "raters", "estimate", "se", "ci_low", "ci_high", "n", "primary",
    "method",
)
"""Columns of ``agreement_long``: ``raters`` names the pair for per-pair rows ("" otherwise); ``n`` = items (or
comparisons) behind the row; ``primary`` marks the coefficient that fits the scale."""
_SMALL_N = 30


@dataclass(frozen=True)
class LongAgreementResult:
    """The tables of a long-ratings agreement report."""

    agreement: pd.DataFrame
    gate: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """File stem -> table."""
        return {"agreement_long": self.agreement, "judge_gate_long": self.gate}


def _row(criterion: str, scale: Scale, comparison: str, statistic: str, estimate: float, *, se: float = math.nan,
         low: float = math.nan, high: float = math.nan, n: int = 0, primary: bool = False, method: str = "",
         raters: str = "") -> dict[str, Any]:
    return {"criterion": criterion, "scale": scale.describe(), "comparison": comparison, "statistic": statistic,
            "raters": raters, "estimate": float(estimate), "se": float(se), "ci_low": float(low),
            "ci_high": float(high), "n": int(n), "primary": primary, "method": method}


def _from_interval(criterion: str, scale: Scale, statistic: str, res: AgreementInterval, *, primary: bool = False,
                   raters: str = "", comparison: str = "inter_rater") -> dict[str, Any]:
    return _row(criterion, scale, comparison, statistic, res.estimate, se=res.se, low=res.ci_low, high=res.ci_high,
                n=res.n_units, primary=primary, method=res.method, raters=raters)


def _consensus(values: np.ndarray, scale: Scale) -> float:
    """Consensus of a set of codes (rule in the module docstring); NaN when there is none."""
    if values.size == 0:
        return math.nan
    if scale.kind == "nominal":
        labels, counts = np.unique(values, return_counts=True)
        top = counts.max()
        return float(labels[counts == top][0]) if (counts == top).sum() == 1 else math.nan
    if scale.kind == "ordinal":
        return float(np.median(values))
    return float(values.mean())


def _loo_features(humans: np.ndarray, judge: np.ndarray, scale: Scale, span: float) -> np.ndarray:
    """Per item: ``[h_agree, h_n, h_abs, j_agree, j_n, j_abs, c_agree, c_n, c_abs]`` (additive; module docstring)."""
    out = np.zeros((humans.shape[0], 9))

    def closeness(x: float, ref: float) -> tuple[float, float]:
        if scale.kind == "nominal":
            return float(x == ref), 0.0
        diff = abs(x - ref)
        return 1.0 - diff / span, diff

    for i in range(humans.shape[0]):
        rated = np.flatnonzero(np.isfinite(humans[i]))
        has_judge = math.isfinite(judge[i])
        for j in rated:
            others = humans[i, rated[rated != j]]
            ref = _consensus(others, scale)
            if not math.isfinite(ref):
                continue
            agree, diff = closeness(humans[i, j], ref)
            out[i, 0:3] += (agree, 1.0, diff)
            if has_judge:
                agree, diff = closeness(judge[i], ref)
                out[i, 3:6] += (agree, 1.0, diff)
        if has_judge and rated.size >= 2:
            ref = _consensus(humans[i, rated], scale)
            if math.isfinite(ref):
                agree, diff = closeness(judge[i], ref)
                out[i, 6:9] += (agree, 1.0, diff)
    return out


def _loo_statistic(totals: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        cols = []
        for base in (0, 3, 6):
            n = totals[:, base + 1]
            cols += [np.where(n > 0, totals[:, base] / np.where(n > 0, n, 1.0), np.nan),
                     np.where(n > 0, totals[:, base + 2] / np.where(n > 0, n, 1.0), np.nan)]
        return np.stack(cols, axis=1)


def _gate(criterion: str, rows: list[dict[str, Any]], n_raters: int, judge: str) -> dict[str, Any]:
    gate: dict[str, Any] = {"criterion": criterion, "status": "no_ratings", "llm_agreement": math.nan,
                            "llm_ci_low": math.nan, "llm_ci_high": math.nan, "human_loo_agreement": math.nan,
                            "human_ci_low": math.nan, "human_ci_high": math.nan, "reason": ""}
    if not judge:
        gate["reason"] = "no judge ratings (pass --judge NAME or --judge-file)"
        return gate
    find = {(r["comparison"], r["statistic"]): r for r in rows}
    human, llm = find.get(("human_loo", "agreement")), find.get(("judge_loo", "agreement"))
    if human is None or llm is None:
        gate["reason"] = "no human rated this criterion"
        return gate
    gate.update(llm_agreement=llm["estimate"], llm_ci_low=llm["ci_low"], llm_ci_high=llm["ci_high"],
                human_loo_agreement=human["estimate"], human_ci_low=human["ci_low"], human_ci_high=human["ci_high"])
    if not any(r["comparison"] == "design" and r["statistic"] == "n_judge_ratings" and r["estimate"] > 0
               for r in rows):
        gate["reason"] = f"the judge ({judge}) has no rating on this criterion"
        return gate
    if n_raters < 2:
        gate["reason"] = f"only {n_raters} human rated this criterion; leave-one-out agreement needs two or more"
        return gate
    if not (math.isfinite(llm["estimate"]) and math.isfinite(human["estimate"]) and math.isfinite(llm["ci_high"])):
        gate["reason"] = "no item where the judge and a human can both be compared with the other humans"
        return gate
    detail = (f"judge {llm['estimate']:.1%} [{llm['ci_low']:.1%}, {llm['ci_high']:.1%}] (n={llm['n']}) vs humans "
              f"{human['estimate']:.1%} (n={human['n']}), leave-one-out")
    if llm["ci_high"] < human["estimate"]:
        gate.update(status="uncalibrated", reason=f"{detail}: the judge's upper bound is below the humans")
    else:
        small = f"; few comparisons (n < {_SMALL_N}): weak evidence" if llm["n"] < _SMALL_N else ""
        gate.update(status="calibrated", reason=f"{detail}: not shown to be worse than a human{small}")
    return gate


def _criterion_rows(criterion: str, scale: Scale, part: pd.DataFrame, *, n_boot: int, level: float,
                    seed: int) -> tuple[list[dict[str, Any]], int]:
    humans_long = part[~part["is_judge"]]
    wide = humans_long.pivot(index="item_id", columns="rater_id", values="code")
    judge = part[part["is_judge"]].set_index("item_id")["code"].reindex(wide.index)
    x = wide.to_numpy(dtype=float)
    raters = [str(c) for c in wide.columns]
    per_item = np.isfinite(x).sum(axis=1)
    rows = [
        _row(criterion, scale, "design", "n_items", len(wide), n=len(wide)),
        _row(criterion, scale, "design", "n_raters", len(raters), n=len(raters)),
        _row(criterion, scale, "design", "raters_per_item_mean", float(per_item.mean()), n=len(wide)),
        _row(criterion, scale, "design", "raters_per_item_min", float(per_item.min()), n=len(wide)),
        _row(criterion, scale, "design", "raters_per_item_max", float(per_item.max()), n=len(wide)),
        _row(criterion, scale, "design", "n_items_single_rater", float((per_item == 1).sum()),
             n=int((per_item == 1).sum()), method="kept in counts, left out of every pairwise statistic"),
        _row(criterion, scale, "design", "n_ratings", float(per_item.sum()), n=int(per_item.sum())),
        _row(criterion, scale, "design", "n_judge_ratings", float(np.isfinite(judge.to_numpy(dtype=float)).sum()),
             n=int(np.isfinite(judge.to_numpy(dtype=float)).sum())),
    ]
    values: tuple[float, ...] = tuple(sorted(set(x[np.isfinite(x)].tolist())))  # continuous: the values used
    cats = values if scale.kind == "continuous" else tuple(float(i) for i in range(len(scale.labels)))
    matrix = np.where(np.isfinite(x), x, np.nan)
    if scale.kind in ("nominal", "ordinal") and len(raters) >= 2:
        weights = None if scale.kind == "nominal" else "quadratic"
        rows.append(_from_interval(criterion, scale, "percent_agreement", percent_agreement_interval(matrix, cats)))
        if scale.kind == "nominal":
            rows.append(_from_interval(criterion, scale, "fleiss_kappa", fleiss_kappa_interval(matrix, cats)))
            rows.append(_from_interval(criterion, scale, "gwet_ac1", gwet_ac2(matrix, cats)))
        else:
            rows.append(_from_interval(criterion, scale, "gwet_ac2_quadratic",
                                       gwet_ac2(matrix, cats, weights=weights)))
            rows.append(_from_interval(criterion, scale, "fleiss_kappa_quadratic",
                                       fleiss_kappa_interval(matrix, cats, weights=weights)))
        alpha_level = scale.kind
        rows.append(_from_interval(criterion, scale, f"krippendorff_alpha_{alpha_level}", krippendorff_alpha_interval(
            matrix, cats, level_of_measurement=alpha_level, n_boot=n_boot, level=level, rng=seed), primary=True))
        if scale.kind == "ordinal":
            pair_rows = []
            for a, b in combinations(range(len(raters)), 2):
                both = np.isfinite(x[:, a]) & np.isfinite(x[:, b])
                if both.sum() < 2:
                    continue
                res = cohen_kappa_interval(x[both, a], x[both, b], cats, weights="quadratic", level=level)
                pair_rows.append(_from_interval(criterion, scale, "cohen_kappa_quadratic", res,
                                                raters=f"{raters[a]} vs {raters[b]}", comparison="rater_pair"))
            defined = [r["estimate"] for r in pair_rows if math.isfinite(r["estimate"])]
            rows.append(_row(criterion, scale, "inter_rater", "cohen_kappa_quadratic_pair_mean",
                             float(np.mean(defined)) if defined else math.nan, n=len(defined),
                             method="mean over rater pairs with >= 2 common items (no interval)"))
            rows += pair_rows
    elif scale.kind == "continuous" and len(raters) >= 2:
        if len(values) >= 2:
            rows.append(_from_interval(criterion, scale, "krippendorff_alpha_interval", krippendorff_alpha_interval(
                matrix, cats, level_of_measurement="interval", n_boot=n_boot, level=level, rng=seed), primary=True))
        scores = icc(matrix, level=level)
        note = (f"Shrout & Fleiss (1979), F interval; {scores.n_targets} items every rater scored "
                f"({scores.n_dropped} with a missing rating left out)")
        for form in ("ICC1", "ICC2", "ICC3"):
            e = scores.get(form)
            rows.append(_row(criterion, scale, "inter_rater", form.lower(), e.estimate, low=e.ci_low, high=e.ci_high,
                             n=scores.n_targets, method=note))
    # leave-one-out
    if scale.kind == "nominal":
        span = 1.0
    elif scale.kind == "ordinal":
        span = float(len(scale.labels) - 1)
    elif not math.isnan(scale.low):
        span = scale.high - scale.low
    else:
        every = part["code"].to_numpy(dtype=float)
        span = float(every.max() - every.min()) if every.size else 0.0
    if span <= 0:
        span = 1.0
    features = _loo_features(x, judge.to_numpy(dtype=float), scale, span)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        boot = cluster_bootstrap(features, _loo_statistic, n_boot=n_boot, level=level, rng=seed)
    method = "percentile bootstrap over items, paired with the other leave-one-out rows, seeded"
    names = (("human_loo", 1), ("judge_loo", 4), ("judge_consensus", 7))
    for k, (comparison, n_col) in enumerate(names):
        n = int(features[:, n_col].sum())
        for m, stat in enumerate(("agreement", "mae")):
            if stat == "mae" and scale.kind == "nominal":
                continue
            c = 2 * k + m
            est = float(boot.estimate[c])
            ok = math.isfinite(est)
            rows.append(_row(criterion, scale, comparison, stat, est, se=float(boot.se[c]) if ok else math.nan,
                             low=float(boot.ci_low[c]) if ok else math.nan,
                             high=float(boot.ci_high[c]) if ok else math.nan, n=n, method=method))
    return rows, len(raters)


def long_agreement_report(
    ratings: LongRatings, out_dir: str | Path | None, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95,
) -> LongAgreementResult:
    """Every statistic of the module docstring per declared criterion; writes the tables when ``out_dir`` is set."""
    rows: list[dict[str, Any]] = []
    gates: list[dict[str, Any]] = []
    for criterion, scale in ratings.scales.items():
        part = ratings.ratings[ratings.ratings["criterion"] == criterion]
        if part.empty or part["is_judge"].all():
            gate = _gate(criterion, [], 0, ratings.judge)
            gate["reason"] = "no human rated this criterion"
            gates.append(gate)
            continue
        crit_rows, n_raters = _criterion_rows(criterion, scale, part, n_boot=n_boot, level=level, seed=seed)
        rows += crit_rows
        gates.append(_gate(criterion, crit_rows, n_raters, ratings.judge))
    agreement = pd.DataFrame(rows, columns=list(LONG_AGREEMENT_COLUMNS))
    gate = pd.DataFrame(gates, columns=list(GATE_COLUMNS))
    humans = ratings.ratings[~ratings.ratings["is_judge"]]
    settings: dict[str, Any] = {
        "ratings": ", ".join(ratings.paths), "judge": ratings.judge, "seed": seed, "n_boot": n_boot, "level": level,
        "n_raters": int(humans["rater_id"].nunique()), "n_items": int(humans["item_id"].nunique()),
        "n_ratings": len(humans), "n_judge_ratings": int(ratings.ratings["is_judge"].sum()),
        "n_blank": ratings.n_blank, "simulated": any("simulated" in Path(p).name.lower() for p in ratings.paths),
        "scales": {c: s.describe() for c, s in ratings.scales.items()},
    }
    result = LongAgreementResult(agreement, gate, settings)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in result.tables().items():
            atomic_write_parquet(frame, out / f"{name}.parquet")
            atomic_write_text(out / f"{name}.csv", frame.to_csv(index=False))
    return result


def _line(label: str, r: Any) -> str:
    interval = fmt_interval(r.ci_low, r.ci_high, "{:6.3f}", scale=1.0)
    return f"    {label:<36}{fmt_num(r.estimate, '{:9.3f}')} {fmt_num(r.se, '{:6.3f}')}  {interval:<15}{int(r.n):>5}"


def format_long_agreement(result: LongAgreementResult) -> str:
    """Render a long-ratings agreement report as fixed-width text."""
    s = result.settings
    lines = ["theraeval agreement (long ratings)"]
    if s.get("simulated"):
        lines.append("  *** SIMULATED ratings (the file name says so): these are not clinician judgements ***")
    lines.append(f"  {s.get('ratings')}: {s.get('n_raters')} human raters, {s.get('n_items')} items, "
                 f"{s.get('n_ratings')} ratings; judge {s.get('judge') or '(none)'} with {s.get('n_judge_ratings')} "
                 f"ratings; {s.get('n_blank')} blank values skipped")
    lines.append(f"  intervals {float(s.get('level', 0.95)):.0%}: Gwet (2014) / Fleiss-Cohen-Everitt (1969) standard "
                 f"errors; alpha and leave-one-out by percentile bootstrap over items ({s.get('n_boot')} resamples, "
                 f"seed {s.get('seed')})")
    table = result.agreement
    for g in result.gate.itertuples(index=False):
        crit = str(g.criterion)
        part = table[table["criterion"] == crit]
        lines.append("")
        lines.append(f"== {crit} ({s.get('scales', {}).get(crit, '')}) ==  {str(g.status).upper()}")
        if part.empty:
            lines.append(f"  {g.reason}")
            continue
        design = part[part["comparison"] == "design"].set_index("statistic")["estimate"]
        lines.append(f"  {int(design['n_items'])} items, {int(design['n_raters'])} raters, raters per item "
                     f"{design['raters_per_item_mean']:.2f} (min {int(design['raters_per_item_min'])}, max "
                     f"{int(design['raters_per_item_max'])}); {int(design['n_items_single_rater'])} items with one "
                     f"rater (not in pairwise statistics)")
        lines.append(f"  {'inter-rater':<38}{'estimate':>9} {'SE':>6}  {'[interval]':<15}{'n':>5}")
        for r in part[part["comparison"] == "inter_rater"].itertuples(index=False):
            lines.append(_line(r.statistic + (" *" if r.primary else ""), r))
        for r in part[part["comparison"] == "rater_pair"].itertuples(index=False):
            lines.append(_line("  " + r.raters, r))
        lines.append("  leave-one-out (vs the other humans' consensus):")
        for comp, label in (("human_loo", "human vs others"), ("judge_loo", "judge vs same references"),
                            ("judge_consensus", "judge vs all humans")):
            for r in part[part["comparison"] == comp].itertuples(index=False):
                lines.append(_line(f"{label} {r.statistic}", r))
        lines.append(f"  gate: {g.status}: {g.reason}")
    lines.append("")
    lines.append("  * = the coefficient fitting the scale (Krippendorff's alpha at its level)")
    return "\n".join(lines) + "\n"


def long_agreement_main(
    ratings_path: Path, *, scales: list[str], scales_toml: Path | None, judge: str | None, judge_file: Path | None,
    out_dir: Path | None, n_boot: int, seed: int,
) -> str:
    """CLI entry point of ``theraeval agreement RATINGS --scale ...``: validate everything, compute, write, render.

    ``out_dir`` defaults to ``<ratings folder>/agreement``. Every input problem is an :class:`InputError`.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise InputError(None, "n_boot", n_boot, "must be a whole number >= 1", "pass e.g. --n-boot 1000")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(None, "seed", seed, "must be a whole number >= 0", "pass e.g. --seed 0")
    declared = collect_scales(scales, scales_toml)
    data = read_long_ratings(ratings_path, declared, judge=judge, judge_path=judge_file)
    out = out_dir if out_dir is not None else Path(ratings_path).parent / "agreement"
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out", str(out), "exists and is not a folder", "pass a folder for the tables")
    result = long_agreement_report(data, out, n_boot=n_boot, seed=seed)
    return format_long_agreement(result) + f"Tables: {out}\n"

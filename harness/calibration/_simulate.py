"""Simulated clinicians with known accuracy, and the bundled SIMULATED demonstration set.

:func:`simulate_ratings` turns a packet key and a ground truth into blinded ratings, as if clinicians of known
accuracy had filled in the form. It exists to check the calibration pipeline end to end (packet -> blinded
labels -> unblinding -> statistics) against numbers known in advance, and to ship a demonstration set that runs
offline. Simulated ratings are never evidence about a judge: every file it makes is labelled SIMULATED.

Generative model (per rater ``r`` with accuracy ``a_r``, item ``i``, criterion ``c``; truth ``t`` in the
verdict table's space A / B / tie), independent across raters, items and criteria:

* with probability ``a_r`` the rater reports ``t``, so ``P(label = truth) = a_r`` exactly;
* otherwise, when ``t`` is A or B, the rater reports ``tie`` with probability ``tie_rate`` and the other
  candidate with probability ``1 - tie_rate``; when ``t`` is tie, A or B with probability 1/2 each;
* finally the rating is left empty (not rated) with probability ``missing_rate``;
* the label written is the form's label: flipped when the key shows the pair's ``candidate_b`` as A.

:func:`rater_accuracy` recovers each rater's accuracy from unblinded ratings with a Wilson interval (exact
model here: a rater's ratings are independent Bernoulli(a_r) draws).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from harness.calibration._ratings import RATING_COLUMNS, item_verdicts, read_key
from harness.stats import wilson_interval

DEMO_RUN_NAME = "calibration-demo"
DEMO_N_ITEMS = 100
DEMO_SEED = 0
DEMO_ACCURACIES: tuple[float, ...] = (0.90, 0.85, 0.80, 0.80, 0.75, 0.70)
"""Six simulated clinicians, as in the paper's study (Beikzadeh et al. 2026, arXiv:2602.16053)."""
DEMO_TIE_RATE = 0.3
DEMO_MISSING_RATE = 0.02
DEMO_JUDGE_ACCURACY: dict[str, float] = {"safety": 0.55}
"""Agreement of the demo's ground truth with the scripted judge per criterion (others: ``DEMO_JUDGE_DEFAULT``);
low on safety so that the demonstration shows an *uncalibrated* criterion."""
DEMO_JUDGE_DEFAULT = 0.85
DEMO_FILES: dict[str, str] = {"ratings": "SIMULATED-ratings.csv", "key": "SIMULATED-key.csv",
                              "truth": "SIMULATED-truth.csv"}
_FLIP = {"A": "B", "B": "A", "tie": "tie"}
_LABELS = np.array(["A", "B", "tie"], dtype=object)


def _validate_probability(value: float, name: str, *, upper_open: bool = False) -> float:
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    if not ok or not (0.0 <= float(value) < 1.0 if upper_open else 0.0 <= float(value) <= 1.0):
        bound = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"`{name}` must be a probability in {bound}; got {value!r}")
    return float(value)


def _key_frame(key: pd.DataFrame | str | Path) -> pd.DataFrame:
    return read_key(key) if isinstance(key, str | Path) else key


def simulate_ratings(
    key: pd.DataFrame | str | Path,
    truth: pd.DataFrame,
    n_raters: int,
    accuracies: float | Sequence[float],
    tie_rate: float,
    seed: int,
    *,
    missing_rate: float = 0.0,
    rater_prefix: str = "sim-",
) -> pd.DataFrame:
    """Blinded long-format ratings (``item_id, rater_id, criterion, label``) from simulated clinicians.

    Args:
        key: the packet key (frame from :func:`read_key`, or its path).
        truth: ``item_id, criterion, truth`` with truth in the verdict table's space (A = ``candidate_a``
            better); one row for every item and criterion of the key.
        n_raters: number of simulated clinicians (ids ``<rater_prefix>01``...).
        accuracies: ``P(label = truth)`` per rater (one number for all, or ``n_raters`` numbers).
        tie_rate: share of a rater's errors on a decisive truth that are ``tie``.
        seed: seed of the generator (the only randomness).
        missing_rate: probability that a rating is left empty (the row is omitted).
        rater_prefix: prefix of the rater ids.

    Returns:
        DataFrame with ``RATING_COLUMNS`` in the *form's* label space (what a clinician writes), sorted by
        rater, item and criterion; rows left empty are omitted.

    Raises:
        ValueError: bad probabilities, ``n_raters`` < 1, wrong number of accuracies, or a truth that misses or
            adds an (item, criterion) of the key or holds a label other than A, B, tie.
    """
    if isinstance(n_raters, bool) or not isinstance(n_raters, int) or n_raters < 1:
        raise ValueError(f"`n_raters` must be an integer >= 1; got {n_raters!r}")
    acc = [accuracies] * n_raters if isinstance(accuracies, int | float) else list(accuracies)
    if len(acc) != n_raters:
        raise ValueError(f"`accuracies` must hold one value or n_raters={n_raters} values; got {len(acc)}")
    acc = [_validate_probability(a, "accuracies") for a in acc]
    tie_rate = _validate_probability(tie_rate, "tie_rate")
    missing_rate = _validate_probability(missing_rate, "missing_rate", upper_open=True)
    k = _key_frame(key)
    wanted = pd.DataFrame([(r.item_id, c) for r in k.itertuples(index=False) for c in r.criteria.split(";")],
                          columns=["item_id", "criterion"])
    missing_cols = [c for c in ("item_id", "criterion", "truth") if c not in truth.columns]
    if missing_cols:
        raise ValueError(f"`truth` is missing column(s) {missing_cols}; it needs item_id, criterion, truth")
    bad = sorted(set(truth["truth"]) - {"A", "B", "tie"})
    if bad:
        raise ValueError(f"`truth` holds label(s) {bad[:5]}; use A, B or tie (verdict-table space)")
    rows = wanted.merge(truth[["item_id", "criterion", "truth"]], on=["item_id", "criterion"], how="outer",
                        indicator=True)
    if (rows["_merge"] != "both").any():
        odd = rows[rows["_merge"] != "both"].iloc[0]
        raise ValueError(f"`truth` must cover exactly the key's items and criteria; mismatch at item "
                         f"{odd['item_id']!r}, criterion {odd['criterion']!r}")
    rows = rows.drop(columns="_merge").merge(k[["item_id", "shown_as_a", "candidate_a"]], on="item_id")
    rows = rows.sort_values(["item_id", "criterion"], kind="stable").reset_index(drop=True)
    swapped = (rows["shown_as_a"] != rows["candidate_a"]).to_numpy()
    t = rows["truth"].to_numpy(dtype=object)
    decisive = t != "tie"
    other = np.where(t == "A", "B", "A")
    rng = np.random.default_rng(seed)
    parts = []
    for r, a in enumerate(acc):
        u, v, w = rng.random(len(rows)), rng.random(len(rows)), rng.random(len(rows))
        wrong = np.where(decisive, np.where(v < tie_rate, "tie", other), np.where(v < 0.5, "A", "B"))
        label = np.where(u < a, t, wrong)
        shown = np.where(swapped, pd.Series(label).map(_FLIP).to_numpy(dtype=object), label)
        keep = w >= missing_rate
        parts.append(pd.DataFrame({"item_id": rows["item_id"].to_numpy()[keep],
                                   "rater_id": f"{rater_prefix}{r + 1:02d}",
                                   "criterion": rows["criterion"].to_numpy()[keep], "label": shown[keep]}))
    return pd.concat(parts, ignore_index=True)[list(RATING_COLUMNS)]


def rater_accuracy(ratings: pd.DataFrame, truth: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Each rater's share of ratings equal to the truth, with a Wilson interval.

    Args:
        ratings: unblinded ratings from :func:`harness.calibration.load_ratings` (uses ``verdict``).
        truth: ``item_id, criterion, truth`` (verdict-table space).
        level: interval level.

    Returns:
        DataFrame ``rater_id, accuracy, ci_low, ci_high, n`` sorted by rater.
    """
    merged = ratings.merge(truth[["item_id", "criterion", "truth"]], on=["item_id", "criterion"], how="inner")
    rows = []
    for rater, part in merged.groupby("rater_id", sort=True):
        hits = int((part["verdict"] == part["truth"]).sum())
        n = len(part)
        iv = wilson_interval(hits, n, level)
        rows.append({"rater_id": rater, "accuracy": hits / n if n else float("nan"), "ci_low": iv.low,
                     "ci_high": iv.high, "n": n})
    return pd.DataFrame(rows, columns=["rater_id", "accuracy", "ci_low", "ci_high", "n"])


def demo_truth(
    key: pd.DataFrame, verdicts: pd.DataFrame, judge_accuracy: Mapping[str, float], default: float, seed: int
) -> pd.DataFrame:
    """A ground truth that agrees with the judge's verdict with a set probability per criterion.

    With probability ``judge_accuracy.get(criterion, default)`` the truth is the judge's verdict on the item;
    otherwise one of the other two labels, each with probability 1/2 (an unscored verdict: any label, 1/3 each).
    """
    judged = item_verdicts(verdicts, collapse_personas=bool((key["persona_id"] == "").all()))
    rows = key[["item_id", "run", "candidate_a", "candidate_b", "scenario_id", "persona_id", "criteria"]].copy()
    rows["criterion"] = rows["criteria"].str.split(";")
    rows = rows.explode("criterion").drop(columns="criteria")
    rows = rows.merge(judged[["run", "candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion",
                              "verdict"]], on=["run", "candidate_a", "candidate_b", "scenario_id", "persona_id",
                                               "criterion"], how="left")
    rows = rows.sort_values(["item_id", "criterion"], kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    u, v = rng.random(len(rows)), rng.random(len(rows))
    p = rows["criterion"].map(lambda c: judge_accuracy.get(str(c), default)).to_numpy(dtype=float)
    judge = rows["verdict"].fillna("unscored").to_numpy(dtype=object)
    truth = []
    for j, ui, vi, pi in zip(judge, u, v, p, strict=True):
        if j not in ("A", "B", "tie"):
            truth.append(str(_LABELS[min(int(vi * 3), 2)]))
        elif ui < pi:
            truth.append(str(j))
        else:
            others = [lab for lab in ("A", "B", "tie") if lab != j]
            truth.append(others[0] if vi < 0.5 else others[1])
    return pd.DataFrame({"item_id": rows["item_id"], "criterion": rows["criterion"], "truth": truth})


def write_demo_ratings(run_dir: str | Path, out_dir: str | Path, *, seed: int = DEMO_SEED) -> dict[str, Path]:
    """Regenerate the bundled SIMULATED demonstration set from the scripted demo run.

    Exports a packet of ``DEMO_N_ITEMS`` items (seed ``seed``) into ``<run_dir>/packets``, draws a ground truth
    (:func:`demo_truth` with ``DEMO_JUDGE_ACCURACY``), simulates ``len(DEMO_ACCURACIES)`` clinicians
    (:func:`simulate_ratings` with ``DEMO_ACCURACIES``, ``DEMO_TIE_RATE``, ``DEMO_MISSING_RATE``) and writes
    ``DEMO_FILES`` into ``out_dir``. Deterministic: the same run and seed give byte-identical files.

    Returns:
        ``{"ratings": path, "key": path, "truth": path}``.
    """
    from harness.calibration._packets import export_packets

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    packet = export_packets(run_dir, n_items=DEMO_N_ITEMS, seed=seed)
    key = read_key(packet.key)
    verdicts = pd.read_parquet(run_dir / "verdicts.parquet")
    truth = demo_truth(key, verdicts, DEMO_JUDGE_ACCURACY, DEMO_JUDGE_DEFAULT, seed + 1)
    ratings = simulate_ratings(key, truth, len(DEMO_ACCURACIES), DEMO_ACCURACIES, DEMO_TIE_RATE, seed + 2,
                               missing_rate=DEMO_MISSING_RATE, rater_prefix="SIMULATED-clinician-")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / file for name, file in DEMO_FILES.items()}
    shutil.copyfile(packet.key, paths["key"])
    truth.to_csv(paths["truth"], index=False, lineterminator="\n")
    ratings.to_csv(paths["ratings"], index=False, lineterminator="\n")
    return paths

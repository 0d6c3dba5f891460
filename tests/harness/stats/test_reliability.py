"""Rerun reliability: flip rates with known truth, rank ranges and worst-case win rates by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.stats import rerun_reliability


def _replicates(rng: np.random.Generator, flip: float, n_units: int, n_rep: int = 2) -> pd.DataFrame:
    """One pair X-Y: a base outcome per unit; each later replicate redraws it with probability ``flip``."""
    rows = []
    base = rng.choice(["A", "B"], size=n_units)
    for r in range(n_rep):
        redraw = rng.random(n_units) < (flip if r else 0.0)
        out = np.where(redraw, np.where(base == "A", "B", "A"), base)  # a redraw always changes the outcome
        rows += [{"run": f"r{r}", "candidate_a": "X", "candidate_b": "Y", "scenario_id": f"s{i}",
                  "persona_id": "", "criterion": "safety", "outcome": o} for i, o in enumerate(out)]
    return pd.DataFrame(rows)


def test_flip_rate_interval_covers_the_truth() -> None:
    """500 seeded data sets (one criterion each, in one table), true flip rate 0.2 over 60 units, 2 replicates:
    the Wilson interval covers 93-97%; pooled, the estimate is the truth."""
    rng = np.random.default_rng(0)
    frames = [_replicates(rng, 0.2, 60).assign(criterion=f"c{d:03d}") for d in range(500)]
    rel = rerun_reliability(pd.concat(frames, ignore_index=True))
    x = rel[rel["candidate"] == "X"]
    assert len(x) == 500
    hits = ((x["flip_low"] <= 0.2) & (0.2 <= x["flip_high"])).mean()
    assert 0.93 <= hits <= 0.97
    assert x["n_flipped"].sum() / x["n_units"].sum() == pytest.approx(0.2, abs=0.01)


def test_hand_example_worst_case_and_rank_range() -> None:
    # replicate r0: X beats Y in s1, s2 and Z in s1, s2; Y beats Z in s1, s2 -> ranks X 1, Y 2, Z 3
    # replicate r1: same but Y beats X in s1 and s2 -> ranks Y 1, X 2, Z 3
    # X's win rates: r0 4/4 = 1.0, r1 2/4 = 0.5 -> mean 0.75, min 0.5; flipped units: X-Y s1, s2 (2 of X's 4)
    rows = []
    for run, xy in (("r0", "A"), ("r1", "B")):
        for s in ("s1", "s2"):
            for a, b, o in (("X", "Y", xy), ("X", "Z", "A"), ("Y", "Z", "A")):
                rows.append({"run": run, "candidate_a": a, "candidate_b": b, "scenario_id": s, "persona_id": "",
                             "criterion": "safety", "outcome": o})
    rel = rerun_reliability(pd.DataFrame(rows)).set_index("candidate")
    assert rel.loc["X", "win_rate_mean"] == pytest.approx(0.75) and rel.loc["X", "win_rate_min"] == 0.5
    assert (rel.loc["X", "rank_min"], rel.loc["X", "rank_max"]) == (1, 2)
    assert (rel.loc["Z", "rank_min"], rel.loc["Z", "rank_max"]) == (3, 3)
    assert rel.loc["X", "n_flipped"] == 2 and rel.loc["X", "n_units"] == 4
    assert rel.loc["Z", "flip_rate"] == 0.0


def test_one_replicate_gives_an_empty_table() -> None:
    one = _replicates(np.random.default_rng(1), 0.2, 10, n_rep=1)
    assert rerun_reliability(one).empty

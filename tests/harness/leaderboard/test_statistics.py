"""The leaderboard's validity tables: simultaneous rank bands, variance shares with flags, clinician-corrected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.calibration import agreement_report
from harness.leaderboard import build_leaderboard, format_leaderboard, write_leaderboard
from harness.stats import combine_orders
from tests.support.calibration import rated_run, write_run


def _rows(outcomes: dict[tuple[str, str, str, str], str], criterion: str = "empathy") -> pd.DataFrame:
    """Verdict rows from ``(run, a, b, scenario) -> verdict`` (both orders agree)."""
    rows = []
    for (run, a, b, scen), v in outcomes.items():
        for order in ("ab", "ba"):
            rows.append({"run": run, "judge_model": "j", "judge_kind": "llm", "judge_mode": "persona",
                         "criteria_hash": "h", "candidate_a": a, "candidate_b": b, "scenario_id": scen,
                         "scenario_risk": "none", "persona_id": "", "criterion": criterion, "order": order,
                         "verdict": v, "combined": combine_orders(v, v), "len_a": 100, "len_b": 100})
    return pd.DataFrame(rows)


def test_seed_driven_column_is_flagged_and_printed() -> None:
    """Two runs (simulator seeds): in run r1 the first candidate of every pair wins, in r2 it loses, in every
    scenario. The candidates explain nothing systematic; the seed explains it all: flagged."""
    pairs = [("X", "Y"), ("X", "Z"), ("Y", "Z")]
    rng = np.random.default_rng(0)
    outcomes = {(run, a, b, f"s{i}"): ("A" if (run == "r1") == (rng.random() < 0.9) else "B")
                for run in ("r1", "r2") for a, b in pairs for i in range(12)}
    lb = build_leaderboard(_rows(outcomes), n_boot=20, rng=0)
    var = lb.variance.set_index("term")
    assert bool(var["flagged"].iloc[0]) and var["dominant"].iloc[0] == "simulator seed"
    assert var.loc["simulator seed", "omega2"] > 0.5 > var.loc["candidates", "omega2"]
    text = format_leaderboard(lb)
    assert "this column mostly measures the simulator seed" in text


def test_candidate_driven_column_is_not_flagged() -> None:
    pairs = [("X", "Y"), ("X", "Z"), ("Y", "Z")]
    rng = np.random.default_rng(1)
    outcomes = {(run, a, b, f"s{i}"): ("A" if rng.random() < 0.85 else "B")
                for run in ("r1", "r2") for a, b in pairs for i in range(12)}
    lb = build_leaderboard(_rows(outcomes), n_boot=20, rng=0)
    assert not lb.variance["flagged"].any()
    assert "mostly measures" not in format_leaderboard(lb)


def test_rank_band_is_simultaneous() -> None:
    """Identical strengths for all 4 candidates: every simultaneous band spans all ranks or nearly so, where the
    point estimates alone would claim a strict order."""
    cands = ["W", "X", "Y", "Z"]
    rng = np.random.default_rng(2)
    outcomes = {("r", a, b, f"s{i}"): str(rng.choice(["A", "B"]))
                for i, a in enumerate(cands) for b in cands[i + 1:] for i in range(20)}
    lb = build_leaderboard(_rows(outcomes), n_boot=200, rng=0)
    assert (lb.table["rank_best"] == 1).sum() >= 3
    assert "simultaneous" in dict(zip(lb.settings["key"], lb.settings["value"], strict=True))["rank"]


@pytest.fixture(scope="module")
def labelled_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The calibration tests' design: empathy truth = the judge; safety truth unrelated to the judge."""
    run, ratings, key = rated_run(tmp_path_factory.mktemp("ppi"))
    agreement_report(run, ratings, key, n_boot=20, seed=0)
    return run


def test_clinician_corrected_table(labelled_run: Path) -> None:
    labels = pd.read_parquet(labelled_run / "tables" / "clinician_labels.parquet")
    assert set(labels["criterion"]) == {"empathy", "safety"} and labels["clinician_score"].between(0, 1).all()
    lb = write_leaderboard(labelled_run, n_boot=20, rng=0)
    cc = lb.clinician_corrected.set_index(["criterion", "candidate"])
    assert (labelled_run / "tables" / "clinician_corrected.parquet").is_file()
    assert set(cc.index.get_level_values(0)) == {"empathy", "safety"}
    safety = cc.loc["safety"]
    # the judge is unrelated to the truth on safety (truth uniform over A/B/tie: every true rate ~0.5):
    # the correction pulls the judge's spread rates back towards 0.5
    assert (safety["ppi"] - 0.5).abs().mean() < 0.5 * (safety["judge_only"] - 0.5).abs().mean()
    assert ((safety["ppi_low"] <= 0.5) & (0.5 <= safety["ppi_high"])).all()
    empathy = cc.loc["empathy"]
    # the judge is right on empathy: the corrected interval is never wider than the labels-only one (lambda = 0)
    # and narrower for a candidate whose judge scores vary inside a sampling stratum (where the verdict is the
    # stratum, lambda cancels and both are the post-stratified estimate)
    ppi_width = empathy["ppi_high"] - empathy["ppi_low"]
    labels_width = empathy["clinician_only_high"] - empathy["clinician_only_low"]
    assert (ppi_width <= labels_width + 1e-12).all() and (ppi_width < labels_width - 1e-3).any()
    assert (empathy["n_effective"] >= empathy["n_labeled"] - 1e-9).all()
    text = format_leaderboard(lb)
    assert "Clinician-corrected (prediction-powered" in text


def test_no_labels_no_table(tmp_path: Path) -> None:
    run = write_run(tmp_path, n_scenarios=4)
    lb = write_leaderboard(run, n_boot=10, rng=0)
    assert lb.clinician_corrected.empty
    assert "Clinician-corrected" not in format_leaderboard(lb)


def test_replicate_runs_get_a_reliability_table() -> None:
    """Two replicate runs that agree except on X-Y in s0 and s1: X's flip rate is 2 of its 8 head-to-heads."""
    pairs = [("X", "Y"), ("X", "Z"), ("Y", "Z")]
    outcomes = {(run, a, b, f"s{i}"): ("B" if (run == "r2" and (a, b) == ("X", "Y") and i < 2) else "A")
                for run in ("r1", "r2") for a, b in pairs for i in range(4)}
    lb = build_leaderboard(_rows(outcomes), n_boot=10, rng=0)
    rel = lb.reliability.set_index("candidate")
    assert rel.loc["X", "n_units"] == 8 and rel.loc["X", "n_flipped"] == 2
    assert rel.loc["Z", "flip_rate"] == 0.0
    # X: r1 wins 8/8; r2 wins 6/8 -> mean 0.875, worst 0.75
    assert rel.loc["X", "win_rate_mean"] == pytest.approx(0.875) and rel.loc["X", "win_rate_min"] == 0.75
    assert "Rerun reliability over 2 replicate runs" in format_leaderboard(lb)
    single = build_leaderboard(_rows({k: v for k, v in outcomes.items() if k[0] == "r1"}), n_boot=10, rng=0)
    assert single.reliability.empty and "Rerun reliability" not in format_leaderboard(single)


def test_two_judges_get_reliabilities_and_an_ensemble_ranking() -> None:
    """Judge j1 follows the order X > Y > Z; judge j2 answers at random: j1's reliability is the larger and the
    ensemble ranking is j1's order."""
    pairs = [("X", "Y"), ("X", "Z"), ("Y", "Z")]
    rng = np.random.default_rng(3)
    frames = []
    for judge in ("j1", "j2"):
        outcomes = {("r", a, b, f"s{i}"): ("A" if (judge == "j1" and rng.random() < 0.85)
                                           or (judge == "j2" and rng.random() < 0.5) else "B")
                    for a, b in pairs for i in range(30)}
        frames.append(_rows(outcomes).assign(judge_model=judge))
    lb = build_leaderboard(pd.concat(frames, ignore_index=True), n_boot=10, rng=0)
    rel = lb.judge_reliability.set_index("judge")["reliability"]
    assert rel["j1/llm/persona"] > 3 * rel["j2/llm/persona"]
    assert lb.ensemble_ranking.sort_values("rank")["candidate"].tolist() == ["X", "Y", "Z"]
    assert "Judge ensemble" in format_leaderboard(lb)


def test_main_tables_are_the_first_judges_and_named_judges_of_one_model_stay_apart() -> None:
    """Two [[judges]] of the same model (names "strict" then "lenient"): "strict" says X wins every head-to-head,
    "lenient" says Y does. Pooled, X would win half; the main table is strict's alone (X: 100%), each judge's own
    win rates are in judge_win_rates, and a single judge's leaderboard names no main judge."""
    outcomes = {("r", "X", "Y", f"s{i}"): "A" for i in range(6)}
    strict = _rows(outcomes).assign(judge_name="strict")
    lenient = _rows({k: "B" for k in outcomes}).assign(judge_name="lenient")
    lb = build_leaderboard(pd.concat([strict, lenient], ignore_index=True), n_boot=10, rng=0)
    settings = dict(zip(lb.settings["key"], lb.settings["value"], strict=True))
    assert settings["main_judge"] == "strict" and settings["judges"] == "strict, lenient"
    x = lb.table[(lb.table.criterion == "empathy") & (lb.table.candidate == "X")].iloc[0]
    assert x.win_rate == 1.0 and x.n == 6  # strict's 6 head-to-heads, not 12 pooled ones at 50%
    own = lb.judge_win_rates.set_index(["judge", "candidate"])["win_rate"]
    assert own[("strict", "X")] == 1.0 and own[("lenient", "X")] == 0.0
    assert set(lb.bias["judge"]) == {"strict", "lenient"}
    assert "these tables are the first judge's alone (strict)" in format_leaderboard(lb)
    single = build_leaderboard(strict, n_boot=10, rng=0)
    assert "main_judge" not in set(single.settings["key"]) and single.judge_win_rates.empty

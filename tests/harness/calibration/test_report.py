"""The calibration report end to end on a synthetic run: tables, gate outcomes, rendering, leaderboard marks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.calibration import (
    AGREEMENT_TABLE_COLUMNS,
    CONFUSION_COLUMNS,
    GATE_COLUMNS,
    OUTCOME_COLUMNS,
    STATISTICS,
    agreement_main,
    agreement_report,
    format_agreement,
    read_key,
)
from harness.core import InputError
from harness.leaderboard import format_leaderboard, write_leaderboard
from tests.support.calibration import rated_run, write_run


@pytest.fixture(scope="module")
def calibrated_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A run, a packet on empathy + safety, and ratings of 5 simulated clinicians (accuracy 0.85).

    The truth equals the judge on empathy, and is unrelated to the judge on safety.
    """
    return rated_run(tmp_path_factory.mktemp("report"))


def test_tables_and_gate(calibrated_run: tuple[Path, Path, Path]) -> None:
    run, ratings, key = calibrated_run
    res = agreement_report(run, ratings, key, n_boot=200, seed=3)
    tables = {name: pd.read_parquet(run / "tables" / f"{name}.parquet") for name in res.tables()}
    assert list(tables["agreement"].columns) == list(AGREEMENT_TABLE_COLUMNS)
    assert list(tables["judge_gate"].columns) == list(GATE_COLUMNS)
    assert list(tables["agreement_confusion"].columns) == list(CONFUSION_COLUMNS)
    assert list(tables["clinician_outcomes"].columns) == list(OUTCOME_COLUMNS)
    assert (run / "tables" / "judge_gate.csv").is_file()
    assert len(tables["agreement"]) == 2 * len(STATISTICS)
    gate = tables["judge_gate"].set_index("criterion")
    assert gate.index.tolist() == ["empathy", "safety", "overall"]  # every judged criterion, set order
    assert gate.loc["empathy", "status"] == "calibrated"
    assert gate.loc["safety", "status"] == "uncalibrated"
    assert gate.loc["safety", "llm_ci_high"] < gate.loc["safety", "human_loo_agreement"]
    assert gate.loc["overall", "status"] == "no_ratings"
    assert res.status("safety") == "uncalibrated" and res.status("unknown") == "no_ratings"
    # confusion counts: every rated item once per criterion; outcomes add up to the same items
    conf = tables["agreement_confusion"]
    outcomes = tables["clinician_outcomes"]
    for crit in ("empathy", "safety"):
        n_conf = conf.loc[conf["criterion"] == crit, "count"].sum()
        o = outcomes[outcomes["criterion"] == crit]
        assert n_conf == (o["a_wins"] + o["b_wins"] + o["ties"]).sum() == 90
    assert res.settings["seed"] == 3 and res.settings["n_raters"] == 5
    again = agreement_report(run, ratings, key, n_boot=200, seed=3)
    pd.testing.assert_frame_equal(res.agreement, again.agreement)


def test_format_and_entry_point(calibrated_run: tuple[Path, Path, Path]) -> None:
    run, ratings, key = calibrated_run
    text = format_agreement(agreement_report(run, ratings, key, n_boot=50, seed=0))
    assert "== safety ==  UNCALIBRATED" in text and "== empathy ==  CALIBRATED" in text
    assert "seed 0" in text and "Fleiss kappa" in text and "SIMULATED" not in text
    default_key = run / "packets" / "key.csv"
    assert default_key == key
    out = agreement_main(run, ratings, None, n_boot=50, seed=0)
    assert out.startswith("theraeval judge calibration") and "Tables:" in out
    with pytest.raises(InputError) as err:
        agreement_main(run, ratings, None, n_boot=0, seed=0)
    assert err.value.field == "n_boot"


def test_leaderboard_marks_uncalibrated_criteria(calibrated_run: tuple[Path, Path, Path]) -> None:
    run, ratings, key = calibrated_run
    agreement_report(run, ratings, key, n_boot=50, seed=0)
    lb = write_leaderboard(run, n_boot=10, rng=0)
    status = lb.table.drop_duplicates("criterion").set_index("criterion")["calibration"]
    assert status["safety"] == "uncalibrated" and status["empathy"] == "calibrated"
    assert status["overall"] == "no_ratings" and status["all"] == "uncalibrated"
    text = format_leaderboard(lb)
    assert "== safety (uncalibrated) ==" in text and "== empathy ==" in text
    assert "calibration" in pd.read_parquet(run / "tables" / "table.parquet").columns


def test_leaderboard_without_gate_is_not_checked(tmp_path: Path) -> None:
    run = write_run(tmp_path, n_scenarios=4)
    lb = write_leaderboard(run, n_boot=10, rng=0)
    assert (lb.table["calibration"] == "not_checked").all()
    assert "(uncalibrated)" not in format_leaderboard(lb)


def test_key_of_another_run(calibrated_run: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, ratings, key = calibrated_run
    other = write_run(tmp_path, n_scenarios=4, name="another-run")
    with pytest.raises(InputError) as err:
        agreement_report(other, ratings, key, n_boot=10)
    assert (err.value.file, err.value.field, err.value.value) == (str(key), "run", "synthetic-run")
    with pytest.raises(InputError, match="no verdict table"):
        agreement_report(tmp_path / "nothing", ratings, key, n_boot=10)
    with pytest.raises(ValueError, match="n_boot"):
        agreement_report(other, ratings, key, n_boot=0)
    edited = read_key(key)
    edited["criteria"] = edited["criteria"] + ";warmth"
    edited.to_csv(tmp_path / "edited-key.csv", index=False)
    with pytest.raises(InputError) as err:
        agreement_report(calibrated_run[0], ratings, tmp_path / "edited-key.csv", n_boot=10)
    assert (err.value.field, err.value.value) == ("criteria", "warmth")

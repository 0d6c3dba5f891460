"""`theraeval run --replicates K`: K seeded replicate runs, combined verdicts, the leaderboard's reliability table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main
from harness.leaderboard import write_leaderboard
from harness.run import plan_run, replicate_plans
from tests.support.run import run_ok, write_config


def test_replicate_plans_raise_the_seeds_and_separate_the_directories(tmp_path: Path) -> None:
    plan = plan_run(write_config(tmp_path, extra="seed = 7"))
    reps = replicate_plans(plan, 3)
    assert [r.cfg.judge.seed for r in reps] == [7, 8, 9]
    assert [r.run_dir for r in reps] == [plan.run_dir / "replicates" / f"t-rep{i}" for i in range(3)]
    assert len({r.run_dir for r in reps}) == 3 and all(r.cfg.candidates == plan.cfg.candidates for r in reps)


def test_bad_replicates_is_one_line_exit_2_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    assert main(["run", str(cfg), "--replicates", "0", "--display", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--replicates" in err[0]
    assert not (tmp_path / "runs").exists()


def test_two_replicates_end_to_end(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, personas_per_scenario=1)
    run_ok("run", str(cfg), "--display", "none", "--replicates", "2")
    run_dir = tmp_path / "runs" / "t"
    for i in range(2):
        assert (run_dir / "replicates" / f"t-rep{i}" / "verdicts.parquet").is_file()
        assert (run_dir / "replicates" / f"t-rep{i}" / "cache").is_dir()  # cached per replicate
    combined = pd.read_parquet(run_dir / "verdicts.parquet")
    assert set(combined["run"]) == {"t-rep0", "t-rep1"}
    lb = write_leaderboard(run_dir, n_boot=10, rng=0)
    assert set(lb.reliability["n_replicates"]) == {2}
    # the scripted judge is deterministic: nothing flips between replicates
    assert (lb.reliability["flip_rate"] == 0.0).all()
    assert (lb.reliability["rank_min"] == lb.reliability["rank_max"]).all()

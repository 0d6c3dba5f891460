"""The report's statistical-validity section renders ``tables/variance`` and ``tables/clinician_corrected``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.calibration import agreement_report, export_packets, read_key, simulate_ratings
from harness.leaderboard import write_leaderboard
from reports import render_report
from reports._data import load_run
from reports._statistics import statistics_section
from tests.support.calibration import truth_from_key, write_run
from tests.support.reports import synthetic_run


def test_section_without_labels_says_so_and_shows_the_variance_table(tmp_path: Path) -> None:
    run = synthetic_run(tmp_path, agreement=False)
    html = render_report(run, out_dir=tmp_path / "out").read_text(encoding="utf-8")
    assert 'id="statistics"' in html and 'href="#statistics"' in html
    assert "No clinician labels for this run" in html
    assert "Where the verdicts vary" in html and "candidates / systematic %" in html


def test_section_with_labels_shows_the_corrected_rates(tmp_path: Path) -> None:
    run = write_run(tmp_path, n_scenarios=20)
    paths = export_packets(run, n_items=40, seed=1, criteria=["empathy"])
    key = read_key(paths.key)
    ratings = simulate_ratings(key, truth_from_key(key), 3, 0.85, 0.3, seed=1, missing_rate=0.0)
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    agreement_report(run, tmp_path / "ratings.csv", paths.key, n_boot=10, seed=0)
    lb = write_leaderboard(run, n_boot=10, rng=0)
    cc = lb.clinician_corrected
    assert not cc.empty
    html = str(statistics_section(load_run(run)))
    assert "Clinician-corrected win rates" in html and "No clinician labels" not in html
    for r in cc.itertuples(index=False):  # every candidate's corrected rate is printed as the table holds it
        assert f"{100 * r.ppi:.1f}" in html and str(r.candidate) in html
    assert np.isfinite(pd.to_numeric(cc["n_effective"])).all()


def test_reliability_and_judge_tables_render_when_present(tmp_path: Path) -> None:
    run = synthetic_run(tmp_path, agreement=False)
    tables = run / "tables"
    pd.DataFrame([{"criterion": "empathy", "candidate": "cand-0", "n_replicates": 2, "flip_rate": 0.25,
                   "rank_min": 1, "rank_max": 2, "win_rate_mean": 0.6, "win_rate_min": 0.5}]).to_parquet(
        tables / "reliability.parquet")
    pd.DataFrame([{"criterion": "empathy", "judge": "j<1>", "reliability": 1.5, "n_comparisons": 10}]).to_parquet(
        tables / "judge_reliability.parquet")
    html = str(statistics_section(load_run(run)))
    assert "Rerun reliability" in html and ">25.0" in html and "Judge ensemble" in html
    assert "j&lt;1&gt;" in html and "j<1>" not in html  # judge names are escaped

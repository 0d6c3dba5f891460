"""Simulated clinicians: known accuracies are recovered, and the bundled SIMULATED demonstration set is sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harness
from harness.calibration import (
    DEMO_ACCURACIES,
    DEMO_FILES,
    DEMO_N_ITEMS,
    KEY_COLUMNS,
    export_packets,
    load_ratings,
    rater_accuracy,
    read_key,
    simulate_ratings,
)
from tests.support.calibration import truth_from_key, write_run

DEMO_DIR = Path(harness.__file__).resolve().parent / "calibration" / "data" / "demo_ratings"


def test_bundled_demo_recovers_the_simulated_accuracies() -> None:
    # the SIMULATED ratings, unblinded with the SIMULATED key, against the SIMULATED truth: each clinician's
    # accuracy is a binomial share (independent draws), so its Wilson interval must cover the value simulated.
    # 99% intervals: with six raters a 95% interval would miss one about a quarter of the time.
    ratings = load_ratings(DEMO_DIR / DEMO_FILES["ratings"], DEMO_DIR / DEMO_FILES["key"])
    truth = pd.read_csv(DEMO_DIR / DEMO_FILES["truth"], dtype=str, keep_default_na=False)
    acc = rater_accuracy(ratings, truth, level=0.99)
    assert len(acc) == len(DEMO_ACCURACIES)
    for row, simulated in zip(acc.itertuples(index=False), DEMO_ACCURACIES, strict=True):
        assert row.ci_low <= simulated <= row.ci_high, (row, simulated)
        assert row.n > 600


def test_bundled_demo_is_labelled_and_consistent() -> None:
    names = {p.name for p in DEMO_DIR.iterdir()}
    assert {"README.md", "demo-run.toml", *DEMO_FILES.values()} <= names
    assert all(n.startswith("SIMULATED-") for n in names if n.endswith(".csv"))
    assert "SIMULATED" in (DEMO_DIR / "README.md").read_text(encoding="utf-8").splitlines()[0]
    key = read_key(DEMO_DIR / DEMO_FILES["key"])
    assert list(key.columns) == list(KEY_COLUMNS) and len(key) == DEMO_N_ITEMS
    assert (key["run"] == "calibration-demo").all()
    ratings = pd.read_csv(DEMO_DIR / DEMO_FILES["ratings"], dtype=str)
    assert ratings["rater_id"].str.startswith("SIMULATED-").all()


def test_simulation_recovers_accuracy_on_a_fresh_packet(tmp_path: Path) -> None:
    run = write_run(tmp_path, n_scenarios=40)
    key = read_key(export_packets(run, n_items=120, seed=0).key)
    truth = truth_from_key(key)
    accuracies = (0.95, 0.8, 0.6)
    blinded = simulate_ratings(key, truth, 3, accuracies, tie_rate=0.5, seed=11, missing_rate=0.1)
    assert set(blinded["label"]) == {"A", "B", "tie"}
    assert 0.85 < len(blinded) / (3 * len(truth)) < 0.95  # about 10% left empty
    path = tmp_path / "sim.csv"
    blinded.to_csv(path, index=False)
    acc = rater_accuracy(load_ratings(path, run / "packets" / "key.csv"), truth, level=0.99)
    for row, simulated in zip(acc.itertuples(index=False), accuracies, strict=True):
        assert row.ci_low <= simulated <= row.ci_high
    # same seed, same ratings; another seed, other ratings
    pd.testing.assert_frame_equal(blinded, simulate_ratings(key, truth, 3, accuracies, 0.5, 11, missing_rate=0.1))
    assert not blinded.equals(simulate_ratings(key, truth, 3, accuracies, 0.5, 12, missing_rate=0.1))


def test_error_model_tie_rate(tmp_path: Path) -> None:
    run = write_run(tmp_path, n_scenarios=40)
    key = read_key(export_packets(run, n_items=120, seed=0).key)
    truth = truth_from_key(key)
    truth["truth"] = "A"
    for tie_rate, expected in ((0.0, 0.0), (1.0, 1.0)):
        blinded = simulate_ratings(key, truth, 1, 0.0, tie_rate, seed=0)  # every rating wrong
        assert np.isclose((blinded["label"] == "tie").mean(), expected)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_raters": 0}, "n_raters"),
    ({"accuracies": (0.9, 0.8)}, "accuracies"),
    ({"accuracies": 1.5}, "accuracies"),
    ({"tie_rate": -0.1}, "tie_rate"),
    ({"missing_rate": 1.0}, "missing_rate"),
])
def test_simulation_validation(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    run = write_run(tmp_path, n_scenarios=4)
    key = read_key(export_packets(run, n_items=5, seed=0).key)
    args: dict[str, object] = {"n_raters": 3, "accuracies": 0.8, "tie_rate": 0.2, "seed": 0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        simulate_ratings(key, truth_from_key(key), **args)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cover exactly"):
        simulate_ratings(key, truth_from_key(key).iloc[1:], 1, 0.8, 0.2, 0)

"""Agreement between judges of one verdict table: kappa against scikit-learn, AC1, the command's table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from harness.calibration import JUDGE_AGREEMENT_COLUMNS, judge_agreement_main, judges_agreement
from harness.core import InputError
from harness.stats import combine_orders


def _verdicts(labels: dict[str, list[str]]) -> pd.DataFrame:
    rows = []
    for judge, outs in labels.items():
        for i, v in enumerate(outs):
            for order in ("ab", "ba"):
                rows.append({"run": "r", "judge_model": judge, "judge_kind": "llm", "judge_mode": "persona",
                             "candidate_a": "X", "candidate_b": "Y", "scenario_id": f"s{i}", "persona_id": "",
                             "criterion": "empathy", "order": order, "verdict": v, "combined": combine_orders(v, v)})
    return pd.DataFrame(rows)


def test_kappa_matches_scikit_learn_and_unscored_is_missing() -> None:
    rng = np.random.default_rng(0)
    first = rng.choice(["A", "B", "tie"], size=60).tolist()
    second = [v if rng.random() < 0.7 else str(rng.choice(["A", "B", "tie"])) for v in first]
    second[0] = "unscored"  # left out of both judges' units
    table = judges_agreement(_verdicts({"j1": first, "j2": second}))
    assert list(table.columns) == list(JUDGE_AGREEMENT_COLUMNS) and len(table) == 1
    row = table.iloc[0]
    assert row["n"] == 59
    assert row["kappa"] == pytest.approx(cohen_kappa_score(first[1:], second[1:], labels=["A", "B", "tie"]))
    assert row["kappa_low"] < row["kappa"] < row["kappa_high"]
    assert row["agreement"] == pytest.approx(np.mean(np.array(first[1:]) == np.array(second[1:])))
    assert row["ac1_low"] < row["ac1"] < row["ac1_high"]


def test_command_writes_the_table(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    _verdicts({"j1": ["A", "B", "A", "tie"], "j2": ["A", "B", "B", "tie"]}).to_parquet(run / "verdicts.parquet")
    text = judge_agreement_main(run)
    assert "j1/llm/persona vs j2/llm/persona: n=4, agreement 75.0%" in text
    assert (run / "tables" / "judge_agreement.csv").is_file()
    _verdicts({"j1": ["A", "B"]}).to_parquet(run / "verdicts.parquet")
    assert "one judge per criterion" in judge_agreement_main(run)
    with pytest.raises(InputError):
        judge_agreement_main(tmp_path / "missing")

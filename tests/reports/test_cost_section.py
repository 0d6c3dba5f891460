"""The report's cost section: tokens and dollars per role and model; unpriced is never $0; model text escaped."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from harness.inputs import ModelPrice
from reports._cost import cost_section


def _data(tmp_path: Path, cost: pd.DataFrame | None) -> SimpleNamespace:
    if cost is not None:
        (tmp_path / "tables").mkdir()
        cost.to_parquet(tmp_path / "tables" / "cost.parquet")
    return SimpleNamespace(run_dir=tmp_path, has=lambda name: False, table=lambda name: pd.DataFrame())


def test_cost_rows_total_and_escaping(tmp_path: Path) -> None:
    price = ModelPrice(input=2.5, output=10.0)
    # judge: 2,000,000 in x $2.50/M + 100,000 out x $10/M = $5 + $1 = $6, halved in batch mode = $3.00
    cost = pd.DataFrame([
        {"role": "judge", "model": "openai/gpt-4o", "input_tokens": 2_000_000, "output_tokens": 100_000,
         "batch": True, "cost_usd": price.cost(2_000_000, 100_000, batch=True)},
        {"role": "candidate", "model": "openai-api/x/<script>alert(1)</script>", "input_tokens": 10,
         "output_tokens": 5, "batch": False, "cost_usd": math.nan}])
    html = str(cost_section(_data(tmp_path, cost)))  # type: ignore[arg-type]
    assert "$3.00" in html and "no price" in html and "$0.00" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "2,000,000" in html and "for the 1 priced of 2 rows" in html and ">batch<" in html


def test_no_cost_table_says_so(tmp_path: Path) -> None:
    html = str(cost_section(_data(tmp_path, None)))  # type: ignore[arg-type]
    assert "No token counts" in html

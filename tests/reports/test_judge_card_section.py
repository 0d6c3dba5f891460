"""The report shows the judge card (validity on human labels) or says plainly that there is none (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from reports._sections import _judge_card


def test_no_card_says_not_validated(tmp_path: Path) -> None:
    html = str(_judge_card(SimpleNamespace(run_dir=tmp_path)))  # type: ignore[arg-type]
    assert "Judge card: none" in html and "not been validated" in html


def test_card_rows_show_status_accuracy_and_baseline(tmp_path: Path) -> None:
    card = {"sets": [{"name": "epitome", "n": 554}], "criteria": {"empathy": {
        "status": "not better than a trivial baseline",
        "sets": [{"set": "epitome", "n": 554, "accuracy": 0.54, "ci": [0.51, 0.58], "best_baseline": "longer_wins",
                  "baselines": {"longer_wins": 0.66}, "length_matched": {"n": 56, "accuracy": 0.55}}]},
        "safety": {"status": "not validated", "sets": []}}}
    (tmp_path / "judge_card.json").write_text(json.dumps(card))
    html = str(_judge_card(SimpleNamespace(run_dir=tmp_path)))  # type: ignore[arg-type]
    assert "not better than a trivial baseline" in html and "longer_wins 66.0%" in html
    assert "54.0" in html and "[51.0, 58.0]" in html and "not validated" in html

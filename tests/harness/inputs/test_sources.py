"""Scenario sources: Hugging Face datasets, the EPITOME split of the paper, the survey CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.core import InputError
from harness.inputs import epitome_split, load_personas_file, resolve_scenarios
from tests.support import EPITOME, REPO, requires_shared


def test_hf_dataset_folder(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list([{"id": "q1", "text": "I feel alone.", "risk": "low", "extra": 1},
                                     {"id": "q2", "text": "Work is too much.", "risk": "none", "extra": 2}])
    ds.save_to_disk(str(tmp_path / "ds"))
    scen = resolve_scenarios(f"hf:{tmp_path / 'ds'}")
    assert [s.id for s in scen] == ["q1", "q2"] and scen[0].risk == "low"
    datasets.Dataset.from_list([{"question": "x"}]).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(InputError, match=r"columns = \['question'\]: missing column\(s\) \['id', 'text'\]"):
        resolve_scenarios(f"hf:{tmp_path / 'bad'}")


@requires_shared("data/epitome/emotional-reactions-reddit.csv")  # EPITOME is not shipped
def test_epitome_split_matches_the_paper_sizes() -> None:
    train, test = epitome_split(EPITOME, "train"), epitome_split(EPITOME, "test")
    assert (len(train), len(test)) == (2379, 600)  # 2,979 posts, the paper's data/prepare_dataset.py sizes
    assert not {s.id for s in train} & {s.id for s in test}
    assert [s.id for s in epitome_split(EPITOME, "test")] == [s.id for s in test]  # seeded: reproducible


def test_epitome_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="emotional-reactions-reddit.csv: path"):
        resolve_scenarios(f"epitome:{tmp_path}:test")


def test_personas_from_survey_cli(tmp_path: Path) -> None:
    survey = REPO / "harness" / "inputs" / "data" / "survey.csv"
    out = tmp_path / "p.jsonl"
    assert main(["personas", "from-survey", str(survey), "-o", str(out)]) == 0
    personas = load_personas_file(out)
    assert len(personas) >= 30 and personas[0].id == "persona_001"
    assert main(["personas", "show", "persona_001", "--personas", str(out), "--judge"]) == 0

"""Ratings import: every bad input is a one-line InputError naming file, field and value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.calibration import export_packets, load_ratings, read_key
from harness.core import InputError
from tests.support.calibration import write_run


@pytest.fixture
def packet(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    run = write_run(tmp_path)
    paths = export_packets(run, n_items=10, seed=0)
    return paths.key, read_key(paths.key)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _good_rows(key: pd.DataFrame) -> str:
    first, second = key["item_id"].iloc[0], key["item_id"].iloc[1]
    return (f"{first},clin-01,empathy,A\n{first},clin-02,empathy,b\n{second},clin-01,safety,Tie\n"
            f"{second},,overall,\n")  # last: an unfilled template row (skipped)


def test_good_file_loads_case_insensitively(packet: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    key_path, key = packet
    path = _write(tmp_path / "r.csv", "\ufeffitem_id,rater_id,criterion,label,notes\n" + _good_rows(key))
    ratings = load_ratings(path, key_path)
    assert len(ratings) == 3
    assert sorted(ratings["label"]) == ["A", "B", "tie"]
    # a folder of per-clinician files is read together
    folder = tmp_path / "returned"
    folder.mkdir()
    first = key["item_id"].iloc[0]
    _write(folder / "clin-01.csv", f"item_id,rater_id,criterion,label\n{first},clin-01,empathy,A\n")
    _write(folder / "clin-02.csv", f"item_id,rater_id,criterion,label\n{first},clin-02,empathy,B\n")
    assert sorted(load_ratings(folder, key_path)["rater_id"]) == ["clin-01", "clin-02"]


@pytest.mark.parametrize(("body", "field", "value", "problem"), [
    ("item-9999,clin-01,empathy,A\n", "line 2 item_id", "item-9999", "unknown item"),
    ("{item},clin-01,empathy,maybe\n", "line 2 label", "maybe", "not a label"),
    ("{item},clin-01,warmth,A\n", "line 2 criterion", "warmth", "unknown criterion"),
    ("{item},,empathy,A\n", "line 2 rater_id", "", "missing rater id"),
    ("{item},clin-01,empathy,A\n{item},clin-01,empathy,B\n", "line 3 rater_id", "clin-01", "twice"),
    ("{item},,empathy,\n", "label", "", "no rating"),
])
def test_bad_rows(packet: tuple[Path, pd.DataFrame], tmp_path: Path, body: str, field: str, value: str,
                  problem: str) -> None:
    key_path, key = packet
    path = _write(tmp_path / "r.csv", "item_id,rater_id,criterion,label\n" + body.format(item=key["item_id"].iloc[0]))
    with pytest.raises(InputError) as err:
        load_ratings(path, key_path)
    e = err.value
    assert (e.file, e.field, e.value) == (str(path), field, value)
    assert problem in str(e) and "Fix:" in str(e) and "\n" not in str(e)


def test_wrong_columns_and_empty_file(packet: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    key_path, _ = packet
    wrong = _write(tmp_path / "wrong.csv", "item,rater,criterion,preference\nitem-0001,c,empathy,A\n")
    with pytest.raises(InputError) as err:
        load_ratings(wrong, key_path)
    assert (err.value.file, err.value.field) == (str(wrong), "columns")
    assert err.value.value == ["item_id", "rater_id", "label"]
    empty = _write(tmp_path / "empty.csv", "")
    with pytest.raises(InputError) as err:
        load_ratings(empty, key_path)
    assert (err.value.file, err.value.field) == (str(empty), "ratings")
    with pytest.raises(InputError, match="ratings file not found"):
        load_ratings(tmp_path / "nope.csv", key_path)
    with pytest.raises(InputError, match="no .csv file"):
        (tmp_path / "void").mkdir()
        load_ratings(tmp_path / "void", key_path)


def test_missing_or_mismatched_key(packet: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    key_path, key = packet
    ratings = _write(tmp_path / "r.csv", "item_id,rater_id,criterion,label\n" + _good_rows(key))
    missing = tmp_path / "no-key.csv"
    with pytest.raises(InputError) as err:
        load_ratings(ratings, missing)
    assert (err.value.file, err.value.field, err.value.value) == (str(missing), "key", str(missing))
    assert "theraeval packets" in str(err.value)
    not_a_key = _write(tmp_path / "not-key.csv", "item_id,label\nitem-0001,A\n")
    with pytest.raises(InputError) as err:
        load_ratings(ratings, not_a_key)
    assert err.value.field == "columns" and "run" in err.value.value
    doubled = pd.concat([key, key.iloc[:1]])
    doubled.to_csv(tmp_path / "doubled.csv", index=False)
    with pytest.raises(InputError, match="item listed twice"):
        load_ratings(ratings, tmp_path / "doubled.csv")
    edited = key.copy()
    edited.loc[0, "shown_as_a"] = "someone-else"
    edited.to_csv(tmp_path / "edited.csv", index=False)
    with pytest.raises(InputError) as err:
        load_ratings(ratings, tmp_path / "edited.csv")
    assert err.value.field == "line 2 shown_as_a" and err.value.value == "someone-else"
    # ratings of another packet: its item ids are not in this key
    other = _write(tmp_path / "other.csv", "item_id,rater_id,criterion,label\nitem-0042,clin-01,empathy,A\n")
    with pytest.raises(InputError, match="unknown item"):
        load_ratings(other, key_path)

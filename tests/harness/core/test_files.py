"""harness.core: the one log-location helper and the one atomic writer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.core import atomic_write_parquet, atomic_write_text, local_path


@pytest.mark.parametrize("name", ["plain.eval", "with space.eval", "100%25 done.eval", "ü-ünïcode.eval"])
def test_local_path_decodes_file_uris_of_awkward_names(tmp_path: Path, name: str) -> None:
    # inspect reports re-read logs as file:// URIs, percent-encoded (Path.as_uri encodes ' ' as %20, '%' as %25);
    # the old preference reader stripped "file://" without decoding, so a space or '%' in a run path broke it
    target = tmp_path / "run dir" / name
    target.parent.mkdir()
    target.write_text("x")
    uri = target.as_uri()
    assert "%" in uri  # the URI really is encoded (a space in the folder name at least)
    assert local_path(uri) == target.resolve()
    assert local_path(str(target)) == target.resolve()
    assert local_path(uri).read_text() == "x"


def test_atomic_writes_leave_no_temporary_file_and_replace_whole(tmp_path: Path) -> None:
    path = tmp_path / "summary.txt"
    atomic_write_text(path, "first\n")
    atomic_write_text(path, "second\n")
    assert path.read_text(encoding="utf-8") == "second\n"
    table = tmp_path / "t.parquet"
    atomic_write_parquet(pd.DataFrame({"a": [1, 2]}), table)
    assert pd.read_parquet(table)["a"].tolist() == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.txt", "t.parquet"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "table.parquet"
    atomic_write_parquet(pd.DataFrame({"a": [1]}), path)
    with pytest.raises(Exception):  # noqa: B017 - any pyarrow error: an object column it cannot convert
        atomic_write_parquet(pd.DataFrame({"a": [object()]}), path)
    assert pd.read_parquet(path)["a"].tolist() == [1]

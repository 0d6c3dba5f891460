"""The report's judge-directed-text section renders ``tables/injection`` (written by the leaderboard) and only it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.leaderboard import INJECTION_COLUMNS, write_leaderboard
from reports import render_report
from reports._data import LEADERBOARD_TABLES, load_run
from tests.support.reports import synthetic_run


def _html(run: Path) -> str:
    return render_report(run).read_text(encoding="utf-8")


def test_injection_section_shows_the_leaderboard_table_and_nothing_recomputed(tmp_path: Path) -> None:
    run = synthetic_run(tmp_path, agreement=False)
    # flag candidate_a's text in the first scenario's comparisons, then rebuild the tables
    v = pd.read_parquet(run / "verdicts.parquet")
    v["injection_a"] = v["scenario_id"] == v["scenario_id"].iloc[0]
    v.to_parquet(run / "verdicts.parquet", index=False)
    write_leaderboard(run, n_boot=20)
    assert "injection" in LEADERBOARD_TABLES
    written = pd.read_parquet(run / "tables" / "injection.parquet")
    assert list(written.columns) == list(INJECTION_COLUMNS) and not written.empty
    html = _html(run)
    assert 'id="injection-table"' in html and 'id="injection-note"' in html
    for r in written.itertuples(index=False):
        assert f"<td>{r.candidate}</td><td>{r.dialogues_flagged}/{r.dialogues_total}</td>" in html
        assert f">{r.wins}\u2013{r.ties}\u2013{r.losses}</td>" in html

    # a hand-written table with numbers the verdicts cannot give: the page shows exactly these
    pd.DataFrame([{"candidate": "cand-1", "dialogues_flagged": 2, "dialogues_total": 5, "patterns": "fake_fence",
                   "comparisons": 7, "h2h": 9, "wins": 1, "ties": 2, "losses": 3, "unscored": 4}],
                 columns=list(INJECTION_COLUMNS)).to_parquet(run / "tables" / "injection.parquet", index=False)
    html = _html(run)
    body = html[html.index('id="injection-table"'):]
    body = body[:body.index("</table>")]
    assert "<td>cand-1</td><td>2/5</td><td>fake_fence</td>" in body and ">1\u20132\u20133</td>" in body
    assert 'data-v="7" class="num">7</td>' in body and 'data-v="4" class="num">4</td>' in body
    assert "cand-0" not in body and "cand-2" not in body
    assert "cand-1 in 7 comparisons (fake_fence)" in html

    # no flagged candidate: the empty message, no notice
    pd.DataFrame({c: pd.Series(dtype="int64" if c not in ("candidate", "patterns") else object)
                  for c in INJECTION_COLUMNS}).to_parquet(run / "tables" / "injection.parquet", index=False)
    html = _html(run)
    assert 'id="injection-none"' in html and "injection-table" not in html and "injection-note" not in html

    # no table: the section says so (it does not recompute from the verdicts or transcripts)
    (run / "tables" / "injection.parquet").unlink()
    (run / "tables" / "injection.csv").unlink()
    assert "missing table tables/injection.parquet" in load_run(run).warnings
    html = _html(run)
    assert 'id="injection-missing"' in html and "tables/injection.parquet is missing" in html
    assert "injection-table" not in html and "injection-note" not in html and "injection-none" not in html

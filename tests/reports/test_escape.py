"""Fast checks (no browser) of the report's escaping helpers, data islands and rendered files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.core import InputError
from reports import render_report
from reports._escape import Safe, esc, json_for_script, json_island, plot_text
from reports._html import el, frag
from reports._transcripts import data_file
from tests.support.reports import XSS, synthetic_run


def test_esc_escapes_markup_and_quotes() -> None:
    assert esc('<b a="1">&\'') == "&lt;b a=&quot;1&quot;&gt;&amp;&#x27;"
    assert esc(None) == ""
    assert esc(Safe("<i>ok</i>")) == "<i>ok</i>"


def test_el_escapes_children_and_attributes() -> None:
    html = el("td", XSS, title='"><script>x()</script>', data_v="1")
    assert "<script>" not in html and "<img" not in html and "</textarea>" not in html
    assert html.startswith('<td title="&quot;&gt;&lt;script&gt;') and 'data-v="1"' in html
    assert el("p", el("b", "x"), "<y>") == "<p><b>x</b>&lt;y&gt;</p>"
    assert frag("<", Safe("<br>")) == "&lt;<br>"
    assert el("input", hidden=True, disabled=False) == "<input hidden>"
    with pytest.raises(ValueError):
        el("td", onclick="x")
    with pytest.raises(ValueError):
        el("td", **{"data v": "y"})
    with pytest.raises(ValueError):
        el("scr ipt")


def test_json_island_cannot_be_broken_out_of() -> None:
    payload = {"text": "</script><script>alert(1)</script><!-- </SCRIPT > \u2028 & >", "n": float("nan")}
    island = json_island("data", payload)
    inner = island[len('<script type="application/json" id="data">'):-len("</script>")]
    assert "<" not in inner and ">" not in inner and "&" not in inner
    assert island.count("</script>") == 1 and island.lower().count("<script") == 1
    assert "\u2028" not in inner
    assert json.loads(inner) == {"text": payload["text"], "n": None}  # exact round trip; NaN -> null
    assert json.loads(json_for_script([1.5, "é"])) == [1.5, "é"]


def test_data_file_and_plot_text() -> None:
    text = data_file("s3", {"t": "</script>"})
    assert text.startswith('__theraeval_data("s3",') and "</script>" not in text
    with pytest.raises(ValueError):
        data_file('x");alert(1);("', {})
    assert plot_text("<a href='javascript:x'>b</a>") == "&lt;a href='javascript:x'&gt;b&lt;/a&gt;"


def test_rendered_files_hold_no_live_markup_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-THIS-MUST-NOT-APPEAR-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    run = synthetic_run(tmp_path)
    index = render_report(run)
    assert index == run / "report" / "index.html"
    # downloads/ holds byte-for-byte copies of the run's data files (CSV, parquet): data, never parsed as a page
    files = [p for p in (run / "report").rglob("*")
             if p.is_file() and p.name != "plotly.min.js" and "downloads" not in p.relative_to(run).parts]
    for name in ("verdicts.parquet", "transcripts.parquet", "table.csv"):
        src = run / name if name.endswith(".parquet") else run / "tables" / name
        assert (run / "report" / "downloads" / name).read_bytes() == src.read_bytes()
    assert any(p.name == "index.js" for p in files) and any(re.fullmatch(r"s\d+\.js", p.name) for p in files)
    for p in files:
        text = p.read_text(encoding="utf-8")
        assert secret not in text, p
        assert "<script>window.__pwned" not in text, p
        assert "<img src=x" not in text, p
        assert "</textarea>" not in text, p
    html = index.read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=1" in html  # criterion names carry the payload, as text
    # every <script> of the page is ours: the external report.js and the JSON data island
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="assets/report.js">', '<script type="application/json" id="figures">']
    assert "https://" not in html and "cdn" not in html.lower()
    assert (run / "report" / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    # calibration marks and the agreement panel come from the fake clinician tables
    assert "judge NOT calibrated" in html and 'id="judge-gate-table"' in html


def test_no_clinician_ratings_and_bad_run_dir(tmp_path: Path) -> None:
    run = synthetic_run(tmp_path, agreement=False)
    html = render_report(run, out_dir=tmp_path / "out").read_text(encoding="utf-8")
    assert "no clinician ratings" in html.lower() and 'id="no-ratings"' in html
    assert (tmp_path / "out" / "assets" / "data" / "index.js").is_file()
    with pytest.raises(InputError):
        render_report(tmp_path / "missing")


def test_report_without_tables_is_an_error_naming_the_leaderboard(tmp_path: Path) -> None:
    # the report reads tables and never writes upstream outputs: no tables -> one clear error, nothing written
    run = synthetic_run(tmp_path, agreement=False)
    for p in (run / "tables").iterdir():
        p.unlink()
    with pytest.raises(InputError, match="theraeval leaderboard"):
        render_report(run)
    assert not any((run / "tables").iterdir())
    assert not (run / "report").exists()

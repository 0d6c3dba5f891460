"""The report's layout, downloads, URL state, search, truncation and gate marks, and the multi-run page, in a real
headless Chromium opened from file:// (the shared session driver; widths set with the DevTools protocol)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

from harness.cli import main
from harness.core import InputError
from reports import render_comparison, render_report
from tests.reports.test_browser import _open, _open_transcripts, _severe, _visible_candidates, _wait
from tests.support.reports import XSS, synthetic_run

OVERFLOW_JS = """
const vw = document.documentElement.clientWidth, out = [];
function scrolls(e) {
  for (let p = e.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
  }
  return false;
}
for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || e.id === 'js-plotly-tester') continue;  // plotly's off-screen probe
  if ((r.right > vw + 0.5 || r.left < -0.5) && !scrolls(e))
    out.push(`${e.tagName}#${e.id}.${e.className} ${r.left}..${r.right}`);
}
return {vw: vw, page: document.documentElement.scrollWidth, wide: out.slice(0, 10)};
"""
"""Every laid-out element that sticks out of the viewport without a scrolling (or clipping) ancestor."""


@pytest.fixture
def width(driver: Any) -> Iterator[Any]:
    """Set the viewport width (CSS px) for one test; the driver's own window size comes back afterwards."""
    def set_width(w: int) -> None:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": w, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    yield set_width
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _assert_fits(driver: Any, w: int) -> None:
    got = driver.execute_script(OVERFLOW_JS)
    assert w - 20 <= got["vw"] <= w  # the viewport is what we set (less a scrollbar)
    assert got["wide"] == [], f"at {w}px these stick out of the page: {got['wide']}"
    assert got["page"] <= got["vw"], f"the page scrolls sideways at {w}px ({got['page']} > {got['vw']})"


def test_leaderboard_layout_downloads_url_truncation_and_gate(real_run: Path, driver: Any, width: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    index = render_report(real_run)
    for w in (1400, 390):
        width(w)
        _open(driver, index)
        _assert_fits(driver, w)
        lb = driver.find_element(By.ID, "lb-table")
        wrap = lb.find_element(By.XPATH, "..")
        assert "table-wrap" in wrap.get_attribute("class")
        if w == 390:  # the table is wider than the phone: it scrolls inside its container, the page does not
            assert driver.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", wrap)
        assert _severe(driver) == []

    # every download link resolves to a file in the report folder, a byte-for-byte copy of the run's file
    links = driver.find_elements(By.CSS_SELECTOR, "a[download]")
    hrefs = {a.get_attribute("href") for a in links}
    assert len(hrefs) >= 10
    for href in hrefs:
        path = Path(unquote(urlparse(href).path))
        assert path.is_file() and path.parent == index.parent / "downloads", href
    names = {Path(unquote(urlparse(h).path)).name for h in hrefs}
    assert {"table.csv", "gate.csv", "bias.csv", "verdicts.parquet", "transcripts.parquet"} <= names
    assert (index.parent / "downloads" / "table.csv").read_bytes() == (real_run / "tables" / "table.csv").read_bytes()

    # the criterion survives a reload through the URL
    Select(driver.find_element(By.ID, "lb-criterion")).select_by_value("safety")
    assert "criterion=safety" in driver.current_url
    driver.refresh()
    _wait(driver, lambda d: d.execute_script("return performance.getEntriesByName('theraeval:ready').length") > 0,
          "the page after a reload")
    assert Select(driver.find_element(By.ID, "lb-criterion")).first_selected_option.get_attribute("value") == "safety"
    rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#lb-table tbody tr") if r.is_displayed()]
    assert len(rows) == 4 and {r.get_attribute("data-criterion") for r in rows} == {"safety"}
    assert driver.find_element(By.CSS_SELECTOR, ".plot[data-group='forest']").get_attribute("data-key") == "safety"

    # safety-gated candidates: marked in the ranking, the rule stated, listed last on request
    gate = pd.read_parquet(real_run / "tables" / "gate.parquet")
    gated = set(gate.loc[gate["flagged"], "candidate"])
    assert gated and gated != set(gate["candidate"])
    assert "below 0.4" in driver.find_element(By.ID, "gate-rule").text
    marked = {r.get_attribute("data-v") for r in driver.find_elements(By.CSS_SELECTOR, "#lb-table tr[data-gated] th")
              if r.is_displayed()}
    assert marked == gated
    driver.find_element(By.ID, "lb-gated-last").click()
    order = _visible_candidates(driver, "#lb-table")
    assert set(order[-len(gated):]) == gated and set(order[:-len(gated)]) == set(gate["candidate"]) - gated
    driver.find_element(By.ID, "lb-gated-last").click()  # back to the Bradley-Terry order
    table = pd.read_parquet(real_run / "tables" / "table.parquet")
    assert _visible_candidates(driver, "#lb-table") == table.loc[table["criterion"] == "safety", "candidate"].tolist()

    # replies cut at the token limit (verbose runs with max_tokens = 40): flagged in the index and on the cards
    tr = pd.read_parquet(real_run / "transcripts.parquet")
    assert set(tr.loc[tr["truncated_turns"] > 0, "candidate"]) == {"verbose"}
    assert "verbose" in driver.find_element(By.ID, "truncation-note").text
    _open_transcripts(driver)
    driver.find_element(By.ID, "tb-cut").click()
    v = pd.read_parquet(real_run / "verdicts.parquet")
    h2h = v.drop_duplicates(["candidate_a", "candidate_b", "scenario_id", "persona_id", "judge_model"])
    expected = int(((h2h["candidate_a"] == "verbose") | (h2h["candidate_b"] == "verbose")).sum())
    _wait(driver, lambda d: f"{expected} matching" in d.find_element(By.CSS_SELECTOR, ".tb-status").text,
          f"{expected} comparisons with a cut reply")
    cards = driver.find_elements(By.CSS_SELECTOR, "#tb-list article.cmp")
    assert cards and all("verbose: reply cut at the token limit" in c.find_element(By.TAG_NAME, "header").text
                         for c in cards)
    assert _severe(driver) == []


def test_search_finds_planted_phrase_in_dialogues_and_rationales(real_run: Path, tmp_path: Path, driver: Any,
                                                                 width: Any) -> None:
    from selenium.webdriver.common.by import By

    width(1300)
    _open(driver, render_report(real_run))
    _open_transcripts(driver)
    # the crisis scenario's opening line is in the dialogues of that scenario only
    phrase = "thinking about ENDING it"
    v = pd.read_parquet(real_run / "verdicts.parquet")
    h2h = v.drop_duplicates(["candidate_a", "candidate_b", "scenario_id", "persona_id", "judge_model"])
    expected = int((h2h["scenario_id"] == "s-crisis").sum())
    assert 0 < expected < len(h2h)
    driver.find_element(By.ID, "tb-text").send_keys(phrase)
    _wait(driver, lambda d: f"found in {expected})" in d.find_element(By.CSS_SELECTOR, ".tb-status").text,
          f"{expected} comparisons holding the phrase")
    cards = driver.find_elements(By.CSS_SELECTOR, "#tb-list article.cmp")
    assert cards and {c.find_element(By.TAG_NAME, "h3").text for c in cards} == {"s-crisis"}
    hits = driver.find_elements(By.CSS_SELECTOR, "#tb-list mark")
    assert hits and {h.text.lower() for h in hits} == {phrase.lower()}
    driver.find_element(By.ID, "tb-text").clear()
    driver.find_element(By.ID, "tb-text").send_keys("no such phrase anywhere 1234")
    _wait(driver, lambda d: "no comparison matches" in d.find_element(By.CSS_SELECTOR, ".tb-status").text,
          "an empty search result")

    # judge rationales are searched too, and the XSS they carry stays text inside the <mark> highlighting
    run = synthetic_run(tmp_path)
    _open(driver, render_report(run))
    _open_transcripts(driver)
    sv = pd.read_parquet(run / "verdicts.parquet")
    with_reason = sv[sv["judge_reason"].str.contains("__pwned", regex=False)]
    expected = len(with_reason.drop_duplicates(["candidate_a", "candidate_b", "scenario_id", "persona_id",
                                                "judge_model"]))
    driver.find_element(By.ID, "tb-text").send_keys("window.__pwned=1")
    _wait(driver, lambda d: f"found in {expected})" in d.find_element(By.CSS_SELECTOR, ".tb-status").text,
          f"{expected} comparisons whose rationales hold the payload")
    assert XSS in driver.find_element(By.ID, "tb-list").text
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.execute_script("return document.querySelectorAll('#tb-list img, #tb-list script, "
                                 "#tb-list b, #tb-list textarea').length") == 0
    assert _severe(driver) == []


def test_multi_run_page(tmp_path: Path, driver: Any, width: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    a = synthetic_run(tmp_path / "a")
    b = tmp_path / "runs" / "other-judge"
    shutil.copytree(synthetic_run(tmp_path / "b", seed=1), b)
    out = tmp_path / "compare"
    assert main(["report", str(a), str(b), "--out", str(out)]) == 0
    index = out / "index.html"
    html = index.read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned=1" in html  # criterion names
    assert not (out / "assets" / "plotly.min.js").exists()  # no plots: the page stays small
    for w in (1400, 390):
        width(w)
        driver.get_log("browser")
        driver.get(index.as_uri())
        _wait(driver, lambda d: d.execute_script("return performance.getEntriesByName('theraeval:ready').length") > 0,
              "the comparison page")
        _assert_fits(driver, w)
        assert _severe(driver) == []
    # each run's provenance: its name and the hash of its config snapshot
    cards = driver.find_elements(By.CSS_SELECTOR, "#runs article.run-card")
    assert len(cards) == 2
    for card, run in zip(cards, (a, b), strict=True):
        assert run.name in card.text
        assert hashlib.sha256((run / "inputs" / "config.toml").read_bytes()).hexdigest() in card.text
        assert "Judge card" in card.text
    # candidates aligned by name; the differences are the second run's win rate minus the first's
    ta, tb = (pd.read_parquet(r / "tables" / "table.parquet") for r in (a, b))
    Select(driver.find_element(By.ID, "lb-criterion")).select_by_value("empathy")
    assert "criterion=empathy" in driver.current_url
    rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#lb-table tbody tr") if r.is_displayed()]
    assert sorted(r.find_element(By.TAG_NAME, "th").get_attribute("data-v") for r in rows) == sorted(
        ta.loc[ta["criterion"] == "empathy", "candidate"])
    diff = driver.find_element(By.CSS_SELECTOR, "table.diff-table")
    heads = [h.text.split(" ")[0] for h in diff.find_elements(By.CSS_SELECTOR, "thead th")]
    col = heads.index("empathy")
    for row in diff.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cand = row.find_element(By.TAG_NAME, "th").get_attribute("data-v")
        wa = float(ta.loc[(ta["criterion"] == "empathy") & (ta["candidate"] == cand), "win_rate"].iloc[0])
        wb = float(tb.loc[(tb["criterion"] == "empathy") & (tb["candidate"] == cand), "win_rate"].iloc[0])
        cell = row.find_elements(By.CSS_SELECTOR, "th, td")[col]
        assert float(cell.get_attribute("data-v")) == pytest.approx(wb - wa, abs=1e-9)
        assert "rank" in cell.text
    assert driver.execute_script("return typeof window.__pwned") == "undefined"


def test_comparison_bad_input(tmp_path: Path) -> None:
    a = synthetic_run(tmp_path)
    with pytest.raises(InputError, match="at least two runs"):
        render_comparison([a], tmp_path / "out")
    with pytest.raises(InputError, match="listed twice"):
        render_comparison([a, tmp_path / "synthetic" / ".." / "synthetic"], tmp_path / "out")
    with pytest.raises(InputError, match="theraeval leaderboard"):
        render_comparison([a, tmp_path], tmp_path / "out")
    assert main(["report", str(a), str(a), "--gated-last"]) == 2
    assert not (tmp_path / "out").exists()

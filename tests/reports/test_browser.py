"""The rendered report in a real headless Chromium, opened from file://."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from reports import render_report
from tests.support import REPO
from tests.support.reports import XSS, synthetic_run

WAIT_S = 30


def _mark(driver: Any, name: str) -> int:
    return int(driver.execute_script(f"return performance.getEntriesByName('{name}').length"))


def _wait(driver: Any, predicate: Any, what: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_S, poll_frequency=0.05).until(predicate, message=f"timed out waiting for {what}")


def _open(driver: Any, index: Path) -> None:
    driver.get_log("browser")  # drop entries of an earlier page
    driver.get(index.as_uri())
    _wait(driver, lambda d: _mark(d, "theraeval:plots-drawn") > 0, "every plot to be drawn")


def _severe(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _visible_candidates(driver: Any, table: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [r.find_element(By.CSS_SELECTOR, "th").get_attribute("data-v") for r in
            driver.find_elements(By.CSS_SELECTOR, f"{table} tbody tr") if r.is_displayed()]


def _open_transcripts(driver: Any) -> None:
    before = _mark(driver, "theraeval:transcripts-page")
    driver.execute_script("document.getElementById('transcripts').scrollIntoView();")
    _wait(driver, lambda d: _mark(d, "theraeval:transcripts-page") > before, "a transcript page")


def test_real_run_report_in_chromium(real_run: Path, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    index = render_report(real_run)  # reads the tables `theraeval leaderboard` wrote
    assert (real_run / "tables" / "table.parquet").is_file()
    _open(driver, index)
    title = driver.title
    assert title.startswith("theraeval report")

    # leaderboard: one visible row per candidate for the default criterion (pooled "all")
    names = _visible_candidates(driver, "#lb-table")
    assert sorted(names) == ["crisis-aware", "verbose", "warm", "xss"]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#lb-table tbody tr")) > len(names)  # other criteria hidden

    # clicking a header re-sorts: candidate ascending, then descending
    header = driver.find_element(By.CSS_SELECTOR, "#lb-table thead th[data-type='text'] button")
    assert header.text.startswith("candidate")
    header.click()
    assert _visible_candidates(driver, "#lb-table") == sorted(names)
    header.click()
    assert _visible_candidates(driver, "#lb-table") == sorted(names, reverse=True)
    win = driver.find_elements(By.CSS_SELECTOR, "#lb-table thead th[data-type='num'] button")[1]
    assert win.text.startswith("win %")
    win.click()  # numeric columns start descending
    rates = [float(r.find_elements(By.CSS_SELECTOR, "td")[1].get_attribute("data-v"))
             for r in driver.find_elements(By.CSS_SELECTOR, "#lb-table tbody tr") if r.is_displayed()]
    assert rates == sorted(rates, reverse=True) and rates[0] > rates[-1]

    # criterion picker swaps the visible rows
    Select(driver.find_element(By.ID, "lb-criterion")).select_by_value("safety")
    rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#lb-table tbody tr") if r.is_displayed()]
    assert len(rows) == 4 and {r.get_attribute("data-criterion") for r in rows} == {"safety"}
    assert "safety" in driver.find_element(By.ID, "lb-caption").text

    # plotly drew every figure slot
    plots = driver.find_elements(By.CSS_SELECTOR, ".plot.js-plotly-plot")
    assert len(plots) >= 6 and len(driver.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")) >= 6
    Select(driver.find_element(By.CSS_SELECTOR, "select.fig-picker[data-group='forest']")).select_by_value("safety")
    assert driver.find_element(By.CSS_SELECTOR, ".plot[data-group='forest']").get_attribute("data-key") == "safety"

    # transcript browser: the XSS payload is shown as text and never ran
    _open_transcripts(driver)
    Select(driver.find_element(By.ID, "tb-candidate")).select_by_visible_text("xss")
    _wait(driver, lambda d: XSS in d.find_element(By.ID, "tb-list").text, "the payload as literal text")
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.title == title
    assert driver.execute_script("return document.querySelectorAll('#tb-list img, #tb-list b, "
                                 "#tb-list textarea, #tb-list script').length") == 0
    dialogue_texts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#tb-list .turn .text")]
    assert XSS in dialogue_texts
    cards = driver.find_elements(By.CSS_SELECTOR, "#tb-list article.cmp")
    assert 1 <= len(cards) <= 10 and all("xss" in c.find_element(By.CSS_SELECTOR, ".pair").text for c in cards)
    # the criterion filter keeps one verdict row per card, with both orders' rationales
    Select(driver.find_element(By.ID, "tb-criterion")).select_by_visible_text("empathy \u2014 Empathy and warmth")
    _wait(driver, lambda d: all(len(c.find_elements(By.CSS_SELECTOR, "table.verdicts tbody tr")) == 1
                                for c in d.find_elements(By.CSS_SELECTOR, "#tb-list article.cmp")), "filter")
    assert "scripted keywords" in driver.find_element(By.CSS_SELECTOR, "#tb-list table.verdicts").text

    # provenance footer
    footer = driver.find_element(By.ID, "provenance").text
    assert hashlib.sha256((real_run / "inputs" / "config.toml").read_bytes()).hexdigest() in footer
    assert "scripted/judge-keywords" in footer and "scripted/therapist-crisis" in footer
    assert "no clinician ratings" in driver.find_element(By.ID, "agreement").text.lower()

    assert _severe(driver) == []
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0);")
    assert driver.save_screenshot(str(artifacts / "report.png"))


def test_agreement_panel_and_flip_filter(tmp_path: Path, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    run = synthetic_run(tmp_path)
    index = render_report(run)
    _open(driver, index)

    # agreement panel from the clinician tables; the uncalibrated criterion is marked on the leaderboard
    agreement = driver.find_element(By.ID, "agreement")
    assert "uncalibrated" in agreement.find_element(By.ID, "judge-gate-table").text
    assert len(agreement.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) == 3
    heads = {h.text: h.get_attribute("class") or "" for h in
             driver.find_elements(By.CSS_SELECTOR, "#overview-table thead th")}
    assert "safety \u26a0" in heads and "cal-uncalibrated" in heads["safety \u26a0"]
    assert "empathy \u2713" in heads
    option = driver.find_element(By.CSS_SELECTOR, "#lb-criterion option[value='safety']").text
    assert "uncalibrated" in option

    # disagreement filter: the count equals the head-to-heads with a position flip on that criterion
    verdicts = pd.read_parquet(run / "verdicts.parquet")
    h2h = verdicts.drop_duplicates(["candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion"])
    expected = int(h2h[(h2h["criterion"] == "safety") & h2h["position_flip"]].shape[0])
    assert expected > 0
    _open_transcripts(driver)
    Select(driver.find_element(By.ID, "tb-criterion")).select_by_index(2)  # 0 = all, then criteria in set order
    driver.find_element(By.ID, "tb-flips").click()
    _wait(driver, lambda d: f"{expected} matching" in d.find_element(By.CSS_SELECTOR, ".tb-status").text,
          f"{expected} flipped comparisons")
    flips = driver.find_elements(By.CSS_SELECTOR, "#tb-list table.verdicts tr.flip")
    assert flips and all("flip" in f.text for f in flips)
    # pagination: next page (5 per page) when more than one page
    Select(driver.find_element(By.ID, "tb-size")).select_by_value("5")
    if expected > 5:
        before = _mark(driver, "theraeval:transcripts-page")
        driver.find_element(By.CSS_SELECTOR, ".tb-next").click()
        _wait(driver, lambda d: _mark(d, "theraeval:transcripts-page") > before, "the next page")
        assert "page 2 of" in driver.find_element(By.CSS_SELECTOR, ".tb-status").text
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert _severe(driver) == []


"""Report size and load time at paper scale: a synthetic run of 10 candidates x 7 criteria x 600 scenarios.

Writes a synthetic run directory (inputs/, verdicts.parquet, transcripts.parquet with realistic text
lengths and non-repeating judge rationales), writes its leaderboard tables, renders the report, then opens
it from file:// in headless Chromium (selenium + /usr/bin/chromedriver; scripts/install-browser.sh) and
reports sizes and timings: DOMContentLoaded, first leaderboard row (a performance mark set by the page's
script right after the table), first plot and all plots drawn, and the transcript browser (index + first
page, next page, a filter, a full-text search).

    python benchmarks/report_size.py                       # 10 x 7 x 600, 3 browser loads
    python benchmarks/report_size.py --scenarios 60 --loads 1 --out /tmp/bench

Results are recorded in benchmarks/README.md (## Report).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.leaderboard import write_leaderboard  # noqa: E402
from harness.verdicts import COLUMNS  # noqa: E402
from reports import render_report  # noqa: E402

CRITERIA = ("empathy", "safety", "active_listening", "self_motivated_change", "trust_rapport", "patient_autonomy",
            "overall")
_WORDS = ("feel", "hear", "overwhelming", "makes sense", "safety", "support", "together", "notice", "tonight",
          "sleep", "work", "family", "breathe", "small step", "reach out", "therapist", "crisis line", "worth",
          "listen", "pressure", "options", "choose", "pace", "grief", "anxious", "exhausted", "hope", "plan")
_REASONS = ("acknowledges the person's feelings more directly", "asks about safety and gives a crisis line",
            "reflects the specific details the person shared", "offers options instead of instructions",
            "invites the person to set their own next step", "is warmer and less clinical", "is more concise",
            "misses the risk cue in the message", "jumps to advice before listening", "sounds scripted",
            "respects the person's pace", "builds rapport by being honest about limits")


def _text(rng: np.random.Generator, n_words: int) -> str:
    words = rng.choice(_WORDS, size=n_words)
    return " ".join(words).capitalize() + "."


def _reason(rng: np.random.Generator, label: str) -> str:
    parts = rng.choice(_REASONS, size=3, replace=False)
    return (f"Response {label} {parts[0]}; it also {parts[1]}, while the other {parts[2]}. "
            f"(confidence {rng.integers(50, 99)}%, {rng.integers(2, 9)} cues noted)")


def make_run(run_dir: Path, *, n_candidates: int = 10, n_scenarios: int = 600, personas_per_scenario: int = 1,
             seed: int = 0) -> dict[str, int]:
    """Write a synthetic run directory (no model calls); returns row counts."""
    rng = np.random.default_rng(seed)
    inputs = run_dir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    cands = [f"model-{i:02d}" for i in range(n_candidates)]
    cand_toml = "".join(f'\n[[candidates]]\nname = "{c}"\nmodel = "scripted/therapist-warm"\nseed = {i}\n'
                        for i, c in enumerate(cands))
    (inputs / "config.toml").write_text(
        f'[run]\nname = "{run_dir.name}"\noutput_dir = "runs"\nseed = 42\n\n[data]\npersonas_per_scenario = '
        f'{personas_per_scenario}\n\n[judge]\nmodel = "scripted/judge-keywords"\n{cand_toml}', encoding="utf-8")
    shutil.copyfile(ROOT / "scorers" / "criteria" / "therapeutic.toml", inputs / "criteria-bench.toml")
    persona_file = ROOT / "harness" / "inputs" / "data" / "personas.jsonl"
    personas = [json.loads(line) for line in persona_file.read_text().splitlines()
                if line.strip()]
    (inputs / "personas-bench.jsonl").write_text("".join(json.dumps(p) + "\n" for p in personas), encoding="utf-8")
    risks = rng.choice(["none", "low", "elevated", "crisis"], size=n_scenarios, p=[0.4, 0.35, 0.15, 0.1])
    scenarios = [{"id": f"scn-{s:04d}", "text": _text(rng, int(rng.integers(30, 90))), "risk": str(risks[s])}
                 for s in range(n_scenarios)]
    (inputs / "scenarios-bench.jsonl").write_text("".join(json.dumps(s) + "\n" for s in scenarios),
                                                  encoding="utf-8")

    quality = rng.normal(0, 1.0, size=(n_candidates, len(CRITERIA)))
    pairs = [(i, j) for i in range(n_candidates) for j in range(i + 1, n_candidates)]
    persona_ids = [str(p["id"]) for p in personas]
    rows: list[dict[str, Any]] = []
    for s, scen in enumerate(scenarios):
        chosen = [persona_ids[(s * personas_per_scenario + k) % len(persona_ids)]
                  for k in range(personas_per_scenario)]
        for persona in chosen:
            for i, j in pairs:
                for c, criterion in enumerate(CRITERIA):
                    p_a = 1 / (1 + np.exp(-(quality[i, c] - quality[j, c])))
                    u = rng.random()
                    truth = "tie" if u < 0.08 else ("A" if rng.random() < p_a else "B")
                    ab, ba = truth, truth
                    if rng.random() < 0.07:  # position bias: the second game follows the first slot
                        ba = "B" if truth != "B" else "A"
                    un_ab, un_ba = ("unparseable" if rng.random() < 0.01 else ""), (
                        "empty_reply" if rng.random() < 0.005 else "")
                    v_ab = "unscored" if un_ab else ab
                    v_ba = "unscored" if un_ba else ba
                    if "unscored" in (v_ab, v_ba):
                        combined = "unscored"
                    elif v_ab == v_ba:
                        combined = v_ab
                    elif "tie" in (v_ab, v_ba):
                        combined = v_ab if v_ba == "tie" else v_ba
                    else:
                        combined = "tie"
                    flip = v_ab != "unscored" and v_ba != "unscored" and v_ab != v_ba
                    for order, verdict, unscored in (("ab", v_ab, un_ab), ("ba", v_ba, un_ba)):
                        if verdict == "unscored":
                            label = "unscored"
                        elif order == "ab" or verdict == "tie":
                            label = verdict
                        else:
                            label = "B" if verdict == "A" else "A"
                        rows.append({
                            "run": run_dir.name, "judge_model": "scripted/judge-keywords", "judge_kind": "llm",
                            "judge_mode": "persona", "criteria_set": "therapeutic", "criteria_hash": "bench",
                            "candidate_a": cands[i], "candidate_b": cands[j], "scenario_id": scen["id"],
                            "scenario_risk": scen["risk"], "persona_id": persona, "criterion": criterion,
                            "order": order, "judge_label": label, "verdict": verdict, "unscored_reason": unscored,
                            "judge_reason": "" if unscored else _reason(rng, label), "combined": combined,
                            "position_flip": flip, "len_a": 800, "len_b": 800, "stage2_log": "synthetic.eval",
                            "stage2_sample": f"{scen['id']}--{persona}",
                        })
    verdicts = pd.DataFrame(rows, columns=list(COLUMNS))
    verdicts.to_parquet(run_dir / "verdicts.parquet", index=False)
    transcripts = pd.DataFrame([
        {"candidate": c, "sample_id": s["id"], "scenario_id": s["id"], "persona_id": "",
         "turns": json.dumps([["patient", s["text"]], ["therapist", _text(rng, int(rng.integers(60, 220)))]])}
        for c in cands for s in scenarios])
    transcripts.to_parquet(run_dir / "transcripts.parquet", index=False)
    return {"verdict_rows": len(verdicts), "transcripts": len(transcripts)}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def measure_browser(index: Path, loads: int) -> dict[str, float]:
    """Median timings (ms) over ``loads`` fresh headless-Chromium loads of ``index`` from file://."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def mark(driver: Any, name: str) -> float:
        return float(driver.execute_script(f"var m = performance.getEntriesByName('{name}'); "
                                           "return m.length ? m[m.length - 1].startTime : -1;"))

    results: dict[str, list[float]] = {}
    for _ in range(loads):
        opts = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", f"--user-data-dir={tempfile.mkdtemp(prefix='bench-chrome-')}",
                    "--window-size=1300,900"):
            opts.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            driver.get(index.as_uri())
            WebDriverWait(driver, 60).until(lambda d: mark(d, "theraeval:plots-drawn") >= 0)
            nav = driver.execute_script("var n = performance.getEntriesByType('navigation')[0]; "
                                        "return [n.domContentLoadedEventEnd, n.loadEventEnd];")
            got = {"dom_content_loaded": nav[0], "load_event": nav[1],
                   "first_leaderboard_row": mark(driver, "theraeval:leaderboard-row"),
                   "first_plot": mark(driver, "theraeval:first-plot"),
                   "all_plots": mark(driver, "theraeval:plots-drawn")}
            t0 = driver.execute_script("window.theraevalReport.startTranscripts(); return performance.now();")
            WebDriverWait(driver, 60).until(lambda d: mark(d, "theraeval:transcripts-page") > 0)
            got["transcripts_first_page"] = mark(driver, "theraeval:transcripts-page") - t0
            for key, action in (("transcripts_next_page", "document.querySelector('.tb-next').click();"),
                                ("transcripts_flip_filter", "var c = document.getElementById('tb-flips'); "
                                 "c.checked = true; c.dispatchEvent(new Event('change'));")):
                before = mark(driver, "theraeval:transcripts-page")
                t0 = driver.execute_script(action + " return performance.now();")
                WebDriverWait(driver, 60).until(lambda d, b=before: mark(d, "theraeval:transcripts-page") > b)
                got[key] = mark(driver, "theraeval:transcripts-page") - t0
            got["cards_on_page"] = len(driver.find_elements(By.CSS_SELECTOR, "#tb-list article.cmp"))
            # full-text search: a phrase found nowhere scans every scenario file (the worst case); the first search
            # loads the files, a second one reads them from memory
            for key, phrase in (("search_cold_no_match", "zzqx no such phrase"), ("search_warm_no_match",
                                                                                  "zzqx still nothing"),
                                ("search_warm_rationale_word", "rapport")):
                before = int(driver.execute_script("return performance.getEntriesByName('theraeval:search-done')"
                                                   ".length"))
                t0 = driver.execute_script(f"window.theraevalReport.search({json.dumps(phrase)}); "
                                           "return performance.now();")
                WebDriverWait(driver, 120).until(lambda d, b=before: d.execute_script(
                    "return performance.getEntriesByName('theraeval:search-done').length") > b)
                got[key] = mark(driver, "theraeval:search-done") - t0
            got["search_matches"] = float(driver.execute_script(
                "var t = document.querySelector('.tb-status').textContent; var m = / (\\d+) matching/.exec(t); "
                "return m ? Number(m[1]) : -1;"))
            got["plots"] = len(driver.find_elements(By.CSS_SELECTOR, ".plot.js-plotly-plot"))
            got["js_heap_mb_after_search"] = float(driver.execute_script(
                "return performance.memory ? performance.memory.usedJSHeapSize / 1048576 : -1;"))
            severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
            if severe:
                raise RuntimeError(f"console errors: {severe}")
        finally:
            driver.quit()
        for k, v in got.items():
            results.setdefault(k, []).append(float(v))
    return {k: statistics.median(v) for k, v in results.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--scenarios", type=int, default=600)
    ap.add_argument("--personas", type=int, default=1, help="personas per scenario")
    ap.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples for the leaderboard tables")
    ap.add_argument("--loads", type=int, default=3, help="browser loads (median reported); 0 skips the browser")
    ap.add_argument("--out", type=Path, default=None, help="keep the synthetic run here (default: a temp dir)")
    args = ap.parse_args(argv)

    base = args.out or Path(tempfile.mkdtemp(prefix="report-bench-"))
    run_dir = base / "bench"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    t = time.perf_counter()
    counts = make_run(run_dir, n_candidates=args.candidates, n_scenarios=args.scenarios,
                      personas_per_scenario=args.personas)
    t_make = time.perf_counter() - t
    t = time.perf_counter()
    personas = [json.loads(line) for line in (run_dir / "inputs" / "personas-bench.jsonl").read_text().splitlines()]
    write_leaderboard(run_dir, n_boot=args.n_boot, personas=personas)
    t_tables = time.perf_counter() - t
    t = time.perf_counter()
    index = render_report(run_dir)
    t_render = time.perf_counter() - t

    report = index.parent
    assets = report / "assets"
    data = assets / "data"
    chunks = sorted(data.glob("s*.js"), key=lambda p: p.stat().st_size)
    initial = sum(_size(p) for p in (index, assets / "report.js", assets / "report.css"))
    plotly_js = _size(assets / "plotly.min.js")
    total = _size(report)
    verdicts = _size(run_dir / "verdicts.parquet") + _size(run_dir / "transcripts.parquet")
    mb = 1024 * 1024
    print(f"synthetic run: {args.candidates} candidates x {len(CRITERIA)} criteria x {args.scenarios} scenarios x "
          f"{args.personas} persona(s): {counts['verdict_rows']} verdict rows, {counts['transcripts']} dialogues "
          f"({t_make:.1f} s to write)")
    print(f"leaderboard tables (n_boot {args.n_boot}): {t_tables:.1f} s; render_report: {t_render:.1f} s")
    print(f"report total {total / mb:.1f} MiB in {sum(1 for p in report.rglob('*') if p.is_file())} files "
          f"({total / verdicts:.1f}x verdicts.parquet + transcripts.parquet = {verdicts / mb:.1f} MiB)")
    print(f"  index.html {_size(index) / 1024:.0f} KiB; page before plotly (html + js + css) {initial / 1024:.0f} KiB; "
          f"plotly.min.js {plotly_js / mb:.1f} MiB (loaded after DOMContentLoaded)")
    print(f"  downloads/ (tables/*.csv, verdicts and transcripts parquet) {_size(report / 'downloads') / mb:.1f} MiB")
    print(f"  transcript index {_size(data / 'index.js') / 1024:.0f} KiB; {len(chunks)} scenario files, median "
          f"{_size(chunks[len(chunks) // 2]) / 1024:.0f} KiB, largest {_size(chunks[-1]) / 1024:.0f} KiB, "
          f"all {_size(data) / mb:.1f} MiB")
    if args.loads > 0:
        timings = measure_browser(index, args.loads)
        print(f"headless Chromium, file://, median of {args.loads} fresh loads (ms from navigation start):")
        for key, value in timings.items():
            print(f"  {key:<26} {value:8.0f}")
        print(f"  ratio first leaderboard row / DOMContentLoaded: "
              f"{timings['first_leaderboard_row'] / timings['dom_content_loaded']:.2f}")
    print(f"report: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

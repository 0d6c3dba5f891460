"""Judge ensembles end to end (`[[judges]]`): every judge judges every comparison in its own stage-2 folder, the
verdict table holds each judge's rows, the leaderboard keeps the judges apart (main tables: the first judge) and
adds their agreement, a re-run makes no call, and the report's transcript browser shows where the judges differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.cli import main
from harness.inputs import load_run_config
from harness.stats import judge_ids
from tests.support.run import calls, run_ok, write_config

JUDGES = '''
[[judges]]
name = "length"
model = "scripted/judge-longer"

[[judges]]
name = "first"
model = "scripted/judge-always-a"
'''
CANDIDATES = {"warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse",
              "verbose": "scripted/therapist-verbose"}


def ensemble_config(tmp: Path, judges: str = JUDGES, single: bool = False) -> Path:
    """3 candidates x 3 scenarios x 1 persona, criteria empathy + safety, judged by `judges` (and `[judge]` too when
    `single`: bad input)."""
    cfg = write_config(tmp, candidates=CANDIDATES, personas_per_scenario=1,
                       data='criteria_ids = ["empathy", "safety"]\n')
    text = cfg.read_text()
    if not single:
        text = text.replace('[judge]\nmodel = "scripted/judge-longer"\n', "")
    cfg.write_text(text + judges)
    return cfg


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]], int]:
    """The two-judge run, run twice (the second time must make no call), then its leaderboard (~15 s, once)."""
    tmp = tmp_path_factory.mktemp("ensemble")
    log = tmp / "calls.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(log))
        cfg = ensemble_config(tmp)
        run_ok("run", str(cfg), "--display", "none")
        first = len(calls(log))
        run_ok("run", str(cfg), "--display", "none")
    run_ok("leaderboard", str(tmp / "runs" / "t"), "--n-boot", "50")
    return tmp / "runs" / "t", calls(log), first


def test_each_judge_judges_every_comparison_in_its_folder_and_a_rerun_makes_no_call(
        ensemble_run: tuple[Path, list[dict[str, str]], int]) -> None:
    run_dir, log, first = ensemble_run
    judge_calls = [c["model"] for c in log if c["model"].startswith("judge")]
    # per judge: 3 pairs x 3 scenarios x 1 persona x 2 criteria x 2 orders = 36 calls
    assert judge_calls.count("judge-longer") == 36 and judge_calls.count("judge-always-a") == 36
    assert len(log) == first  # the second `theraeval run` sent nothing
    index = json.loads((run_dir / "stage2" / "index.json").read_text())
    assert sorted({e["judge"] for e in index}) == ["first", "length"] and len(index) == 2 * 3
    assert all(e["log"].startswith(f"judge-{e['judge']}/") for e in index)
    df = pd.read_parquet(run_dir / "verdicts.parquet")
    assert list(dict.fromkeys(df["judge_name"])) == ["length", "first"]  # the config's order
    assert (df.groupby("judge_name").size() == 3 * 3 * 2 * 2).all()
    assert set(df.loc[df.judge_name == "first", "combined"]) == {"tie"}  # always "A": a flip in every comparison
    assert "tie" not in set(df.loc[df.judge_name == "length", "combined"])
    summary = (run_dir / "summary.txt").read_text()
    assert "the tables below are the first judge's (length)" in summary


def test_agreement_by_hand_and_the_leaderboard_keeps_judges_apart(
        ensemble_run: tuple[Path, list[dict[str, str]], int]) -> None:
    run_dir, _, _ = ensemble_run
    df = pd.read_parquet(run_dir / "verdicts.parquet")
    length = df[(df.judge_name == "length") & (df.order == "ab") & (df.criterion == "empathy")]
    # the length judge: per scenario warm>terse (A), warm<verbose (B), terse<verbose (B): 3 A and 6 B of 9 units
    assert (length["combined"] == "A").sum() == 3 and (length["combined"] == "B").sum() == 6
    agreement = pd.read_csv(run_dir / "tables" / "judge_agreement.csv")
    assert len(agreement) == 2 and set(agreement.criterion) == {"empathy", "safety"}
    for r in agreement.itertuples():
        assert {r.judge_1, r.judge_2} == {"first", "length"} and r.n == 9
        assert r.agreement == 0.0  # the first-position judge says tie on every unit, the length judge never does
        # kappa: chance agreement = sum_k p1k p2k = 0 (judge "first" only says tie) -> (0 - 0) / (1 - 0) = 0
        assert r.kappa == pytest.approx(0.0)
        # AC1: pi = (A 3/18, B 6/18, tie 9/18); pe = sum pi(1 - pi) / (q - 1) = (5/36 + 8/36 + 9/36) / 2 = 11/36;
        # (0 - 11/36) / (1 - 11/36) = -11/25
        assert r.ac1 == pytest.approx(-11 / 25)
    tables = run_dir / "tables"
    settings = dict(pd.read_csv(tables / "settings.csv").values)
    assert settings["main_judge"] == "length" and settings["judges"] == "length, first"
    table = pd.read_csv(tables / "table.csv")
    # the main table is the length judge's alone: verbose wins all 3 of its head-to-heads against each opponent
    top = table[(table.criterion == "empathy") & (table.candidate == "verbose")].iloc[0]
    assert top.win_rate == 1.0 and top.n == 6
    per_judge = pd.read_csv(tables / "judge_win_rates.csv")
    assert set(per_judge.judge) == {"length", "first"}
    assert (per_judge.loc[per_judge.judge == "first", "win_rate"] == 0.0).all()  # ties only
    rel = pd.read_csv(tables / "judge_reliability.csv").set_index(["criterion", "judge"])["reliability"]
    assert rel[("empathy", "length")] > rel[("empathy", "first")]  # the coin-like judge gets less weight
    bias = pd.read_csv(tables / "bias.csv").set_index(["judge", "criterion"])
    assert bias.loc[("first", "empathy"), "flip_rate"] == 1.0 and bias.loc[("length", "empathy"), "flip_rate"] == 0.0


def test_dry_run_counts_every_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(ensemble_config(tmp_path)), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "stage 2 (judge length): 3 pairs x 3 comparisons x 4 calls: <= 36 judge calls" in out
    assert "stage 2 (judge first): 3 pairs x 3 comparisons x 4 calls: <= 36 judge calls" in out
    assert "stage 2, all 2 judges: <= 72 judge calls" in out
    # the token and cost table has a row per judge, and the total counts both: 3 x 3 candidate calls + 2 x 36
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("judge ")]
    assert [(r[1], r[3], r[4]) for r in rows] == [("length", "scripted/judge-longer", "36"),
                                                   ("first", "scripted/judge-always-a", "36")]
    assert "total: 81 calls" in out
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("judges", "single", "field"), [
    (JUDGES, True, "judges"),  # [judge] and [[judges]] together
    (JUDGES.replace('"first"', '"length"'), False, "judges[1].name"),  # duplicate name
    (JUDGES.replace('name = "first"\n', ""), False, "judges[1]"),  # a judge without a name
])
def test_bad_ensembles_are_one_line_exit_2_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           judges: str, single: bool, field: str) -> None:
    cfg = ensemble_config(tmp_path, judges, single)
    assert main(["run", str(cfg), "--display", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and field in err[0], err
    assert not (tmp_path / "runs").exists()


def test_one_judge_config_is_unchanged(tmp_path: Path) -> None:
    cfg, _ = load_run_config(write_config(tmp_path))
    assert cfg.judges is None and cfg.judge_specs() == [(None, cfg.judge)]
    one = ensemble_config(tmp_path, '\n[[judges]]\nname = "length"\nmodel = "scripted/judge-longer"\n')
    ens, _ = load_run_config(one)
    # the first judge is `judge`, without its name: the same spec (and cache scope) as an equal [judge]
    assert ens.judge.model == "scripted/judge-longer" and ens.judge.spec_hash() == cfg.judge.spec_hash()


def test_judge_ids_name_else_model_kind_mode() -> None:
    v = pd.DataFrame({"judge_model": ["m", "m"], "judge_kind": ["llm", "llm"], "judge_mode": ["persona"] * 2,
                      "judge_name": ["", "strict"]})
    assert judge_ids(v).tolist() == ["m/llm/persona", "strict"]


def _agree_on(run_dir: Path, out: Path, scenario: str, criterion: str) -> Path:
    """A copy of the run whose judge "first" gives the length judge's verdicts on `scenario` x `criterion` (both
    orders: the verdicts follow the combination rule), so the judges agree there and nowhere else."""
    import shutil

    shutil.copytree(run_dir, out)
    df = pd.read_parquet(out / "verdicts.parquet")
    keys = ["candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion", "order"]
    length = df[df.judge_name == "length"].set_index(keys)
    at = (df.judge_name == "first") & (df.scenario_id == scenario) & (df.criterion == criterion)
    src = length.loc[pd.MultiIndex.from_frame(df.loc[at, keys])]
    for col in ("judge_label", "verdict", "combined", "position_flip"):
        df.loc[at, col] = src[col].to_numpy()
    df.to_parquet(out / "verdicts.parquet")
    return out


def _index(report: Path) -> dict[str, Any]:
    text = (report.parent / "assets" / "data" / "index.js").read_text()
    return dict(json.loads(text[text.index(",") + 1: text.rindex(")")]))


def test_report_disagreement_view(ensemble_run: tuple[Path, list[dict[str, str]], int], tmp_path: Path,
                                  driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from reports import render_report
    from tests.reports.test_browser import _open, _open_transcripts, _severe, _wait

    run_dir = _agree_on(ensemble_run[0], tmp_path / "t", "s-anx", "empathy")
    report = render_report(run_dir)
    ix = _index(report)
    assert ix["judges"] == ["length", "first"] and ix["rows"] == 3 * 3 * 2  # scenario x pair x judge
    empathy, safety = 1, 2  # a bit per criterion, in the set's order
    scen = ix["scenarios"]
    for s, dis in zip(ix["s"], ix["dis"], strict=True):
        assert dis == (safety if scen[s] == "s-anx" else empathy | safety), (scen[s], dis)
    # `cmp` groups every judge's row of one comparison (scenario, persona, pair), and nothing else
    comparison = list(zip(ix["s"], ix["p"], ix["a"], ix["b"], strict=True))
    assert len(set(ix["cmp"])) == len(set(comparison)) == 3 * 3
    assert all((ix["cmp"][x] == ix["cmp"][y]) == (comparison[x] == comparison[y])
               for x in range(ix["rows"]) for y in range(ix["rows"]))
    html = report.read_text()
    assert 'id="tb-disagree"' in html and "main tables are the first judge&#x27;s alone (length," in html
    assert "<td data-v=\"-0.44 [" in html  # Gwet's AC1 with its interval (the hand value above)

    _open(driver, report)
    _open_transcripts(driver)
    Select(driver.find_element(By.ID, "tb-criterion")).select_by_index(1)  # empathy
    driver.find_element(By.ID, "tb-disagree").click()
    # every judge's row of the comparisons outside s-anx: 2 scenarios x 3 pairs x 2 judges
    _wait(driver, lambda d: "12 matching" in d.find_element(By.CSS_SELECTOR, ".tb-status").text, "12 comparisons")
    card = driver.find_element(By.CSS_SELECTOR, "#tb-list article.cmp")
    judges = card.find_element(By.CSS_SELECTOR, "table.judges")
    heads = [h.text for h in judges.find_elements(By.CSS_SELECTOR, "thead th")]
    assert heads == ["criterion", "judge length", "judge first"]
    row = judges.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(row) == 1 and "disagree" in row[0].get_attribute("class") and "tie" in row[0].text
    driver.find_element(By.ID, "tb-disagree").click()
    _wait(driver, lambda d: "18 matching" in d.find_element(By.CSS_SELECTOR, ".tb-status").text, "all comparisons")
    assert _severe(driver) == []


def test_kinds_mix_reward_heads_and_an_llm_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    judges = '\n[[judges]]\nname = "heads"\nkind = "rm"\n\n[[judges]]\nname = "kw"\nmodel = "scripted/judge-keywords"\n'
    assert main(["run", str(ensemble_config(tmp_path, judges)), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "stage 2 (judge heads): 3 pairs x 3 comparisons scored by reward heads locally: 0 model calls" in out
    assert "stage 2 (judge kw): 3 pairs x 3 comparisons x 4 calls: <= 36 judge calls" in out
    assert "stage 2, all 2 judges: <= 36 judge calls" in out


def test_replicates_raise_every_judges_seed(tmp_path: Path) -> None:
    from harness.run import plan_run, replicate_plans

    reps = replicate_plans(plan_run(ensemble_config(tmp_path)), 3)
    # replicate r: every judge's seed (default 0) + r, and `judge` is the first of them
    assert [[rep.for_judge(n).cfg.judge.seed for n in ("length", "first")] for rep in reps] == [[0, 0], [1, 1], [2, 2]]
    assert [rep.cfg.judge.seed for rep in reps] == [0, 1, 2]
    assert [rep.for_judge("first").cfg.judge.model for rep in reps] == ["scripted/judge-always-a"] * 3


def test_adaptive_schedule_runs_once_per_judge_in_its_folder(tmp_path: Path) -> None:
    run_ok("run", str(ensemble_config(tmp_path)), "--display", "none", "--schedule", "adaptive", "--budget", "6")
    run_dir = tmp_path / "runs" / "t"
    index = json.loads((run_dir / "stage2" / "index.json").read_text())
    assert {e["judge"] for e in index} == {"length", "first"}
    assert all(e["log"].startswith(f"judge-{e['judge']}/adaptive/round-") for e in index)
    df = pd.read_parquet(run_dir / "verdicts.parquet")
    # each judge's own schedule: 6 units (pair x scenario) x 2 criteria x 2 orders
    assert df.groupby("judge_name").size().to_dict() == {"first": 24, "length": 24}

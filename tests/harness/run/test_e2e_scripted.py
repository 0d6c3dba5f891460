"""End-to-end runs on the deterministic scripted provider: table shape, judge biases, unscored, resume."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harness.cli import main
from harness.verdicts import summary_table
from tests.support.run import calls, run_ok, verdicts, write_config

N_CRITERIA = 7  # the therapeutic set


def test_table_shape_and_length_judge_ranks_longer_first(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    run_ok("run", str(cfg), "--display", "none")
    df = verdicts(tmp_path)
    # 3 pairs x 3 scenarios x 2 personas x 7 criteria x 2 orders
    assert len(df) == 3 * 3 * 2 * N_CRITERIA * 2
    assert set(df.order) == {"ab", "ba"}
    assert df.groupby(["candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion"]).size().eq(2).all()
    assert (df.persona_id != "").all() and df.criteria_set.eq("therapeutic").all()
    # one [judge]: no judge name, and the stage-2 layout of a single judge (logs in stage2/, no judge in the index)
    assert (df.judge_name == "").all()
    index = json.loads((tmp_path / "runs" / "t" / "stage2" / "index.json").read_text())
    assert all(set(e) == {"candidate_a", "candidate_b", "log"} and "/" not in e["log"] for e in index)
    assert df.criteria_hash.nunique() == 1 and len(df.criteria_hash.iloc[0]) == 12
    assert not df.position_flip.any() and (df.unscored_reason == "").all()
    # the length-preferring judge must put the longest candidate first, the shortest last, on every criterion
    lengths = {c: df.loc[df.candidate_a == c, "len_a"].mean() for c in df.candidate_a.unique()}
    lengths |= {c: df.loc[df.candidate_b == c, "len_b"].mean() for c in df.candidate_b.unique()}
    expected = sorted(lengths, key=lengths.get, reverse=True)  # type: ignore[arg-type]
    table = summary_table(df)
    for crit, grp in table.groupby("criterion"):
        assert list(grp.sort_values("win_rate", ascending=False).candidate) == expected, crit
    assert table.loc[table.candidate == expected[0], "win_rate"].eq(100.0).all()
    assert (tmp_path / "runs" / "t" / "summary.txt").read_text().startswith("theraeval run t")


def test_always_a_judge_gives_only_ties(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, judge="scripted/judge-always-a")
    run_ok("run", str(cfg), "--display", "none")
    df = verdicts(tmp_path)
    assert (df.judge_label == "A").all()
    # in candidate space the two orders disagree every time: a position flip, combined into a tie
    assert set(df.loc[df.order == "ab", "verdict"]) == {"A"} and set(df.loc[df.order == "ba", "verdict"]) == {"B"}
    assert (df.combined == "tie").all() and df.position_flip.all()
    table = summary_table(df)
    assert table.win_rate.eq(0.0).all() and table.win_rate_half.eq(50.0).all() and (table.ties == table.n).all()


def test_unparseable_judge_is_unscored_and_counted_never_a_win(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, judge="scripted/judge-garbage")
    run_ok("run", str(cfg), "--display", "none")
    df = verdicts(tmp_path)
    assert (df.verdict == "unscored").all() and (df.combined == "unscored").all()
    assert set(df.unscored_reason) == {"unparseable"}
    table = summary_table(df)
    assert table.win_rate.isna().all() and table.win_rate_half.isna().all()  # no win, no tie for anyone
    assert (table.n == 0).all() and (table.n_unscored == 2 * 3 * 2).all()  # 2 opponents x 3 scenarios x 2 personas
    summary = (tmp_path / "runs" / "t" / "summary.txt").read_text()
    assert f"unscored verdicts: {len(df)} (100.0%)" in summary


def test_all_criteria_in_one_call(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, extra='granularity = "all"', candidates={
        "warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse"})
    log = tmp_path / "calls.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(log))
        run_ok("run", str(cfg), "--display", "none")
    judge_calls = [c for c in calls(log) if c["model"].startswith("judge")]
    assert len(judge_calls) == 1 * 3 * 2 * 2  # pair x scenarios x personas x orders: one call covers 7 criteria
    df = verdicts(tmp_path)
    assert len(df) == 3 * 2 * N_CRITERIA * 2
    assert (df.loc[df.candidate_a == "warm", "combined"] == "A").all()  # warm is longer than terse


def test_rerun_makes_no_calls_and_new_candidate_costs_only_its_share(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    two = {"warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(log))
        run_ok("run", str(write_config(tmp_path, candidates=two)), "--display", "none")
        first = len(calls(log))
        assert first == 2 * 3 + 1 * 3 * 2 * N_CRITERIA * 2  # 2 candidates x 3 dialogues + judge calls
        run_ok("run", str(write_config(tmp_path, candidates=two)), "--display", "none")
        assert len(calls(log)) == first  # unchanged re-run: zero model calls
        three = two | {"verbose": "scripted/therapist-verbose"}
        run_ok("run", str(write_config(tmp_path, candidates=three)), "--display", "none")
    new = calls(log)[first:]
    assert Counter(c["model"] for c in new) == {
        "therapist-verbose": 3,  # its dialogues only
        "judge-longer": 2 * 3 * 2 * N_CRITERIA * 2,  # its 2 new pairs only
    }
    assert verdicts(tmp_path).groupby(["candidate_a", "candidate_b"]).ngroups == 3


@pytest.mark.slow
def test_interrupted_run_resumes_without_repeating_a_call(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    cfg = write_config(tmp_path)
    total = 3 * 3 + 3 * 3 * 2 * N_CRITERIA * 2
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(log))
        mp.setenv("THERAEVAL_SCRIPTED_FAIL_AFTER", str(total // 2))  # dies half-way through stage 2
        assert main(["run", str(cfg), "--display", "none"]) == 1
        assert len(calls(log)) == total // 2
        mp.delenv("THERAEVAL_SCRIPTED_FAIL_AFTER")
        run_ok("run", str(cfg), "--display", "none")
    made = calls(log)
    assert len(made) == total  # every call made exactly once across both runs
    assert len({c["key"] for c in made}) == total
    assert len(verdicts(tmp_path)) == 3 * 3 * 2 * N_CRITERIA * 2


@pytest.mark.slow
def test_adaptive_schedule_judges_fewer_units_and_keeps_the_ranking(tmp_path: Path) -> None:
    cands = {"warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse",
             "verbose": "scripted/therapist-verbose", "crisis": "scripted/therapist-crisis"}
    cfg = write_config(tmp_path, candidates=cands, personas_per_scenario=4, data='criteria_ids = ["empathy"]\n')
    run_ok("run", str(cfg), "--display", "none", "--schedule", "adaptive", "--budget", "40")
    df = verdicts(tmp_path)
    units = df.drop_duplicates(["candidate_a", "candidate_b", "scenario_id", "persona_id"])
    assert 0 < len(units) <= 40 < 6 * 3 * 4  # within the budget, below all-pairs (6 pairs x 12 dialogues)
    assert not df.duplicated(["candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion", "order"]).any()
    table = summary_table(df)
    assert table.sort_values("win_rate", ascending=False).candidate.iloc[-1] == "terse"  # the shortest still last

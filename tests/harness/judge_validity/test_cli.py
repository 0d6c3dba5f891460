"""`theraeval judges validate` end to end: generative judges through inspect (scripted judges), reward heads, the
JSON schema, the judge card, and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.support.judge_validity import pair_rows, synthetic_pairs, write_jsonl
from tests.support.run import write_config


def _pairs_file(tmp: Path, n: int = 40, seed: int = 3) -> Path:
    return write_jsonl(tmp / "pairs.jsonl", pair_rows(synthetic_pairs(n, seed=seed, contexts=10)))


@pytest.mark.slow
def test_llm_judge_through_inspect_equals_its_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """judge-longer (an llm judge in both orders) scores exactly the longer-wins baseline; judge-always-a only ties."""
    monkeypatch.setenv("THERAEVAL_HOME", str(tmp_path / "home"))
    pairs = _pairs_file(tmp_path)
    out = tmp_path / "out.json"
    cfg = write_config(tmp_path, judge="scripted/judge-longer")
    assert main(["judges", "validate", str(cfg), "--pairs", str(pairs), "--json", str(out), "--n-boot", "200",
                 "--card"]) == 0
    doc = json.loads(out.read_text())
    c = doc["criteria"]["empathy"]
    assert set(c) >= {"n", "accuracy", "ci", "unscored", "baselines", "length_matched"}
    assert set(c["baselines"]) >= {"longer_wins", "shorter_wins", "more_questions"}
    assert set(c["length_matched"]) >= {"n", "accuracy"}
    assert c["n"] == 40 and c["unscored"] == 0 and c["accuracy"] == c["baselines"]["longer_wins"]
    assert c["position_flip_rate"] == 0.0 and c["status"] == "not better than a trivial baseline"
    card = json.loads((tmp_path / "runs" / "t" / "judge_card.json").read_text())
    assert card["criteria"]["empathy"]["status"] == "not better than a trivial baseline"
    assert card["criteria"]["safety"]["status"] == "not validated"  # in the criteria set, measured by no set
    assert (tmp_path / "home" / "judge_cards" / f"{card['judge']['spec_hash']}.json").is_file()
    text = capsys.readouterr().out
    assert "[empathy] n=40" in text and "longer_wins" in text and "judge card:" in text

    cfg_a = write_config(tmp_path, judge="scripted/judge-always-a", name="a")
    assert main(["judges", "validate", str(cfg_a), "--pairs", str(pairs), "--json", str(out), "--n-boot", "200"]) == 0
    c = json.loads(out.read_text())["criteria"]["empathy"]
    assert c["judge_ties"] == c["n"] == 40 and c["accuracy"] == 0.5 and c["position_flip_rate"] == 1.0


@pytest.mark.slow
def test_logprob_judge_through_inspect(tmp_path: Path) -> None:
    """judge-lp-biased puts sigmoid(1.5 +/- 1) on the first position; averaged over both orders the position
    preference cancels and what is left is 'the longer one' (equal lengths: 0.5, a tie)."""
    out = tmp_path / "out.json"
    cfg = write_config(tmp_path, judge="scripted/judge-lp-biased", extra='kind = "logprob"')
    assert main(["judges", "validate", str(cfg), "--pairs", str(_pairs_file(tmp_path)), "--json", str(out),
                 "--n-boot", "200"]) == 0
    c = json.loads(out.read_text())["criteria"]["empathy"]
    assert c["unscored"] == 0 and c["accuracy"] == c["baselines"]["longer_wins"]


@pytest.mark.parametrize(("extra", "field"), [
    (["--criterion", "nonexistent"], "--criterion"),
    (["--set", "epitome:/nonexistent/dir"], "path"),
    (["--set", "bogus:thing"], "set"),
    (["--n-boot", "5"], "--n-boot"),
    (["--cross-fit", "3"], "judge"),  # an llm judge: no recipe to retrain per fold
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                extra: list[str], field: str) -> None:
    out = tmp_path / "out.json"
    cfg = write_config(tmp_path, judge="scripted/judge-longer")
    code = main(["judges", "validate", str(cfg), "--pairs", str(_pairs_file(tmp_path)), "--json", str(out), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists() and not (tmp_path / "runs").exists()
    assert len(err) == 1 and f"{field} = " in err[0] and "Fix: " in err[0]


def test_a_bad_pairs_file_exits_2_before_any_judging(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = pair_rows(synthetic_pairs(10))
    rows[4]["label"] = "maybe"
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    out = tmp_path / "out.json"
    cfg = write_config(tmp_path, judge="scripted/judge-longer")
    assert main(["judges", "validate", str(cfg), "annomi:/nonexistent.csv", "--pairs", str(bad), "--json", str(out),
                 "--card"]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl: line 5 label = 'maybe': unknown label" in err and not out.exists()
    assert not (tmp_path / "runs").exists()

"""The offline default judge (reward heads) inside stage 2: meaningful ranking, no position bias."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.verdicts import summary_table
from tests.support.run import run_ok, verdicts, write_config


def _rm_config(tmp: Path, **kw: object) -> Path:
    cfg = write_config(tmp, candidates={"warm": "scripted/therapist-warm",
                                        "dismissive": "scripted/therapist-dismissive",
                                        "crisis": "scripted/therapist-crisis"}, personas_per_scenario=1, **kw)  # type: ignore[arg-type]
    cfg.write_text(cfg.read_text().replace('[judge]\nmodel = "scripted/judge-longer"', '[judge]\nkind = "rm"'))
    return cfg


def test_rm_judge_ranks_empathic_and_crisis_aware_above_dismissive(tmp_path: Path) -> None:
    run_ok("run", str(_rm_config(tmp_path)), "--display", "none")
    df = verdicts(tmp_path)
    assert (df.judge_kind == "rm").all() and df.judge_model.str.startswith("rm/builtin@").all()
    assert not df.position_flip.any() and (df.verdict != "unscored").all()  # position-free by construction
    table = summary_table(df).set_index(["criterion", "candidate"])
    assert table.loc[("empathy", "warm"), "win_rate"] > table.loc[("empathy", "dismissive"), "win_rate"]
    crisis = df[(df.scenario_risk == "crisis") & (df.criterion == "safety")]
    vs = crisis[(crisis.candidate_a == "dismissive") & (crisis.candidate_b == "crisis")]
    assert len(vs) == 2 and (vs.combined == "B").all()  # the crisis-referring reply wins on the suicidal scenario
    # a wrong verdict would be caught: the dismissive reply never wins a safety comparison on a crisis scenario
    lost = crisis[((crisis.candidate_a == "dismissive") & (crisis.combined == "A"))
                  | ((crisis.candidate_b == "dismissive") & (crisis.combined == "B"))]
    assert lost.empty


def test_rm_judge_without_heads_for_a_criterion_is_an_error(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _rm_config(tmp_path, data='criteria = "gricean"\n')
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "criteria = 'quantity'" in err and "no head" in err and "Fix: " in err


def test_summary_names_the_judge_and_shows_no_synthetic_accuracy(tmp_path: Path) -> None:
    """The default judge is trained on no project-written set, so no synthetic figure is shown as evidence."""
    import json

    run_ok("run", str(_rm_config(tmp_path, data='criteria_ids = ["empathy"]\n')), "--display", "none")
    info = json.loads((tmp_path / "runs" / "t" / "judge.json").read_text())
    assert info["kind"] == "rm" and info["encoder"] == "theraeval/evidence-v1" and not info["heldout_accuracy"]
    summary = (tmp_path / "runs" / "t" / "summary.txt").read_text()
    assert "judge rm/builtin@" in summary and "held-out pairwise accuracy" not in summary
    assert "synthetic" not in summary  # issue 14: nothing presents a synthetic-split figure
    assert "judge card" in summary  # "none ..." or the stored card of this judge spec
    from reports import render_report

    run_ok("leaderboard", str(tmp_path / "runs" / "t"), "--n-boot", "50")
    html = render_report(tmp_path / "runs" / "t").read_text()
    assert "Judge kind: rm" in html and "synthetic test-split accuracy" not in html and 'id="judge-card"' in html

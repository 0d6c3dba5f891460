"""Log-probability verdicts: a constant position preference cancels over both orders; its size is measured."""

from __future__ import annotations

from pathlib import Path

from harness.verdicts import logprob_position_bias, summary_table
from tests.support.run import run_ok, verdicts, write_config


def test_position_biased_logprob_judge_is_measured_and_cancelled(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, judge="scripted/judge-lp-biased", extra='kind = "logprob"',
                       personas_per_scenario=1, data='criteria_ids = ["empathy", "safety"]\n',
                       candidates={"warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse"})
    run_ok("run", str(cfg), "--display", "none")
    df = verdicts(tmp_path)
    assert (df.judge_kind == "logprob").all() and df.prob_a.notna().all()
    # the judge puts P(A) = sigmoid(1.5 +/- 1) on the first position: per order it always answers "A" ...
    assert (df.judge_label == "A").all() and df.position_flip.all()
    # ... the sign rule would call every pair a tie, but averaging probabilities keeps the real signal
    assert (df.combined == "A").all()  # warm (candidate_a, the longer reply) is preferred
    bias = logprob_position_bias(df)
    assert bias is not None and abs(bias - 0.2733) < 1e-3  # (sigmoid(2.5) + sigmoid(0.5)) / 2 - 0.5 = 0.2733
    assert summary_table(df).set_index("candidate").loc["warm", "win_rate"].eq(100.0).all()
    assert "position bias of +0.273" in (tmp_path / "runs" / "t" / "summary.txt").read_text()

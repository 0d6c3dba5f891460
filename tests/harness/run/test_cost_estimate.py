"""`theraeval run --dry-run` tokens and cost: the estimated judge prompts are the prompts the judge is really sent,
and a re-run is estimated without the calls the run's logs already answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log_samples, resolve_sample_attachments

from harness.cli import main
from harness.run import CHARS_PER_TOKEN, MESSAGE_OVERHEAD_TOKENS, estimate, plan_run, stage2_logs
from tests.support.run import SCENARIOS

REPLY_CHARS = 200  # every imported response: estimated exactly by max_tokens = 100 at --reply-fraction 0.5 (x 4 chars)


def _config(tmp: Path, scenarios: list[dict[str, str]], granularity: str = "per_criterion") -> Path:
    scen = tmp / "scenarios.jsonl"
    scen.write_text("".join(json.dumps(s) + "\n" for s in scenarios))
    cands = ""
    for name, ch in (("a", "a"), ("b", "b"), ("c", "c")):
        (tmp / f"{name}.jsonl").write_text("".join(json.dumps({"scenario_id": s["id"], "response": ch * REPLY_CHARS})
                                                   + "\n" for s in scenarios))
        cands += f'\n[[candidates]]\nname = "{name}"\nresponses = "{name}.jsonl"\nmax_tokens = 100\n'
    cfg = tmp / "c.toml"
    cfg.write_text(f'[run]\nname = "c"\noutput_dir = "{tmp / "runs"}"\n\n[data]\nscenarios = "{scen}"\n'
                   f'personas_per_scenario = 2\ncriteria_ids = ["empathy", "safety"]\n\n'
                   f'[judge]\nmodel = "scripted/judge-longer"\ngranularity = "{granularity}"\nmax_tokens = 300\n\n'
                   f'[pricing."scripted/judge-longer"]\ninput = 2.5\noutput = 10\n{cands}')
    return cfg


def _sent(run_dir: Path) -> tuple[int, float]:
    """(calls, tokens by the estimator's rule) of the judge prompts in the run's stage-2 logs (inspect's events)."""
    calls, tokens = 0, 0.0
    for log in stage2_logs(run_dir):
        for s in map(resolve_sample_attachments, read_eval_log_samples(str(log))):
            for ev in s.events:
                if ev.event == "model":
                    calls += 1
                    tokens += sum(len(m.text) for m in ev.input) / CHARS_PER_TOKEN + MESSAGE_OVERHEAD_TOKENS * len(
                        ev.input)
    return calls, tokens


@pytest.mark.parametrize("granularity", ["per_criterion", "all"])
def test_estimated_judge_prompts_are_the_prompts_sent(tmp_path: Path, granularity: str) -> None:
    cfg = _config(tmp_path, SCENARIOS, granularity)
    _, judge = estimate(plan_run(cfg), reply_fraction=0.5)
    assert judge is not None
    assert main(["run", str(cfg), "--display", "none"]) == 0
    calls, tokens = _sent(tmp_path / "runs" / "c")
    # 3 pairs x 3 scenarios x 2 personas x (2 criteria | 1 call) x 2 orders
    assert judge.calls == calls == 3 * 3 * 2 * (2 if granularity == "per_criterion" else 1) * 2
    assert judge.input_tokens == pytest.approx(tokens, rel=0.01)  # the same text, placeholders the replies' length
    assert judge.output_upper == calls * 300


def test_dry_run_subtracts_the_calls_a_run_already_answered(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, SCENARIOS[:2])
    assert main(["run", str(cfg), "--display", "none"]) == 0
    _, judge = estimate(plan_run(cfg))
    assert judge is not None and judge.calls == 3 * 2 * 2 * 2 * 2 and judge.new().calls == 0
    _config(tmp_path, SCENARIOS)  # one more scenario: only its comparisons are new
    capsys.readouterr()
    assert main(["run", str(cfg), "--dry-run"]) == 0
    out = capsys.readouterr().out
    _, judge = estimate(plan_run(cfg))
    assert judge is not None and judge.calls == 72 and judge.new().calls == 72 // 3
    assert "a re-run would make 24 new calls (48 answered" in out
    assert "per_criterion" in out and "online $" in out and "batch $" in out


def test_dry_run_with_replicates_estimates_each_replicate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, SCENARIOS[:2])
    assert main(["run", str(cfg), "--display", "none"]) == 0  # the main run's cache answers none of the replicates'
    capsys.readouterr()
    assert main(["run", str(cfg), "--dry-run", "--replicates", "2"]) == 0
    out = capsys.readouterr().out
    assert "\n--replicates 2: 2 runs" in out  # after the "Run directory:" line
    assert "\nreplicate c-rep0:\n" in out and "\nreplicate c-rep1:\n" in out
    # each replicate: 3 pairs x 2 scenarios x 2 personas x 2 criteria x 2 orders = 48 judge calls, none cached yet
    assert out.count("<= 48 judge calls") == 2
    # new seeds, new cache: nothing of the main run's 48 answered calls is subtracted from either replicate
    assert out.count("a re-run would make 48 new calls (0 answered") == 2

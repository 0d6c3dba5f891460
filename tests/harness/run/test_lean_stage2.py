"""The lean stage-2 path: inspect's live sample buffer is off for judging unless the config asks for it, and the logs
stay complete inspect logs."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import read_eval_log

from harness.cli import main
from harness.run import stage1_logs, stage2_logs
from tests.support.run import write_config


def test_stage2_runs_without_the_live_sample_buffer_unless_asked(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, personas_per_scenario=1, data='criteria_ids = ["empathy"]')
    assert main(["run", str(cfg), "--display", "none"]) == 0
    run = tmp_path / "runs" / "t"
    for log in stage2_logs(run):
        header = read_eval_log(str(log), header_only=True)
        assert header.status == "success" and header.eval.config.log_realtime is False
        assert len(read_eval_log(str(log)).samples or []) == 3  # every sample in the log (inspect view reads it)
    for log in stage1_logs(run).values():  # stage 1 keeps inspect's default (live `inspect view`)
        assert read_eval_log(str(log), header_only=True).eval.config.log_realtime is not False
    cfg.write_text(cfg.read_text().replace('name = "t"', 'name = "t2"\nlog_realtime = true'))
    assert main(["run", str(cfg), "--display", "none"]) == 0
    for log in stage2_logs(tmp_path / "runs" / "t2"):  # asked for: kept
        assert read_eval_log(str(log), header_only=True).eval.config.log_realtime is True

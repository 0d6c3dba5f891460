"""A call answered once is never sent again, also when another call of its sample fails and the whole sample is
retried (inspect's `retry_on_error`), and when the run is resumed: the loopback fault server counts the requests
per body, and every distinct request it answered arrived exactly once."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from inspect_ai.log import read_eval_log

from harness.testing import FaultPlan, FaultServer
from tests.support.faults import fault_config, judge_on_direct_client, run_in_process


def test_answered_calls_of_a_retried_sample_are_not_sent_again(fault_srv: FaultServer, tmp_path: Path) -> None:
    # judge calls only (4 per sample: 2 criteria x 2 orders, concurrent): a non-JSON 200 body on 40% of first
    # attempts (inspect does not retry that call: it errors the sample, which is retried whole), and, decided per
    # body, refusals (which inspect never caches) and empty replies
    plan = FaultPlan(seed=3, p_malformed=0.4, p_refusal=0.2, p_empty=0.1, max_faults_per_call=1,
                     transient_models=("judge-",), permanent_models=("judge-",))
    fault_srv.reset(plan)
    cfg = fault_config(tmp_path)
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    calls = fault_srv.calls()
    faults = Counter(c.fault for c in calls)
    assert faults["malformed"] >= 3 and faults["refusal"] >= 3, faults
    run = tmp_path / "runs" / "r"
    retried = sum(len(s.error_retries or []) for log in sorted(run.glob("stage2/*.eval"))
                  for s in read_eval_log(str(log)).samples or [])
    if not judge_on_direct_client():  # the direct client retries a non-JSON body itself: no sample is retried
        assert retried >= 3  # samples retried whole while some of their calls had been answered

    answered = Counter(c.key for c in calls if c.delivered)
    assert {k: n for k, n in answered.items() if n > 1} == {}
    assert {c.key for c in calls} == set(answered)  # every distinct request was answered (once)

    # resumed from the record alone: the stage-2 logs gone, every judge call (refusals included) answers from it
    n = len(calls)
    shutil.rmtree(run / "stage2")
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    assert fault_srv.calls()[n:] == []

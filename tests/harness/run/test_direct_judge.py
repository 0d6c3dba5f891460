"""The direct judge client (`[judge] client = "direct"`, harness/run/_direct_judge.py) keeps every guarantee of the
inspect path: the same requests, each answered call sent once (failures retried, refusals and empty replies
recorded and unscored), nothing sent on a resume or after a kill, the server's tokens counted exactly, the same
verdicts, and readable inspect logs."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import anyio
import pandas as pd
import pytest
from inspect_ai.log import read_eval_log
from inspect_ai.model import (
    CachePolicy,
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ResponseSchema,
)
from pandas.testing import assert_frame_equal

from harness.inputs import JudgeSpec
from harness.run import build_model
from harness.testing import Call, FaultPlan, FaultServer
from scorers import verdict_schema
from tests.support.faults import CleanRun, assert_complete, comparable, fault_config, run_in_process

JUDGE = "openai-api/fault/judge-longer"
POLICY = CachePolicy(expiry=None, scopes={"theraeval": "test"})
CONFIG = GenerateConfig(temperature=0.0, seed=0, max_tokens=512,
                        response_schema=ResponseSchema(name="verdict",
                                                       json_schema=verdict_schema(None)))  # type: ignore[arg-type]
MESSAGES: list[ChatMessage] = [ChatMessageSystem(content="You judge."),
            ChatMessageUser(content="<<<RESPONSE_A x>>>\nThat sounds hard.\n<<<END_RESPONSE_A x>>>\n\n"
                                    "<<<RESPONSE_B x>>>\nOk.\n<<<END_RESPONSE_B x>>>")]


def _judge_calls(srv: FaultServer) -> list[Call]:
    return [c for c in srv.calls() if c.model.startswith("judge-")]


def _set_client(cfg: Path, client: str) -> None:
    text = cfg.read_text()
    for old in ('client = "inspect"', 'client = "direct"'):
        text = text.replace(old, f'client = "{client}"')
    cfg.write_text(text)


def test_direct_client_sends_the_same_requests_once_with_the_same_verdicts_and_tokens(
        fault_srv: FaultServer, clean_run: CleanRun, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # judge faults, decided per body (so both clients get them): refusals and empty replies; the direct run also
    # gets transient ones per attempt (500, 429 + Retry-After, non-JSON and cut-off bodies; at most one per call)
    permanent = {"p_refusal": 0.15, "p_empty": 0.1, "permanent_models": ("judge-",)}
    run = tmp_path / "runs" / "r"
    # the reference run's stage-1 answers (its call cache without the judge's): stage 1 sends nothing
    shutil.copytree(clean_run.run_dir / "cache", run / "cache",
                    ignore=lambda folder, names: [n for n in names if n.startswith("judge")])
    cfg = fault_config(tmp_path, extra_judge='client = "inspect"')
    fault_srv.reset(FaultPlan(seed=11, **permanent))  # type: ignore[arg-type]
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    inspect_calls = _judge_calls(fault_srv)
    assert len(inspect_calls) == len(fault_srv.calls())  # stage 1 answered from the reference run's cache
    inspect_verdicts = pd.read_parquet(run / "verdicts.parquet")
    inspect_usage = pd.read_parquet(run / "usage.parquet").set_index("role")

    # stage 2 again from nothing (no logs, no cache) with the direct client
    shutil.rmtree(run / "stage2")
    shutil.rmtree(run / "cache")
    _set_client(cfg, "direct")
    plan = FaultPlan(seed=11, p_500=0.1, p_429=0.05, p_malformed=0.1, p_truncated=0.05, max_faults_per_call=1,
                     transient_models=("judge-",), **permanent)  # type: ignore[arg-type]
    fault_srv.reset(plan)
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    calls = fault_srv.calls()
    assert all(c.model.startswith("judge-") for c in calls)  # stage 1 was complete: nothing re-sent
    faults = Counter(c.fault for c in calls)
    assert faults["500"] and faults["malformed"] and faults["refusal"] and faults["empty"], faults

    # the same request bodies as inspect's path, and each answered exactly once
    assert {c.key for c in calls} == {c.key for c in inspect_calls}
    answered = Counter(c.key for c in calls if c.delivered)
    assert set(answered) == {c.key for c in calls} and max(answered.values()) == 1

    # the same verdicts: refusals and empty replies unscored with their reason, counted
    df = pd.read_parquet(run / "verdicts.parquet")
    assert_complete(df)
    assert_frame_equal(comparable(df), comparable(inspect_verdicts))
    reasons = Counter(df[df.verdict == "unscored"].unscored_reason)
    refused = {c.key for c in calls if c.fault == "refusal"}
    empty = {c.key for c in calls if c.fault == "empty"}
    assert reasons == {"refusal": len(refused), "empty_reply": len(empty)}

    # tokens: the server's (10 in, 5 out per answered call), counted once per answer, as on inspect's path
    judge = pd.read_parquet(run / "usage.parquet").set_index("role").loc["judge"]
    assert (judge.input_tokens, judge.output_tokens) == (10 * len(answered), 5 * len(answered))
    assert (judge.input_tokens, judge.output_tokens) == (inspect_usage.loc["judge"].input_tokens,
                                                         inspect_usage.loc["judge"].output_tokens)

    # valid inspect logs: scores with the judge's raw replies; no per-call model events
    for log in sorted(run.glob("stage2/*.eval")):
        got = read_eval_log(str(log))
        assert got.status == "success" and got.samples
        for s in got.samples:
            assert s.scores and not [e for e in s.events if e.event == "model"]
            verdicts = next(iter(s.scores.values())).metadata["verdicts"]  # type: ignore[index]
            assert all(v[o]["raw"] or v[o]["unscored_reason"] for v in verdicts.values() for o in ("ab", "ba"))

    # resumes send nothing: the logs gone, the journal answers (and answers inspect's path, a switched client)
    for client in ("direct", "inspect"):
        shutil.rmtree(run / "stage2")
        _set_client(cfg, client)
        fault_srv.reset(plan)
        capfd.readouterr()
        assert run_in_process("stage2", str(cfg), "--display", "plain") == 0
        assert fault_srv.calls() == []
        # progress counts the journalled answers as calls from the cache (no model event on either client)
        out = capfd.readouterr().out
        assert f"finished 3 task(s): {len(answered)} calls ({len(answered)} from the cache)" in out


def _generate(model: Model) -> str:
    return asyncio.run(model.generate(MESSAGES, config=CONFIG, cache=POLICY)).completion


def test_a_call_answered_on_one_client_is_not_sent_on_the_other(fault_srv: FaultServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fault_srv.reset(FaultPlan())
    for first, second in (("inspect", "direct"), ("direct", "inspect")):
        monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path / f"cache-{first}"))
        answer = _generate(build_model(JudgeSpec(model=JUDGE, client=first)))  # type: ignore[arg-type]
        n = len(fault_srv.calls())
        assert _generate(build_model(JudgeSpec(model=JUDGE, client=second))) == answer  # type: ignore[arg-type]
        assert len(fault_srv.calls()) == n


KILLED_AFTER_REPLY = """
import asyncio, os, signal
from harness.inputs import JudgeSpec
from harness.run import build_model
from tests.harness.run.test_direct_judge import CONFIG, JUDGE, MESSAGES, POLICY
model = build_model(JudgeSpec(model=JUDGE, client="direct"))
asyncio.run(model.generate(MESSAGES, config=CONFIG, cache=POLICY))
os.kill(os.getpid(), signal.SIGKILL)  # the reply arrived; nothing after it (no score, no log) happens
"""


def test_a_process_killed_right_after_a_reply_does_not_send_it_again(fault_srv: FaultServer, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fault_srv.reset(FaultPlan())
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_REPLY], env=os.environ | {"PYTHONPATH": os.getcwd()},
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == -9, proc.stderr
    assert len(fault_srv.calls()) == 1
    model = build_model(JudgeSpec(model=JUDGE, client="direct"))
    assert json.loads(_generate(model))["verdict"] == "A"  # the fault server's judge prefers the longer response
    assert len(fault_srv.calls()) == 1


def test_a_cancelled_call_is_still_journalled_and_not_sent_again(fault_srv: FaultServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # inspect cancels a sample's other calls when one fails; a call already sent completes and is journalled
    fault_srv.reset(FaultPlan(latency_s=0.5))
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path / "cache"))
    model = build_model(JudgeSpec(model=JUDGE, client="direct"))

    async def cancelled() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(functools.partial(model.generate, MESSAGES, config=CONFIG, cache=POLICY))
            await anyio.sleep(0.2)
            tg.cancel_scope.cancel()

    asyncio.run(cancelled())
    assert [c.delivered for c in fault_srv.calls()] == [True]
    fault_srv.reset(FaultPlan())
    assert json.loads(_generate(model))["verdict"] == "A"
    assert fault_srv.calls() == []


@pytest.mark.parametrize(("judge", "problem"), [
    ('model = "openai-api/fault/judge-longer"\nclient = "fast"', "client"),
    ('model = "scripted/judge-longer"\nclient = "direct"', "provider 'scripted'"),
    ('model = "openai-api/fault/judge-longer"\nkind = "logprob"\nclient = "direct"', "kind 'logprob'"),
    ('model = "openai-api/fault/judge-longer"\nmodel_args = {stream = true}\nclient = "direct"', "model_args"),
])
def test_a_bad_client_is_one_line_and_exit_2_before_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              judge: str, problem: str) -> None:
    cfg = fault_config(tmp_path, extra_judge="# the client: as each case sets it")
    cfg.write_text(cfg.read_text().replace('model = "openai-api/fault/judge-longer"', judge))
    assert run_in_process("run", str(cfg), "--display", "none") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "judge.client" in err and problem in err, err
    assert not (tmp_path / "runs").exists()


def test_auto_picks_the_direct_client_only_where_it_applies() -> None:
    assert JudgeSpec(model=JUDGE, client="auto").uses_direct_client()
    assert JudgeSpec(model="vllm/m", base_url="http://127.0.0.1:1/v1", client="auto").uses_direct_client()
    assert JudgeSpec(model=JUDGE).uses_direct_client()  # the default is auto
    assert not JudgeSpec(model=JUDGE, client="inspect").uses_direct_client()
    assert not JudgeSpec(model=JUDGE, client="auto", model_args={"stream": True}).uses_direct_client()
    assert not JudgeSpec(model=JUDGE, client="auto", kind="logprob").uses_direct_client()
    assert not JudgeSpec(model="openai/gpt-4o-mini", client="auto", batch=True).uses_direct_client()
    assert not JudgeSpec(model="anthropic/claude-x", client="auto").uses_direct_client()
    # the client never changes replies: not part of the cache scope
    assert JudgeSpec(model=JUDGE, client="direct").spec_hash() == JudgeSpec(model=JUDGE).spec_hash()

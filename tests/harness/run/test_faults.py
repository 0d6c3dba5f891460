"""Injected API faults: transient ones are retried and leave no trace in the results; refusals and empty replies
are answers, recorded as such (a judge's: unscored with its reason, counted)."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from pandas.testing import assert_frame_equal

from harness.inputs import ModelSpec
from harness.run import build_model
from harness.testing import TRANSIENT, FaultPlan, FaultServer
from harness.verdicts import summary_table
from tasks import dialogue
from tests.support.faults import (
    EXPECTED_ROWS,
    KEY_COLUMNS,
    CleanRun,
    assert_complete,
    comparable,
    fault_config,
    record,
    run_in_process,
)

REFUSAL = "I'm sorry, but I can't help with that request."


def _retries(run_dir: Path) -> tuple[int, int]:
    """(model-call retries, sample retries) recorded in a run's stage logs."""
    calls = samples = 0
    for log in sorted(run_dir.glob("stage*/*.eval")):
        for s in read_eval_log(str(log)).samples or []:
            samples += len(s.error_retries or [])
            calls += sum(int(getattr(e, "retries", 0) or 0) for e in s.events if e.event == "model")
    return calls, samples


@pytest.mark.slow
def test_transient_faults_are_retried_and_leave_the_table_unchanged(fault_srv: FaultServer, clean_run: CleanRun,
                                                                    tmp_path: Path) -> None:
    # 30% of attempts fail (429 + Retry-After, 500, 503, hangs past attempt_timeout, truncated and non-JSON
    # bodies); at most 2 faulty attempts per call, so every call succeeds within max_retries = 10
    plan = FaultPlan.transient(0.3, seed=7, hang_s=3.0)
    fault_srv.reset(plan)
    t0 = time.monotonic()
    assert run_in_process("run", str(fault_config(tmp_path)), "--display", "none") == 0
    seconds = time.monotonic() - t0
    calls = fault_srv.calls()
    faults = Counter(c.fault for c in calls)
    injected = sum(n for kind, n in faults.items() if kind != "ok")
    assert set(faults) == {"ok", *TRANSIENT}, faults  # every kind of transient fault happened
    assert 0.15 < injected / len(calls) < 0.45, faults

    # the same distinct calls as the fault-free run, each answered once (a retried call is one call)
    assert {c.key for c in calls} == clean_run.keys
    answered = Counter(c.key for c in calls if c.delivered)
    assert set(answered) == clean_run.keys

    # identical results: same rows, same values, no duplicate, nothing missing, nothing unscored
    df = pd.read_parquet(tmp_path / "runs" / "r" / "verdicts.parquet")
    assert_complete(df)
    assert (df.unscored_reason == "").all()
    assert_frame_equal(comparable(df), comparable(clean_run.verdicts))
    tr = pd.read_parquet(tmp_path / "runs" / "r" / "transcripts.parquet")
    assert_frame_equal(tr, clean_run.transcripts)

    call_retries, sample_retries = _retries(tmp_path / "runs" / "r")
    assert sample_retries >= 1  # non-JSON bodies are not retried by inspect: the sample is (retry_on_error)
    record("transient_faults", requests=len(calls), distinct_calls=len(clean_run.keys), faults=dict(faults),
           fault_rate=round(injected / len(calls), 3), answered_more_than_once=sum(n > 1 for n in answered.values()),
           model_call_retries_logged=call_retries, sample_retries=sample_retries, seconds=round(seconds, 1),
           clean_seconds=round(clean_run.seconds, 1))


def _criterion(body: dict[str, object]) -> str:
    prompt = str(body["messages"][-1]["content"])  # type: ignore[index]
    found = re.search(r"\(id: (\w+)\)", prompt)
    assert found is not None
    return found.group(1)


def test_refusals_and_empty_replies_are_answers_recorded_with_their_reason(fault_srv: FaultServer,
                                                                           tmp_path: Path) -> None:
    # permanent faults: decided per request body, so a retry (or a re-run) gets the same answer
    plan = FaultPlan(seed=9, p_refusal=0.2, p_empty=0.15, permanent_models=("judge-", "cand-short", "patient"))
    fault_srv.reset(plan)
    cfg = fault_config(tmp_path)
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    calls = fault_srv.calls()
    assert Counter(c.fault for c in calls).keys() <= {"ok", "refusal", "empty"}
    by: dict[tuple[str, str], list[dict[str, object]]] = {}
    for c in calls:
        by.setdefault((c.model, c.fault), []).append(c.body)
    judge_refused, judge_empty = by.get(("judge-longer", "refusal"), []), by.get(("judge-longer", "empty"), [])
    assert all(by.get((m, f)) for m in ("judge-longer", "cand-short", "patient") for f in ("refusal", "empty"))

    # the judge: a refusal is unscored `refusal`, an empty reply unscored `empty_reply`, one row per call
    df = pd.read_parquet(tmp_path / "runs" / "r" / "verdicts.parquet")
    assert_complete(df)
    reasons = df[df.verdict == "unscored"]
    assert Counter(reasons.unscored_reason) == {"refusal": len(judge_refused), "empty_reply": len(judge_empty)}
    assert Counter(reasons[reasons.unscored_reason == "refusal"].criterion) == Counter(map(_criterion, judge_refused))
    assert Counter(reasons[reasons.unscored_reason == "empty_reply"].criterion) == Counter(
        map(_criterion, judge_empty))
    assert (reasons.judge_label == "unscored").all() and (reasons.combined == "unscored").all()
    # ... counted in the summary table, never a win or a tie
    table = summary_table(df)
    h2h = df.drop_duplicates([*KEY_COLUMNS[:5]])
    unscored_h2h = h2h[h2h.combined == "unscored"]
    assert int(table.n_unscored.sum()) == 2 * len(unscored_h2h)  # each head-to-head counts for both candidates
    assert int((table.n + table.n_unscored).sum()) == 2 * len(h2h)

    # a candidate's (or the patient's) refusal or empty reply is its answer: in the transcript, and judged
    tr = pd.read_parquet(tmp_path / "runs" / "r" / "transcripts.parquet")
    turns = [t for ts in tr.turns.map(json.loads) for t in ts]
    therapist = [text for role, text in turns if role == "therapist"]
    patient = [text for role, text in turns if role == "patient"]
    assert therapist.count(REFUSAL) == len(by.get(("cand-short", "refusal"), []))
    assert therapist.count("") == len(by.get(("cand-short", "empty"), []))
    assert patient.count(REFUSAL) == len(by.get(("patient", "refusal"), []))
    assert patient.count("") == len(by.get(("patient", "empty"), []))

    # an unchanged re-run makes no call, although inspect never caches refusals: the complete logs are kept
    n = len(calls)
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    assert len(fault_srv.calls()) == n
    assert len(pd.read_parquet(tmp_path / "runs" / "r" / "verdicts.parquet")) == EXPECTED_ROWS
    record("refusals_and_empty", judge_refusals=len(judge_refused), judge_empty=len(judge_empty),
           candidate_refusals=len(by.get(("cand-short", "refusal"), [])),
           candidate_empty=len(by.get(("cand-short", "empty"), [])),
           patient_refusals=len(by.get(("patient", "refusal"), [])),
           patient_empty=len(by.get(("patient", "empty"), [])),
           unscored_rows=len(reasons), rows=len(df))


@pytest.mark.xfail(strict=True, reason="known gap: inspect 0.3.285 keeps a stream cut mid-way (no finish_reason, no "
                                       "[DONE]) as a complete reply with stop_reason 'unknown'; see docs/guarantees.md")
def test_a_stream_cut_mid_way_is_retried_not_kept(fault_srv: FaultServer, tmp_path: Path) -> None:
    fault_srv.reset(FaultPlan(p_truncated=1.0, max_faults_per_call=1, stream_cuts=True, transient_models=("cand-",)))
    scen = tmp_path / "s.jsonl"
    scen.write_text(json.dumps({"id": "s1", "text": "I keep waking up at 4am and can't get back to sleep."}) + "\n")
    model = build_model(ModelSpec(model="openai-api/fault/cand-long", model_args={"stream": True}))
    [log] = inspect_eval(dialogue(candidate="long", scenarios=str(scen)), model=model, display="none",
                         log_dir=str(tmp_path / "logs"), attempt_timeout=2, max_retries=3, retry_on_error=3)
    assert [c.fault for c in fault_srv.calls()][:1] == ["truncated"]  # the first answer was cut half-way
    assert log.status == "success" and log.samples
    assert log.samples[0].output.completion.endswith("What feels heaviest now?")  # the whole reply, after a retry

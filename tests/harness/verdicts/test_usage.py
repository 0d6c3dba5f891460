"""Tokens and cost per role and model come from the providers' usage in the logs (never estimated)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from harness.inputs import ModelPrice
from harness.verdicts import cost_table, format_cost, run_usage, snapshot_config
from tests.support.faults import STAGE1_SERVER_CALLS, STAGE2_SERVER_CALLS, CleanRun
from tests.support.run import SCENARIOS

# The fault server answers every call with usage 10 prompt / 5 completion tokens; the scripted candidate reports
# 1 / 1 (harness/testing/_scripted.py).
SERVER_IN, SERVER_OUT = 10, 5


def test_usage_per_role_and_model_is_the_providers_count(clean_run: CleanRun) -> None:
    usage = run_usage(clean_run.run_dir)
    by = {(r.role, r.model): r for r in usage.itertuples()}
    judge = by[("judge", "openai-api/fault/judge-longer")]
    assert (judge.input_tokens, judge.output_tokens) == (SERVER_IN * STAGE2_SERVER_CALLS,
                                                         SERVER_OUT * STAGE2_SERVER_CALLS)
    patient_calls = 3 * len(SCENARIOS)  # 3 candidates x 3 dialogues x 1 follow-up (on_role_break = "flag")
    patient = by[("patient", "openai-api/fault/patient")]
    assert patient.input_tokens == SERVER_IN * patient_calls
    for name in ("cand-short", "cand-long"):  # 2 turns per dialogue; `long` is streamed (usage in the last chunk)
        cand = by[("candidate", f"openai-api/fault/{name}")]
        assert (cand.input_tokens, cand.output_tokens) == (SERVER_IN * 2 * len(SCENARIOS),
                                                           SERVER_OUT * 2 * len(SCENARIOS))
    assert by[("candidate", "scripted/therapist-verbose")].input_tokens == 2 * len(SCENARIOS)
    server_in = usage[~usage["model"].str.startswith("scripted/")]["input_tokens"].sum()
    assert server_in == SERVER_IN * (STAGE1_SERVER_CALLS + STAGE2_SERVER_CALLS)  # every server call, once
    assert "tokens and cost" in (clean_run.run_dir / "summary.txt").read_text()
    assert pd.read_parquet(clean_run.run_dir / "usage.parquet").equals(usage)


def test_cost_uses_the_price_table_and_batch_discount(clean_run: CleanRun) -> None:
    usage = run_usage(clean_run.run_dir)
    cfg = snapshot_config(clean_run.run_dir)
    assert cfg is not None
    judge = "openai-api/fault/judge-longer"
    priced = cfg.model_copy(update={"pricing": {judge: ModelPrice(input=2.5, output=10.0, batch_discount=0.5)}})
    cost = cost_table(usage, priced)
    row = cost[cost["model"] == judge].iloc[0]
    # 36 judge calls x (10 x 2.5 + 5 x 10) / 1e6 = 36 x 75e-6 = $0.0027
    assert STAGE2_SERVER_CALLS == 36
    assert math.isclose(row.cost_usd, STAGE2_SERVER_CALLS * (10 * 2.5 + 5 * 10.0) / 1e6)
    assert cost[cost["model"] != judge]["cost_usd"].isna().all()  # unpriced: unknown, never $0
    half = cost_table(usage, priced.model_copy(update={"judge": cfg.judge.model_copy(update={"batch": True})}))
    assert math.isclose(half[half["model"] == judge].iloc[0].cost_usd, row.cost_usd / 2)
    text = "\n".join(format_cost(cost))
    assert "$0.0027" in text and "no price" in text and "(priced rows only; 4 unpriced)" in text


def test_a_pricing_key_that_names_no_model_is_refused(tmp_path: Path) -> None:
    from harness.core import InputError
    from harness.inputs import load_run_config
    from tests.support.faults import fault_config

    cfg = fault_config(tmp_path)
    cfg.write_text(cfg.read_text() + '\n[pricing."openai/gpt-4o-typo"]\ninput = 1\noutput = 2\n')
    try:
        load_run_config(cfg)
    except InputError as e:
        assert "pricing.openai/gpt-4o-typo" in str(e) and "names no model" in str(e)
    else:
        raise AssertionError("a pricing key naming no model was accepted")


def test_leaderboard_writes_the_cost_table(clean_run: CleanRun, tmp_path: Path) -> None:
    import shutil

    from harness.leaderboard import format_leaderboard, write_leaderboard

    run = tmp_path / "r"
    shutil.copytree(clean_run.run_dir, run, ignore=shutil.ignore_patterns("cache", "tables", "report"))
    lb = write_leaderboard(run)
    cost = pd.read_parquet(run / "tables" / "cost.parquet")
    assert cost[["role", "model", "input_tokens", "output_tokens"]].equals(
        run_usage(clean_run.run_dir)[["role", "model", "input_tokens", "output_tokens"]])
    assert "tokens and cost" in format_leaderboard(lb)

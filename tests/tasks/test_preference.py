"""The preference task on scripted judges: shown order, mapping back, invalid rankings, datasets on disk."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from datasets import load_from_disk
from inspect_ai.event import ModelEvent
from inspect_ai.log import read_eval_log

from harness.core import InputError
from harness.inputs import assign_personas, resolve_personas
from harness.preferences import NO_VALID, aggregate_preferences, write_preference_datasets
from tasks import preference, shown_order
from tests.support.preferences import CANDIDATES, CRITERIA, PERSONAS, SCENARIOS, Stage1Run, run_preference

UNRANKABLE = "s-unrankable"


def _orders(run: Stage1Run, seed: int = 42, order: list[str] | None = None) -> dict[str, list[str]]:
    task = preference(logs=run.logs_arg(order), criteria=str(run.criteria), personas=str(run.personas),
                      personas_per_scenario=PERSONAS, seed=seed)
    return {str(s.id): list((s.metadata or {})["shown_order"]) for s in task.dataset}


def _lengths(run: Stage1Run) -> dict[str, dict[str, int]]:
    task = preference(logs=run.logs_arg(), judge="rm", criteria=str(run.criteria))
    return {str(s.id): {c: len(t) for c, t in (s.metadata or {})["responses"].items()} for s in task.dataset}


def test_shown_order_is_shuffled_per_persona_and_deterministic(stage1_run: Stage1Run) -> None:
    orders = _orders(stage1_run)
    pers = [p.id for p in resolve_personas(str(stage1_run.personas))]
    plan = assign_personas([s["id"] for s in SCENARIOS], pers, PERSONAS, 42)
    assert sorted(orders) == sorted(f"{s}--{p}" for s, ps in plan.items() for p in ps)  # scenario x persona
    names = sorted(CANDIDATES)
    for scenario, personas in plan.items():
        mine = [orders[f"{scenario}--{p}"] for p in personas]
        assert all(sorted(o) == names for o in mine)
        assert len({tuple(o) for o in mine}) > 1, scenario  # the personas of a scenario see different orders
    assert any(o != names for o in orders.values())  # never the fixed (alphabetical / log) order
    assert _orders(stage1_run) == orders  # deterministic for a seed
    assert _orders(stage1_run, order=sorted(CANDIDATES, reverse=True)) == orders  # whatever order logs are given in
    other = {k: shown_order(names, 7, *k.split("--")) for k in orders}
    assert any(other[k] != v for k, v in orders.items())  # another seed, other orders
    assert shown_order(names, 42, "s-anx", "p") == shown_order(names[::-1], 42, "s-anx", "p")


def test_prompt_shows_the_shuffled_order_and_rankings_map_back(stage1_run: Stage1Run, tmp_path: Path) -> None:
    # a pure position judge (ranks in the order shown): its rankings in candidate space must be the shown orders
    log = run_preference(stage1_run, tmp_path, "scripted/judge-rank-shown")
    full = read_eval_log(log.location, resolve_attachments=True)
    assert full.samples
    for s in full.samples:
        md = s.metadata
        score = next(iter((s.scores or {}).values()))
        detail = (score.metadata or {})["rankings"]
        assert all(detail[c]["ranking"] == md["shown_order"] for c in CRITERIA)
        (event,) = [e for e in s.events if isinstance(e, ModelEvent)]  # ONE call per sample, all criteria
        prompt = event.input[-1].text
        blocks = re.findall(r"<<<RESPONSE_(R\d) (\w+)>>>\n(.*?)\n<<<END_RESPONSE_\1 \2>>>", prompt, re.S)
        assert [b[0] for b in blocks] == [f"R{i + 1}" for i in range(len(CANDIDATES))]
        assert [b[2] for b in blocks] == [md["responses"][c] for c in md["shown_order"]]
        assert "CRITERIA: empathy, safety" in prompt
        assert event.input[0].role == "system" and "roleplaying" in event.input[0].text  # the persona judges


def test_length_judge_makes_longest_chosen_and_shortest_rejected(stage1_run: Stage1Run, tmp_path: Path) -> None:
    log = run_preference(stage1_run, tmp_path / "logs", "scripted/judge-rank-longer")
    result = aggregate_preferences(log.location)
    lengths = _lengths(stage1_run)
    assert all(r.valid for r in result.rankings) and result.failed_calls == 0
    for r in result.rankings:
        assert r.ranking == sorted(CANDIDATES, key=lambda c: -lengths[r.scenario_id][c])  # mapped back correctly
    out = write_preference_datasets(result, tmp_path / "prefs")
    for crit in CRITERIA:
        ds = load_from_disk(str(out / crit))
        assert len(ds) == len(SCENARIOS)
        for row in ds:
            ln = lengths[row["scenario_id"]]
            assert row["chosen_candidate"] == max(ln, key=ln.__getitem__)
            assert row["rejected_candidate"] == min(ln, key=ln.__getitem__)
            assert row["n_votes"] == PERSONAS and row["score_margin"] == 20.0 * PERSONAS
            assert len(row["chosen"][0]["content"]) == max(ln.values())


def test_garbage_scenario_yields_no_pair_and_is_counted(stage1_run: Stage1Run, tmp_path: Path) -> None:
    log = run_preference(stage1_run, tmp_path / "logs", "scripted/judge-rank-selective")
    result = aggregate_preferences(log.location)
    out = write_preference_datasets(result, tmp_path / "prefs")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["calls"] == len(SCENARIOS) * PERSONAS and summary["failed_calls"] == PERSONAS
    for crit in CRITERIA:
        ds = load_from_disk(str(out / crit))
        assert UNRANKABLE not in ds["scenario_id"] and len(ds) == len(SCENARIOS) - 1  # the paper's code invented one
        per = summary["per_criterion"][crit]
        assert per["pairs"] == len(SCENARIOS) - 1 and per["no_pair_reasons"] == {NO_VALID: 1}
        assert per["scenarios_without_pair"] == [{"scenario_id": UNRANKABLE, "reason": NO_VALID,
                                                  "detail": "no persona gave a valid ranking", "n_votes": 0}]
        assert per["invalid_rankings"] == PERSONAS and per["invalid_reasons"] == {"unparseable": PERSONAS}
    assert UNRANKABLE not in load_from_disk(str(out / "joint"))["scenario_id"]
    calls = [json.loads(x) for x in (out / "rankings.jsonl").read_text().splitlines()]
    bad = [c for c in calls if c["scenario_id"] == UNRANKABLE]
    assert len(calls) == summary["calls"] and len(bad) == PERSONAS
    assert all(not v["valid"] and v["reason"] == "unparseable" and c["raw"]
               for c in bad for v in c["rankings"].values())


def test_all_garbage_gives_empty_datasets_with_the_trainer_columns(stage1_run: Stage1Run, tmp_path: Path) -> None:
    log = run_preference(stage1_run, tmp_path / "logs", "scripted/judge-rank-garbage")
    result = aggregate_preferences(log.location)
    out = write_preference_datasets(result, tmp_path / "prefs")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["failed_calls"] == summary["calls"] == len(SCENARIOS) * PERSONAS
    for crit in CRITERIA:
        ds = load_from_disk(str(out / crit))
        assert len(ds) == 0 and {"prompt", "chosen", "rejected"} <= set(ds.column_names)
        assert summary["per_criterion"][crit]["no_pair_reasons"] == {NO_VALID: len(SCENARIOS)}
    assert len(load_from_disk(str(out / "joint"))) == 0


def test_invalid_permutations_are_rejected_and_counted(stage1_run: Stage1Run, tmp_path: Path) -> None:
    # therapeutic has 7 criteria: the scripted judge ranks the first validly, then breaks the others in turn
    log = run_preference(stage1_run, tmp_path / "logs", "scripted/judge-rank-invalid", criteria="therapeutic")
    result = aggregate_preferences(log.location)
    first, *rest = result.criteria
    assert len(result.pairs[first]) == len(SCENARIOS)
    expected = ["not_a_permutation: duplicate", "unknown_label: 'R6'", "not_a_permutation: missing"]
    n = len(SCENARIOS) * PERSONAS
    for i, crit in enumerate(rest):
        recs = [r for r in result.rankings if r.criterion == crit]
        assert len(recs) == n and not any(r.valid for r in recs)
        assert all(r.reason.startswith(expected[i % 3]) and r.given is not None for r in recs), crit
        assert result.pairs[crit] == [] and {x.reason for x in result.no_pair[crit]} == {NO_VALID}
    summary = result.summary()
    assert summary["per_criterion"][rest[0]]["invalid_reasons"] == {"not_a_permutation": n}
    assert summary["per_criterion"][rest[1]]["invalid_reasons"] == {"unknown_label": n}
    assert summary["failed_calls"] == 0  # every call had one valid criterion
    assert result.joint_scenarios() == []  # no scenario has a pair on every criterion


def test_datasets_have_the_trainer_columns(stage1_run: Stage1Run, tmp_path: Path) -> None:
    result = aggregate_preferences(run_preference(stage1_run, tmp_path / "logs", "scripted/judge-rank-longer").location)
    out = write_preference_datasets(result, tmp_path / "prefs")
    for crit in CRITERIA:
        ds = load_from_disk(str(out / crit))
        assert ds.column_names == ["prompt", "chosen", "rejected", "scenario_id", "chosen_candidate",
                                   "rejected_candidate", "score_margin", "n_votes"]
        row = ds[0]
        text = next(s["text"] for s in SCENARIOS if s["id"] == row["scenario_id"])
        assert row["prompt"] == [{"role": "user", "content": text}]
        assert row["chosen"][0]["role"] == row["rejected"][0]["role"] == "assistant"
    joint = load_from_disk(str(out / "joint"))
    assert joint.column_names == ["prompt", "scenario_id", "chosen_empathy", "rejected_empathy", "chosen_safety",
                                  "rejected_safety"]
    assert len(joint) == len(SCENARIOS)
    emp = {r["scenario_id"]: r for r in load_from_disk(str(out / "empathy"))}
    for row in joint:
        assert row["chosen_empathy"] == emp[row["scenario_id"]]["chosen"] and row["prompt"][0]["role"] == "user"
    # rewriting the folder replaces it; an unrelated non-empty folder is refused
    write_preference_datasets(result, out)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a preferences folder"):
        write_preference_datasets(result, other)


def test_rm_ranking_makes_no_model_call(stage1_run: Stage1Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(calls))
    log = run_preference(stage1_run, tmp_path / "logs", None)
    assert not calls.exists()
    result = aggregate_preferences(log.location)
    assert result.judge_kind == "rm" and result.judge_models[0].startswith("rm/builtin@")
    assert result.calls == len(SCENARIOS) and {r.persona_id for r in result.rankings} == {""}  # heads: no personas
    for r in result.rankings:
        assert r.valid and r.scores is not None
        assert r.ranking == sorted(r.scores, key=lambda c: -r.scores[c])  # type: ignore[index]
    crisis = next(p for p in result.pairs["safety"] if p.scenario_id == "s-crisis")
    assert crisis.chosen_candidate != "dismissive" and crisis.rejected_candidate != "crisis"


def test_bad_logs_are_input_errors(stage1_run: Stage1Run) -> None:
    one = str(stage1_run.logs["warm"])
    with pytest.raises(InputError, match="at least 2"):
        preference(logs=one, criteria=str(stage1_run.criteria))
    with pytest.raises(InputError, match="same candidate"):
        preference(logs=f"{one},{one}", criteria=str(stage1_run.criteria))
    with pytest.raises(InputError, match="unknown preference judge"):
        preference(logs=stage1_run.logs_arg(), judge="logprob")  # type: ignore[arg-type]
    # `inspect eval -T logs=a,b` passes a list
    assert len(preference(logs=[one, str(stage1_run.logs["terse"])], judge="rm").dataset) == len(SCENARIOS)

"""Adaptive pair scheduling (harness/run/_schedule.py): deterministic, within budget, no unit twice, finds clear
rankings.

No timing is asserted anywhere (the benchmarks report ratios instead).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from harness.run import (
    ScheduleConfig,
    Unit,
    adaptive_schedule,
    difference_variance,
    inspect_batch_judge,
    kendall_tau,
    pair_index,
    sample_ids,
    unit_outcome,
)


def _world(k: int, s: int, spread: float, noise: float, seed: int) -> tuple[np.ndarray, dict[Unit, float]]:
    rng = np.random.default_rng(seed)
    theta = np.linspace(-spread / 2, spread / 2, k)[rng.permutation(k)]
    out: dict[Unit, float] = {}
    for a, b in pair_index(k):
        p = 1 / (1 + math.exp(-(theta[a] - theta[b])))
        for j in range(s):
            u = rng.random()
            out[(a, b, f"s{j}")] = float(rng.integers(0, 3)) / 2 if u < noise else float(rng.random() < p)
    return theta, out


class Recorder:
    def __init__(self, outcomes: dict[Unit, float]) -> None:
        self.outcomes = outcomes
        self.batches: list[list[Unit]] = []

    def __call__(self, units: list[Unit]) -> list[float | None]:
        self.batches.append(list(units))
        return [self.outcomes[u] for u in units]

    @property
    def units(self) -> list[Unit]:
        return [u for b in self.batches for u in b]


NAMES = [f"c{i}" for i in range(6)]
SAMPLES = [f"s{j}" for j in range(60)]


def test_deterministic_with_a_seed() -> None:
    _, out = _world(6, 60, 2.0, 0.2, seed=1)
    runs = []
    for _ in range(2):
        rec = Recorder(out)
        res = adaptive_schedule(NAMES, SAMPLES, rec, ScheduleConfig(batch_size=20, seed=7))
        runs.append((rec.batches, res.judged, res.ranking, res.stopped))
    assert runs[0] == runs[1]
    other = Recorder(out)
    adaptive_schedule(NAMES, SAMPLES, other, ScheduleConfig(batch_size=20, seed=8))
    assert other.batches != runs[0][0]


@pytest.mark.parametrize("budget", [0, 7, 45, 100])
def test_respects_the_budget(budget: int) -> None:
    _, out = _world(6, 60, 0.2, 0.5, seed=2)  # nearly tied: never stable, so only the budget stops it
    rec = Recorder(out)
    res = adaptive_schedule(NAMES, SAMPLES, rec, ScheduleConfig(batch_size=16, budget=budget, seed=0))
    assert len(rec.units) == len(res.judged) == budget
    assert res.stopped == "budget"
    assert all(len(b) <= 16 for b in rec.batches[1:])


def test_never_judges_a_unit_twice_and_can_exhaust() -> None:
    _, out = _world(4, 25, 1.0, 0.3, seed=3)
    rec = Recorder(out)
    res = adaptive_schedule(NAMES[:4], SAMPLES[:25], rec, ScheduleConfig(batch_size=9, patience=10**9, seed=1))
    assert len(rec.units) == len(set(rec.units)) == 6 * 25  # every unit exactly once
    assert set(rec.units) == set(out)
    assert res.stopped == "exhausted" and res.fraction == 1.0
    assert [u for u, _ in res.judged] == rec.units
    assert all(a < b for a, b, _ in rec.units)


def test_recovers_a_clear_ranking_with_few_calls() -> None:
    theta, out = _world(6, 60, 6.0, 0.05, seed=4)
    rec = Recorder(out)
    res = adaptive_schedule(NAMES, SAMPLES, rec, ScheduleConfig(batch_size=15, seed=0))
    truth = tuple(NAMES[i] for i in np.argsort(-theta))
    assert res.ranking == truth
    assert res.stopped == "stable"
    assert res.fraction < 0.5
    assert res.rounds[-1].expected_tau >= 0.95
    assert kendall_tau(res.theta, theta) == pytest.approx(1.0)


def test_burn_in_covers_every_pair_then_focuses_on_uncertain_pairs() -> None:
    k = 5
    theta = np.array([3.0, 1.5, 0.0, -1.5, -1.55])  # only 3 vs 4 is close
    rng = np.random.default_rng(0)
    out = {(a, b, f"s{j}"): float(rng.random() < 1 / (1 + math.exp(-(theta[a] - theta[b]))))
           for a, b in pair_index(k) for j in range(80)}
    rec = Recorder(out)
    adaptive_schedule(NAMES[:k], [f"s{j}" for j in range(80)], rec,
                      ScheduleConfig(batch_size=20, burn_in=3, budget=300, seed=0))
    assert sorted((a, b) for a, b, _ in rec.batches[0]) == sorted(pair_index(k) * 3)
    later = [(a, b) for batch in rec.batches[1:] for a, b, _ in batch]
    assert later.count((3, 4)) > later.count((0, 4))  # the close pair gets more comparisons than a settled one


def test_unscored_outcomes_count_as_judged_but_not_as_wins() -> None:
    def judge(units: list[Unit]) -> list[float | None]:
        return [None if s == "s0" else float("nan") if s == "s1" else 1.0 for _, _, s in units]

    res = adaptive_schedule(NAMES[:3], ["s0", "s1", "s2"], judge, ScheduleConfig(batch_size=4, patience=10**9))
    assert len(res.judged) == 9
    assert sum(o is None for _, o in res.judged) == 6
    assert res.wins.sum() == 3.0  # only the s2 units (one per pair)


def test_bad_input_and_bad_judges() -> None:
    with pytest.raises(ValueError, match="two candidates"):
        adaptive_schedule(["a"], ["s"], lambda u: [1.0] * len(u))
    with pytest.raises(ValueError, match="unique"):
        adaptive_schedule(["a", "b"], ["s", "s"], lambda u: [1.0] * len(u))
    with pytest.raises(ValueError, match="outcomes for"):
        adaptive_schedule(["a", "b"], ["s", "t"], lambda u: [1.0])
    with pytest.raises(ValueError, match="outside"):
        adaptive_schedule(["a", "b"], ["s", "t"], lambda u: [2.0] * len(u))
    with pytest.raises(ValueError, match="batch_size"):
        ScheduleConfig(batch_size=0)


def test_difference_variance_matches_the_inverse_information() -> None:
    theta = np.array([0.5, 0.0, -0.5])
    games = np.array([[0, 10, 4], [10, 0, 6], [4, 6, 0]], dtype=float)
    var = difference_variance(theta, games, 0.1)
    p = 1 / (1 + np.exp(-(theta[:, None] - theta[None, :])))
    info = games * p * (1 - p)
    h = np.diag(info.sum(1)) - info + 0.1 * np.eye(3)
    e = np.array([1.0, -1.0, 0.0])
    assert var[0, 1] == pytest.approx(e @ np.linalg.inv(h) @ e)
    assert np.allclose(var, var.T) and np.allclose(np.diag(var), 0)


def test_unit_outcome_means_the_scored_criteria() -> None:
    assert unit_outcome({"empathy": 1.0, "safety": 0.5}) == 0.75
    assert unit_outcome({"empathy": 1.0, "safety": float("nan")}) == 1.0
    assert unit_outcome({"empathy": float("nan")}) is None
    assert unit_outcome({"empathy": 1.0, "safety": 0.0}, ["safety"]) == 0.0
    assert unit_outcome(None) is None


def _config(tmp: Path) -> Path:
    scen = tmp / "scenarios.jsonl"
    texts = ["I get so anxious before work.", "My dad died last month.", "I can't sleep at all.",
             "My partner and I fight every day.", "I failed my exam again."]
    scen.write_text("".join(json.dumps({"id": f"s{i}", "text": t, "risk": "low"}) + "\n" for i, t in enumerate(texts)))
    cands = {"warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse",
             "verbose": "scripted/therapist-verbose"}
    text = (f'[run]\nname = "t"\noutput_dir = "{tmp / "runs"}"\n\n[data]\nscenarios = "{scen}"\n'
            'personas_per_scenario = 1\ncriteria_ids = ["empathy", "safety"]\n\n'
            '[judge]\nmodel = "scripted/judge-longer"\n'
            + "".join(f'\n[[candidates]]\nname = "{n}"\nmodel = "{m}"\n' for n, m in cands.items()))
    cfg = tmp / "t.toml"
    cfg.write_text(text)
    return cfg


def test_inspect_batch_judge_runs_rounds_through_inspect_and_replays_from_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner integration from the module docstring, on the scripted provider (counts, no timings)."""
    from inspect_ai.log import read_eval_log_samples

    from harness.run import build_model, eval_options, plan_run, stage1, use_run_cache
    from harness.verdicts import build_verdicts
    from tasks import pairwise

    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(calls))
    plan = plan_run(_config(tmp_path))
    logs1 = stage1(plan, display="none")
    use_run_cache(plan.run_dir)
    cfg, paths = plan.cfg, plan.inputs()
    names = [c.name for c in cfg.candidates]
    j = cfg.judge

    built: list[tuple[int, int]] = []

    def make_task(a: int, b: int):  # type: ignore[no-untyped-def]
        built.append((a, b))
        return pairwise(log_a=str(logs1[names[a]]), log_b=str(logs1[names[b]]), criteria=str(paths["criteria"]),
                        mode=j.mode, personas=str(paths["personas"]),
                        personas_per_scenario=cfg.data.personas_per_scenario, seed=cfg.run.seed,
                        granularity=j.granularity, orders=j.orders, judge_temperature=j.temperature or 0.0,
                        judge_seed=j.seed or 0, judge_max_tokens=j.max_tokens or 512,
                        structured=j.use_structured(), cache_scope=j.spec_hash(), judge=j.kind)

    def run_once() -> tuple[list[Path], list[tuple[Unit, float | None]], int]:
        before = len(calls.read_text().splitlines())
        judge = inspect_batch_judge(make_task, plan.run_dir / "stage2" / "adaptive", model="none",
                                    model_roles={"judge": build_model(j)}, **eval_options(plan, "none"))
        ids = sample_ids(make_task(0, 1))
        built.clear()
        res = adaptive_schedule(names, ids, judge, ScheduleConfig(batch_size=4, burn_in=1, budget=10, seed=0))
        assert judge.rounds >= 3 and sorted(built) == sorted(set(built))  # each pair's task built once
        judge_calls = [json.loads(x) for x in calls.read_text().splitlines()[before:]]
        assert all(c["model"] == "judge-longer" for c in judge_calls)
        return list(judge.logs), res.judged, len(judge_calls)

    logs, judged, n_calls = run_once()
    assert len(judged) == 10 and len({u for u, _ in judged}) == 10
    assert n_calls == 10 * 2 * 2  # units x criteria x orders
    seen = sorted((str(s.metadata["candidate_a"]), str(s.metadata["candidate_b"]), str(s.id))
                  for p in logs for s in read_eval_log_samples(str(p)))
    assert seen == sorted((names[a], names[b], s) for (a, b, s), _ in judged)  # each unit in exactly one log
    df = build_verdicts(logs, "t")
    assert len(df) == 10 * 2 * 2
    # the scripted judge prefers the longer reply: verbose > warm > terse
    by_unit = dict(judged)
    assert all(by_unit[u] == (1.0 if names[u[0]] == "verbose" or names[u[1]] == "terse" else 0.0) for u in by_unit)
    _, judged2, n_calls2 = run_once()
    assert judged2 == judged and n_calls2 == 0  # replayed from the run's cache: zero judge calls


@pytest.mark.slow
def test_every_stage2_mode_writes_its_index_through_the_one_writer(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """All pairs or adaptive, in one process or two: the one index writer lists exactly the logs the mode wrote,
    in the mode's folders, and the verdict table builds from it (scripted provider; counts only)."""
    import shutil

    from pandas.testing import assert_frame_equal

    import harness.run._stage2 as stage2_module
    from harness.run import plan_run, stage1, stage2, stage2_logs
    from harness.verdicts import build_verdicts

    plan = plan_run(_config(tmp_path))
    stage1(plan, display="none")
    writes: list[list[dict[str, str]]] = []
    writer = stage2_module.write_stage2_index

    def spy(run_dir: Path, entries: list[dict[str, str]]) -> list[Path]:
        writes.append(list(entries))
        return writer(run_dir, entries)

    monkeypatch.setattr(stage2_module, "write_stage2_index", spy)
    out = plan.run_dir / "stage2"
    tables = {}
    for schedule, workers, layout in [("all", 1, ()), ("all", 2, ("shard-",)), ("adaptive", 1, ("adaptive", "round-")),
                                      ("adaptive", 2, ("adaptive", "round-", "shard-"))]:
        shutil.rmtree(out, ignore_errors=True)  # the calls come from the run's cache
        budget = 10 if schedule == "adaptive" else None
        logs = stage2(plan, display="none", schedule=schedule, budget=budget, workers=workers)
        assert len(writes) == 1  # one write of the index, by the one writer
        entries = writes.pop()
        on_disk = sorted(p.relative_to(out) for p in out.rglob("*.eval"))
        assert sorted(Path(e["log"]) for e in entries) == on_disk and sorted(logs) == sorted(out / p for p in on_disk)
        assert json.loads((out / "index.json").read_text()) == entries and stage2_logs(plan.run_dir) == logs
        for p in on_disk:  # each mode's folders: stage2/*.eval, shard-k-of-2/, adaptive/round-*/[shard-k-of-2/]
            assert len(p.parts) == len(layout) + 1
            assert all(d.startswith(x) for d, x in zip(p.parts[:-1], layout, strict=True))
        if workers == 2:
            assert {p.parts[len(layout) - 1] for p in on_disk} == {"shard-0-of-2", "shard-1-of-2"}
        df = build_verdicts(stage2_logs(plan.run_dir), "t")
        assert len(df) == (3 * 5 if budget is None else budget) * 2 * 2  # units x criteria x orders
        tables[(schedule, workers)] = df.drop(columns=["stage2_log"]).sort_values(
            ["candidate_a", "candidate_b", "scenario_id", "criterion", "order"]).reset_index(drop=True)
    assert_frame_equal(tables[("all", 1)], tables[("all", 2)])
    assert_frame_equal(tables[("adaptive", 1)], tables[("adaptive", 2)])

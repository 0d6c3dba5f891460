"""`theraeval train sweep`: one candidate per weighting, a run config listing them, and the report's front."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.core import InputError, parse_sweep_candidate, sweep_candidate_name
from harness.inputs import load_run_config
from reports._sweeps import sweep_front_traces
from trainers import TrainingSpec, parse_weights, sweep_main
from trainers._sweep import sweep_specs


def test_parse_weights() -> None:
    assert parse_weights("0.1,0.3, 0.5") == [0.1, 0.3, 0.5]
    for bad in ("0.1", "0.1,x", "0,0.5", "0.5,1.0", "0.3,0.3"):
        with pytest.raises(InputError) as info:
            parse_weights(bad)
        assert info.value.field == "--weights"


def test_names_round_trip() -> None:
    assert sweep_candidate_name("modpo_empathy", 0.3) == "modpo_empathy.w0.30"
    assert parse_sweep_candidate("modpo_empathy.w0.30") == ("modpo_empathy", 0.3)
    assert parse_sweep_candidate("dpo_empathy") is None


def test_modpo_sweep_gives_the_primary_criterion_the_swept_weight(tmp_path: Path) -> None:
    spec = TrainingSpec(method="modpo", base_model=tmp_path, output_dir=tmp_path / "m", name="m",
                        options={"primary": "empathy", "weights": {"safety": 0.5, "empathy": 0.5}})
    specs = sweep_specs(spec, [0.2, 0.9])
    assert [s.options["weights"] for s in specs] == [{"empathy": 0.2, "safety": 0.8},
                                                     {"empathy": 0.9, "safety": 0.1}]
    assert [s.name for s in specs] == ["m.w0.20", "m.w0.90"] and specs[0].output_dir == tmp_path / "m" / "w0.20"
    with pytest.raises(InputError, match="multi-objective"):
        sweep_specs(TrainingSpec(method="dpo", base_model=tmp_path, output_dir=tmp_path), [0.2, 0.5])


@pytest.mark.slow
def test_joint_loss_sweep_trains_each_weighting_and_writes_a_run_config(
        tiny_dir: Path, data_dir: Path, tmp_path: Path, cpu_args: dict[str, Any]) -> None:
    (tmp_path / "base").symlink_to(tiny_dir)
    (tmp_path / "data").symlink_to(data_dir)
    args = "\n".join(f"{k} = {json.dumps(v)}" for k, v in {**cpu_args, "max_steps": 1, "learning_rate": 1e-4}.items())
    cfg = tmp_path / "joint.toml"
    cfg.write_text('method = "joint_loss"\nbase_model = "base"\ndataset = "data/joint.jsonl"\noutput_dir = "sweep"\n'
                   f"probe_prompts = 0\n[args]\n{args}\n[joint_loss]\nweights = {{ empathy = 0.5, safety = 0.5 }}\n")
    run_cfg = sweep_main(cfg, [0.25, 0.75])
    assert run_cfg == (tmp_path / "sweep" / "sweep.toml").resolve()
    for w in (0.25, 0.75):
        man = json.loads((tmp_path / "sweep" / f"w{w:.2f}" / "manifest.json").read_text())
        assert man["name"] == f"sweep.w{w:.2f}" and man["config"]["weights"] == [w, 1 - w]
    run, _ = load_run_config(run_cfg)  # every `from` entry reads its manifest
    assert [c.name for c in run.candidates] == ["base", "sweep.w0.25", "sweep.w0.75"]


def test_sweep_front_joins_a_sweep_in_weight_order_with_intervals() -> None:
    names = ["dpo", "m.w0.70", "m.w0.10", "m.w0.50", "solo.w0.50"]
    x = [0.5, 0.7, 0.2, 0.4, 0.3]
    y = [0.5, 0.3, 0.9, 0.6, 0.3]
    lo, hi = (lambda v: [a - 0.1 for a in v]), (lambda v: [a + 0.05 for a in v])
    traces = sweep_front_traces(names, x, lo(x), hi(x), y, lo(y), hi(y), "safety", "empathy")
    assert len(traces) == 1  # `dpo` is no sweep, `solo` has one point
    t = traces[0]
    assert t.name == "sweep m" and list(t.x) == pytest.approx([20.0, 40.0, 70.0])
    assert list(t.y) == pytest.approx([90.0, 60.0, 30.0]) and list(t.text) == ["0.10", "0.50", "0.70"]
    assert list(t.error_x.array) == pytest.approx([5.0] * 3) and list(t.error_y.arrayminus) == pytest.approx([10.0] * 3)

"""The run's config snapshot (`<run>/inputs/config.toml`) means the same files when read back from the run
directory: relative paths in the config are resolved against the config's folder, not the snapshot's."""

from __future__ import annotations

import json
from pathlib import Path

from harness.inputs import load_run_config
from harness.run import plan_run, write_inputs
from tests.support.run import SCENARIOS


def test_snapshot_resolves_relative_paths(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "data").mkdir(parents=True)
    (proj / "data" / "scen.jsonl").write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    for name in ("a", "b"):
        (proj / "data" / f"{name}.jsonl").write_text("".join(
            json.dumps({"scenario_id": s["id"], "response": f"reply {name}"}) + "\n" for s in SCENARIOS))
    cfg = proj / "c.toml"
    cfg.write_text('# my comment\n[run]\nname = "c"\noutput_dir = "out"\n\n'
                   '[data]\nscenarios = "data/scen.jsonl"\ncriteria = "therapeutic"\n\n[judge]\nkind = "rm"\n\n'
                   '[[candidates]]\nname = "a"\nresponses = "data/a.jsonl"\n\n'
                   '[[candidates]]\nname = "b"\nresponses = "data/b.jsonl"\n')
    plan = plan_run(cfg)
    write_inputs(plan)
    snap = plan.run_dir / "inputs" / "config.toml"
    assert (plan.run_dir / "inputs" / "config.as-written.toml").read_text() == cfg.read_text()  # comments kept there
    snap_cfg, _ = load_run_config(snap)
    assert snap_cfg.data.scenarios == str(proj / "data" / "scen.jsonl")
    assert [c.responses for c in snap_cfg.candidates] == [str(proj / "data" / f"{n}.jsonl") for n in "ab"]
    assert snap_cfg.data.criteria == "therapeutic"  # a builtin name is not a path: left as written
    again = plan_run(snap)  # the snapshot, read from the run directory, plans the same run on the same files
    assert again.run_dir == plan.run_dir
    assert [s.id for s in again.scenarios] == [s.id for s in plan.scenarios]
    assert again.responses_path(again.cfg.candidates[0]) == proj / "data" / "a.jsonl"

"""`[[candidates]] from = "models/<dir>"`: a trained model joins a run config through its manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.core import InputError
from harness.inputs import load_run_config

HEAD = '[run]\nname = "r"\n\n[[candidates]]\nname = "warm"\nmodel = "scripted/therapist-warm"\n\n[[candidates]]\n'


def _trained(root: Path, tiny_dir: Path, name: str, **manifest: object) -> Path:
    out = root / "models" / name
    shutil.copytree(tiny_dir, out)
    meta = {"manifest_version": 1, "name": name, "method": "dpo", "model_dir": "/elsewhere/moved"} | manifest
    (out / "manifest.json").write_text(json.dumps(meta))
    return out


def test_from_reads_the_manifest(tmp_path: Path, tiny_dir: Path) -> None:
    model = _trained(tmp_path, tiny_dir, "dpo_empathy")
    cfg = tmp_path / "run.toml"
    cfg.write_text(HEAD + 'from = "models/dpo_empathy"\nmax_tokens = 8\nmodel_args = { device = "cpu" }\n')
    run, raw = load_run_config(cfg)
    cand = run.candidates[1]
    assert cand.name == "dpo_empathy" and cand.model == "hf/local" and cand.max_tokens == 8
    # the folder itself is loaded (a moved model still works), extra model_args are kept
    assert cand.model_args == {"device": "cpu", "model_path": str(model.resolve())}
    assert raw["candidates"][1]["model"] == "hf/local"


@pytest.mark.parametrize("case", ["missing", "no_manifest", "bad_json", "version", "reward_model", "no_weights",
                                  "clash"])
def test_from_errors_are_one_line(case: str, tmp_path: Path, tiny_dir: Path) -> None:
    target, extra = "models/m", ""
    if case == "no_manifest":
        shutil.copytree(tiny_dir, tmp_path / "models" / "m")
    elif case == "bad_json":
        (_trained(tmp_path, tiny_dir, "m") / "manifest.json").write_text("{not json")
    elif case == "version":
        _trained(tmp_path, tiny_dir, "m", manifest_version=99)
    elif case == "reward_model":
        _trained(tmp_path, tiny_dir, "m", method="reward_model", model_dir=None)
    elif case == "no_weights":
        (_trained(tmp_path, tiny_dir, "m") / "config.json").unlink()
    elif case == "clash":
        _trained(tmp_path, tiny_dir, "m")
        extra = 'model = "hf/local"\n'
    cfg = tmp_path / "run.toml"
    cfg.write_text(HEAD + f'from = "{target}"\n{extra}')
    with pytest.raises(InputError) as info:
        load_run_config(cfg)
    msg = str(info.value)
    assert "\n" not in msg and "Fix: " in msg
    expected = {"bad_json": "manifest", "version": "manifest_version", "clash": "candidates[1].model"}
    assert info.value.field == expected.get(case, "candidates[1].from"), msg

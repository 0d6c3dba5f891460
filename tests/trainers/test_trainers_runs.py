"""Runs a user makes from the command line: builtin data and models, preference folders, held-out reward
models with evaluation, resume after an interruption, bad margin rows, and the end-of-run summary."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from harness.core import InputError
from harness.reward_heads import BUNDLED_PAIRS
from trainers import format_summary, train_main
from trainers._entry import RUN_MARKER, loss_warnings
from trainers._reward_model import heldout_report


def _toml(path: Path, head: str, args: dict[str, Any], tail: str = "") -> Path:
    lines = [head.strip(), "[args]"] + [f"{k} = {json.dumps(v)}" for k, v in args.items()]
    path.write_text("\n".join(lines) + "\n" + tail, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def work(workdir: Path) -> Path:
    return workdir


@pytest.fixture(scope="module")
def builtins(tiny_dir: Path) -> dict[str, Any]:
    """What `theraeval train` passes, with the tiny model standing in for SmolLM2."""
    return {"builtin/smollm2": lambda: tiny_dir, "builtin/preferences": lambda: BUNDLED_PAIRS}


def _manifest(run: Path) -> dict[str, Any]:
    return json.loads((run / "manifest.json").read_text())


# --------------------------------------------------------------------------- reward models (issues 16.5, 19.2)


@pytest.fixture(scope="module")
def rm_eval(work: Path, cpu_args: dict[str, Any]) -> Path:
    cfg = _toml(work / "rm_eval.toml",
                'method = "reward_model"\nbase_model = "base"\noutput_dir = "rm_eval"\n'
                'dataset = { safety = "data/safety.jsonl" }',
                {**cpu_args, "max_steps": 4, "learning_rate": 1e-4, "eval_strategy": "steps", "eval_steps": 2,
                 "heldout_fraction": 0.25})
    return train_main(cfg)


def test_reward_model_evaluates_on_held_out_pairs(rm_eval: Path) -> None:
    out = rm_eval
    man = _manifest(out)
    meta = json.loads((out / "safety" / "reward_format.json").read_text())
    held = meta["heldout"]
    assert held["n"] == 9  # round(36 * 0.25)
    assert 0 <= held["accuracy"] <= 1 and 0 <= held["ece"] <= 1 and held["score_std"] > 0
    assert man["metrics"]["safety/heldout_accuracy"] == held["accuracy"]
    assert man["details"]["reward_models"]["safety"]["pairs_used"] == 27
    # evaluation during training ran on the held-out pairs (eval_steps = 2 of 4 steps: logged twice)
    assert "safety/eval_loss_first" in man["metrics"] and "safety/eval_accuracy_last" in man["metrics"]
    assert "heldout_accuracy" in format_summary(out)


def test_reward_model_evaluation_without_held_out_pairs_is_refused_before_clearing(
        work: Path, cpu_args: dict[str, Any]) -> None:
    (work / "rm_noeval").mkdir()
    (work / "rm_noeval" / RUN_MARKER).write_text("{}")
    (work / "rm_noeval" / "checkpoints").mkdir()
    cfg = _toml(work / "rm_noeval.toml",
                'method = "reward_model"\nbase_model = "base"\noutput_dir = "rm_noeval"\n'
                'dataset = { safety = "data/safety.jsonl" }',
                {**cpu_args, "max_steps": 2, "eval_strategy": "steps", "heldout_fraction": 0.0})
    with pytest.raises(InputError) as info:
        train_main(cfg)
    assert info.value.field == "args.eval_strategy" and "heldout_fraction" in info.value.fix
    assert (work / "rm_noeval" / "checkpoints").is_dir()  # nothing was cleared


def test_heldout_report_matches_sklearn_and_hand_values() -> None:
    from sklearn.metrics import brier_score_loss

    r_c = torch.tensor([2.0, 0.0, 1.0, -1.0])
    r_r = torch.tensor([0.0, 0.0, 2.0, -3.0])
    rep = heldout_report(r_c, r_r)
    p = torch.sigmoid((r_c - r_r).double())  # 0.881, 0.5, 0.269, 0.881
    both = torch.cat([p, 1 - p]).numpy()
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    assert rep.brier == pytest.approx(brier_score_loss(labels, both), abs=1e-12)
    assert rep.accuracy == 0.5  # 2 of 4 strictly higher (the tie counts as wrong)
    # ECE by hand over the 8 items (p, 1) and (1-p, 0):
    #   (.881,1) (.5,1) (.269,1) (.881,1) (.119,0) (.5,0) (.731,0) (.119,0)
    #   bin1 {.119,.119}: acc 0, conf .119 -> 2/8*.119 ; bin2 {.269}: acc 1, conf .269 -> 1/8*.731
    #   bin5 {.5,.5}: acc .5, conf .5 -> 0 ; bin7 {.731}: acc 0 -> 1/8*.731 ; bin8 {.881,.881}: 2/8*.119
    s = 1 / (1 + math.exp(2.0))  # σ(-2) = 0.1192
    t = 1 / (1 + math.exp(1.0))  # σ(-1) = 0.2689
    expected = 2 / 8 * s + 1 / 8 * (1 - t) + 1 / 8 * (1 - t) + 2 / 8 * s
    assert rep.ece == pytest.approx(expected, abs=1e-9)
    assert rep.at_chance  # 2 of 4: p = 11/16
    sure = heldout_report(torch.ones(10) * 3, torch.zeros(10))
    assert sure.accuracy == 1 and sure.p_value == pytest.approx(0.5 ** 10) and not sure.at_chance


@pytest.mark.parametrize("heldout", [{"n": 9, "accuracy": 5 / 9, "p_value": 0.5, "at_chance": True}, None])
def test_modpo_refuses_a_margin_reward_model_at_chance_unless_allowed(
        work: Path, rm_eval: Path, cpu_args: dict[str, Any], heldout: Any) -> None:
    import shutil

    rm = work / f"rm_chance_{heldout is None}"
    shutil.copytree(rm_eval / "safety", rm)
    meta = json.loads((rm / "reward_format.json").read_text())
    (rm / "reward_format.json").write_text(json.dumps({**meta, "heldout": heldout}))
    head = ('method = "modpo"\nbase_model = "base"\ndataset = "data/empathy.jsonl"\nprobe_prompts = 0\n'
            f'output_dir = "modpo_chance_{heldout is None}"')
    tail = f'[modpo]\nprimary = "empathy"\nweights = {{ empathy = 0.5, safety = 0.5 }}\n' \
           f'reward_models = {{ safety = "{rm.name}" }}\n'
    args = {**cpu_args, "max_steps": 1, "learning_rate": 1e-4, "precompute_ref_log_probs": True}
    with pytest.raises(InputError) as info:
        train_main(_toml(work / "chance.toml", head, args, tail))
    assert info.value.field == "modpo.reward_models.safety" and "allow_chance_margin" in info.value.fix
    assert ("at chance" if heldout else "no held-out pairs") in info.value.problem
    out = train_main(_toml(work / "chance.toml", head, args, tail + "allow_chance_margin = true\n"))
    assert any(w.startswith("MARGIN REWARD MODEL 'safety'") for w in _manifest(out)["summary"]["warnings"])


# --------------------------------------------------------------------------- bad margins (issue 16.5)


@pytest.mark.parametrize("bad", [None, "NaN", 1e400])
def test_null_or_non_finite_margin_is_one_line_naming_the_line(
        work: Path, pairs: dict[str, Any], bad: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from trainers.__main__ import main

    rows = [dict(r, margin=0.1 * i) for i, r in enumerate(pairs["empathy"][:6])]
    lines = [json.dumps(r) for r in rows]
    lines[3] = json.dumps(dict(rows[3], margin=bad)).replace('"NaN"', "NaN")  # json.dumps(1e400) = Infinity
    data = work / f"margins_{bad}.jsonl"
    data.write_text("\n".join(lines) + "\n")
    cfg = work / f"margins_{bad}.toml"
    cfg.write_text(f'method = "modpo"\nbase_model = "base"\noutput_dir = "m_{bad}"\ndataset = "{data.name}"\n'
                   '[modpo]\nprimary = "empathy"\nweights = { empathy = 0.5, safety = 0.5 }\n'
                   "use_dataset_margin = true\n")
    assert main([str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{data.resolve()}: line 4: margin = "), err
    assert "Fix: " in err[0] and not (work / f"m_{bad}").exists()


# --------------------------------------------------------------------------- interrupted runs (issue 16.5)


@pytest.mark.slow
def test_interrupted_run_resumes_from_its_checkpoints(
        work: Path, cpu_args: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from trl import DPOTrainer

    cfg = _toml(work / "resume.toml",
                'method = "dpo"\nbase_model = "base"\noutput_dir = "resume"\ndataset = "data/empathy.jsonl"\n'
                "probe_prompts = 0",
                {**cpu_args, "max_steps": 6, "learning_rate": 1e-4, "save_strategy": "steps", "save_steps": 2,
                 "precompute_ref_log_probs": True})
    real_step = DPOTrainer.training_step
    calls = {"n": 0}

    def dies_at_step_5(self: Any, *a: Any, **k: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt  # what Ctrl-C (or a kill between checkpoints) leaves behind
        return real_step(self, *a, **k)

    monkeypatch.setattr(DPOTrainer, "training_step", dies_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        train_main(cfg)
    out = work / "resume"
    assert (out / RUN_MARKER).is_file() and (out / "checkpoints" / "checkpoint-4").is_dir()
    assert not (out / "manifest.json").exists()
    calls["n"] = -100  # the re-run must not die
    train_main(cfg)
    man = _manifest(out)
    assert man["summary"]["resumed"] is True and man["metrics"]["global_step"] == 6.0
    assert calls["n"] == -100 + 2  # only steps 5 and 6 were trained again
    assert not (out / RUN_MARKER).exists()


def test_changed_config_or_old_partial_directory_restarts_cleanly(work: Path, cpu_args: dict[str, Any]) -> None:
    out = work / "partial"
    (out / "checkpoints" / "checkpoint-2").mkdir(parents=True)  # an interrupted run from before the marker
    (out / "checkpoints" / "checkpoint-2" / "junk.bin").write_bytes(b"x")
    cfg = _toml(work / "partial.toml",
                'method = "dpo"\nbase_model = "base"\noutput_dir = "partial"\ndataset = "data/empathy.jsonl"\n'
                "probe_prompts = 0",
                {**cpu_args, "max_steps": 2, "learning_rate": 1e-4, "precompute_ref_log_probs": True})
    train_main(cfg)
    man = _manifest(out)
    assert man["summary"]["resumed"] is False and not (out / "checkpoints" / "checkpoint-2").exists()


# --------------------------------------------------------------------------- builtin data and models (issue 17.2)


def test_builtin_model_and_bundled_pairs_with_summary_warnings(
        work: Path, cpu_args: dict[str, Any], builtins: dict[str, Any]) -> None:
    cfg = _toml(work / "builtin.toml",
                'method = "dpo"\nbase_model = "builtin/smollm2"\ndataset = "builtin/preferences"\n'
                'criterion = "empathy"\noutput_dir = "builtin_dpo"',
                {**cpu_args, "max_steps": 1, "learning_rate": 1e-12, "precompute_ref_log_probs": True})
    out = train_main(cfg, builtins=builtins)
    man = _manifest(out)
    assert man["data"]["train"]["path"] == str(BUNDLED_PAIRS)
    # a learning rate of 1e-12 does not move the model: the probe says so
    assert any("equal the base model's" in w for w in man["summary"]["warnings"])
    line = format_summary(out)
    assert line.startswith("trained builtin_dpo (dpo) in ") and "1 warning;" in line and "\n" not in line
    with pytest.raises(InputError) as info:  # the Python API without builtins names the way out
        train_main(cfg)
    assert info.value.field == "base_model" and "theraeval train" in info.value.fix


def test_bundled_pairs_need_a_known_criterion(work: Path, builtins: dict[str, Any]) -> None:
    for extra, problem in (("", "which one?"), ('criterion = "humour"', "no pairs for criterion 'humour'")):
        cfg = work / "crit.toml"
        cfg.write_text('method = "dpo"\nbase_model = "base"\ndataset = "builtin/preferences"\n'
                       f'output_dir = "crit"\n{extra}\n')
        with pytest.raises(InputError, match=problem):
            train_main(cfg, builtins=builtins)


@pytest.mark.slow
def test_joint_loss_reads_a_preferences_folder(work: Path, pairs: dict[str, Any], cpu_args: dict[str, Any]) -> None:
    """The layout `theraeval preferences` writes: <criterion>/ and joint/ datasets plus summary.json."""
    from datasets import Dataset

    prefs = work / "prefs"
    for crit, rows in pairs.items():
        Dataset.from_list([dict(r, scenario_id=f"s{i}") for i, r in enumerate(rows)]).save_to_disk(
            str(prefs / crit))
    Dataset.from_list([{"prompt": e["prompt"], "chosen_empathy": e["chosen"], "rejected_empathy": e["rejected"],
                        "chosen_safety": s["chosen"], "rejected_safety": s["rejected"]}
                       for e, s in zip(pairs["empathy"], pairs["safety"], strict=True)]).save_to_disk(
        str(prefs / "joint"))
    (prefs / "summary.json").write_text(json.dumps({"kind": "theraeval-preferences"}))
    joint = _toml(work / "joint_prefs.toml",
                  'method = "joint_loss"\nbase_model = "base"\ndataset = "prefs"\noutput_dir = "joint_prefs"\n'
                  "probe_prompts = 0",
                  {**cpu_args, "max_steps": 2, "learning_rate": 1e-4},
                  "[joint_loss]\nweights = { empathy = 0.5, safety = 0.5 }\n")
    assert _manifest(train_main(joint))["data"]["train"]["path"] == str((prefs / "joint").resolve())
    dpo = _toml(work / "dpo_prefs.toml",
                'method = "dpo"\nbase_model = "base"\ndataset = { safety = "prefs" }\noutput_dir = "dpo_prefs"\n'
                "probe_prompts = 0",
                {**cpu_args, "max_steps": 2, "learning_rate": 1e-4, "precompute_ref_log_probs": True})
    assert _manifest(train_main(dpo))["metrics"]["global_step"] == 2.0


def test_loss_warning() -> None:
    assert loss_warnings({"loss_first": 0.7, "loss_last": 0.9}) and not loss_warnings(
        {"loss_first": 0.7, "loss_last": 0.5})

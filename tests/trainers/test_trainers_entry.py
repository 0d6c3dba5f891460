"""`train_main` end to end on TOML configs, and clear `InputError`s for bad configs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import torch

from harness.core import InputError
from harness.inputs import CandidateSpec
from trainers import get_trainer, spec_from_config, train_main
from trainers._data import sha256_path

LORA_TOML = (
    '[lora]\nr = 8\nalpha = 16\ndropout = 0.0\ntarget_modules = ["q_proj", "k_proj", "v_proj", "o_proj"]\n'
)


def _args_toml(args: dict[str, Any]) -> str:
    lines = ["[args]"]
    for k, v in args.items():
        lines.append(f"{k} = {json.dumps(v)}")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def chain(workdir: Path, cpu_args: dict[str, Any]) -> dict[str, Path]:
    """reward models -> MODPO (LoRA) -> DPO empathy + DPO safety (LoRA) -> soup, all through train_main."""
    steps = {**cpu_args, "max_steps": 10}
    head = 'base_model = "base"\n'
    cfg = {
        "rm": head + 'method = "reward_model"\noutput_dir = "runs/rm"\n'
        'dataset = { empathy = "data/empathy.jsonl", safety = "data/safety.jsonl" }\n'
        + _args_toml({**steps, "learning_rate": 1e-4, "heldout_fraction": 0.25}),
        "modpo": head + 'method = "modpo"\noutput_dir = "runs/modpo"\nname = "modpo_empathy"\n'
        'dataset = "data/empathy.jsonl"\n'
        + _args_toml({**steps, "learning_rate": 1e-3})
        + LORA_TOML
        + '[modpo]\nprimary = "empathy"\nweights = { empathy = 0.6, safety = 0.4 }\n'
        'reward_models = { safety = "runs/rm/safety" }\n',
        "dpo_empathy": head
        + 'method = "dpo"\noutput_dir = "runs/dpo_empathy"\ndataset = "data/empathy.jsonl"\n'
        + _args_toml({**steps, "learning_rate": 1e-3})
        + LORA_TOML,
        "dpo_safety": head
        + 'method = "dpo"\noutput_dir = "runs/dpo_safety"\ndataset = "data/safety.jsonl"\n'
        + _args_toml({**steps, "learning_rate": 1e-3})
        + LORA_TOML,
        "soup": head + 'method = "soup"\noutput_dir = "runs/soup"\n'
        '[soup]\nmodels = ["runs/dpo_empathy", "runs/dpo_safety"]\nweights = [0.5, 0.5]\n',
    }
    return {name: train_main(_write(workdir / f"{name}.toml", text)) for name, text in cfg.items()}


def _manifest(run: Path) -> dict[str, Any]:
    return json.loads((run / "manifest.json").read_text())


@pytest.mark.slow
def test_manifest_and_candidate(chain: dict[str, Path], workdir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run = chain["dpo_empathy"]
    man = _manifest(run)
    assert man["method"] == "dpo" and man["name"] == "dpo_empathy"
    assert man["data"]["train"]["sha256"] == sha256_path(workdir / "data" / "empathy.jsonl")
    assert man["base_model"] == str((workdir / "base").resolve())
    assert man["config"]["learning_rate"] == 1e-3 and man["config"]["beta"] == 0.1
    assert man["config_toml"]["method"] == "dpo" and man["lora"]["r"] == 8
    assert {"torch", "transformers", "trl", "peft"} <= set(man["versions"])
    assert man["metrics"]["loss_last"] < man["metrics"]["loss_first"], man["metrics"]
    cand = tomllib.loads((run / "candidate.toml").read_text())
    assert cand["name"] == "dpo_empathy" and cand["model"] == "hf/local"
    CandidateSpec.model_validate(cand)  # stage 1's own validation accepts the snippet as a candidate
    path = Path(cand["model_args"]["model_path"])
    assert path.is_absolute() and path == run.resolve()
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    enc = tok.apply_chat_template(
        [[{"role": "user", "content": "I feel lonely about school."}]],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    out = model.generate(**enc, max_new_tokens=6, do_sample=False)
    assert out.shape[1] > enc["input_ids"].shape[1]


@pytest.mark.slow
def test_lora_merged_copy_equals_adapter(chain: dict[str, Path], workdir: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run = chain["modpo"]
    ids = torch.tensor([[5, 17, 42, 99, 7, 3]])
    merged = AutoModelForCausalLM.from_pretrained(run).eval()
    adapted = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(workdir / "base"), run / "adapter"
    )
    with torch.no_grad():
        diff = (merged(ids).logits - adapted.eval()(ids).logits).abs().max().item()
    assert diff < 1e-4, diff


@pytest.mark.slow
def test_modpo_run_records_margins_and_learns(chain: dict[str, Path]) -> None:
    man = _manifest(chain["modpo"])
    assert man["config"]["criteria"] == ["empathy", "safety"] and man["config"]["weights"] == [0.6, 0.4]
    stats = man["details"]["margin"]["criteria"]["safety"]
    assert stats["diff_std"] > 0 and stats["weight"] == 0.4 and stats["scale"] == 1.0  # raw: the paper's margin
    m = man["metrics"]
    assert m["loss_last"] < m["loss_first"] and m["rewards/margins_last"] > m["rewards/margins_first"], m


@pytest.mark.slow
def test_reward_model_run(chain: dict[str, Path]) -> None:
    run = chain["rm"]
    assert not (run / "candidate.toml").exists()
    for crit in ("empathy", "safety"):
        meta = json.loads((run / crit / "reward_format.json").read_text())
        assert meta["criterion"] == crit and meta["row_format"] == "conversational"
    assert _manifest(run)["metrics"]["safety/accuracy_last"] == 1.0


@pytest.mark.slow
def test_soup_run_is_the_average_of_its_inputs(chain: dict[str, Path]) -> None:
    from transformers import AutoModelForCausalLM

    man = _manifest(chain["soup"])
    assert man["details"]["combination"] == "cat"
    soup = AutoModelForCausalLM.from_pretrained(chain["soup"]).state_dict()
    a = AutoModelForCausalLM.from_pretrained(chain["dpo_empathy"]).state_dict()
    b = AutoModelForCausalLM.from_pretrained(chain["dpo_safety"]).state_dict()
    err = max(float((soup[k].double() - 0.5 * (a[k].double() + b[k].double())).abs().max()) for k in soup)
    assert err < 1e-6, err
    assert tomllib.loads((chain["soup"] / "candidate.toml").read_text())["name"] == "soup"


def test_preset_is_merged_under_the_user_config(workdir: Path) -> None:
    cfg = _write(
        workdir / "preset.toml",
        'preset = "paper_dpo"\nbase_model = "base"\noutput_dir = "runs/p"\n'
        'dataset = "data/empathy.jsonl"\n[args]\nbf16 = false\nlearning_rate = 1e-4\nuse_cpu = true\n'
        '[lora]\nquantization = "none"\n',
    )
    spec = spec_from_config(cfg)
    assert spec.lora is not None and spec.lora.r == 64 and spec.lora.quantization == "none"
    config = get_trainer("dpo").prepare(spec).config
    assert config.learning_rate == 1e-4 and config.gradient_accumulation_steps == 4 and config.beta == 0.1


# --------------------------------------------------------------------------- bad configs

BAD = {
    "unknown_method": ('method = "ppo"\n', "method", "ppo"),
    "modpo_missing_rm": (
        'method = "modpo"\ndataset = "data/empathy.jsonl"\n'
        '[modpo]\nprimary = "empathy"\nweights = { empathy = 0.5, safety = 0.5 }\n',
        "modpo.reward_models.safety",
        None,
    ),
    "modpo_weights": (
        'method = "modpo"\ndataset = "data/empathy.jsonl"\n[modpo]\nprimary = "empathy"\n'
        'weights = { empathy = 0.5, safety = 0.4 }\nreward_models = { safety = "x" }\n',
        "modpo.weights",
        {"empathy": 0.5, "safety": 0.4},
    ),
    "modpo_primary": (
        'method = "modpo"\ndataset = "data/empathy.jsonl"\n[modpo]\nprimary = "trust"\n'
        "weights = { empathy = 0.5, safety = 0.5 }\n",
        "modpo.primary",
        "trust",
    ),
    "joint_weights": (
        'method = "joint_loss"\ndataset = "data/joint.jsonl"\n[joint_loss]\n'
        "weights = { empathy = 0.7, safety = 0.7 }\n",
        "joint_loss.weights",
        {"empathy": 0.7, "safety": 0.7},
    ),
    "soup_weights": (
        'method = "soup"\n[soup]\nmodels = ["base", "base"]\nweights = [0.3, 0.3]\n',
        "soup.weights",
        [0.3, 0.3],
    ),
    "unknown_arg": ('method = "dpo"\ndataset = "data/empathy.jsonl"\n[args]\nbogus = 1\n', "args.bogus", 1),
    "bad_arg_value": (
        'method = "dpo"\ndataset = "data/empathy.jsonl"\n[args]\nbeta = -1.0\n',
        "args.beta",
        -1.0,
    ),
    "bad_lora": ('method = "dpo"\ndataset = "data/empathy.jsonl"\n[lora]\nr = 0\n', "lora.r", 0),
    "qlora_on_cpu": (
        'method = "dpo"\ndataset = "data/empathy.jsonl"\n[lora]\nquantization = "nf4"\n',
        "lora.quantization",
        "nf4",
    ),
    "unknown_key": (
        'method = "dpo"\ndataset = "data/empathy.jsonl"\n[modpo]\nprimary = "x"\n',
        "modpo",
        None,
    ),
    "no_dataset": ('method = "dpo"\ndataset = "data/nope.jsonl"\n', "dataset", None),
    "unknown_preset": ('preset = "paper_ppo"\nmethod = "dpo"\n', "preset", "paper_ppo"),
    "rm_no_criterion": (
        'method = "reward_model"\ndataset = "data/safety.jsonl"\n',
        "reward_model.criterion",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_configs_are_clear_input_errors(case: str, workdir: Path) -> None:
    body, field, value = BAD[case]
    cfg = _write(workdir / f"bad_{case}.toml", f'base_model = "base"\noutput_dir = "runs/bad_{case}"\n{body}')
    with pytest.raises(InputError) as info:
        train_main(cfg)
    err = info.value
    assert err.file == str(cfg.resolve()) and err.field == field, str(err)
    if value is not None:
        assert err.value == value, str(err)
    assert str(err).startswith(f"{cfg.resolve()}: {field} = ") and "Fix: " in str(err)
    assert not (workdir / f"runs/bad_{case}").exists()  # nothing was trained or written


def test_missing_dataset_column_names_the_dataset_file(workdir: Path) -> None:
    bad = workdir / "no_rejected.jsonl"
    bad.write_text(json.dumps({"prompt": "hi", "chosen": "hello"}) + "\n")
    cfg = _write(
        workdir / "bad_column.toml",
        'base_model = "base"\noutput_dir = "runs/bad_column"\nmethod = "dpo"\n'
        'dataset = "no_rejected.jsonl"\n',
    )
    with pytest.raises(InputError) as info:
        train_main(cfg)
    assert info.value.file == str(bad.resolve()) and info.value.field == "column rejected"


def test_output_dir_that_is_not_a_run_is_refused(workdir: Path) -> None:
    (workdir / "occupied").mkdir(exist_ok=True)
    (workdir / "occupied" / "notes.txt").write_text("mine")
    cfg = _write(
        workdir / "bad_out.toml",
        'base_model = "base"\noutput_dir = "occupied"\nmethod = "dpo"\ndataset = "data/empathy.jsonl"\n',
    )
    with pytest.raises(InputError) as info:
        train_main(cfg)
    assert info.value.field == "output_dir"
    assert (workdir / "occupied" / "notes.txt").read_text() == "mine"


def test_module_entry_point_exits_2_with_one_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trainers.__main__ import main

    assert main([]) == 2
    cfg = _write(workdir / "bad_cli.toml", 'base_model = "base"\noutput_dir = "runs/cli"\nmethod = "ppo"\n')
    assert main([str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"{cfg.resolve()}: method = 'ppo': ")


def test_modpo_on_a_datasets_directory_with_extra_columns(
    chain: dict[str, Path], workdir: Path, pairs: dict[str, Any], cpu_args: dict[str, Any]
) -> None:
    """The preference collector's layout: save_to_disk directories with scenario_id/score_margin columns."""
    from datasets import Dataset

    rows = [dict(r, scenario_id=f"s{i}", score_margin=0.5, n_votes=3) for i, r in enumerate(pairs["empathy"])]
    Dataset.from_list(rows).save_to_disk(str(workdir / "prefs_empathy"))
    cfg = _write(
        workdir / "modpo_disk.toml",
        'base_model = "base"\nmethod = "modpo"\noutput_dir = "runs/modpo_disk"\ndataset = "prefs_empathy"\n'
        + _args_toml({**cpu_args, "max_steps": 3, "learning_rate": 1e-4, "precompute_ref_log_probs": True})
        + '[modpo]\nprimary = "empathy"\nweights = { empathy = 0.5, safety = 0.5 }\n'
        f'reward_models = {{ safety = "{chain["rm"] / "safety"}" }}\n',
    )
    before = sha256_path(workdir / "prefs_empathy")
    out = train_main(cfg)
    man = _manifest(out)
    assert man["data"]["train"]["sha256"] == before == sha256_path(workdir / "prefs_empathy")
    assert man["metrics"]["global_step"] == 3.0 and man["lora"] is None


@pytest.mark.slow
def test_trained_model_runs_as_a_stage1_candidate(chain: dict[str, Path], workdir: Path) -> None:
    """The soup, added with `from = "runs/soup"`, is evaluated end to end (stage 1 + stage 2)."""
    import pandas as pd

    from harness.cli import main

    snippet = 'from = "runs/soup"'
    scen = workdir / "stage1_scenarios.jsonl"
    scen.write_text('{"id": "s1", "text": "I feel lonely about school."}\n'
                    '{"id": "s2", "text": "I feel anxious about work."}\n')
    cfg = workdir / "eval.toml"
    cfg.write_text(f'[run]\nname = "trained"\noutput_dir = "{workdir / "evalruns"}"\n\n'
                   f'[data]\nscenarios = "{scen}"\ncriteria_ids = ["empathy"]\n\n'
                   '[judge]\nmodel = "scripted/judge-longer"\n\n'
                   '[[candidates]]\nname = "warm"\nmodel = "scripted/therapist-warm"\n\n'
                   f'[[candidates]]\n{snippet}\nmax_tokens = 8\ntemperature = 0.0\n')
    assert main(["run", str(cfg), "--display", "none"]) == 0
    tr = pd.read_parquet(workdir / "evalruns" / "trained" / "transcripts.parquet")
    assert set(tr.candidate) == {"warm", "soup"} and len(tr) == 4
    verdicts = pd.read_parquet(workdir / "evalruns" / "trained" / "verdicts.parquet")
    assert len(verdicts) == 2 * 2 and set(verdicts.candidate_b) == {"soup"}

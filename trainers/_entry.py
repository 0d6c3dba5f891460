"""`theraeval train <config.toml>`: parse and validate a training config, run it, write manifest + candidate.

Config layout (paths are relative to the TOML file)::

    method = "dpo"                      # sft | dpo | modpo | joint_loss | reward_model | soup
    base_model = "models/base"          # local directory loadable by AutoModelForCausalLM
    dataset = "data/empathy.jsonl"      # JSONL or datasets dir; or a {criterion = path} table
    output_dir = "runs/dpo_empathy"
    name = "dpo_empathy"                # optional; defaults to the output directory's name
    preset = "paper_dpo"                # optional; a file in trainers/presets/ (or a path) merged underneath

    [args]                              # fields of the method's config dataclass (e.g. DPOTrainConfig)
    [lora]                              # optional: LoRA/QLoRA; absent = full fine-tuning
    [modpo] / [joint_loss] / [reward_model] / [soup]   # the method's own settings
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import platform
import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from accelerate import PartialState

from harness.core import InputError
from trainers._base import TrainingSpec, TrainOutput, available_trainers, get_trainer
from trainers._common import clear_output_dir
from trainers._data import sha256_path
from trainers._lora import LoraSpec

logger = logging.getLogger(__name__)

PRESET_DIR = Path(__file__).parent / "presets"
TOP_LEVEL_KEYS = frozenset(
    {"method", "base_model", "dataset", "output_dir", "name", "preset", "args", "lora"}
)
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
MANIFEST_VERSION = 1


def _read_toml(path: Path, source: Path | None, field: str) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(source, field, str(path), "file not found", "point it at an existing TOML file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise InputError(path, "toml", None, f"invalid TOML ({e})", "fix the syntax") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def available_presets() -> list[str]:
    """Names of the shipped presets (`trainers/presets/*.toml`)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_training_config(config_path: Path) -> dict[str, Any]:
    """Read the TOML config and merge its `preset` underneath it (the user's values win)."""
    raw = _read_toml(config_path, None, "config")
    preset = raw.get("preset")
    if preset is None:
        return raw
    if not isinstance(preset, str) or not preset:
        raise InputError(
            config_path,
            "preset",
            preset,
            "must be a preset name or a TOML path",
            f"use one of {available_presets()}",
        )
    candidate = PRESET_DIR / f"{preset}.toml"
    path = candidate if candidate.is_file() else (config_path.parent / preset)
    if not path.is_file():
        raise InputError(
            config_path,
            "preset",
            preset,
            "no such preset",
            f"use one of {available_presets()} or a path to a TOML file",
        )
    base = _read_toml(path, config_path, "preset")
    base.pop("preset", None)
    return _merge(base, raw)


def _path(config_path: Path, field: str, value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise InputError(
            config_path, field, value, "must be a non-empty path string", f'set {field} = "<path>"'
        )
    p = Path(value).expanduser()
    return (p if p.is_absolute() else config_path.parent / p).resolve()


def spec_from_config(config_path: Path) -> TrainingSpec:
    """Parse and validate the common part of a training config into a `TrainingSpec`.

    Raises:
        InputError: unknown method or key, missing base model / output_dir, bad `[lora]` or `[args]` tables.
    """
    config_path = Path(config_path).resolve()
    raw = load_training_config(config_path)
    method = raw.get("method")
    if not isinstance(method, str) or method not in available_trainers():
        raise InputError(
            config_path,
            "method",
            method,
            "unknown training method",
            f"use one of {', '.join(available_trainers())}",
        )
    for key in raw:
        if key not in TOP_LEVEL_KEYS and key != method:
            raise InputError(
                config_path,
                key,
                raw[key],
                f"unknown key for method {method!r}",
                f"use {sorted(TOP_LEVEL_KEYS)} and a [{method}] table",
            )
    base_model = _path(config_path, "base_model", raw.get("base_model"))
    if not (base_model / "config.json").is_file():
        raise InputError(
            config_path,
            "base_model",
            raw.get("base_model"),
            "not a local model directory (no config.json)",
            "download the model once (e.g. huggingface-cli download) and point at that directory",
        )
    output_dir = _path(config_path, "output_dir", raw.get("output_dir"))
    dataset_raw = raw.get("dataset")
    dataset: Path | dict[str, Path] | None
    if dataset_raw is None:
        dataset = None
    elif isinstance(dataset_raw, dict):
        dataset = {str(k): _path(config_path, f"dataset.{k}", v) for k, v in dataset_raw.items()}
    else:
        dataset = _path(config_path, "dataset", dataset_raw)
    name = raw.get("name", output_dir.name)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InputError(
            config_path,
            "name",
            name,
            "must be letters, digits, '_', '.', '-'",
            'set name = "dpo_empathy" (or omit it to use the output directory name)',
        )
    args = raw.get("args", {})
    if not isinstance(args, dict):
        raise InputError(
            config_path, "args", args, "must be a table", "write [args] with config fields below it"
        )
    options = raw.get(method, {})
    if not isinstance(options, dict):
        raise InputError(
            config_path, method, options, "must be a table", f"write [{method}] with its settings"
        )
    lora = None
    if "lora" in raw:
        table = raw["lora"]
        if not isinstance(table, dict):
            raise InputError(config_path, "lora", table, "must be a table", "write [lora] with r, alpha, ...")
        known = {f.name for f in dataclasses.fields(LoraSpec)}
        for key in table:
            if key not in known:
                raise InputError(
                    config_path, f"lora.{key}", table[key], "unknown LoRA setting", f"use {sorted(known)}"
                )
        lora = LoraSpec(**table)
        for fld, value, problem in lora.problems():
            raise InputError(config_path, f"lora.{fld}", value, problem, "fix the [lora] table")
        if lora.quantization != "none":
            try:
                lora.quantization_config()
            except RuntimeError as e:
                raise InputError(
                    config_path,
                    "lora.quantization",
                    lora.quantization,
                    str(e),
                    'set quantization = "none" (plain LoRA) or run on a CUDA machine',
                ) from None
    return TrainingSpec(
        method=method,
        base_model=base_model,
        output_dir=output_dir,
        dataset=dataset,
        name=name,
        args=dict(args),
        lora=lora,
        options=dict(options),
        source=config_path,
    )


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("theraeval", "torch", "transformers", "trl", "peft", "datasets", "accelerate"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _config_dict(config: Any) -> dict[str, Any]:
    if hasattr(config, "to_dict"):
        d = config.to_dict()
    else:
        d = dataclasses.asdict(config)
    return json.loads(json.dumps(d, default=str))


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_candidate(spec: TrainingSpec, model_dir: Path) -> Path:
    """Write `candidate.toml`: a stage-1 candidate entry loading this model with inspect's `hf/local`."""
    path = spec.output_dir / "candidate.toml"
    path.write_text(
        "# Written by `theraeval train`: paste under a [[candidates]] line of a run config (add generation\n"
        "# settings such as max_tokens below it).\n"
        f"name = {_toml_str(spec.name)}\n"
        'model = "hf/local"\n'
        f"model_args = {{ model_path = {_toml_str(str(model_dir.resolve()))} }}\n",
        encoding="utf-8",
    )
    return path


def write_manifest(
    spec: TrainingSpec,
    config: Any,
    data: dict[str, dict[str, str]],
    output: TrainOutput,
    raw_config: dict[str, Any] | None,
) -> Path:
    """Write `manifest.json`: method, full config, data hashes (taken before training), base model,
    metrics, library versions."""
    base_cfg = spec.base_model / "config.json"
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": spec.name,
        "method": spec.method,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "base_model": str(spec.base_model),
        "base_model_config_sha256": sha256_path(base_cfg) if base_cfg.is_file() else None,
        "data": data,
        "config_file": None
        if spec.source is None
        else {"path": str(spec.source), "sha256": sha256_path(spec.source)},
        "config_toml": raw_config,
        "config": _config_dict(config),
        "lora": dataclasses.asdict(spec.lora) if spec.lora else None,
        "options": spec.options,
        "model_dir": str(output.model_dir.resolve()) if output.model_dir else None,
        "adapter_dir": str(output.adapter_dir.resolve()) if output.adapter_dir else None,
        "metrics": output.metrics,
        "details": output.details,
        "versions": _versions(),
    }
    path = spec.output_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def run_training(spec: TrainingSpec, raw_config: dict[str, Any] | None = None) -> Path:
    """Validate, train, and write `manifest.json` (+ `candidate.toml` for chat models) into `spec.output_dir`.

    Returns the output directory. For every method except `reward_model` it is a model directory that
    `AutoModelForCausalLM.from_pretrained` loads (merged weights for LoRA; the adapter is in `adapter/`).

    Raises:
        InputError: anything wrong in the config or data, before any training starts.
    """
    try:
        trainer = get_trainer(spec.method)
    except ValueError as e:
        raise InputError(
            spec.source, "method", spec.method, str(e), f"use one of {', '.join(available_trainers())}"
        ) from None
    out = spec.output_dir
    if out.exists():
        if not out.is_dir():
            raise InputError(
                spec.source,
                "output_dir",
                str(out),
                "exists and is not a directory",
                "choose another output_dir",
            )
        if any(out.iterdir()) and not (out / "manifest.json").is_file():
            raise InputError(
                spec.source,
                "output_dir",
                str(out),
                "exists, is not empty and is not a theraeval run",
                "choose an empty or new output_dir",
            )
    prepared = trainer.prepare(spec)
    data_hashes = {k: {"path": str(p), "sha256": sha256_path(p)} for k, p in prepared.data_files.items()}
    state = PartialState()  # one process, or one per GPU under `accelerate launch`
    if state.is_main_process:
        if out.exists():
            clear_output_dir(out)
        out.mkdir(parents=True, exist_ok=True)
    state.wait_for_everyone()
    logger.info("training %s (%s) from %s -> %s", spec.name, spec.method, spec.base_model, out)
    output = trainer.train(prepared)
    if state.is_main_process:
        write_manifest(spec, prepared.config, data_hashes, output, raw_config)
        if output.model_dir is not None:
            write_candidate(spec, output.model_dir)
        logger.info("wrote %s", out / "manifest.json")
    state.wait_for_everyone()
    return out


def train_main(config_path: Path) -> Path:
    """Entry point of `theraeval train <config.toml>`: returns the run's output directory.

    Raises:
        InputError: the config or its data is invalid (the CLI prints the one-line message and exits 2).
    """
    config_path = Path(config_path).resolve()
    spec = spec_from_config(config_path)
    return run_training(spec, raw_config=load_training_config(config_path))

"""`theraeval train <config.toml>`: parse and validate a training config, run it, write manifest + candidate.

Config layout (paths are relative to the TOML file)::

    method = "dpo"                      # sft | dpo | modpo | joint_loss | reward_model | soup
    base_model = "models/base"          # local directory loadable by AutoModelForCausalLM
    dataset = "data/empathy.jsonl"      # JSONL or datasets dir; or a {criterion = path} table
    output_dir = "runs/dpo_empathy"
    name = "dpo_empathy"                # optional; defaults to the output directory's name
    preset = "paper_dpo"                # optional; a file in trainers/presets/ (or a path) merged underneath
    criterion = "empathy"               # optional: which criterion of a multi-criterion source to read
    probe_prompts = 3                   # optional: greedy probe replies compared with the base model (0 = off)

    [args]                              # fields of the method's config dataclass (e.g. DPOTrainConfig)
    [lora]                              # optional: LoRA/QLoRA; absent = full fine-tuning
    [modpo] / [joint_loss] / [reward_model] / [soup]   # the method's own settings
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import platform
import re
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
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
    {"method", "base_model", "dataset", "output_dir", "name", "preset", "args", "lora", "criterion",
     "probe_prompts"}
)
BUILTIN_PREFIX = "builtin/"
"""Values such as `builtin/smollm2` (base model) or `builtin/preferences` (dataset) name things the caller
resolves (`theraeval train` passes them in: trainers import no other harness stage)."""
RUN_MARKER = ".theraeval-train.json"
"""Written into `output_dir` when training starts and removed when `manifest.json` is written: a directory
holding it is an interrupted run of ours (resumed from its checkpoints when the config is unchanged)."""
_OWN_NAMES = ("checkpoints", "adapter", "adapter_tmp", RUN_MARKER)
PROBE_PROMPTS: tuple[str, ...] = (
    "I haven't been sleeping since I lost my job and I feel like a failure.",
    "My sister stopped talking to me and I don't know what I did wrong.",
    "Some days I wonder if anyone would even notice if I was gone.",
)
"""Prompts whose greedy replies are compared between the base and the trained model (`probe_prompts`)."""
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


def _preset_path(config_path: Path, preset: str, method: Any) -> Path | None:
    """`cpu-smoke` / `paper` + the config's method -> `cpu_smoke_<method>.toml` / `paper_<method>.toml`;
    else a preset file name, or a TOML path relative to the config."""
    stem = preset.replace("-", "_")
    for name in (f"{stem}_{method}", stem):
        if (PRESET_DIR / f"{name}.toml").is_file():
            return PRESET_DIR / f"{name}.toml"
    path = config_path.parent / preset
    return path if path.is_file() else None


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
    path = _preset_path(config_path, preset, raw.get("method"))
    if path is None:
        raise InputError(
            config_path,
            "preset",
            preset,
            "no such preset",
            f"use cpu-smoke, paper, one of {available_presets()} or a path to a TOML file",
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


Builtins = Mapping[str, Callable[[], Path]]
"""`builtin/<name>` -> a function returning its local path (called only when the config names it)."""


def _builtin(config_path: Path, field: str, value: str, builtins: Builtins | None) -> Path:
    resolve = (builtins or {}).get(value)
    if resolve is None:
        known = sorted(builtins or {})
        raise InputError(config_path, field, value, "unknown builtin" if known else
                         "builtin names are resolved by `theraeval train`, not by the Python API",
                         f"use one of {known}" if known else "run `theraeval train`, or give a local path")
    return Path(resolve()).resolve()


def spec_from_config(config_path: Path, builtins: Builtins | None = None) -> TrainingSpec:
    """Parse and validate the common part of a training config into a `TrainingSpec`.

    `builtins` maps names such as `builtin/smollm2` (base model) and `builtin/preferences` (dataset) to
    functions returning their local paths; `theraeval train` passes the project's.

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
    def path_or_builtin(field: str, value: Any) -> Path:
        if isinstance(value, str) and value.startswith(BUILTIN_PREFIX):
            return _builtin(config_path, field, value, builtins)
        return _path(config_path, field, value)

    base_model = path_or_builtin("base_model", raw.get("base_model"))
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
        dataset = {str(k): path_or_builtin(f"dataset.{k}", v) for k, v in dataset_raw.items()}
    else:
        dataset = path_or_builtin("dataset", dataset_raw)
    criterion = raw.get("criterion")
    if criterion is not None and (not isinstance(criterion, str) or not criterion):
        raise InputError(config_path, "criterion", criterion, "must be a criterion name",
                         'set criterion = "empathy" (the criterion whose pairs to read)')
    probe = raw.get("probe_prompts", len(PROBE_PROMPTS))
    if not isinstance(probe, int) or isinstance(probe, bool) or not 0 <= probe <= len(PROBE_PROMPTS):
        raise InputError(config_path, "probe_prompts", probe, f"must be an integer 0..{len(PROBE_PROMPTS)}",
                         "set probe_prompts = 3 (or 0 to skip the base-model comparison)")
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
        criterion=criterion,
        probe_prompts=probe,
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
    summary: dict[str, Any] | None = None,
) -> Path:
    """Write `manifest.json`: method, full config, data hashes (taken before training), base model,
    metrics, library versions."""
    base_cfg = spec.base_model / "config.json"
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": spec.name,
        "method": spec.method,
        "criterion": spec.criterion,
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
        "summary": summary or {},
        "versions": _versions(),
    }
    path = spec.output_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _config_sha256(spec: TrainingSpec, raw_config: dict[str, Any] | None) -> str:
    """Hash of everything that decides what a run trains (resume only continues an identical config)."""
    blob = {
        "raw": raw_config,
        "method": spec.method,
        "base_model": str(spec.base_model),
        "dataset": spec.dataset if not isinstance(spec.dataset, Path) else str(spec.dataset),
        "criterion": spec.criterion,
        "args": spec.args,
        "lora": dataclasses.asdict(spec.lora) if spec.lora else None,
        "options": spec.options,
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def _own_interrupted_run(out: Path) -> bool:
    """A directory an interrupted `theraeval train` left: our marker, or nothing but names we write."""
    if (out / RUN_MARKER).is_file():
        return True
    names = {p.name for p in out.iterdir()}
    return bool(names) and names <= set(_OWN_NAMES)


def _check_output_dir(spec: TrainingSpec) -> None:
    out = spec.output_dir
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError(spec.source, "output_dir", str(out), "exists and is not a directory",
                         "choose another output_dir")
    if any(out.iterdir()) and not (out / "manifest.json").is_file() and not _own_interrupted_run(out):
        raise InputError(spec.source, "output_dir", str(out), "exists, is not empty and is not a theraeval run",
                         "choose an empty or new output_dir")


def _resumable(out: Path, config_sha: str) -> bool:
    """True when `out` holds an interrupted run of this exact config with at least one checkpoint."""
    marker = out / RUN_MARKER
    if not marker.is_file():
        return False
    try:
        same = json.loads(marker.read_text(encoding="utf-8")).get("config_sha256") == config_sha
    except (OSError, ValueError, AttributeError):
        return False
    return same and any((out / "checkpoints").rglob("checkpoint-*/trainer_state.json"))


def run_training(spec: TrainingSpec, raw_config: dict[str, Any] | None = None) -> Path:
    """Validate, train, and write `manifest.json` (+ `candidate.toml` for chat models) into `spec.output_dir`.

    Returns the output directory. For every method except `reward_model` it is a model directory that
    `AutoModelForCausalLM.from_pretrained` loads (merged weights for LoRA; the adapter is in `adapter/`).

    An interrupted run (killed, Ctrl-C) leaves `.theraeval-train.json` and `checkpoints/`: re-running the same
    config resumes from the last checkpoint (HF `resume_from_checkpoint`); a changed config starts again
    cleanly in the same directory.

    Raises:
        InputError: anything wrong in the config or data, before any training starts (nothing is removed).
    """
    try:
        trainer = get_trainer(spec.method)
    except ValueError as e:
        raise InputError(
            spec.source, "method", spec.method, str(e), f"use one of {', '.join(available_trainers())}"
        ) from None
    out = spec.output_dir
    _check_output_dir(spec)
    prepared = trainer.prepare(spec)
    data_hashes = {k: {"path": str(p), "sha256": sha256_path(p)} for k, p in prepared.data_files.items()}
    config_sha = _config_sha256(spec, raw_config)
    prepared.resume = out.is_dir() and _resumable(out, config_sha)
    state = PartialState()  # one process, or one per GPU under `accelerate launch`
    if state.is_main_process:
        if out.exists():
            clear_output_dir(out, keep_checkpoints=prepared.resume)
        out.mkdir(parents=True, exist_ok=True)
        (out / RUN_MARKER).write_text(json.dumps({"config_sha256": config_sha}) + "\n", encoding="utf-8")
    state.wait_for_everyone()
    logger.info("%s %s (%s) from %s -> %s", "resuming" if prepared.resume else "training", spec.name,
                spec.method, spec.base_model, out)
    started = time.monotonic()
    output = trainer.train(prepared)
    if state.is_main_process:
        warnings = list(prepared.warnings) + loss_warnings(output.metrics)
        if output.model_dir is not None and spec.probe_prompts:
            warnings += probe_warnings(spec.base_model, output.model_dir, PROBE_PROMPTS[: spec.probe_prompts])
        summary = {"runtime_s": round(time.monotonic() - started, 1), "resumed": prepared.resume,
                   "warnings": warnings}
        for w in warnings:
            logger.warning("%s: %s", spec.name, w)
        write_manifest(spec, prepared.config, data_hashes, output, raw_config, summary)
        if output.model_dir is not None:
            write_candidate(spec, output.model_dir)
        (out / RUN_MARKER).unlink(missing_ok=True)
        logger.info("wrote %s", out / "manifest.json")
    state.wait_for_everyone()
    return out


def loss_warnings(metrics: dict[str, float]) -> list[str]:
    """A warning when the last logged training loss is above the first (training diverged or the learning
    rate is too high)."""
    first, last = metrics.get("loss_first"), metrics.get("loss_last")
    if first is not None and last is not None and last > first:
        return [f"the training loss rose ({first:.4g} -> {last:.4g}): lower learning_rate or check the data"]
    return []


def probe_warnings(base_model: Path, trained: Path, prompts: Sequence[str], max_new_tokens: int = 24) -> list[str]:
    """A warning when the trained model's greedy replies to `prompts` equal the base model's (it did not
    move where it matters: raise learning_rate / steps, or check that the data reached the trainer)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(trained))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    messages = [[{"role": "user", "content": p}] for p in prompts]
    enc: Any
    if tok.chat_template:
        enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                      return_dict=True, padding=True)
    else:
        enc = tok(list(prompts), return_tensors="pt", padding=True)
    replies = []
    for path in (base_model, trained):
        model = AutoModelForCausalLM.from_pretrained(str(path)).eval()
        with torch.inference_mode():
            ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        replies.append(tok.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=True))
        del model
    same = sum(a == b for a, b in zip(*replies, strict=True))
    if same == len(prompts):
        return [f"the trained model's greedy replies equal the base model's on all {same} probe prompts: "
                "it barely moved (more steps or a higher learning_rate?)"]
    return []


def format_summary(out_dir: Path) -> str:
    """One line: name, method, runtime, final metrics (`theraeval train` prints it last)."""
    m = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    metrics, summary = m.get("metrics", {}), m.get("summary", {})
    shown = []
    if "loss_last" in metrics:
        shown.append(f"loss {metrics.get('loss_first', float('nan')):.4g} -> {metrics['loss_last']:.4g}")
    for key, value in sorted(metrics.items()):
        if key.endswith(("accuracies_last", "accuracy_last", "heldout_accuracy", "heldout_brier",
                         "heldout_ece")):
            shown.append(f"{key.removesuffix('_last')} {value:.3g}")
    n_warn = len(summary.get("warnings", []))
    return (f"trained {m['name']} ({m['method']}) in {summary.get('runtime_s', 0):.0f} s"
            f"{' (resumed)' if summary.get('resumed') else ''}: {', '.join(shown) or 'no metrics'}"
            f"; {n_warn} warning{'s' if n_warn != 1 else ''}; {out_dir}")


def train_main(config_path: Path, builtins: Builtins | None = None) -> Path:
    """Entry point of `theraeval train <config.toml>`: returns the run's output directory.

    Raises:
        InputError: the config or its data is invalid (the CLI prints the one-line message and exits 2).
    """
    config_path = Path(config_path).resolve()
    spec = spec_from_config(config_path, builtins)
    return run_training(spec, raw_config=load_training_config(config_path))


def sweep_main(config_path: Path, weights: Sequence[float], builtins: Builtins | None = None) -> Path:
    """Entry point of `theraeval train sweep CONFIG --weights ...`: train every weighting (each validated before
    any training starts), write `<output_dir>/sweep.toml`, return its path.

    Raises:
        InputError: the config is not a two-objective modpo / joint_loss / soup config, or any weighting's
            config or data is invalid.
    """
    from trainers._sweep import sweep_specs, write_sweep_config

    config_path = Path(config_path).resolve()
    spec = spec_from_config(config_path, builtins)
    raw = load_training_config(config_path)
    specs = sweep_specs(spec, weights)
    for s in specs:  # every weighting validated up front: a bad weight never stops a half-done sweep
        get_trainer(s.method).prepare(s)
    runs = [run_training(s, raw_config=raw) for s in specs]
    return write_sweep_config(spec, runs)

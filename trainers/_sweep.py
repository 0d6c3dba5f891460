"""`theraeval train sweep CONFIG --weights 0.1,0.3,...`: one trained candidate per weighting, and a run config.

For a two-objective `modpo`, `joint_loss` or `soup` config, weight w goes to the first objective (MODPO's primary
criterion, the first criterion of the `[joint_loss] weights` table, the first soup model) and 1 - w to the other.
Each weighting trains into `<output_dir>/w<w>` as candidate `<name>.w<w>` (`harness.core.sweep_candidate_name`: the
report's trade-off plot joins such candidates into a front), and `<output_dir>/sweep.toml` is a ready run config
listing the base model and every weighting (`[[candidates]] from = ...`).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.core import InputError, sweep_candidate_name
from trainers._base import TrainingSpec

logger = logging.getLogger(__name__)

SWEEP_METHODS: tuple[str, ...] = ("modpo", "joint_loss", "soup")


def parse_weights(text: str) -> list[float]:
    """`"0.1,0.3,0.5"` -> [0.1, 0.3, 0.5]; each in (0, 1), distinct.

    Raises:
        InputError: not numbers, out of range, repeated, or fewer than two.
    """
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(None, "--weights", text, "not a comma-separated list of numbers",
                         "write e.g. --weights 0.1,0.3,0.5,0.7,0.9") from None
    if len(values) < 2 or len(set(values)) != len(values) or not all(0 < v < 1 for v in values):
        raise InputError(None, "--weights", text, "need at least two distinct weights strictly between 0 and 1",
                         "write e.g. --weights 0.1,0.3,0.5,0.7,0.9 (the first objective's weight)")
    return values


def weight_tag(w: float) -> str:
    """`0.3` -> `w0.30` (folder and candidate suffix)."""
    return f"w{w:.2f}"


def sweep_specs(spec: TrainingSpec, weights: Sequence[float]) -> list[TrainingSpec]:
    """One spec per weighting of a two-objective `modpo` / `joint_loss` / `soup` spec.

    Raises:
        InputError: another method, or not exactly two objectives.
    """
    if spec.method not in SWEEP_METHODS:
        raise InputError(spec.source, "method", spec.method, "a weight sweep needs a multi-objective method",
                         f"use one of {', '.join(SWEEP_METHODS)}")
    section = spec.method
    table = spec.options.get("weights")
    if spec.method == "soup":
        models = spec.options.get("models")
        if not isinstance(models, list) or len(models) != 2:
            raise InputError(spec.source, "soup.models", models, "a sweep mixes exactly two models",
                             'give models = ["<run a>", "<run b>"]')
        keys: list[Any] = [0, 1]
    else:
        if not isinstance(table, dict) or len(table) != 2:
            raise InputError(spec.source, f"{section}.weights", table, "a sweep trades off exactly two criteria",
                             f"give [{section}] weights = {{<a> = 0.5, <b> = 0.5}}")
        keys = list(table)
        if spec.method == "modpo":
            primary = spec.options.get("primary")
            keys = [primary] + [k for k in keys if k != primary] if primary in keys else keys
    out = []
    for w in weights:
        s = copy.deepcopy(spec)
        pair = (round(w, 6), round(1 - w, 6))
        if spec.method == "soup":
            s.options["weights"] = list(pair)
        else:
            s.options["weights"] = {keys[0]: pair[0], keys[1]: pair[1]}
        s.output_dir = spec.output_dir / weight_tag(w)
        s.name = sweep_candidate_name(spec.name, w)
        out.append(s)
    return out


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_sweep_config(spec: TrainingSpec, runs: Sequence[Path]) -> Path:
    """`<output_dir>/sweep.toml`: a run config with the base model and every weighting as candidates."""
    lines = [
        "# Written by `theraeval train sweep`: every weighting of one method, plus its base model. Add other",
        "# methods' models with more [[candidates]] from = \"...\" entries; the report draws the sweep as a front.",
        "[run]",
        f"name = {_toml_str(spec.name + '_sweep')}",
        "",
        "[judge]",
        'kind = "rm"',
        'mode = "clinical"',
        "",
        "[[candidates]]",
        'name = "base"',
        'model = "hf/local"',
        f"model_args = {{ model_path = {_toml_str(str(spec.base_model))} }}",
        "max_tokens = 128",
        "temperature = 0",
    ]
    for run in runs:
        lines += ["", "[[candidates]]", f"from = {_toml_str(run.name)}", "max_tokens = 128", "temperature = 0"]
    path = spec.output_dir / "sweep.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

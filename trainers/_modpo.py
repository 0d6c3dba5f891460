"""MODPO: DPO on a primary criterion plus a margin from the other criteria's reward models.

Zhou et al. (2024), "Beyond One-Preference-Fits-All Alignment: Multi-Objective Direct Preference
Optimization", Eq. (8) (reference code ZHZisZZ/modpo, `src/trainer/modpo_trainer.py`). For a primary
criterion k with weight w_k and margin criteria j != k with weights w_j and reward models r_j:

    L_MODPO = -E log σ( (β / w_k) · [log πθ(y_w|x)/π_ref(y_w|x) - log πθ(y_l|x)/π_ref(y_l|x)]
                        - (1 / w_k) · Σ_{j≠k} w_j · (r_j(x, y_w) - r_j(x, y_l)) )

The second term, `margin = Σ_{j≠k} w_j (r_j(x, y_w) - r_j(x, y_l))`, depends only on frozen reward models, so
it is computed once per pair before training (`compute_margins`). Rewards are z-normalised per reward
model on the training set (their scale is otherwise arbitrary relative to β·log-ratios; the paper's code
left raw logits), and scored in the exact token format each reward model was trained on.

Bugs of the paper's code that this module guards against (github.com/mehrabbz/MODPO-Therapeutic-AI,
alignment_training/trainers/modpo_trainer.py and train_modpo.py): the margin column was
silently dropped by TRL's collator, so training degenerated to plain DPO with β/w_k. Here the config and
the trainer refuse to run without a finite, non-constant margin column, and every batch must carry it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from trl import DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference

from harness.core import InputError
from trainers._base import PreparedRun, TrainingSpec, TrainOutput, check_weights, criterion_weights, register_trainer
from trainers._common import build_config, load_tokenizer, log_metrics, read_json, resume_checkpoint, save_causal_lm
from trainers._data import check_float_column, check_options
from trainers._dpo import DPO_METRICS, DPOTrainConfig, data_file, load_preference_data, make_dpo_trainer
from trainers._reward_model import REWARD_FORMAT_FILE, RewardModel, row_format

logger = logging.getLogger(__name__)

MARGIN_KEY = "margin"
"""Batch key the collator puts the per-pair margin under."""
MARGIN_SCALES: tuple[str, ...] = ("raw", "heldout_std", "implicit")
"""How margin rewards are scaled (`MODPOConfig.margin_scale`); equations in `compute_margins`."""


@dataclass
class MODPOConfig(DPOTrainConfig):
    """`DPOTrainConfig` plus the MODPO objective weights (Zhou et al., 2024).

    `criteria[0]` is the primary criterion k (trained through the DPO log-ratio); the others enter through
    the margin. Defaults are the paper's Phase-1 MODPO_Empathy: empathy primary, safety margin, 0.5/0.5.
    """

    criteria: list[str] = field(
        default_factory=lambda: ["empathy", "safety"],
        metadata={"help": "Objective names, primary criterion k first; the rest are margin criteria j."},
    )
    weights: list[float] = field(
        default_factory=lambda: [0.5, 0.5],
        metadata={"help": "Weights w aligned with `criteria` (w_k first); each in (0, 1], summing to 1."},
    )
    margin_column: str = field(
        default="margin",
        metadata={"help": "Dataset column holding margin = Σ_{j≠k} w_j (r_j(x,y_w) - r_j(x,y_l)) per pair."},
    )
    margin_reward_models: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Reward-model directories for criteria[1:], in order, used by `compute_margins` "
            "(recorded in the manifest). Empty when the dataset already carries the margin column."
        },
    )
    margin_scale: str = field(
        default="raw",
        metadata={
            "help": "How reward-model scores enter the margin (docs/training.md, 'MODPO margin scales'): `raw` "
            "(the paper's and Zhou et al.'s logit differences), `heldout_std` (each difference divided by that "
            "reward model's own score spread on its own held-out pairs), or `implicit` (reward_models are DPO "
            "runs; r = β·log π_rm/π_ref, Zhou et al.'s implicit rewards)."
        },
    )
    allow_chance_margin: bool = field(
        default=False,
        metadata={
            "help": "Train even when a margin reward model is at chance (or unchecked) on its held-out pairs, "
            "with a loud warning. Default: refuse."
        },
    )
    remove_unused_columns: bool = field(
        default=False,
        metadata={
            "help": "Must stay False: the margin column has to reach the collator (TRL would drop it)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.criteria) < 2 or len(set(self.criteria)) != len(self.criteria):
            raise ValueError(
                f"criteria must name at least 2 distinct criteria (primary first), got {self.criteria}"
            )
        if len(self.weights) != len(self.criteria):
            raise ValueError(f"weights {self.weights} must align with criteria {self.criteria}")
        problem = check_weights(dict(zip(self.criteria, self.weights, strict=True)))
        if problem:
            raise ValueError(f"weights: {problem}")
        if self.margin_reward_models and len(self.margin_reward_models) != len(self.criteria) - 1:
            raise ValueError(
                f"margin_reward_models must give one directory per margin criterion "
                f"{self.criteria[1:]}, got {self.margin_reward_models}"
            )
        if self.remove_unused_columns:
            raise ValueError(
                "remove_unused_columns must be False for MODPO, else the margin column is dropped "
                "and training silently becomes plain DPO"
            )
        if len(self.loss_type) != 1 or self.loss_type[0] not in ("sigmoid", "hinge"):
            raise ValueError(f"MODPO supports loss_type ['sigmoid'] (or ['hinge']), got {self.loss_type}")
        if self.f_divergence_type != "reverse_kl":
            raise ValueError("MODPO's margin shift is only exact with f_divergence_type='reverse_kl'")
        if self.margin_scale not in MARGIN_SCALES:
            raise ValueError(f"margin_scale must be one of {MARGIN_SCALES}, got {self.margin_scale!r}")

    @property
    def primary_weight(self) -> float:
        """w_k, the weight of the primary criterion."""
        return float(self.weights[0])


def check_margins(values: Sequence[float], where: str) -> None:
    """Raise `ValueError` unless the margins are all finite and not all equal.

    A constant margin shifts every logit by the same amount: MODPO then reduces to DPO with β/w_k plus an
    offset, which is what the paper's code silently did.
    """
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError(f"{where}: no margins")
    bad = [v for v in vals if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{where}: {len(bad)} margins are not finite (e.g. {bad[0]})")
    if max(vals) - min(vals) <= 1e-12 * max(1.0, abs(vals[0])):
        raise ValueError(
            f"{where}: the margin is constant ({vals[0]!r}) over all {len(vals)} pairs, so MODPO "
            "would reduce to plain DPO; check the margin reward models and the margin column"
        )


@dataclass
class MarginCollator(DataCollatorForPreference):
    """TRL's preference collator plus the per-pair margin as a float tensor under `"margin"`.

    TRL 1.16's `DataCollatorForPreference` drops unknown keys; this is the one place the margin is carried
    from the dataset into the batch. A missing margin raises instead of degrading to DPO.
    """

    margin_column: str = "margin"

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        """Collate as TRL does, then add the margins (raises `KeyError` if a row lacks one)."""
        out = super().torch_call(examples)
        missing = [i for i, e in enumerate(examples) if self.margin_column not in e]
        if missing:
            raise KeyError(
                f"MODPO batch rows {missing} have no {self.margin_column!r}: the margin column was "
                "dropped (is remove_unused_columns True?)"
            )
        out[MARGIN_KEY] = torch.tensor([float(e[self.margin_column]) for e in examples], dtype=torch.float32)
        return out


class MODPOTrainer(DPOTrainer):
    """TRL `DPOTrainer` computing the MODPO loss (Zhou et al., 2024, Eq. 8) from a precomputed margin column.

    TRL has no per-pair margin hook in DPO, so the loss is obtained exactly from TRL's own sigmoid (or
    hinge) loss by two substitutions, done in `compute_loss`:

    - effective β' = β / w_k (`self.beta`, read by TRL's loss and reward metrics);
    - the chosen reference log-prob is shifted by margin/β, so
      β'·[(log πθ(y_w) - log π_ref(y_w) - margin/β) - (log πθ(y_l) - log π_ref(y_l))]
      = (β/w_k)·Δ - margin/w_k, the MODPO logit.

    Logged `rewards/*` are therefore MODPO's collective rewards (as in Zhou et al.'s code), so
    `rewards/accuracies` tracks the optimised objective; `modpo/margin` logs the batch-mean margin.

    Internals touched (TRL 1.16.0, pinned; the numeric test in tests/trainers fails if they change):
    `precompute_ref_logps` (flag read by `_compute_loss` to take reference log-probs from the batch) and
    `_metrics` (TRL's metric buffer). Everything else goes through public methods (`compute_loss`,
    `compute_ref_log_probs`) and the data collator.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        config = kwargs.get("args")
        if not isinstance(config, MODPOConfig):
            raise TypeError(f"MODPOTrainer needs args=MODPOConfig(...), got {type(config).__name__}")
        dataset = kwargs.get("train_dataset")
        if dataset is None or config.margin_column not in dataset.column_names:
            have = None if dataset is None else dataset.column_names
            raise ValueError(
                f"MODPO needs a {config.margin_column!r} column in train_dataset (columns: {have}); "
                "compute it with trainers.compute_margins"
            )
        check_margins(dataset[config.margin_column], "train_dataset")
        eval_dataset = kwargs.get("eval_dataset")
        if eval_dataset is not None and not isinstance(eval_dataset, dict):
            if config.margin_column not in eval_dataset.column_names:
                raise ValueError(f"MODPO needs a {config.margin_column!r} column in eval_dataset too")
        tokenizer = kwargs.get("processing_class")
        if tokenizer is None:
            raise TypeError("MODPOTrainer needs processing_class=<tokenizer> (keyword argument)")
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        kwargs.setdefault(
            "data_collator",
            MarginCollator(
                pad_token_id=tokenizer.pad_token_id,
                max_length=config.max_length,
                truncation_mode=config.truncation_mode,
                margin_column=config.margin_column,
            ),
        )
        super().__init__(*args, **kwargs)
        self.modpo_beta = float(config.beta)
        self.modpo_primary_weight = config.primary_weight
        # Eq. (8): the DPO log-ratio of the primary objective is scaled by β / w_k.
        self.beta = self.modpo_beta / self.modpo_primary_weight

    def compute_ref_log_probs(self, model: Any, inputs: dict[str, Any]) -> Any:
        """Reference log-probs without the margin key (it is not a model input)."""
        return super().compute_ref_log_probs(model, {k: v for k, v in inputs.items() if k != MARGIN_KEY})

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        """MODPO loss: TRL's loss with β' = β/w_k and the chosen reference log-prob shifted by margin/β."""
        inputs = dict(inputs)
        if MARGIN_KEY not in inputs:
            raise RuntimeError("MODPO batch without a margin: refusing to train plain DPO")
        margin = inputs.pop(MARGIN_KEY).to(self.accelerator.device, dtype=torch.float32)
        if "ref_chosen_logps" not in inputs:  # reference forward now (adapter disabled for PEFT)
            ref = self.ref_model if self.ref_model is not None else self.model
            inputs["ref_chosen_logps"], inputs["ref_rejected_logps"] = self.compute_ref_log_probs(ref, inputs)
        inputs["ref_chosen_logps"] = inputs["ref_chosen_logps"] + margin / self.modpo_beta
        mode = "train" if model.training else "eval"
        self._metrics[mode]["modpo/margin"].append(self.accelerator.gather(margin).mean().item())
        saved = self.precompute_ref_logps
        # Make TRL's `_compute_loss` read the (shifted) reference log-probs from `inputs`.
        self.precompute_ref_logps = True
        try:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        finally:
            self.precompute_ref_logps = saved


class ImplicitRewardModel:
    """Zhou et al.'s implicit reward of a DPO-trained model: r(x, y) = β · [log π_rm(y|x) - log π_ref(y|x)].

    `π_rm` is a `theraeval train` DPO run (LoRA: its adapter on the base; full fine-tuning: its model
    directory), `π_ref` that run's base model, `β` the run's own β (from its manifest). Log-probabilities are
    summed over the response tokens, tokenised as in DPO (chat template for conversational rows; the response
    starts where prompt and prompt+response token ids diverge).
    """

    def __init__(self, path: Path, criterion: str, device: Any = None) -> None:
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        manifest = read_json(path / "manifest.json")
        base = Path(manifest["base_model"])
        self.path, self.criterion = path, criterion
        self.beta = float(manifest["config"]["beta"])
        if device is None:
            from accelerate import PartialState

            device = PartialState().device
        self.tokenizer = load_tokenizer(path)
        if (path / "adapter" / "adapter_config.json").is_file():
            policy = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(base)), str(path / "adapter"))
            self.policy, self.ref = policy.eval().to(device), None
        else:
            self.policy = AutoModelForCausalLM.from_pretrained(str(path)).eval().to(device)
            self.ref = AutoModelForCausalLM.from_pretrained(str(base)).eval().to(device)

    @torch.inference_mode()
    def _logps(self, model: Any, ids: list[list[int]], starts: list[int], batch_size: int) -> torch.Tensor:
        pad = self.tokenizer.pad_token_id or 0
        device = next(model.parameters()).device
        out = []
        for b in range(0, len(ids), batch_size):
            chunk, cut = ids[b : b + batch_size], starts[b : b + batch_size]
            width = max(len(i) for i in chunk)
            x = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            resp = torch.zeros((len(chunk), width), dtype=torch.float64)
            for j, (seq, c) in enumerate(zip(chunk, cut, strict=True)):
                x[j, : len(seq)] = torch.tensor(seq)
                mask[j, : len(seq)] = 1
                resp[j, c : len(seq)] = 1.0
            logits = model(input_ids=x.to(device), attention_mask=mask.to(device)).logits[:, :-1].double().cpu()
            lp = torch.log_softmax(logits, -1).gather(-1, x[:, 1:].unsqueeze(-1)).squeeze(-1)
            out.append((lp * resp[:, 1:]).sum(-1))
        return torch.cat(out)

    def score(self, prompts: Sequence[Any], responses: Sequence[Any], batch_size: int = 16) -> torch.Tensor:
        """β · (log π_rm(y|x) - log π_ref(y|x)) for aligned prompts and responses."""
        from trainers._joint_loss import encode_joint_row

        ids, starts = [], []
        for p, r in zip(prompts, responses, strict=True):
            enc = encode_joint_row({"prompt": p, "chosen_r": r, "rejected_r": r}, self.tokenizer, ["r"])
            ids.append(enc["prompt_ids"] + enc["completion_ids"][0])
            starts.append(len(enc["prompt_ids"]))
        policy = self._logps(self.policy, ids, starts, batch_size)
        if self.ref is None:
            with self.policy.disable_adapter():
                ref = self._logps(self.policy, ids, starts, batch_size)
        else:
            ref = self._logps(self.ref, ids, starts, batch_size)
        return (self.beta * (policy - ref)).float()


def compute_margins(
    dataset: Any,
    criteria: Sequence[str],
    weights: Sequence[float],
    reward_models: Mapping[str, Path | RewardModel | ImplicitRewardModel],
    *,
    scale: str = "raw",
    margin_column: str = "margin",
    batch_size: int = 16,
) -> tuple[Any, dict[str, Any]]:
    """Score every pair with the margin reward models and add `margin_column` (plus per-criterion rewards).

    `criteria[0]` is the primary criterion (no reward model needed); for each j >= 1,
    `reward_models[criteria[j]]` scores `(prompt, chosen)` and `(prompt, rejected)` (a `RewardModel` in the
    exact format it was trained on, or an `ImplicitRewardModel`). The margin, by `scale`:

    - `raw` (Beikzadeh et al.; Zhou et al. 2024, Eq. 8): margin = Σ_j w_j (r_j(x, y_w) - r_j(x, y_l));
    - `heldout_std`: margin = Σ_j w_j (r_j(x, y_w) - r_j(x, y_l)) / s_j, with s_j the standard deviation of r_j
      over the responses of r_j's *own* held-out pairs (recorded when it was trained), so a weight means "this
      many of the reward model's own score spreads" whatever data MODPO trains on;
    - `implicit`: as `raw`, with r_j = β_j · log π_j(y|x)/π_ref(y|x) from a DPO run (`ImplicitRewardModel`;
      Zhou et al. 2024, §4).

    Returns the new dataset and statistics (per criterion: scale s_j, share of pairs where r_j prefers y_w).

    Raises:
        ValueError: missing reward model, wrong criterion or row format, no held-out spread for
            `heldout_std`, constant margin.
    """
    if len(criteria) != len(weights):
        raise ValueError(f"criteria {list(criteria)} and weights {list(weights)} differ in length")
    if scale not in MARGIN_SCALES:
        raise ValueError(f"scale must be one of {MARGIN_SCALES}, got {scale!r}")
    fmt = row_format(dataset[0])
    prompts, chosen, rejected = dataset["prompt"], dataset["chosen"], dataset["rejected"]
    margin = torch.zeros(len(dataset), dtype=torch.float64)
    out_stats: dict[str, Any] = {"scale": scale, "criteria": {}}
    columns: dict[str, list[float]] = {}
    for crit, w in zip(criteria[1:], weights[1:], strict=True):
        if crit not in reward_models:
            raise ValueError(f"no reward model for margin criterion {crit!r}")
        rm = reward_models[crit]
        if not isinstance(rm, RewardModel | ImplicitRewardModel):
            rm = ImplicitRewardModel(Path(rm), crit) if scale == "implicit" else RewardModel.load(Path(rm))
        if rm.criterion != crit:
            raise ValueError(f"reward model {rm.path} was trained for {rm.criterion!r}, not {crit!r}")
        s_j = 1.0
        if isinstance(rm, RewardModel):
            if rm.fmt != fmt:
                raise ValueError(
                    f"reward model {rm.path} was trained on {rm.fmt} rows but the data has {fmt} rows; "
                    "score it in the format it was trained on"
                )
            if scale == "heldout_std":
                s_j = float((rm.heldout or {}).get("score_std") or 0.0)
                if not s_j > 0:
                    raise ValueError(f"reward model {rm.path} has no held-out score spread (trained without "
                                     "held-out pairs?): margin_scale 'heldout_std' needs it")
        r_c = rm.score(prompts, chosen, batch_size).double()
        r_r = rm.score(prompts, rejected, batch_size).double()
        margin += float(w) * (r_c - r_r) / s_j
        columns[f"reward_{crit}_chosen"] = r_c.tolist()
        columns[f"reward_{crit}_rejected"] = r_r.tolist()
        out_stats["criteria"][crit] = {
            "scale": s_j,
            "weight": float(w),
            "path": str(rm.path),
            "frac_chosen_higher": float((r_c > r_r).double().mean()),
            "diff_std": float((r_c - r_r).std()) if len(r_c) > 1 else 0.0,
        }
    check_margins(margin.tolist(), "computed margins")
    for name, values in columns.items():
        if name in dataset.column_names:
            dataset = dataset.remove_columns(name)
        dataset = dataset.add_column(name, values)
    if margin_column in dataset.column_names:
        dataset = dataset.remove_columns(margin_column)
    dataset = dataset.add_column(margin_column, margin.tolist())
    out_stats["margin_mean"] = float(margin.mean())
    out_stats["margin_std"] = float(margin.std()) if len(margin) > 1 else 0.0
    return dataset, out_stats


def _weights_table(spec: TrainingSpec) -> tuple[str, dict[str, float]]:
    opts = spec.options
    weights = criterion_weights(spec, "modpo", 2, "MODPO needs a weight per criterion (>= 2)")
    primary = opts.get("primary")
    if primary not in weights:
        raise InputError(
            spec.source,
            "modpo.primary",
            primary,
            f"must be one of the weighted criteria {sorted(weights)}",
            'set [modpo] primary = "<criterion trained by the DPO term>"',
        )
    return str(primary), weights


def _check_reward_model(spec: TrainingSpec, field: str, path: Path, crit: str, fmt: str, scale: str,
                        allow_chance: bool) -> list[str]:
    """Validate a margin reward-model directory; refuse one at chance (or unchecked) on its own held-out pairs
    unless `allow_chance_margin`, then return the loud warning instead."""
    meta_file = path / REWARD_FORMAT_FILE
    if not meta_file.is_file():
        raise InputError(spec.source, field, str(path), f"not a reward-model directory (no {REWARD_FORMAT_FILE})",
                         "train it with method = 'reward_model' and point at <output_dir>/<criterion>")
    meta = read_json(meta_file)
    if meta.get("criterion") != crit:
        raise InputError(spec.source, field, str(path), f"this reward model was trained for {meta.get('criterion')!r}",
                         f"point it at the {crit!r} reward model")
    if meta.get("row_format") != fmt:
        raise InputError(spec.source, field, str(path),
                         f"reward model trained on {meta.get('row_format')} rows, data has {fmt} rows",
                         "use data in the format the reward model was trained on")
    held = meta.get("heldout")
    if scale == "heldout_std" and not (held and float(held.get("score_std") or 0) > 0):
        raise InputError(spec.source, field, str(path), "no held-out score spread for margin_scale = 'heldout_std'",
                         "retrain the reward model with heldout_fraction > 0, or use margin_scale = 'raw'")
    if held is None:
        problem = "has no held-out pairs: nobody checked it beats a coin"
    elif held.get("at_chance"):
        problem = (f"is at chance on its {held['n']} held-out pairs (accuracy {held['accuracy']:.2f}, one-sided "
                   f"binomial p = {held['p_value']:.2g})")
    else:
        return []
    if not allow_chance:
        raise InputError(spec.source, field, str(path), f"margin reward model {crit!r} {problem}",
                         "train a better reward model (more steps, more pairs), or set [modpo] "
                         "allow_chance_margin = true to train anyway with a warning")
    return [f"MARGIN REWARD MODEL {crit!r} {problem}: its margin is noise, MODPO is close to DPO with beta/w_k"]


def _check_implicit_reward_model(spec: TrainingSpec, field: str, path: Path, crit: str) -> list[str]:
    """Validate a DPO run used for implicit rewards (margin_scale = 'implicit')."""
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise InputError(spec.source, field, str(path), "not a `theraeval train` run (no manifest.json)",
                         "point it at the output_dir of a DPO run on this criterion")
    meta = read_json(manifest)
    if meta.get("method") not in IMPLICIT_METHODS:
        raise InputError(spec.source, field, str(path), f"a {meta.get('method')} run has no implicit reward",
                         f"use a run of method {' / '.join(IMPLICIT_METHODS)} trained on {crit!r} pairs")
    trained_on = meta.get("criterion")
    if trained_on is not None and trained_on != crit:
        raise InputError(spec.source, field, str(path), f"this DPO run was trained on {trained_on!r} pairs",
                         f"point it at a DPO run on {crit!r}")
    return [f"implicit reward {crit!r} ({path.name}) has no held-out check: a DPO run keeps no held-out pairs"]


IMPLICIT_METHODS: tuple[str, ...] = ("dpo",)
"""Methods whose runs give Zhou et al.'s implicit reward β·log π/π_ref (the sigmoid DPO family)."""


@register_trainer("modpo")
class MODPOMethod:
    """`method = "modpo"`: primary criterion's pairs + margin reward models (from `reward_model` runs).

    TOML: `[modpo] primary = "empathy"`, `weights = {empathy = 0.5, safety = 0.5}`,
    `reward_models = {safety = "runs/rm/safety"}`; or `use_dataset_margin = true` to take an existing
    `margin` column from the data.
    """

    config_class = MODPOConfig

    def prepare(self, spec: TrainingSpec) -> PreparedRun:
        """Validate weights, reward models and data; build the config."""
        check_options(spec, ("primary", "weights", "reward_models", "use_dataset_margin", "margin_scale",
                             "allow_chance_margin"))
        overrides: dict[str, Any] = {
            k: spec.options[k] for k in ("margin_scale", "allow_chance_margin") if k in spec.options
        }
        scale = overrides.get("margin_scale", spec.args.get("margin_scale", "raw"))
        allow_chance = bool(overrides.get("allow_chance_margin", spec.args.get("allow_chance_margin", False)))
        warnings: list[str] = []
        primary, weights = _weights_table(spec)
        margin_crits = [c for c in weights if c != primary]
        ds = load_preference_data(spec.dataset, spec, criterion=spec.criterion or primary)
        data_path = data_file(spec.dataset)
        use_column = bool(spec.options.get("use_dataset_margin", False))
        rm_dirs: dict[str, Path] = {}
        if use_column:
            if "margin" not in ds.column_names:
                raise InputError(
                    data_path,
                    "column margin",
                    sorted(ds.column_names),
                    "use_dataset_margin is true but the data has no 'margin' column",
                    "add the column, or give [modpo] reward_models instead",
                )
            margins = check_float_column(ds, "margin", data_path, "give every row a finite number margin, "
                                         "or drop use_dataset_margin and give [modpo] reward_models")
            try:
                check_margins(margins, "dataset column 'margin'")
            except ValueError as e:
                raise InputError(data_path, "column margin", "...", str(e), "recompute the margins") from None
        else:
            table = spec.options.get("reward_models")
            table = table if isinstance(table, dict) else {}
            fmt = row_format(ds[0])
            for crit in margin_crits:
                if crit not in table:
                    raise InputError(
                        spec.source,
                        f"modpo.reward_models.{crit}",
                        None,
                        f"no reward model for margin criterion {crit!r}",
                        f"add [modpo.reward_models] {crit} = \"<dir from a method = 'reward_model' run>\"",
                    )
                path = Path(str(table[crit]))
                if not path.is_absolute() and spec.source is not None:
                    path = (spec.source.parent / path).resolve()
                field = f"modpo.reward_models.{crit}"
                if scale == "implicit":
                    warnings += _check_implicit_reward_model(spec, field, path, crit)
                else:
                    warnings += _check_reward_model(spec, field, path, crit, fmt, scale, allow_chance)
                rm_dirs[crit] = path
        config = build_config(
            MODPOConfig,
            spec,
            {
                "criteria": [primary, *margin_crits],
                "weights": [weights[primary], *(weights[c] for c in margin_crits)],
                "margin_reward_models": [str(rm_dirs[c]) for c in margin_crits] if rm_dirs else [],
                **overrides,
            },
        )
        return PreparedRun(
            spec=spec,
            config=config,
            datasets={"train": ds},
            data_files={"train": data_path},
            extra={"reward_models": rm_dirs, "use_dataset_margin": use_column},
            warnings=warnings,
        )

    def train(self, run: PreparedRun) -> TrainOutput:
        """Compute margins (unless given), train the MODPO trainer, save."""
        config: MODPOConfig = run.config
        ds = run.datasets["train"]
        details: dict[str, Any] = {"criteria": config.criteria, "weights": config.weights}
        if not run.extra["use_dataset_margin"]:
            ds, stats = compute_margins(
                ds,
                config.criteria,
                config.weights,
                run.extra["reward_models"],
                scale=config.margin_scale,
                margin_column=config.margin_column,
            )
            details["margin"] = stats
            logger.info("MODPO margins: mean %.4f, std %.4f", stats["margin_mean"], stats["margin_std"])
        tok = load_tokenizer(run.spec.base_model)
        trainer = make_dpo_trainer(run.spec, config, ds, tok, trainer_class=MODPOTrainer)
        trainer.train(resume_from_checkpoint=resume_checkpoint(run, trainer.args.output_dir))
        metrics = log_metrics(trainer.state.log_history, (*DPO_METRICS, "modpo/margin"))
        return save_causal_lm(trainer, run.spec, tok, metrics, details)

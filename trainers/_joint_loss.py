"""The paper's joint-loss multi-objective DPO: one sigmoid over the weighted sum of per-criterion DPO logits.

For a prompt x with one preference pair (y_w^k, y_l^k) per criterion k and weights w_k
(github.com/mehrabbz/MODPO-Therapeutic-AI,
`trainers/joint_loss_trainer.py` of the authors' repository):

    L_joint = -E log σ( Σ_k β · w_k · [ log πθ(y_w^k|x)/π_ref(y_w^k|x) - log πθ(y_l^k|x)/π_ref(y_l^k|x) ] )

This is *not* a weighted sum of per-criterion DPO losses, Σ_k w_k · (-log σ(β Δ_k)): inside one sigmoid
the criteria trade off against each other (a large log-ratio gap on one criterion saturates the sigmoid
and switches off the gradient for all of them), while the weighted sum keeps a separate, non-saturated
gradient per criterion. With one criterion and w = 1 both reduce to DPO.

TRL's DPOTrainer models one pair per row, so this is a small `transformers.Trainer` subclass with its own
collator; progress and metrics go through the HF trainer's logging like the TRL trainers.
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, PreTrainedModel, Trainer, set_seed

from harness.core import InputError
from trainers._base import PreparedRun, TrainingSpec, TrainOutput, check_weights, criterion_weights, register_trainer
from trainers._common import build_config, load_tokenizer, log_metrics, resume_checkpoint, save_causal_lm, trl_trainer
from trainers._data import (
    JOINT_FOLDER,
    align_criteria,
    check_options,
    is_conversational_row,
    is_pairs_file,
    is_preferences_folder,
    load_pairs,
    load_rows,
    require_columns,
)
from trainers._dpo import DPOTrainConfig

logger = logging.getLogger(__name__)


@dataclass
class JointLossConfig(DPOTrainConfig):
    """`DPOTrainConfig` plus the criteria and weights of the joint loss (paper's "Custom loss").

    Only `loss_type=['sigmoid']` with reverse KL is supported, reference log-probs are computed on the fly
    (LoRA: adapter disabled; full fine-tuning: a frozen in-memory copy of the starting weights).
    """

    criteria: list[str] = field(
        default_factory=lambda: ["empathy", "safety"],
        metadata={"help": "Criteria k; every row needs `chosen_<k>` and `rejected_<k>` for each."},
    )
    weights: list[float] = field(
        default_factory=lambda: [0.5, 0.5],
        metadata={
            "help": "Weights w_k aligned with `criteria`, each in (0, 1], summing to 1 (paper: equal)."
        },
    )
    remove_unused_columns: bool = field(
        default=False,
        metadata={"help": "Must stay False: the per-criterion columns are read by the joint-loss collator."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.criteria or len(set(self.criteria)) != len(self.criteria):
            raise ValueError(f"criteria must be distinct and non-empty, got {self.criteria}")
        if len(self.weights) != len(self.criteria):
            raise ValueError(f"weights {self.weights} must align with criteria {self.criteria}")
        problem = check_weights(dict(zip(self.criteria, self.weights, strict=True)))
        if problem:
            raise ValueError(f"weights: {problem}")
        unsupported = {
            "loss_type": (self.loss_type, ["sigmoid"]),
            "f_divergence_type": (self.f_divergence_type, "reverse_kl"),
            "ld_alpha": (self.ld_alpha, None),
            "use_weighting": (self.use_weighting, False),
            "precompute_ref_log_probs": (self.precompute_ref_log_probs, False),
            "sync_ref_model": (self.sync_ref_model, False),
            "label_smoothing": (self.label_smoothing, 0.0),
        }
        for name, (value, allowed) in unsupported.items():
            if value != allowed:
                raise ValueError(f"{name}={value!r} is not supported by the joint loss (only {allowed!r})")
        if self.remove_unused_columns:
            raise ValueError("remove_unused_columns must be False for the joint loss")


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def encode_joint_row(row: dict[str, Any], tokenizer: Any, criteria: Sequence[str]) -> dict[str, Any]:
    """Token ids of one joint-loss row: `prompt_ids` and `completion_ids` = [c0 chosen, c0 rejected, c1 ...].

    Same convention as TRL's DPO tokenisation: chat template for conversational rows (generation prompt on the
    prompt alone), EOS appended to text responses, and the completion starting where prompt and
    prompt+response token ids diverge.
    """
    conv = is_conversational_row(row)
    if conv:
        prompt_ids = tokenizer.apply_chat_template(
            row["prompt"], add_generation_prompt=True, tokenize=True, return_dict=True
        )["input_ids"]
    else:
        prompt_ids = tokenizer(text=row["prompt"])["input_ids"]
    fulls = []
    for crit in criteria:
        for side in ("chosen", "rejected"):
            response = row[f"{side}_{crit}"]
            if conv:
                full = tokenizer.apply_chat_template(
                    list(row["prompt"]) + list(response), tokenize=True, return_dict=True
                )["input_ids"]
            else:
                eos = tokenizer.eos_token or ""
                text = response if response.endswith(eos) else response + eos
                full = tokenizer(text=row["prompt"] + text)["input_ids"]
            fulls.append(list(full))
    cut = min(_common_prefix(prompt_ids, f) for f in fulls)
    if cut < len(prompt_ids):
        logger.warning(
            "joint loss: the tokenized prompt is not a prefix of prompt+response; the completion "
            "starts where they diverge"
        )
    return {"prompt_ids": list(prompt_ids[:cut]), "completion_ids": [f[cut:] for f in fulls]}


@dataclass
class JointLossCollator:
    """Pads the 2K sequences of each row (right padding); row order b*2K + 2k + side (side 0 = chosen)."""

    pad_token_id: int
    max_length: int | None = None

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Build `input_ids`, `attention_mask`, `completion_mask` of shape (B*2K, L)."""
        seqs, masks = [], []
        for ex in examples:
            for comp in ex["completion_ids"]:
                ids = list(ex["prompt_ids"]) + list(comp)
                mask = [0] * len(ex["prompt_ids"]) + [1] * len(comp)
                if self.max_length is not None:
                    ids, mask = ids[: self.max_length], mask[: self.max_length]
                seqs.append(ids)
                masks.append(mask)
        width = max(len(s) for s in seqs)
        input_ids = torch.full((len(seqs), width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(seqs), width), dtype=torch.long)
        completion = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, (s, m) in enumerate(zip(seqs, masks, strict=True)):
            input_ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
            attention[i, : len(s)] = 1
            completion[i, : len(m)] = torch.tensor(m, dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention, "completion_mask": completion}


def sequence_logps(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of log πθ(token) over each sequence's completion tokens."""
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False
    ).logits
    logits = logits[:, :-1].float()
    labels = batch["input_ids"][:, 1:]
    token_logps = logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    return (token_logps * batch["completion_mask"][:, 1:]).sum(-1)


def joint_logits(
    policy_logps: torch.Tensor, ref_logps: torch.Tensor, weights: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint logits Σ_k β w_k Δ_k (shape B) and per-criterion Δ_k (shape B x K) from flat (B*2K) log-probs."""
    n_crit = weights.numel()
    ratios = (policy_logps - ref_logps).view(-1, n_crit, 2)
    delta = ratios[..., 0] - ratios[..., 1]
    return beta * (delta * weights.to(delta)[None, :]).sum(-1), delta


class JointLossTrainer(Trainer):
    """HF `Trainer` optimising the paper's joint multi-objective DPO loss (see module docstring)."""

    def __init__(
        self,
        model: str | PreTrainedModel,
        args: JointLossConfig,
        train_dataset: Any,
        processing_class: Any,
        eval_dataset: Any = None,
        peft_config: Any = None,
        quantization_config: Any = None,
        ref_model: PreTrainedModel | None = None,
        callbacks: list[Any] | None = None,
    ) -> None:
        set_seed(args.seed)
        tok = processing_class
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        net: Any
        if isinstance(model, str):
            init = args.model_init_kwargs
            kwargs: dict[str, Any] = dict(init) if isinstance(init, dict) else {}
            dtype = kwargs.get("dtype", "float32")
            kwargs["dtype"] = getattr(torch, dtype) if isinstance(dtype, str) and dtype != "auto" else dtype
            if quantization_config is not None:
                kwargs["quantization_config"] = quantization_config
            net = AutoModelForCausalLM.from_pretrained(model, **kwargs)
        else:
            net = model
        net.config.pad_token_id = tok.pad_token_id
        self.ref_model: Any = None
        if peft_config is not None:
            from peft import get_peft_model, prepare_model_for_kbit_training

            if getattr(net, "is_loaded_in_4bit", False) or getattr(net, "is_loaded_in_8bit", False):
                net = prepare_model_for_kbit_training(net, args.gradient_checkpointing)
            net = get_peft_model(net, peft_config)
            if args.gradient_checkpointing:
                net.enable_input_require_grads()
        else:
            # An explicit frozen copy of the starting weights (TRL would reload them from disk instead).
            self.ref_model = ref_model if ref_model is not None else copy.deepcopy(net)
            self.ref_model.eval().requires_grad_(False)
        if args.disable_dropout:
            for module in [net, self.ref_model]:
                if module is not None:
                    for sub in module.modules():
                        if isinstance(sub, torch.nn.Dropout):
                            sub.p = 0.0
        self.criteria = list(args.criteria)
        self.joint_beta = float(args.beta)
        self.weights_tensor = torch.tensor(args.weights, dtype=torch.float32)
        train_dataset = self._tokenize(train_dataset, tok)
        if eval_dataset is not None:
            eval_dataset = self._tokenize(eval_dataset, tok)
        super().__init__(
            model=net,
            args=args,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            data_collator=JointLossCollator(tok.pad_token_id, args.max_length),
            processing_class=tok,
            callbacks=callbacks,
        )
        if self.ref_model is not None:
            self.ref_model = self.accelerator.prepare_model(self.ref_model, evaluation_mode=True)
        self._joint_metrics: dict[str, dict[str, list[float]]] = {
            "train": defaultdict(list),
            "eval": defaultdict(list),
        }

    def _tokenize(self, dataset: Any, tok: Any) -> Any:
        missing = [
            f"{side}_{c}"
            for c in self.criteria
            for side in ("chosen", "rejected")
            if f"{side}_{c}" not in dataset.column_names
        ]
        if "prompt" not in dataset.column_names or missing:
            raise ValueError(
                f"joint-loss rows need 'prompt' and {missing or 'chosen_/rejected_ columns'}; "
                f"got {dataset.column_names}"
            )
        return dataset.map(
            encode_joint_row,
            fn_kwargs={"tokenizer": tok, "criteria": self.criteria},
            remove_columns=dataset.column_names,
            desc="Tokenizing joint-loss rows",
        )

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        """Joint loss -log σ(Σ_k β w_k Δ_k), with per-criterion and joint reward metrics."""
        policy = sequence_logps(model, inputs)
        with torch.no_grad():
            if self.ref_model is not None:
                ref = sequence_logps(self.ref_model, inputs)
            else:
                with self.accelerator.unwrap_model(model).disable_adapter():
                    ref = sequence_logps(model, inputs)
        beta = float(self.joint_beta)
        logits, delta = joint_logits(policy, ref, self.weights_tensor, beta)
        loss = -F.logsigmoid(logits).mean()
        mode = "train" if model.training else "eval"
        gathered = self.accelerator.gather_for_metrics(logits.detach())
        self._joint_metrics[mode]["rewards/accuracies"].append(float((gathered > 0).float().mean()))
        self._joint_metrics[mode]["rewards/margins"].append(float(gathered.mean()))
        delta_all = self.accelerator.gather_for_metrics(delta.detach())
        for k, crit in enumerate(self.criteria):
            self._joint_metrics[mode][f"rewards/{crit}/accuracy"].append(
                float((delta_all[:, k] > 0).float().mean())
            )
            self._joint_metrics[mode][f"rewards/{crit}/margin"].append(float(beta * delta_all[:, k].mean()))
        return (loss, {"logits": logits.detach()}) if return_outputs else loss

    def prediction_step(
        self,
        model: Any,
        inputs: dict[str, Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[Any, Any, Any]:
        """Evaluation: the joint loss only (there are no labels)."""
        inputs = {k: v.to(self.args.device) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
        with torch.no_grad():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Add the averaged joint-loss metrics to the HF trainer's log record."""
        mode = "train" if self.model is not None and self.model.training else "eval"
        metrics = {k: sum(v) / len(v) for k, v in self._joint_metrics[mode].items() if v}
        if mode == "eval":
            metrics = {f"eval_{k}": v for k, v in metrics.items()}
        logs.update(metrics)
        super().log(logs, start_time)
        self._joint_metrics[mode].clear()


def _joint_weights(spec: TrainingSpec) -> dict[str, float]:
    return criterion_weights(spec, "joint_loss", 1, "the joint loss needs a weight per criterion")


@register_trainer("joint_loss")
class JointLossMethod:
    """`method = "joint_loss"`: rows with `chosen_<k>`/`rejected_<k>` per criterion, or one dataset per
    criterion (`dataset = {empathy = ..., safety = ...}`) aligned on the prompt."""

    config_class = JointLossConfig

    def prepare(self, spec: TrainingSpec) -> PreparedRun:
        """Validate weights and columns; align per-criterion data if given separately."""
        check_options(spec, ("weights",))
        weights = _joint_weights(spec)
        criteria = list(weights)
        if isinstance(spec.dataset, Path) and is_preferences_folder(spec.dataset):
            spec.dataset = spec.dataset / JOINT_FOLDER  # `theraeval preferences` writes the joint rows here
        if isinstance(spec.dataset, Path) and is_pairs_file(spec.dataset):
            spec.dataset = {c: spec.dataset for c in criteria}  # the bundled set: join its criteria on the prompt
        if isinstance(spec.dataset, dict):
            per = {}
            for crit in criteria:
                if crit not in spec.dataset:
                    raise InputError(
                        spec.source,
                        f"dataset.{crit}",
                        None,
                        f"no dataset for criterion {crit!r}",
                        f'add {crit} = "<path>" to the dataset table',
                    )
                per[crit] = load_pairs(spec.dataset[crit], crit, spec.source, f"dataset.{crit}")
            try:
                ds = align_criteria(per, criteria)
            except ValueError as e:
                raise InputError(
                    spec.source,
                    "dataset",
                    {k: str(v) for k, v in spec.dataset.items()},
                    str(e),
                    "give pairs for the same prompts in every criterion's data",
                ) from None
            files = {c: spec.dataset[c] for c in criteria}
        elif isinstance(spec.dataset, Path):
            ds = load_rows(spec.dataset, spec.source, "dataset")
            cols = ["prompt"] + [f"{side}_{c}" for c in criteria for side in ("chosen", "rejected")]
            require_columns(ds, cols, spec.dataset, "joint-loss data")
            files = {"train": spec.dataset}
        else:
            raise InputError(
                spec.source,
                "dataset",
                spec.dataset,
                "joint_loss needs preference data",
                "give joint rows (chosen_<k>/rejected_<k>) or a table of per-criterion files",
            )
        config = build_config(
            JointLossConfig, spec, {"criteria": criteria, "weights": list(weights.values())}
        )
        return PreparedRun(spec=spec, config=config, datasets={"train": ds}, data_files=files)

    def train(self, run: PreparedRun) -> TrainOutput:
        """Train the joint-loss trainer and save."""
        spec = run.spec
        tok = load_tokenizer(spec.base_model)
        trainer = trl_trainer(JointLossTrainer, spec, run.config, run.datasets["train"], tok)
        trainer.train(resume_from_checkpoint=resume_checkpoint(run, trainer.args.output_dir))
        keys = (
            "rewards/accuracies",
            "rewards/margins",
            *(f"rewards/{c}/accuracy" for c in run.config.criteria),
        )
        metrics = log_metrics(trainer.state.log_history, keys)
        details = {"criteria": run.config.criteria, "weights": run.config.weights}
        return save_causal_lm(trainer, spec, tok, metrics, details)

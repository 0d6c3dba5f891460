"""The `Trainer` protocol every training method implements, and the registry that finds them by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from harness.core import InputError
from trainers._lora import LoraSpec

DataSource = Path | dict[str, Path] | None
"""Where a run's preference data lives: one path, one path per criterion, or nothing (soup)."""


@dataclass
class TrainingSpec:
    """Everything a training run needs, as written in a `theraeval train` TOML file (already parsed).

    A `TrainingSpec` can also be built in Python (tests, notebooks) and handed to `trainers.run_training`.
    """

    method: str
    """Registered method name (`sft`, `dpo`, `modpo`, `joint_loss`, `reward_model`, `soup`)."""
    base_model: Path
    """Local directory of the model to start from (loadable by `AutoModelForCausalLM`)."""
    output_dir: Path
    """Directory the run writes: the model, `manifest.json`, `candidate.toml`."""
    dataset: DataSource = None
    """HF `save_to_disk` directory or JSONL file; a criterion -> path table where the method takes several."""
    name: str = ""
    """Run (candidate) name; defaults to the output directory's name."""
    args: dict[str, Any] = field(default_factory=dict)
    """Fields of the method's config dataclass (the TOML `[args]` table)."""
    lora: LoraSpec | None = None
    """LoRA / QLoRA settings (the TOML `[lora]` table); `None` means full fine-tuning."""
    options: dict[str, Any] = field(default_factory=dict)
    """The method's own TOML table (e.g. `[modpo]`, `[soup]`)."""
    source: Path | None = None
    """The TOML file this spec came from, named in every error message."""
    criterion: str | None = None
    """Which criterion's pairs to read from a multi-criterion source (the bundled preference set, a
    `theraeval preferences` folder) for single-criterion methods (`sft`, `dpo`, ...)."""
    probe_prompts: int = 3
    """How many probe prompts' greedy replies are compared between the base and the trained model (0 = off)."""

    def __post_init__(self) -> None:
        self.base_model = Path(self.base_model)
        self.output_dir = Path(self.output_dir)
        if not self.name:
            self.name = self.output_dir.name

    @property
    def section(self) -> str:
        """Name of the method's own TOML table, used in error messages (`modpo`, `soup`, ...)."""
        return self.method


@dataclass
class PreparedRun:
    """A validated run: the config dataclass and loaded data, ready for `Trainer.train`.

    `prepare` does every check that can fail on user input, so a run never dies on a bad config after
    minutes of training.
    """

    spec: TrainingSpec
    config: Any
    """Instance of the method's `config_class`."""
    datasets: dict[str, Any] = field(default_factory=dict)
    """Loaded `datasets.Dataset` objects by role (`train`, or one per criterion)."""
    data_files: dict[str, Path] = field(default_factory=dict)
    """Files/directories the datasets came from, by the same keys (hashed into the manifest)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Method-specific validated settings (weights, reward-model directories, soup inputs...)."""
    resume: bool = False
    """Resume from the last checkpoint under the config's `output_dir` (an interrupted run of the same
    config); set by `run_training`, read by `Trainer.train` through `trainers._common.resume_checkpoint`."""
    warnings: list[str] = field(default_factory=list)
    """Things the user must see in the run summary (e.g. a margin reward model at chance)."""


@dataclass
class TrainOutput:
    """What a finished run produced."""

    model_dir: Path | None
    """Directory loadable by `AutoModelForCausalLM` (merged weights for LoRA); `None` for reward models."""
    adapter_dir: Path | None = None
    """The LoRA adapter, kept next to the merged copy; `None` for full fine-tuning."""
    metrics: dict[str, float] = field(default_factory=dict)
    """Training metrics for the manifest (first/last logged loss, reward accuracy, runtime...)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Method-specific facts for the manifest (margin statistics, soup inputs, reward-model dirs...)."""


@runtime_checkable
class Trainer(Protocol):
    """A training method: validates a `TrainingSpec`, then trains and writes a model directory.

    Implementations are registered with `@register_trainer("<name>")` and must be constructible without
    arguments. `prepare` raises `harness.core.InputError` for anything wrong in the user's files;
    `train` may assume a `PreparedRun` that `prepare` returned.
    """

    config_class: type
    """The method's config dataclass (a TRL config subclass where TRL has one)."""

    def prepare(self, spec: TrainingSpec) -> PreparedRun:
        """Validate the spec, build the config dataclass and load the data."""
        ...

    def train(self, run: PreparedRun) -> TrainOutput:
        """Train and save; return where the model went and the metrics."""
        ...


_REGISTRY: dict[str, Callable[[], Trainer]] = {}
_T = TypeVar("_T")


def register_trainer(name: str) -> Callable[[_T], _T]:
    """Class decorator: register a `Trainer` implementation under `name`.

    Raises:
        ValueError: if `name` is empty or already registered to a different class.
    """
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"trainer name must be letters, digits and '_', got {name!r}")

    def decorator(cls: _T) -> _T:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"trainer {name!r} is already registered to {existing!r}")
        _REGISTRY[name] = cls  # type: ignore[assignment]
        return cls

    return decorator


def available_trainers() -> list[str]:
    """Names of every registered training method, sorted."""
    return sorted(_REGISTRY)


def get_trainer(name: str) -> Trainer:
    """Return a fresh instance of the trainer registered as `name`.

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"Unknown training method: {name!r}. Known methods: {', '.join(available_trainers())}"
        ) from None
    return factory()


def check_weights(weights: Mapping[str, float], tol: float = 1e-6) -> str | None:
    """Return a problem description if `weights` are not finite, positive and summing to 1, else `None`."""
    if not weights:
        return "no weights given"
    for key, w in weights.items():
        if not isinstance(w, int | float) or isinstance(w, bool) or not (w == w) or w <= 0 or w > 1:
            return f"weight of {key!r} is {w!r}; every weight must be a number in (0, 1]"
    total = float(sum(weights.values()))
    if abs(total - 1.0) > tol:
        return f"weights sum to {total:.6g}, not 1"
    return None


def criterion_weights(spec: TrainingSpec, section: str, at_least: int, problem: str) -> dict[str, float]:
    """`[<section>] weights` of a training config: a table criterion -> weight with at least `at_least` entries
    (else `problem` is the error), every weight positive, summing to 1."""
    weights = spec.options.get("weights")
    if not isinstance(weights, dict) or len(weights) < at_least:
        raise InputError(spec.source, f"{section}.weights", weights, problem,
                         f"add [{section}] weights = {{empathy = 0.5, safety = 0.5}}")
    bad = check_weights(weights)
    if bad:
        raise InputError(spec.source, f"{section}.weights", weights, bad, "make every weight positive, summing to 1")
    return {str(k): float(v) for k, v in weights.items()}

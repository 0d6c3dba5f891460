"""The run config (TOML): data, roles, candidates. Validated up front with one-line errors."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from harness.core import InputError, read_toml, user_file
from harness.inputs._batch import BatchSpec, check_batch
from harness.inputs._pricing import ModelPrice, check_pricing
from harness.inputs._secrets import check_no_secrets, hide_secrets, secret_name
from harness.inputs._text import NonBlank
from harness.inputs._trained import expand_trained_candidates

BUILTIN_SMOLLM2 = "builtin/smollm2"
BUILTIN_CONFIGS = Path(__file__).resolve().parent / "configs"
"""Bundled run configs, usable by name (`theraeval run quickstart`)."""
_PROVIDER = re.compile(r"^[a-z][a-z0-9_-]*/.+")
Temperature = Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)]
"""A sampling temperature: finite, 0 to 2 (the widest range providers accept)."""
TopP = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Seed = Annotated[int, Field(ge=0, lt=2**32)]
"""A generation seed: 0 to 2^32 - 1 (what numpy and torch seeding accept)."""
ApiKeyEnv = Annotated[str, Field(pattern=r"^([A-Z_][A-Z0-9_]*|none)$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(_Strict):
    """A model for a role or a candidate: an inspect model string plus generation settings."""

    model: str
    """Inspect model string (`openai/gpt-4o-mini`, `openai-api/<service>/<model>`, `hf/local`, `vllm/...`,
    `anthropic/...`, `scripted/<name>`) or `builtin/smollm2` (the offline default)."""
    base_url: str | None = None
    api_key_env: ApiKeyEnv | None = None
    """The environment variable holding this model's API key (default: the provider's own, e.g. OPENAI_API_KEY,
    `<SERVICE>_API_KEY`), or `"none"` for a server that takes no key (a local OpenAI-compatible server)."""
    model_args: dict[str, Any] = {}
    temperature: Temperature | None = None
    top_p: TopP | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    seed: Seed | None = None
    batch: bool | BatchSpec = False
    """Send this model's calls through the provider's batch API (about half the price, results within hours):
    `true` or a table of `BatchSpec` settings; `BATCH_PROVIDERS` only. Same outputs, so not part of the cache scope
    (`spec_hash`)."""

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        if not _PROVIDER.match(self.model):
            raise ValueError(f"model {self.model!r} is not '<provider>/<name>'")
        for key in self.model_args:
            if secret_name(key):
                raise ValueError(f"model_args.{key} looks like a secret; secrets are never read from configs "
                                 "(they would be copied into the run directory): set the provider's environment "
                                 "variable instead, e.g. OPENAI_API_KEY")
        check_batch(self.model, self.batch)
        if self.model.startswith("openai/") and self.base_url:
            raise ValueError("a local or third-party OpenAI-compatible server must use "
                             "'openai-api/<service>/<model>' (inspect sends unknown openai/ names to the "
                             "Responses API and drops temperature)")
        return self

    def spec_hash(self) -> str:
        """Hash of everything that changes this model's outputs (cache scope; where the key is read from does not)."""
        blob = json.dumps(self.model_dump(mode="json", exclude={"api_key_env", "batch", "client"}), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


STRUCTURED_PROVIDERS = ("openai", "openai-api", "vllm", "google", "mistral", "sglang")
DIRECT_CLIENT_PROVIDERS = ("openai-api", "vllm")
"""Judge providers the direct judge client can call (OpenAI-compatible chat-completions servers;
`harness.run._direct_judge`)."""


def structured_by_default(model: str) -> bool:
    """Whether a judge asks for JSON-schema structured output when not told (`structured` unset): yes when the
    model's provider supports it (`STRUCTURED_PROVIDERS`). The one rule for `theraeval run` (the config's judge
    model) and for the tasks under `inspect eval` (the `judge` role's model, `structured=None`)."""
    return model.split("/")[0] in STRUCTURED_PROVIDERS


class PatientSpec(ModelSpec):
    """The patient simulator role."""

    temperature: Temperature | None = 0.7
    max_tokens: int | None = Field(default=160, gt=0)
    seed: Seed | None = 0
    on_role_break: Literal["regenerate", "flag", "stop"] = "regenerate"
    """A follow-up the role check reads as the therapist/assistant (harness.fidelity): `regenerate` it (up to
    `max_tries` in all, then the scripted fallback, or flagged with `fallback = "none"`), keep it `flag`ged, or
    `stop` the dialogue before it. Every such turn is counted in the sample metadata and the fidelity table."""
    max_tries: int = Field(default=3, ge=1, le=10)
    """Patient generations per follow-up under `regenerate` (the first one included)."""
    fallback: Literal["scripted", "none"] = "scripted"
    """After `max_tries` role breaks: a scripted client turn from the opening (`scripted`) or keep the last try
    flagged (`none`)."""


def _direct_client_problem(kind: str, model: str, batch: bool | BatchSpec, model_args: dict[str, Any]) -> str:
    provider = model.split("/")[0]
    if kind != "llm":
        return f"judge kind {kind!r} (the direct client sends written-verdict calls: kind = \"llm\")"
    if provider not in DIRECT_CLIENT_PROVIDERS:
        return f"provider {provider!r} (it calls {', '.join(DIRECT_CLIENT_PROVIDERS)} servers)"
    if batch is not False:
        return "batch mode (the provider's batch API goes through inspect's batcher)"
    if model_args:
        return "model_args (inspect's provider reads them; the direct client would ignore them)"
    return ""


class JudgeSpec(ModelSpec):
    """The judge and how it judges: an LLM (`kind = "llm"`, the `judge` model role) or reward heads (`"rm"`)."""

    kind: Literal["llm", "rm", "logprob"] = "rm"
    """`rm` (default: reward heads), `llm` (the judge model's written verdict) or `logprob` (the judge model's
    log-probabilities of A and B, averaged over both orders). Giving a `model` makes it `llm` unless set."""
    logprob_margin: float = Field(default=0.05, ge=0, lt=0.5)
    """`logprob`: a tie when the averaged P(candidate_a better) is within this of 0.5."""
    exclude_flagged: bool = False
    """Do not judge comparisons whose simulated patient broke role and was flagged or stopped
    (`[patient] on_role_break`): they are unscored with reason `role_flagged`. Default: judged, and marked."""
    heads: str = "builtin"
    """Reward heads for kind = "rm": `builtin` (the bundled evidence judge), `builtin-finetuned` (the same with a
    LoRA-fine-tuned MiniLM cross-encoder for the behaviour features; needs torch) or a folder."""
    model: str = BUILTIN_SMOLLM2
    mode: Literal["persona", "clinical"] = "persona"
    granularity: Literal["per_criterion", "all"] = "per_criterion"
    orders: Literal["both", "ab"] = "both"
    structured: bool | None = None
    """JSON-schema structured output; None = on for providers that support it (`STRUCTURED_PROVIDERS`)."""
    temperature: Temperature | None = 0.0
    max_tokens: int | None = Field(default=512, gt=0)
    seed: Seed | None = 0
    client: Literal["inspect", "direct", "auto"] = "auto"
    """How the judge's calls are sent: `inspect` (inspect's `Model.generate`: per-call events in the log), `direct`
    (the direct judge client for OpenAI-compatible servers: a fraction of the CPU per call, same requests, cache and
    usage; `harness.run._direct_judge`) or `auto` (`direct` where it applies: an online `llm` judge on
    `DIRECT_CLIENT_PROVIDERS` without `model_args` or batch; the default). Same replies, so not part of the cache
    scope (`spec_hash`)."""

    def use_structured(self) -> bool:
        """Whether to ask for structured output: explicit setting, else by provider support."""
        if self.structured is not None:
            return self.structured
        return structured_by_default(self.model)

    def direct_client_problem(self) -> str:
        """Why the direct judge client cannot send this judge's calls ("" when it can)."""
        return _direct_client_problem(self.kind, self.model, self.batch, self.model_args)

    def uses_direct_client(self) -> bool:
        """Whether this judge's calls go through the direct judge client (`client`, resolved for `auto`)."""
        return self.client == "direct" or (self.client == "auto" and not self.direct_client_problem())

    @field_validator("client")
    @classmethod
    def _check_client(cls, client: str, info: ValidationInfo) -> str:
        d = info.data
        if client == "direct" and {"kind", "model", "batch", "model_args"} <= d.keys() and (
                problem := _direct_client_problem(d["kind"], d["model"], d["batch"], d["model_args"])):
            raise ValueError(f'client = "direct" cannot send calls with {problem}; use client = "inspect" or "auto"')
        return client

    @model_validator(mode="before")
    @classmethod
    def _model_means_llm(cls, data: Any) -> Any:
        if isinstance(data, dict) and "model" in data and "kind" not in data:
            return {**data, "kind": "llm"}
        return data


class NamedJudgeSpec(JudgeSpec):
    """One judge of an ensemble (`[[judges]]`): the fields of `[judge]` plus a unique `name`."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    """Names the judge in the tables and its stage-2 folder (`stage2/judge-<name>/`); not part of its cache scope."""

    def as_judge(self) -> JudgeSpec:
        """The judge settings without the name (the spec every stage reads; same cache scope as an equal `[judge]`)."""
        return JudgeSpec.model_validate(self.model_dump(exclude={"name"}))


class CandidateSpec(_Strict):
    """A candidate: a model (any inspect model string) or an imported responses file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    model: str | None = None
    responses: str | None = None
    system_prompt: NonBlank | None = None
    base_url: str | None = None
    api_key_env: ApiKeyEnv | None = None
    model_args: dict[str, Any] = {}
    temperature: Temperature | None = 0.7
    top_p: TopP | None = None
    max_tokens: int | None = Field(default=256, gt=0)
    seed: Seed | None = 0
    batch: bool | BatchSpec = False
    """The provider's batch API for this candidate's calls (`ModelSpec.batch`)."""

    @model_validator(mode="after")
    def _one_source(self) -> CandidateSpec:
        if (self.model is None) == (self.responses is None):
            raise ValueError("give exactly one of `model` or `responses`")
        if self.model is not None:
            self.as_model()  # validates the model string and model_args
        return self

    def as_model(self) -> ModelSpec:
        assert self.model is not None
        return ModelSpec(model=self.model, base_url=self.base_url, api_key_env=self.api_key_env,
                         model_args=self.model_args,
                         temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens, seed=self.seed,
                         batch=self.batch)

    def spec_hash(self) -> str:
        """Hash of what changes the judge's answers (cache scope); `exclude_flagged` only selects what is judged."""
        blob = json.dumps(self.model_dump(mode="json", exclude={"exclude_flagged", "api_key_env", "batch"}),
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


class DataSpec(_Strict):
    scenarios: str = "builtin"
    scenario_ids: list[str] | None = None
    """Restrict to these scenario ids (in this order)."""
    scenario_limit: int | None = Field(default=None, gt=0)
    """Keep the first N scenarios (after `scenario_ids`)."""
    personas: str = "builtin"
    personas_per_scenario: int = Field(default=1, ge=0)
    criteria: str = "therapeutic"
    criteria_ids: list[str] | None = None
    """Judge only these criteria of the set."""


class DialogueSpec(_Strict):
    turns: int = Field(default=1, ge=1)
    stop_token: NonBlank = "[END]"
    system_prompt: NonBlank | None = None
    """Default candidate system prompt (a candidate's own `system_prompt` wins)."""


class RunSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    output_dir: str = "runs"
    seed: int = 42
    max_connections: int = Field(default=8, gt=0)
    attempt_timeout: int | None = Field(default=None, gt=0)
    """Seconds before one model call attempt is abandoned and retried (inspect's `attempt_timeout`)."""
    max_retries: int | None = Field(default=None, ge=0)
    workers: int = Field(default=1, ge=1)
    """Stage-2 processes sharing `max_connections` (`harness.run._workers`): about one per free core for API judges
    at 32+ connections, where one process runs out of CPU before the connections are busy."""
    log_realtime: bool = True
    """inspect's live sample buffer (live `inspect view`, crash recovery); off saves 15-20% of the CPU per call. Unset:
    on in stage 1, off in stage 2 (harness.run._stage2.judge_here)."""

    @model_validator(mode="after")
    def _connection_per_worker(self) -> RunSpec:
        if self.workers > self.max_connections:
            raise ValueError(f"workers = {self.workers} is more than max_connections = {self.max_connections}: "
                             "each stage-2 worker holds at least one connection")
        return self


class SafetySpec(_Strict):
    """Absolute crisis safety (docs/safety.md): every crisis/elevated-risk dialogue scored against a rubric."""

    rubric: str = "crisis"
    """A rubric: a builtin name (`crisis`, in scorers/rubrics/) or a TOML path (relative to the config's folder)."""
    locale: str = Field(default="US", pattern=r"^[A-Za-z]{2}$")
    """ISO 3166-1 alpha-2 code of the people the run stands for: the crisis resources the rubric expects. A code
    the rubric does not list uses its fallback (findahelpline.com and the local emergency number)."""
    method: Literal["auto", "llm", "checks"] = "auto"
    """`llm` (the judge model scores each item), `checks` (deterministic checks only, labelled as such; not a
    rubric score) or `auto` (`llm` when `judge.kind = "llm"`, else `checks`)."""
    risks: list[Literal["crisis", "elevated"]] = Field(default=["crisis", "elevated"], min_length=1)
    """Scenario risk levels whose dialogues are scored."""

    def resolved_method(self, judge_kind: str) -> str:
        return ("llm" if judge_kind == "llm" else "checks") if self.method == "auto" else self.method


class GateSpec(_Strict):
    """Release gates on the leaderboard. `min_safe_rate` is absolute (rubric safe-handling rate; needs crisis or
    elevated scenarios); the relative pairwise gate's bars are `theraeval leaderboard --safety-bar` and
    `--crisis-loss-bar`."""

    min_safe_rate: float | None = Field(default=None, ge=0, le=1)
    """Flag any candidate whose rubric safe-handling rate is below this, whatever its win rates (None: off)."""
    bound: Literal["estimate", "upper", "lower"] = "estimate"
    """What is compared with `min_safe_rate`: the point estimate, or the Wilson upper / lower bound (`lower`: a
    candidate passes only when the data show it is above the bar)."""


class RunConfig(_Strict):
    """A whole run: everything `theraeval run` needs, nothing secret."""

    run: RunSpec
    data: DataSpec = DataSpec()
    dialogue: DialogueSpec = DialogueSpec()
    patient: PatientSpec | None = None
    judge: JudgeSpec = JudgeSpec()
    """The judge; with `[[judges]]`, the first of them (the safety rubric stage and the summary use it)."""
    judges: list[NamedJudgeSpec] | None = Field(default=None, min_length=1)
    """`[[judges]]`: an ensemble, each judging every comparison in stage 2 (instead of `[judge]`)."""
    candidates: list[CandidateSpec]
    safety: SafetySpec | None = None
    """`[safety]`: score crisis dialogues against a rubric in stage 2 (off when absent, unless the gate needs it)."""
    gate: GateSpec = GateSpec()
    pricing: dict[str, ModelPrice] = {}
    """`[pricing."<model>"]`: USD per million tokens in / out and the batch discount (harness.inputs._pricing)."""

    @model_validator(mode="after")
    def _first_judge(self) -> RunConfig:
        if self.judges:
            object.__setattr__(self, "judge", self.judges[0].as_judge())  # not counted as a field given
        return self

    def judge_specs(self) -> list[tuple[str | None, JudgeSpec]]:
        """(name, spec) of every judge: `[[judges]]` in order, or `[(None, [judge])]` for the single judge."""
        if not self.judges:
            return [(None, self.judge)]
        return [(j.name, j.as_judge()) for j in self.judges]

    def safety_spec(self) -> SafetySpec | None:
        """The safety settings in effect: `[safety]`, or its defaults when only `[gate] min_safe_rate` is set."""
        if self.safety is None and self.gate.min_safe_rate is not None:
            return SafetySpec()
        return self.safety



def redact(value: Any) -> Any:
    """Hide secret-looking values (credential-named keys, key-shaped strings), at any depth, so error messages never
    echo a key (`harness.inputs._secrets`)."""
    return hide_secrets("", value)


def _field_of(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    parts: list[str] = []
    node: Any = data
    for x in loc:
        if isinstance(x, int) and isinstance(node, list) and x < len(node):
            node = node[x]
            name = node.get("name") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{x}]" + (f"(name={name})" if name else "")
        else:
            parts.append(str(x))
            node = node.get(x) if isinstance(node, dict) else None
    return ".".join(parts)


def config_file(spec: str | Path) -> Path:
    """A config path, or the name of a bundled config (`quickstart`, ...)."""
    p = Path(spec)
    if not p.exists() and not p.suffix and (BUILTIN_CONFIGS / f"{spec}.toml").is_file():
        return BUILTIN_CONFIGS / f"{spec}.toml"
    return p


def load_run_config(path: str | Path) -> tuple[RunConfig, dict[str, Any]]:
    """Parse and validate a run config; returns the config and the raw TOML table (for the snapshot)."""
    p = user_file(path, "path", "pass the path of a run config .toml")
    raw = read_toml(p)
    check_no_secrets(raw, p)  # before anything that could echo a value
    raw = expand_trained_candidates(raw, p.resolve())  # `[[candidates]] from = "models/<dir>"`
    if "judge" in raw and "judges" in raw:
        raise InputError(p, "judges", "[judge] and [[judges]]", "the config gives both a single judge and an ensemble",
                         "keep one: [judge] for one judge, or [[judges]] tables (each with a unique name)")
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        field = _field_of(tuple(err["loc"]), raw) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        raise InputError(p, field, hide_secrets(field, err.get("input")), msg,
                         "see docs/config.md for the run config fields") from None
    _check_run(cfg, p)
    check_pricing(cfg, p)
    return cfg, raw


def _check_run(cfg: RunConfig, p: Path) -> None:
    if len(cfg.candidates) < 2:
        raise InputError(p, "candidates", len(cfg.candidates), "a leaderboard needs at least 2 candidates",
                         "add [[candidates]] tables")
    seen: set[str] = set()
    for i, c in enumerate(cfg.candidates):
        if c.name in seen:
            raise InputError(p, f"candidates[{i}].name", c.name, f"duplicate candidate name {c.name!r}",
                             "give every candidate a unique name")
        seen.add(c.name)
    names = [j.name for j in cfg.judges or []]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise InputError(p, f"judges[{i}].name", n, f"duplicate judge name {n!r}", "give every judge a unique name")
    if cfg.dialogue.turns > 1:
        for i, c in enumerate(cfg.candidates):
            if c.responses is not None:
                raise InputError(p, f"candidates[{i}](name={c.name}).responses", c.responses,
                                 f"imported responses are single-turn only, but dialogue.turns = {cfg.dialogue.turns}",
                                 "set [dialogue] turns = 1, or give this candidate a model")
    if cfg.dialogue.turns > 1 and cfg.patient is None:
        raise InputError(p, "patient", None, f"dialogue.turns = {cfg.dialogue.turns} needs a patient simulator",
                         "add a [patient] table with a model (the candidate never plays the patient)")

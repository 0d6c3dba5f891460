"""Pre-flight checks of the run's models, before anything is written: their `model_args` are ones the provider
takes, their API key is in the environment, and local models are kept off the model hub.

* `model_args` (:func:`accepted_model_args`): for `hf/...` and `builtin/smollm2` the arguments inspect's
  HuggingFace provider reads itself (read from its source, so a new inspect version is followed) plus the loading
  arguments of transformers' `from_pretrained` listed in :data:`HF_LOADING_ARGS` (inspect passes the rest on to it,
  where an unknown one is a TypeError deep inside transformers); for OpenAI-compatible providers (`openai-api`,
  `openai`, `vllm`, `together`, ...) the provider's own parameters plus those of the `AsyncOpenAI` client the rest go
  to; for any other provider the parameters of its constructor when it takes no `**kwargs` (otherwise they cannot be
  checked, and are passed on unchecked).
* API keys (:func:`check_api_keys`): each model's key variable (`api_key_env`, `model_args.api_key_var`, or the
  provider's own, :data:`PROVIDER_KEYS` / `<SERVICE>_API_KEY`) must be set and non-empty; `api_key_env = "none"`
  marks a server that takes no key.
* Offline (:func:`keep_local_models_offline`): when no model of the run comes from the Hugging Face hub, the process
  is put in offline mode (HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE, HF_DATASETS_OFFLINE) before transformers or
  huggingface_hub are used, so embedded and local-path models never make a network request, whatever the
  environment (inspect looks `hf/local` up on the hub otherwise: 36 retried HEAD requests per run).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

from harness.core import InputError
from harness.inputs import BUILTIN_SMOLLM2, ModelSpec, RunConfig
from harness.run._endpoints import api_key_variable, model_specs

PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "together": ("TOGETHER_API_KEY",),
    "grok": ("XAI_API_KEY", "GROK_API_KEY"),
    "fireworks": ("FIREWORKS_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "perplexity": ("PERPLEXITY_API_KEY",),
}
"""Providers that need an API key, and the environment variables inspect reads it from (any one of them)."""
OPENAI_CLIENT_PROVIDERS = ("openai-api", "openai", "vllm", "sglang", "together", "groq", "fireworks", "deepseek",
                           "openrouter", "perplexity", "ollama", "grok")
"""Providers whose extra `model_args` go to the `AsyncOpenAI` client."""
HF_LOADING_ARGS = ("dtype", "torch_dtype", "revision", "attn_implementation", "low_cpu_mem_usage", "local_files_only",
                   "cache_dir", "subfolder", "variant", "use_safetensors", "max_memory", "offload_folder",
                   "offload_state_dict", "quantization_config", "gguf_file", "force_download", "code_revision")
"""transformers `from_pretrained` loading arguments accepted for `hf/...` models (inspect passes them on)."""
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
_STANDARD = {"self", "model_name", "base_url", "api_key", "config"}
_NOT_IN_CONFIGS = {"http_client", "admin_api_key", "webhook_secret", "workload_identity"}
"""Client arguments a config cannot give: an object, or credentials (refused as secrets anyway)."""


def _provider(spec: ModelSpec) -> str:
    return "hf" if spec.model == BUILTIN_SMOLLM2 else spec.model.split("/")[0]


def _hf_provider_args() -> set[str]:
    """The model args inspect's HuggingFace provider reads itself, from its source (not imported: that loads torch)."""
    found = importlib.util.find_spec("inspect_ai.model._providers.hf")
    if found is None or found.origin is None:
        return set()
    return set(re.findall(r'collect_model_arg\("(\w+)"\)', Path(found.origin).read_text(encoding="utf-8")))


def accepted_model_args(provider: str) -> set[str] | None:
    """The `model_args` names a provider accepts (module docstring), or None when they cannot be known."""
    if provider == "hf":
        return _hf_provider_args() | set(HF_LOADING_ARGS)
    from inspect_ai._util.registry import registry_lookup

    try:  # inspect registers a wrapper that builds an instance; the class (or its factory) is in its closure
        wrapper: Any = registry_lookup("modelapi", provider)
        cells = dict(zip(wrapper.__code__.co_freevars, [c.cell_contents for c in wrapper.__closure__ or ()],
                         strict=True)) if callable(wrapper) and hasattr(wrapper, "__code__") else {}
        wrapped = cells.get("wrapped")
        api_class = wrapped if isinstance(wrapped, type) or wrapped is None else wrapped()
    except Exception:  # a provider whose package is not installed: inspect says so when the model is built
        return None
    if not isinstance(api_class, type):
        return None
    params = inspect.signature(api_class.__init__).parameters  # type: ignore[misc]
    named = {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)} - _STANDARD
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return named
    if provider in OPENAI_CLIENT_PROVIDERS:
        from openai import AsyncOpenAI

        client = set(inspect.signature(AsyncOpenAI.__init__).parameters) - {"self", "api_key", "base_url", "timeout"}
        return {n for n in named | client | {"responses_phase"} if not n.startswith("_")} - _NOT_IN_CONFIGS
    return None


def check_model_args(cfg: RunConfig, config_path: Path) -> None:
    """Every model's `model_args` are ones its provider takes (an unknown one is an InputError listing them)."""
    for field, spec in model_specs(cfg):
        if not spec.model_args:
            continue
        accepted = accepted_model_args(_provider(spec))
        if accepted is None:
            continue
        unknown = sorted(set(spec.model_args) - accepted)
        if unknown:
            raise InputError(config_path, f"{field}.model_args.{unknown[0]}", spec.model_args[unknown[0]],
                             f"not an argument the {_provider(spec)!r} provider takes",
                             f"use one of {', '.join(sorted(accepted))}")


def key_variables(spec: ModelSpec) -> tuple[str, ...]:
    """The environment variables a model's API key may come from (empty: it needs none)."""
    named = spec.api_key_env or spec.model_args.get("api_key_var")
    if named == "none":
        return ()
    if isinstance(named, str) and named:
        return (named,)
    provider = spec.model.split("/")[0]
    service_key = api_key_variable(spec) if provider == "openai-api" else None
    return (service_key,) if service_key else PROVIDER_KEYS.get(provider, ())


def check_api_keys(cfg: RunConfig, config_path: Path) -> None:
    """Every model that needs an API key finds one in the environment (never the value: only its presence)."""
    for field, spec in model_specs(cfg):
        names = key_variables(spec)
        if names and not any(os.environ.get(n) for n in names):
            raise InputError(config_path, f"{field}.model", spec.model,
                             f"no API key: {' or '.join('$' + n for n in names)} is not set in the environment",
                             f"export {names[0]}=<your key> before running (keys are read from the environment, "
                             "never from the config); for a server that takes no key set api_key_env = \"none\"")


def needs_hub(spec: ModelSpec) -> bool:
    """Whether a model is downloaded from the Hugging Face hub: an `hf/<repo>` without a local `model_path`."""
    if spec.model == BUILTIN_SMOLLM2 or not spec.model.startswith("hf/"):
        return False
    path = spec.model_args.get("model_path")
    name = spec.model.split("/", 1)[1]
    return not (path and Path(str(path)).expanduser().exists()) and not Path(name).expanduser().exists() \
        and name != "local"


_HUB_WANTED: list[bool] = []
"""Set when a run planned in this process has a model from the hub: local models then leave the mode alone."""


def keep_local_models_offline(cfg: RunConfig) -> bool:
    """Offline mode for this process unless a model of the run needs the hub; True when it was set."""
    if any(needs_hub(spec) for _, spec in model_specs(cfg)):
        _HUB_WANTED.append(True)
        return False
    go_offline()
    return True


def offline_for_local_model(spec: ModelSpec) -> None:
    """Offline mode when `spec` is a local Hugging Face model (`builtin/smollm2`, `hf/...` on a local path), for the
    commands that build models without planning a run (`judges validate`, `preferences collect`); not when a run of
    this process needs the hub."""
    if (spec.model == BUILTIN_SMOLLM2 or spec.model.startswith("hf/")) and not needs_hub(spec) and not _HUB_WANTED:
        go_offline()


def go_offline() -> None:
    """HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE and HF_DATASETS_OFFLINE for this process (huggingface_hub reads them
    once, at import: when it is already imported its constant is switched too)."""
    for var in OFFLINE_VARIABLES:
        os.environ[var] = "1"
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:  # already imported (it reads the variables once): switch it too
        hub.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]

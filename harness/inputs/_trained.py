"""`[[candidates]] from = "models/<dir>"`: a model trained by `theraeval train`, read from its manifest.

The manifest schema this reads (written by `trainers`, documented in docs/training.md, "What a run writes"; read
here as plain JSON so that inputs never import the trainers):

- `manifest_version`: integer, one of `MANIFEST_VERSIONS`;
- `name`: the run's name (the candidate's default name);
- `method`: the training method (`reward_model` runs are not chat models and are refused);
- `model_dir`: where the model was written (`null` for reward models). The candidate loads the `from` folder
  itself, so a trained model that was moved or copied still works.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core import InputError

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSIONS = (1,)
_EXCLUSIVE = ("model", "responses", "base_url")


def _candidate_from(entry: dict[str, Any], where: str, config_path: Path) -> dict[str, Any]:
    value = entry["from"]
    field = f"{where}.from"
    if not isinstance(value, str) or not value.strip():
        raise InputError(config_path, field, value, "must be the folder of a trained model",
                         'set from = "models/<output_dir of a theraeval train run>"')
    clash = [k for k in _EXCLUSIVE if k in entry]
    if clash:
        raise InputError(config_path, f"{where}.{clash[0]}", entry[clash[0]],
                         "a candidate with `from` takes its model from the manifest",
                         f"remove {clash[0]}, or remove `from`")
    folder = Path(value).expanduser()
    folder = (folder if folder.is_absolute() else config_path.parent / folder).resolve()
    manifest = folder / MANIFEST_FILE
    if not manifest.is_file():
        problem = "folder not found" if not folder.exists() else f"no {MANIFEST_FILE}: not a `theraeval train` output"
        raise InputError(config_path, field, value, problem,
                         "point it at the output_dir of a finished `theraeval train` run (relative to this config)")
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(manifest, "manifest", None, f"not valid JSON ({e})",
                         "re-run `theraeval train` for this model") from None
    if not isinstance(meta, dict) or meta.get("manifest_version") not in MANIFEST_VERSIONS:
        version = meta.get("manifest_version") if isinstance(meta, dict) else None
        raise InputError(manifest, "manifest_version", version, "not a theraeval training manifest this version reads",
                         f"re-run `theraeval train` (readable versions: {list(MANIFEST_VERSIONS)})")
    for key in ("name", "method"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise InputError(manifest, key, meta.get(key), "missing from the manifest",
                             "re-run `theraeval train` for this model")
    if meta["method"] == "reward_model" or meta.get("model_dir") is None:
        raise InputError(config_path, field, value, f"a {meta['method']} run is not a chat model",
                         "use a policy run (sft, dpo, modpo, joint_loss, soup, ...) as a candidate")
    if not (folder / "config.json").is_file():
        raise InputError(config_path, field, value, "the manifest is there but the model is not (no config.json)",
                         "re-run `theraeval train`, or copy the whole output folder")
    out = {k: v for k, v in entry.items() if k != "from"}
    out.setdefault("name", meta["name"])
    model_args = out.get("model_args", {})
    if not isinstance(model_args, dict):
        raise InputError(config_path, f"{where}.model_args", model_args, "must be a table", "write model_args = { }")
    out["model"] = "hf/local"
    out["model_args"] = {**model_args, "model_path": str(folder)}
    return out


def expand_trained_candidates(raw: dict[str, Any], config_path: Path) -> dict[str, Any]:
    """The raw run config with every `[[candidates]] from = "<dir>"` replaced by an `hf/local` candidate on that
    folder (name defaulting to the manifest's); other entries unchanged.

    Raises:
        InputError: a missing folder or manifest, an unreadable or foreign manifest, a reward model, missing model
            files, or `from` combined with `model`/`responses`/`base_url`.
    """
    candidates = raw.get("candidates")
    if not isinstance(candidates, list) or not any(isinstance(c, dict) and "from" in c for c in candidates):
        return raw
    expanded = [
        _candidate_from(c, f"candidates[{i}]", config_path) if isinstance(c, dict) and "from" in c else c
        for i, c in enumerate(candidates)
    ]
    return {**raw, "candidates": expanded}

"""The provenance footer: versions, input hashes, model strings, seeds and dates of a run.

Only whitelisted config fields are shown (model strings, seeds, judge settings): never the raw config,
``base_url``/``model_args`` or anything from the environment.
"""

from __future__ import annotations

from datetime import datetime
from importlib import metadata
from typing import Any

from reports._data import RunData


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _iso(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else "unknown"


def _seed(spec: dict[str, Any] | None) -> str:
    if not isinstance(spec, dict) or spec.get("seed") is None:
        return "none"
    return str(spec["seed"])


def _section(cfg: dict[str, Any], key: str) -> dict[str, Any]:
    value = cfg.get(key)
    return value if isinstance(value, dict) else {}


def provenance(data: RunData, generated_at: datetime) -> list[tuple[str, str]]:
    """(label, value) pairs for the footer, in display order."""
    cfg = data.config
    run, judge, patient, dialogue = (_section(cfg, k) for k in ("run", "judge", "patient", "dialogue"))
    candidates = [c for c in cfg.get("candidates", []) if isinstance(c, dict)]

    judge_models = sorted(set(data.verdicts["judge_model"].dropna().astype(str))) if len(data.verdicts) else []
    judge_text = str(judge.get("model") or ", ".join(judge_models) or "unknown")
    extras = [f"{k}={judge[k]}" for k in ("mode", "granularity", "orders") if judge.get(k) is not None]
    if extras:
        judge_text += f" ({', '.join(extras)})"
    if patient:
        patient_text = str(patient.get("model", "unknown"))
    else:
        turns = dialogue.get("turns", 1)
        patient_text = "none (single-turn)" if turns in (1, None) else "unknown"

    cand_parts = []
    for c in candidates:
        source = c.get("model") or (f"responses file {c['responses']}" if c.get("responses") else "unknown")
        cand_parts.append(f"{c.get('name', '?')}: {source}")
    seeds = [f"run {run.get('seed', 'unknown')}", f"judge {_seed(judge)}"]
    if patient:
        seeds.append(f"patient {_seed(patient)}")
    cand_seeds = [f"{c.get('name', '?')}={_seed(c)}" for c in candidates if c.get("model")]
    if cand_seeds:
        seeds.append("candidates " + ", ".join(cand_seeds))
    settings = data.settings
    if settings:
        seeds.append(f"bootstrap {settings.get('seed', 'unknown')} (n_boot {settings.get('n_boot', '?')})")

    started, finished = data.run_started, data.run_finished
    run_dates = _iso(started) if started == finished else f"{_iso(started)} \u2013 {_iso(finished)}"
    return [
        ("theraeval", _version("theraeval")),
        ("run", data.name),
        ("config sha256", data.config_sha256 or "no inputs/config.toml"),
        ("criteria set", f"{data.criteria_set or 'unknown'} [{data.criteria_hash or 'unknown'}]"),
        ("judge", judge_text),
        ("patient", patient_text),
        ("candidates", "; ".join(cand_parts) or "unknown"),
        ("seeds", "; ".join(seeds)),
        ("run date (stage logs)", run_dates),
        ("report generated", _iso(generated_at)),
        ("plotly", _version("plotly")),
    ]

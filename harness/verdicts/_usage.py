"""Tokens a run spent, per role and model, from the usage inspect records in its logs (``usage.parquet``), and
their cost under the run's ``[pricing]``.

Token counts are the providers' own (``ModelOutput.usage``), summed by inspect into each log's header
(``EvalStats.model_usage`` per model, ``role_usage`` per model role) and carried forward when ``eval_set`` resumes an
interrupted task, so a resumed run still counts the calls it paid for before the interruption. A call answered from
the run's cache is not sent, so it adds no tokens. Only headers are read (no samples): cheap at any scale.

Roles: ``candidate`` (the stage-1 task model), ``patient`` (stage-1 ``patient`` role), ``judge`` (stage-2
``judge`` role) and ``safety judge`` (the crisis-rubric stage's ``judge`` role).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from inspect_ai.log import read_eval_log
from inspect_ai.model import ModelUsage

from harness.core import read_toml
from harness.inputs import ModelPrice, RunConfig, format_usd
from harness.run import safety_logs, stage1_logs, stage2_logs

USAGE_COLUMNS: tuple[str, ...] = ("role", "model", "input_tokens", "output_tokens", "total_tokens",
                                  "cache_read_tokens", "reasoning_tokens", "logs")
"""Columns of ``usage.parquet``: one row per role and model (tokens summed over the run's current logs)."""
COST_COLUMNS: tuple[str, ...] = USAGE_COLUMNS + ("batch", "price_input", "price_output", "cost_usd")
"""Columns of the cost table (``tables/cost``): the usage, whether the role ran in batch mode, the prices (USD per
million tokens, NaN without a ``[pricing]`` entry) and the cost (NaN when unpriced)."""
_TOKEN_FIELDS = (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
                 ("total_tokens", "total_tokens"), ("cache_read_tokens", "input_tokens_cache_read"),
                 ("reasoning_tokens", "reasoning_tokens"))


def _counts(u: ModelUsage | None) -> dict[str, int]:
    return {col: int(getattr(u, attr, 0) or 0) if u is not None else 0 for col, attr in _TOKEN_FIELDS}


def log_usage(log: Path, stage_role: str) -> list[dict[str, Any]]:
    """Rows (role, model, tokens) of one log's header. `stage_role`: the role of the log's task model in stage 1
    (``candidate``), or the name under which a stage-2 log's ``judge`` role is reported (``judge``, ``safety
    judge``). In stage 1 the candidate's tokens are the task model's minus the patient's when both are one model."""
    header = read_eval_log(str(log), header_only=True)
    stats, ev = header.stats, header.eval
    roles = {name: (cfg[0] if isinstance(cfg, list) else cfg).model for name, cfg in (ev.model_roles or {}).items()}
    rows: list[dict[str, Any]] = []
    for role, usage in (stats.role_usage or {}).items():
        name = stage_role if role == "judge" else role
        rows.append({"role": name, "model": roles.get(role, "?"), **_counts(usage)})
    if stage_role == "candidate":
        own = _counts((stats.model_usage or {}).get(ev.model))
        for r in rows:  # the patient played by the candidate's own model: its tokens are in model_usage too
            if r["model"] == ev.model:
                own = {k: v - r[k] for k, v in own.items()}
        if any(own.values()):
            rows.append({"role": "candidate", "model": ev.model, **own})
    return [r | {"logs": 1} for r in rows]


def build_usage(stage1: Iterable[Path], stage2: Iterable[Path], safety: Iterable[Path] = ()) -> pd.DataFrame:
    """Tokens per role and model over the given logs (:data:`USAGE_COLUMNS`), roles in pipeline order."""
    rows = ([r for p in stage1 for r in log_usage(p, "candidate")] + [r for p in stage2 for r in log_usage(p, "judge")]
            + [r for p in safety for r in log_usage(p, "safety judge")])
    df = pd.DataFrame(rows, columns=list(USAGE_COLUMNS))
    if df.empty:
        return df.astype({c: "int64" for c in USAGE_COLUMNS[2:]})
    order = {"candidate": 0, "patient": 1, "judge": 2, "safety judge": 3}
    df = df.groupby(["role", "model"], as_index=False, sort=False).sum()
    df = df.assign(_o=df["role"].map(order).fillna(9)).sort_values(["_o", "model"], kind="stable")
    return df.drop(columns="_o").reset_index(drop=True)[list(USAGE_COLUMNS)]


def run_usage(run_dir: Path) -> pd.DataFrame:
    """:func:`build_usage` of a run's current stage-1, stage-2 and safety logs (their stage indexes)."""
    return build_usage(stage1_logs(run_dir).values(), stage2_logs(run_dir), safety_logs(run_dir).values())


def snapshot_config(run_dir: Path) -> RunConfig | None:
    """The run's validated config snapshot (``inputs/config.toml``), None when absent or no longer valid."""
    path = Path(run_dir) / "inputs" / "config.toml"
    if not path.is_file():
        return None
    try:
        return RunConfig.model_validate(read_toml(path))
    except ValueError:
        return None


def role_batch(cfg: RunConfig | None, role: str, model: str) -> bool:
    """Whether `role` played by `model` ran in provider batch mode (``batch = true`` on its config table)."""
    if cfg is None:
        return False
    if role == "candidate":
        return any(c.batch is not False for c in cfg.candidates if c.model == model)
    spec = cfg.patient if role == "patient" else cfg.judge
    return spec is not None and spec.batch is not False


def cost_table(usage: pd.DataFrame, cfg: RunConfig | None) -> pd.DataFrame:
    """The usage priced by the config's ``[pricing]`` (:data:`COST_COLUMNS`); unpriced models get NaN dollars."""
    pricing: dict[str, ModelPrice] = cfg.pricing if cfg is not None else {}
    rows = []
    for r in usage.to_dict("records"):
        price = pricing.get(str(r["model"]))
        batch = role_batch(cfg, str(r["role"]), str(r["model"]))
        rows.append(r | {"batch": batch, "price_input": price.input if price else math.nan,
                         "price_output": price.output if price else math.nan,
                         "cost_usd": price.cost(r["input_tokens"], r["output_tokens"], batch) if price else math.nan})
    return pd.DataFrame(rows, columns=list(COST_COLUMNS)).astype({"batch": bool, "price_input": "float64",
                                                                  "price_output": "float64", "cost_usd": "float64"})


def format_cost(cost: pd.DataFrame) -> list[str]:
    """Text lines of a cost table: tokens in/out per role and model, dollars where priced, and the total."""
    if cost.empty:
        return ["tokens: no model calls recorded in this run's logs (local reward heads or imported responses)."]
    width = max(len("role / model"), *(len(f"{r.role} / {r.model}") for r in cost.itertuples()))
    lines = ["tokens and cost (from the providers' usage in the logs; cache hits are free and not counted; USD from "
             "[pricing], batch discount applied to roles run with batch = true):",
             f"  {'role / model':<{width}}  {'input tok':>12}  {'output tok':>12}  {'cost':>10}"]
    for r in cost.itertuples():
        mode = " (batch)" if r.batch else ""
        lines.append(f"  {f'{r.role} / {r.model}':<{width}}  {r.input_tokens:>12,}  {r.output_tokens:>12,}  "
                     f"{format_usd(r.cost_usd):>10}{mode}")
    priced = cost["cost_usd"].dropna()
    total = format_usd(float(priced.sum())) if len(priced) else "no price"
    part = "" if len(priced) == len(cost) else f" (priced rows only; {len(cost) - len(priced)} unpriced)"
    tok_in, tok_out = int(cost["input_tokens"].sum()), int(cost["output_tokens"].sum())
    lines.append(f"  {'total':<{width}}  {tok_in:>12,}  {tok_out:>12,}  {total:>10}{part}")
    return lines

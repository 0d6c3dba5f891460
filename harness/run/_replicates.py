"""Replicate runs (``theraeval run --replicates K``): the same run K times with new simulator and judge seeds.

Replicate ``r`` (0-based) is the run with ``[patient] seed`` and ``[judge] seed`` (every ``[[judges]]`` seed)
raised by ``r`` (an unset seed
counts as 0; replicate 0 keeps the config's seeds) and its own directory ``<run>/replicates/<name>-rep<r>``, so
each replicate has its own logs and call cache: a resumed ``--replicates`` run re-uses every call a replicate
already made, and replicates never share answers. The verdict tables are then combined into ``<run>`` by
:func:`harness.verdicts.combine_replicates`; the leaderboard's ``reliability`` and ``variance`` tables read the
replicate (the ``run`` column) as the simulator-seed facet (docs/statistics.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.core import InputError
from harness.run._plan import RunPlan

REPLICATES_DIR = "replicates"


def replicate_plans(plan: RunPlan, replicates: int) -> list[RunPlan]:
    """The plans of ``replicates`` replicate runs of ``plan`` (nothing written).

    Raises:
        InputError: ``replicates`` is not a whole number >= 1.
    """
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise InputError(None, "--replicates", replicates, "must be a whole number >= 1",
                         "pass e.g. --replicates 3 (three runs with new simulator and judge seeds)")
    cfg = plan.cfg
    out: list[RunPlan] = []
    for r in range(replicates):
        name = f"{cfg.run.name}-rep{r}"
        update: dict[str, Any] = {
            "run": cfg.run.model_copy(update={"name": name, "output_dir": str(plan.run_dir / REPLICATES_DIR)}),
            "judge": cfg.judge.model_copy(update={"seed": (cfg.judge.seed or 0) + r}),
        }
        if cfg.judges:  # an ensemble: every judge's seed (the first judge is `judge`)
            update["judges"] = [j.model_copy(update={"seed": (j.seed or 0) + r}) for j in cfg.judges]
        if cfg.patient is not None:  # single-turn runs have no simulated patient
            update["patient"] = cfg.patient.model_copy(update={"seed": (cfg.patient.seed or 0) + r})
        new = cfg.model_copy(update=update)
        out.append(replace(plan, cfg=new, run_dir=plan.run_dir / REPLICATES_DIR / name))
    return out

"""Synthetic run directories for the calibration tests (no model calls: verdict and transcript tables only).

Imported by the test modules as ``agreement_fixtures`` (a unique name: test folders have no ``__init__.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import pandas as pd

from harness.verdicts import COLUMNS, TRANSCRIPT_COLUMNS

CANDIDATES = ("zeta-alpha-7b", "omega-beta-13b", "kappa-gamma-2b")
"""Distinctive names, so a leak into the blinded form is detectable by plain search."""
CRITERIA = ("empathy", "safety", "overall")
RISKS = ("none", "low", "elevated", "crisis")
SCRIPT = "<script>alert('pwned')</script>"

Judge = Callable[[str, str, str, str], str]
"""(candidate_a, candidate_b, scenario_id, criterion) -> combined verdict A | B | tie | unscored."""


def default_judge(a: str, b: str, scenario: str, criterion: str) -> str:
    """Deterministic, varied verdicts: mostly A, some B, ties on safety."""
    h = (sum(map(ord, a + b + scenario + criterion)) * 2654435761) % 97
    if criterion == "safety" and h % 4 == 0:
        return "tie"
    return "B" if h % 5 == 0 else "A"


def reply(candidate: str, scenario: str) -> str:
    if candidate == CANDIDATES[1] and scenario.endswith("-003"):
        return f"I hear you. {SCRIPT} & <b>bold</b> \"quoted\""
    return f"Reply of style {CANDIDATES.index(candidate)} to {scenario}: that sounds hard."


def write_run(root: Path, *, n_scenarios: int = 12, judge: Judge = default_judge, name: str = "synthetic-run",
              criteria: tuple[str, ...] = CRITERIA, personas: tuple[str, ...] = ("",), multi_turn: bool = False,
              persona_judge: Callable[[str, str], str] | None = None) -> Path:
    """A run directory with verdicts.parquet and transcripts.parquet (both orders, combined consistent).

    ``personas``: judge personas per scenario (single-turn persona mode: transcripts have no persona), or, with
    ``multi_turn``, one dialogue per persona. ``persona_judge(persona, verdict)`` may alter a persona's verdict.
    """
    run = root / name
    run.mkdir(parents=True)
    scenarios = [f"scen-{i:03d}" for i in range(1, n_scenarios + 1)]
    rows = []
    flip = {"A": "B", "B": "A", "tie": "tie", "unscored": "unscored"}
    for a, b in combinations(CANDIDATES, 2):
        for i, s in enumerate(scenarios):
            for p, c in ((p, c) for p in personas for c in criteria):
                v = judge(a, b, s, c) if persona_judge is None else persona_judge(p, judge(a, b, s, c))
                for order in ("ab", "ba"):
                    rows.append({
                        "run": name, "judge_model": "scripted/judge-test", "judge_kind": "llm",
                        "judge_mode": "clinical",
                        "criteria_set": "test", "criteria_hash": "h", "candidate_a": a, "candidate_b": b,
                        "scenario_id": s, "scenario_risk": RISKS[i % len(RISKS)], "persona_id": p, "criterion": c,
                        "order": order, "judge_label": v if order == "ab" else flip[v], "verdict": v,
                        "unscored_reason": "", "judge_reason": "", "combined": v, "position_flip": False,
                        "len_a": 10, "len_b": 12, "stage2_log": f"log-{a}-{b}.eval",
                        "stage2_sample": f"{s}--{p}" if p else s,
                    })
    pd.DataFrame(rows, columns=list(COLUMNS)).to_parquet(run / "verdicts.parquet")
    dialogue_personas = personas if multi_turn else ("",)
    trows = [{"candidate": c, "sample_id": f"{s}--{p}" if p else s, "scenario_id": s, "persona_id": p,
              "turns": json.dumps([["patient", f"Patient message for {s}."], ["therapist", reply(c, s)]]
                                  + ([["patient", f"Follow-up of {p}."], ["therapist", "Tell me more."]]
                                     if multi_turn else []))}
             for c in CANDIDATES for s in scenarios for p in dialogue_personas]
    pd.DataFrame(trows, columns=list(TRANSCRIPT_COLUMNS)).to_parquet(run / "transcripts.parquet")
    return run


def truth_from_key(key: pd.DataFrame, judge: Judge = default_judge) -> pd.DataFrame:
    """The judge's verdict as ground truth for every (item, criterion) of a key."""
    rows = [{"item_id": r.item_id, "criterion": c, "truth": judge(r.candidate_a, r.candidate_b, r.scenario_id, c)}
            for r in key.itertuples(index=False) for c in r.criteria.split(";")]
    out = pd.DataFrame(rows)
    out.loc[out["truth"] == "unscored", "truth"] = "tie"
    return out


def rated_run(root: Path, *, n_items: int = 90, seed: int = 2) -> tuple[Path, Path, Path]:
    """A run, a packet on empathy + safety, and ratings of 5 simulated clinicians (accuracy 0.85): the truth
    equals the judge on empathy and is unrelated to the judge on safety. Returns (run, ratings CSV, key)."""
    import numpy as np

    from harness.calibration import export_packets, read_key, simulate_ratings

    run = write_run(root, n_scenarios=40)
    paths = export_packets(run, n_items=n_items, seed=seed, criteria=["empathy", "safety"])
    key = read_key(paths.key)
    truth = truth_from_key(key)
    safety = truth["criterion"] == "safety"
    truth.loc[safety, "truth"] = np.random.default_rng(0).choice(["A", "B", "tie"], size=int(safety.sum()))
    ratings = simulate_ratings(key, truth, 5, 0.85, 0.3, seed=1, missing_rate=0.05)
    ratings_path = root / "ratings.csv"
    ratings.to_csv(ratings_path, index=False)
    return run, ratings_path, paths.key

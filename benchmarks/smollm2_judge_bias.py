"""How biased is SmolLM2-135M-Instruct as a pairwise judge? Written vs log-probability verdicts vs reward heads.

Three scripted candidates with clearly unequal replies (warm, dismissive, crisis-referring) on 4 builtin scenarios
(2 crisis), judged on empathy and safety in both A/B orders by: SmolLM2 writing a verdict (`kind = "llm"`),
SmolLM2's first-token log-probabilities (`kind = "logprob"`), and the bundled reward heads (`kind = "rm"`).
Prints, per judge: share of calls answering "A", position-flip rate, the log-probability position bias, and
agreement with the expected winner (warm > dismissive on empathy; crisis > dismissive on safety).

    python benchmarks/smollm2_judge_bias.py [--workdir /tmp/smol-bias]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from harness.cli import main
from harness.verdicts import logprob_position_bias

EXPECTED = {("empathy", "warm", "dismissive"): "A", ("safety", "dismissive", "crisis"): "B"}
SCENARIOS = ["anxiety-001", "grief-001", "suicidal-001", "selfharm-001"]


def config(workdir: Path, name: str, judge: str) -> Path:
    cands = "".join(f'\n[[candidates]]\nname = "{n}"\nmodel = "scripted/therapist-{n}"\n'
                    for n in ("warm", "dismissive", "crisis"))
    text = (f'[run]\nname = "{name}"\noutput_dir = "{workdir}"\n\n'
            f'[data]\nscenario_ids = {SCENARIOS}\ncriteria_ids = ["empathy", "safety"]\n'
            f'personas_per_scenario = 1\n\n[judge]\n{judge}\nmode = "clinical"\n{cands}')
    path = workdir / f"{name}.toml"
    path.write_text(text)
    return path


def main_() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="/tmp/smol-bias")
    workdir = Path(ap.parse_args().workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    judges = {
        "smollm2-llm": 'model = "builtin/smollm2"\nmax_tokens = 48',
        "smollm2-logprob": 'model = "builtin/smollm2"\nkind = "logprob"',
        "reward-heads": 'kind = "rm"',
    }
    print(f"{'judge':<16} {'calls':>5} {'said A':>7} {'unscored':>8} {'flips':>6} {'lp bias':>8} "
          f"{'expected':>9} {'s':>6}")
    for name, judge in judges.items():
        t0 = time.monotonic()
        assert main(["run", str(config(workdir, name, judge)), "--display", "none"]) == 0
        df = pd.read_parquet(workdir / name / "verdicts.parquet")
        h2h = df.drop_duplicates(["candidate_a", "candidate_b", "scenario_id", "criterion"])
        hits = [r.combined == EXPECTED[k] for r in h2h.itertuples()
                if (k := (r.criterion, r.candidate_a, r.candidate_b)) in EXPECTED
                and (r.criterion == "empathy" or r.scenario_risk == "crisis")]
        bias = logprob_position_bias(df)
        print(f"{name:<16} {len(df):>5} {(df.judge_label == 'A').mean():>7.2f} "
              f"{(df.verdict == 'unscored').mean():>8.2f} "
              f"{h2h.position_flip.mean():>6.2f} {'' if bias is None else f'{bias:+.3f}':>8} "
              f"{sum(hits)}/{len(hits):<7} {time.monotonic() - t0:6.0f}")


if __name__ == "__main__":
    main_()

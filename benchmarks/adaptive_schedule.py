"""Adaptive pair scheduling (harness/run/_schedule.py) vs all-pairs judging, on simulated candidates.

K candidates with known Bradley-Terry strengths (evenly spread over `--spread` logits), S scenarios, a noisy
judge: on a scenario, candidate i has strength theta_i + N(0, scenario_sd^2); the judge picks the winner by
the BT probability, except that with probability `noise` it answers at random (A, B or tie). Every
(pair, scenario) outcome is drawn once per seed, so the all-pairs ranking (BT on all K(K-1)/2 x S units) and
the schedules see the same judge.

Reported per seed, as fractions of the all-pairs judge calls (a unit costs the same calls either way):

- `adaptive reach`: units judged when Kendall tau against the all-pairs ranking first reaches `--tau` and
  stays there for every later round (the schedule run without its stopping rule, to the end);
- `adaptive stop`: where the default stopping rule stops (ranking unchanged for `patience` rounds and its
  expected Kendall tau against the true ranking >= `target_tau`, 0.95), with tau there;
- `uniform reach`: the same as `adaptive reach` for uniformly random units in batches of the same size.

    python benchmarks/adaptive_schedule.py                     # 8 candidates, 200 scenarios, 10 seeds
    python benchmarks/adaptive_schedule.py --spread 3 --noise 0.4 --seeds 5
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from _bench import header

from harness.run import (
    RoundRecord,
    ScheduleConfig,
    Unit,
    adaptive_schedule,
    kendall_tau,
    pair_index,
)
from harness.stats import bradley_terry


def simulate(k: int, s: int, spread: float, noise: float, scenario_sd: float,
             seed: int) -> dict[tuple[int, int, str], float]:
    """Outcome (score of a) of every unit (a, b, scenario id)."""
    rng = np.random.default_rng(10_000 + seed)
    theta = np.linspace(-spread / 2, spread / 2, k)[rng.permutation(k)]  # true order hidden from config order
    eff = theta[:, None] + scenario_sd * rng.standard_normal((k, s))
    out: dict[tuple[int, int, str], float] = {}
    for a, b in pair_index(k):
        p = 1.0 / (1.0 + np.exp(-(eff[a] - eff[b])))
        win = rng.random(s) < p
        rand = rng.random(s) < noise
        pick = rng.integers(0, 3, s)
        for j in range(s):
            out[(a, b, f"s{j:04d}")] = (1.0, 0.5, 0.0)[pick[j]] if rand[j] else float(win[j])
    return out


def fit(units: list[tuple[Unit, float]], k: int) -> np.ndarray:
    w = np.zeros((k, k))
    for (a, b, _), o in units:
        w[a, b] += o
        w[b, a] += 1.0 - o
    return bradley_terry(w).theta


def reach(points: list[tuple[int, float]], tau: float, total: int) -> float:
    """Fraction of units from which tau holds at every later point (1.0 if only at the end)."""
    n_ok = total
    for n, t in reversed(points):
        if t < tau:
            break
        n_ok = n
    return n_ok / total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--scenarios", type=int, default=200)
    ap.add_argument("--spread", type=float, default=2.0,
                    help="logits between the weakest and strongest (adjacent gap spread/(K-1))")
    ap.add_argument("--noise", type=float, default=0.2, help="share of random judge answers")
    ap.add_argument("--scenario-sd", type=float, default=0.5, help="per-scenario strength noise (logits)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--batch", type=int, default=56, help="units per round (default 2 x pairs)")
    ap.add_argument("--tau", type=float, default=0.9)
    ap.add_argument("--target-tau", type=float, default=0.95, help="stopping rule's expected tau")
    args = ap.parse_args()
    header("adaptive pair scheduling vs all pairs (simulated judge)")
    k, s = args.candidates, args.scenarios
    samples = [f"s{j:04d}" for j in range(s)]
    total = len(pair_index(k)) * s
    print(f"{k} candidates, {s} scenarios: {total} units in all pairs; batch {args.batch}; noise {args.noise}; "
          f"scenario sd {args.scenario_sd}; spread {args.spread} logits; target tau >= {args.tau}\n")
    print("| seed | adaptive reach | adaptive stop | tau at stop | stopped | uniform reach |")
    print("|---|---|---|---|---|---|")
    res: dict[str, list[float]] = {"reach": [], "stop": [], "tau_stop": [], "uniform": []}
    for seed in range(args.seeds):
        outcomes = simulate(k, s, args.spread, args.noise, args.scenario_sd, seed)
        theta_all = fit(list(outcomes.items()), k)

        def judge(units: list[Unit], outcomes: dict[Unit, float] = outcomes) -> list[float | None]:
            return [outcomes[u] for u in units]

        def tracker(points: list[tuple[int, float]], theta_all: np.ndarray = theta_all
                    ) -> Callable[[RoundRecord], None]:
            return lambda r: points.append((r.units, kendall_tau(r.theta, theta_all)))

        traj: list[tuple[int, float]] = []
        adaptive_schedule([str(i) for i in range(k)], samples, judge,
                          ScheduleConfig(batch_size=args.batch, seed=seed, patience=10**9),
                          on_round=tracker(traj))
        stop = adaptive_schedule([str(i) for i in range(k)], samples, judge,
                                 ScheduleConfig(batch_size=args.batch, seed=seed, target_tau=args.target_tau))
        tau_stop = kendall_tau(stop.theta, theta_all)
        rng = np.random.default_rng(seed)
        units = list(outcomes)
        perm = [units[i] for i in rng.permutation(len(units))]
        uni: list[tuple[int, float]] = []
        for n in range(args.batch, total + args.batch, args.batch):
            part = perm[: min(n, total)]
            uni.append((len(part), kendall_tau(fit([(u, outcomes[u]) for u in part], k), theta_all)))
        r_a, r_u = reach(traj, args.tau, total), reach(uni, args.tau, total)
        res["reach"].append(r_a)
        res["stop"].append(stop.fraction)
        res["tau_stop"].append(tau_stop)
        res["uniform"].append(r_u)
        print(f"| {seed} | {r_a:.3f} | {stop.fraction:.3f} | {tau_stop:.3f} | {stop.stopped} | {r_u:.3f} |",
              flush=True)
    print()
    for key, label in (("reach", "adaptive: units to reach and keep tau >= target / all-pairs units"),
                       ("stop", "adaptive with the stopping rule: units / all-pairs units"),
                       ("tau_stop", "adaptive with the stopping rule: Kendall tau vs all-pairs ranking"),
                       ("uniform", "uniform random: units to reach and keep tau >= target / all-pairs units")):
        v = np.array(res[key])
        print(f"{label}: mean {v.mean():.3f}, range {v.min():.3f}-{v.max():.3f}")


if __name__ == "__main__":
    main()

"""Statistical validity: coverage and width of the prediction-powered intervals and the simultaneous rank bands.

Simulations with a known truth (seeded), each over ``--datasets`` data sets:

1. win rate, uniform labels: true rate 0.6; a judge right 75% of the time, otherwise "win" with probability 0.9
   (biased upwards); n clinician labels, N judge-only head-to-heads. Compared: the judge-only Wald interval
   (what a leaderboard without labels shows), the clinician-only interval, PPI (lambda = 1) and PPI++.
2. win rate, packet-like stratified labels: 400 head-to-heads, 60 labels from each of the judge's "win" and
   "loss" verdicts (far from proportional), the judge term over all 400: post-stratified PPI vs the unweighted.
3. Bradley-Terry, K = 3, a judge that favours one item: per-strength coverage of PPI++ and of the judge-only fit
   (naive Wald interval from the judge's comparisons), and the coverage of the simultaneous rank sets.
4. rank bands, strengths observed with a known covariance (weakly correlated, strongly correlated as in a paired
   design, and K = 10): joint coverage of the true ranking by the simultaneous bands and by bands built from
   per-candidate 95% intervals that do not overlap (the leaderboard's previous rank column).

    python benchmarks/statistical_validity.py                  # 1000 data sets each
    python benchmarks/statistical_validity.py --datasets 2000
"""

from __future__ import annotations

import argparse

import numpy as np
from _bench import header

from harness.stats import (
    ppi_bradley_terry,
    ppi_mean,
    rank_sets_from_normal,
)


def _judge(y: np.ndarray, rng: np.random.Generator, accuracy: float, bias: float) -> np.ndarray:
    keep = rng.random(y.shape) < accuracy
    return np.where(keep, y, (rng.random(y.shape) < bias).astype(float))


def _row(name: str, hits: list[bool], widths: list[float]) -> str:
    return f"| {name} | {100 * np.mean(hits):.1f}% | {np.mean(widths):.3f} |"


def win_rate(reps: int, n: int, big_n: int, rng: np.random.Generator) -> list[str]:
    truth = 0.6
    cols: dict[str, tuple[list[bool], list[float]]] = {k: ([], []) for k in
                                                       ("judge only", "clinician only", "PPI", "PPI++")}
    for _ in range(reps):
        y = (rng.random(n + big_n) < truth).astype(float)
        f = _judge(y, rng, 0.75, 0.9)
        tuned = ppi_mean(y[:n], f[:n], f[n:])
        plain = ppi_mean(y[:n], f[:n], f[n:], lam=1.0)
        judge_half, labels_half = 1.96 * tuned.judge_only_se, 1.96 * tuned.classical_se
        for key, lo, hi in (
            ("judge only", tuned.judge_only - judge_half, tuned.judge_only + judge_half),
            ("clinician only", tuned.classical - labels_half, tuned.classical + labels_half),
            ("PPI", plain.ci_low, plain.ci_high), ("PPI++", tuned.ci_low, tuned.ci_high),
        ):
            cols[key][0].append(lo <= truth <= hi)
            cols[key][1].append(hi - lo)
    return [f"Win rate (truth 0.6, judge biased towards win), n = {n} labels, N = {big_n} judge-only",
            "| interval | coverage (nominal 95%) | mean width |", "|---|---|---|"] + [
        _row(k, h, w) for k, (h, w) in cols.items()]


def stratified(reps: int, rng: np.random.Generator) -> list[str]:
    truth = 0.3
    cols: dict[str, tuple[list[bool], list[float]]] = {"post-stratified PPI": ([], []), "unweighted PPI": ([], [])}
    for _ in range(reps):
        y = (rng.random(400) < truth).astype(float)
        f = _judge(y, rng, 0.7, 0.5)
        win, loss = np.flatnonzero(f == 1), np.flatnonzero(f == 0)
        lab = np.concatenate([rng.choice(win, min(60, win.size), replace=False), rng.choice(loss, 60, replace=False)])
        for key, m in (("post-stratified PPI", ppi_mean(y[lab], f[lab], f, strata=(f[lab], f), lam=1.0)),
                       ("unweighted PPI", ppi_mean(y[lab], f[lab], f, lam=1.0))):
            cols[key][0].append(m.ci_low <= truth <= m.ci_high)
            cols[key][1].append(m.ci_high - m.ci_low)
    return ["Packet-like stratified labels (truth 0.3; 60 labels from each judge verdict of 400)",
            "| interval | coverage (nominal 95%) | mean width |", "|---|---|---|"] + [
        _row(k, h, w) for k, (h, w) in cols.items()]


def bradley_terry(reps: int, rng: np.random.Generator) -> list[str]:
    theta = np.array([0.0, 0.5, -0.5])
    truth = theta - theta.mean()
    n, big_n = 120, 600
    ppi_hits, judge_hits, rank_hits, widths, judge_widths = [], [], [], [], []
    for _ in range(reps):
        i = rng.integers(0, 3, n + big_n)
        j = (i + rng.integers(1, 3, n + big_n)) % 3
        y = (rng.random(n + big_n) < 1 / (1 + np.exp(-(theta[i] - theta[j])))).astype(float)
        f = _judge(y, rng, 0.7, 0.5)
        f = np.where(i == 0, np.maximum(f, rng.random(n + big_n) < 0.4), f)
        pairs = np.c_[i, j]
        fit = ppi_bradley_terry(pairs[:n], y[:n], f[:n], pairs[n:], f[n:], ["a", "b", "c"])
        ppi_hits.extend(((fit.ci_low <= truth) & (truth <= fit.ci_high)).tolist())
        widths.append(float(np.mean(fit.ci_high - fit.ci_low)))
        # judge-only: the same estimator with lam = 1 and the labels replaced by the judge (no correction)
        naive = ppi_bradley_terry(pairs[:n], f[:n], f[:n], pairs[n:], f[n:], ["a", "b", "c"], lam=1.0)
        judge_hits.extend(((naive.ci_low <= truth) & (truth <= naive.ci_high)).tolist())
        judge_widths.append(float(np.mean(naive.ci_high - naive.ci_low)))
        ranks = rank_sets_from_normal(fit.theta, fit.cov, n_draws=500, rng=rng)
        rank_hits.append(bool(np.all((ranks.best <= [2, 1, 3]) & ([2, 1, 3] <= ranks.worst))))
    return ["Bradley-Terry, K = 3, judge favours item a (n = 120 labels, N = 600); coverage per strength",
            "| interval | coverage (nominal 95%) | mean width (logits) |", "|---|---|---|",
            _row("judge only (Wald)", judge_hits, judge_widths), _row("PPI++", ppi_hits, widths),
            f"| PPI++ simultaneous rank sets | {100 * np.mean(rank_hits):.1f}% (nominal >= 95%) | - |"]


def _rank_band_case(name: str, theta: np.ndarray, sigma: np.ndarray, reps: int, rng: np.random.Generator) -> list[str]:
    k = theta.shape[0]
    truth = np.empty(k, dtype=int)
    truth[np.argsort(-theta, kind="stable")] = np.arange(1, k + 1)
    se = np.sqrt(np.diag(sigma))
    simultaneous, overlap, widths_s, widths_o = [], [], [], []
    for est in rng.multivariate_normal(theta, sigma, size=reps):
        rs = rank_sets_from_normal(est, sigma, n_draws=2000, rng=rng)
        simultaneous.append(bool(np.all((rs.best <= truth) & (truth <= rs.worst))))
        widths_s.append(float(np.mean(rs.worst - rs.best)))
        lo, hi = est - 1.96 * se, est + 1.96 * se
        best = 1 + np.array([(lo > hi[i]).sum() for i in range(k)])
        worst = k - np.array([(hi < lo[i]).sum() for i in range(k)])
        overlap.append(bool(np.all((best <= truth) & (truth <= worst))))
        widths_o.append(float(np.mean(worst - best)))
    return [f"| {name} | non-overlapping per-candidate 95% intervals | {100 * np.mean(overlap):.1f}% | "
            f"{np.mean(widths_o):.2f} |",
            f"| {name} | simultaneous (max-t) | {100 * np.mean(simultaneous):.1f}% | {np.mean(widths_s):.2f} |"]


def rank_bands(reps: int, rng: np.random.Generator) -> list[str]:
    a = rng.normal(size=(5, 5)) * 0.05
    independent = a @ a.T + np.eye(5) * 0.004
    # paired designs (every candidate on the same scenarios): strengths move together, differences are precise
    paired = np.eye(5) * 0.002 + 0.02
    ten = np.linspace(0.1, -0.1, 10)
    return ["Rank bands: joint coverage of the true ranking (estimates ~ N(theta, Sigma))",
            "| case | rank band | joint coverage (nominal >= 95%) | mean band width (ranks) |", "|---|---|---|---|",
            *_rank_band_case("K = 5, two near-ties, weakly correlated", np.array([0.4, 0.2, 0.15, -0.3, -0.45]),
                             independent, reps, rng),
            *_rank_band_case("K = 5, same, strongly correlated (paired)", np.array([0.4, 0.2, 0.15, -0.3, -0.45]),
                             paired, reps, rng),
            *_rank_band_case("K = 10, evenly spread, s.e. 0.05", ten, np.eye(10) * 0.0025, reps, rng)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    header("statistical validity (coverage by simulation)")
    for block in (win_rate(args.datasets, 100, 1000, rng), stratified(args.datasets, rng),
                  bradley_terry(args.datasets, rng), rank_bands(args.datasets, rng)):
        print()
        print("\n".join(block))


if __name__ == "__main__":
    main()

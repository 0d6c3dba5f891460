"""Adaptive pair scheduling for stage 2 (opt-in `--schedule adaptive`): judge the informative pairs first.

All-pairs judging costs ``K(K-1)/2 x S`` comparisons. Most of them are spent on pairs whose order is
already obvious; Chatbot Arena (Chiang et al. 2024, "Chatbot Arena: An Open Platform for Evaluating LLMs by
Human Preference", §5 active sampling) instead samples the next pairs where a comparison most reduces the
uncertainty of the Bradley-Terry (BT) ranking. This module does that, in rounds, as a pure seeded algorithm:

* **Units.** A unit is one (pair, sample) comparison: ``(a, b, sample_id)`` with ``a < b`` candidate indices
  in config order and ``sample_id`` a stage-2 sample id (scenario, or ``scenario--persona``). A unit is judged
  at most once; judging it costs ``criteria x orders`` judge calls. Each pair takes its units in one seeded
  permutation of the sample ids shared by all pairs, so every pair is compared on the same scenarios first.
* **Burn-in.** Round 0 judges ``burn_in`` units of every pair, whatever ``batch_size`` (so the BT fit is
  identified).
* **Rounds.** Fit BT (:func:`harness.stats.bradley_terry`, L2 ``l2``) on the outcomes so far. Its Laplace
  (Fisher-information) covariance is ``V = (L + l2 I)^-1`` with ``L`` the Laplacian weighted by
  ``n_ab p_ab (1 - p_ab)``; the difference ``d = theta_a - theta_b`` has variance ``v = e'Ve``. One more
  comparison of ``(a, b)`` shrinks ``v`` to ``v / (1 + q v)`` (``q = p(1-p)``; a rank-one update), so its
  value is the standard-deviation reduction ``sqrt(v) - sqrt(v / (1 + q v))`` times ``P(order wrong) =
  Phi(-|d| / sqrt(v))``: uncertain pairs whose order is in doubt come first, settled pairs (far apart, or
  already well measured) get almost nothing. The round's ``batch_size`` units are drawn one at a time with
  probability proportional to that weight (plus ``explore`` x the largest weight, so no pair with units left
  is starved), updating the drawn pair's ``v`` after each draw so one round spreads over several pairs.
* **Stopping.** Stop when (a) the ranking (order of theta) has been the same for ``patience`` consecutive
  rounds and its expected Kendall tau against the true ranking, ``1 - 2 sum_{a<b} P(order of a, b wrong) /
  #pairs``, is at least ``target_tau`` (default 0.95: about one misordered pair in 28 for 8 candidates),
  (b) ``budget`` units are judged, or (c) every unit is judged (the schedule then equals all-pairs judging).
  Candidates that are truly tied never settle, so with near-ties the schedule runs to the budget (or to all
  units): it saves calls only where the ranking is resolvable.

The outcome of a unit is the score of candidate ``a``: 1 win, 0.5 tie, 0 loss (fractions allowed, e.g. the
mean over criteria), or ``None``/NaN for unscored (the unit counts as judged and is never re-judged, but adds
nothing to the fit). Ties are half a win each, as in :func:`harness.stats.win_matrix`.

Integration: `theraeval run|stage2 --schedule adaptive [--budget UNITS]` (only useful with an LLM judge:
reward heads make no model calls) runs :func:`adaptive_schedule` with an :class:`InspectBatchJudge` whose rounds
go to the stage-2 runner (``harness/run/_stage2.py:judge_units``, the same one that judges all pairs), so a
round runs in one process or sharded over ``[run] workers`` processes (``round-NNN-<hash>/shard-<k>-of-<W>/``);
every judged unit is in exactly one round log, and those logs go into ``stage2/index.json``, so
``build_verdicts`` reads them unchanged.

The judge names each round's folder by a hash of the round's units (``adaptive/round-003-<hash>``) and reads
the outcomes back from the logs the round wrote. The runner builds each pair's task once (it reads both
stage-1 logs) and judges a shallow copy restricted to the round's samples (:func:`task_subset`) with
``eval_set``. The schedule is deterministic given the seed and the outcomes, and every judge call goes through
the run's cache, so an unchanged re-run replays the same rounds with zero model calls, and a killed run
resumes the interrupted round (same folder) like any `eval_set`. The outcome of a unit is the mean over
``criteria`` (default: all criteria of the sample's score) of the combined verdict values
(``scorers._combine.as_value``: 1 / 0.5 / 0, NaN unscored). Leaderboard tables then see only the judged units:
BT and win rates are fine with an incomplete design; McNemar per pair uses that pair's units.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit, ndtr

from harness.core import iter_log_samples
from harness.stats import DEFAULT_L2, bradley_terry

Unit = tuple[int, int, str]
"""(a, b, sample_id): candidates a < b (indices in config order) compared on one stage-2 sample."""
Outcome = float | None
"""Score of candidate a in a unit: 1 win, 0.5 tie, 0 loss (or a fraction); None / NaN = unscored."""
JudgeBatch = Callable[[list[Unit]], Sequence[Outcome]]
"""Judges a batch of units and returns one outcome per unit, in order."""
RoundRunner = Callable[[dict[tuple[int, int], list[str]], Path], list[tuple[tuple[int, int], Path]]]
"""Judges one round, pair (a, b) -> sample ids, with its logs in the given folder; returns (pair, log file) of
every log it wrote."""


@dataclass(frozen=True)
class ScheduleConfig:
    """Settings of :func:`adaptive_schedule` (module docstring for the algorithm)."""

    batch_size: int = 64
    """Units judged per round (one inspect run per round: make it large enough to fill the connections)."""
    budget: int | None = None
    """At most this many units in all (None: no limit beyond all units)."""
    burn_in: int = 2
    """Units of every pair in round 0."""
    patience: int = 3
    """Rounds the ranking must stay the same before stopping."""
    target_tau: float = 0.95
    """Stop only when the expected Kendall tau between the fitted and the true ranking is at least this."""
    explore: float = 0.01
    """Every pair with units left gets at least this fraction of the largest pair weight."""
    l2: float = DEFAULT_L2
    """L2 penalty of the BT fit (also its prior precision in the covariance)."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {self.batch_size}")
        if self.budget is not None and self.budget < 0:
            raise ValueError(f"budget must be >= 0 or None; got {self.budget}")
        if self.burn_in < 0 or self.patience < 1:
            raise ValueError(f"burn_in must be >= 0 and patience >= 1; got {self.burn_in}, {self.patience}")
        if not -1 < self.target_tau <= 1 or self.explore < 0 or self.l2 <= 0:
            raise ValueError(f"need -1 < target_tau <= 1, explore >= 0, l2 > 0; got {self.target_tau}, "
                             f"{self.explore}, {self.l2}")


@dataclass(frozen=True)
class RoundRecord:
    """The state after one round."""

    round: int
    units: int
    """Units judged so far (all rounds)."""
    theta: np.ndarray
    """BT log-strengths (mean zero) fitted on the scored outcomes so far."""
    ranking: tuple[int, ...]
    """Candidate indices, strongest first."""
    expected_tau: float
    """Expected Kendall tau of `ranking` against the true one: ``1 - 2 sum_{a<b} P(order wrong) / #pairs``."""
    max_adjacent_p_wrong: float
    """Largest probability that an adjacent pair of `ranking` is misordered."""
    stable_rounds: int
    """Consecutive rounds (this one included) with this ranking."""


@dataclass(frozen=True)
class ScheduleResult:
    """What the schedule judged and concluded."""

    candidates: tuple[str, ...]
    judged: list[tuple[Unit, Outcome]]
    """Every judged unit with its outcome, in judging order."""
    wins: np.ndarray
    """K x K win matrix of the scored outcomes (ties as half)."""
    theta: np.ndarray
    ranking: tuple[str, ...]
    """Candidate names, strongest first."""
    rounds: list[RoundRecord]
    stopped: str
    """`stable`, `budget` or `exhausted`."""
    total_units: int
    """All units (pairs x samples): the cost of all-pairs judging."""

    @property
    def fraction(self) -> float:
        """Judged units / all units."""
        return len(self.judged) / self.total_units if self.total_units else 0.0


def pair_index(k: int) -> list[tuple[int, int]]:
    """All pairs (a, b), a < b, in lexicographic order."""
    return [(a, b) for a in range(k) for b in range(a + 1, k)]


def difference_variance(theta: np.ndarray, games: np.ndarray, l2: float) -> np.ndarray:
    """K x K Laplace variances of ``theta_a - theta_b``: ``e'(L + l2 I)^-1 e`` (``games``: scored units per pair)."""
    p = expit(theta[:, None] - theta[None, :])
    info = games * p * (1.0 - p)
    lap = -info
    np.fill_diagonal(lap, info.sum(axis=1))
    cov = np.linalg.inv(lap + l2 * np.eye(len(theta)))
    d = np.diag(cov)
    return np.maximum(d[:, None] + d[None, :] - 2.0 * cov, 0.0)


def p_wrong(theta: np.ndarray, var: np.ndarray) -> np.ndarray:
    """K x K probability that the fitted order of each pair is wrong: ``Phi(-|d| / sd)`` (0.5 when sd = 0)."""
    diff = np.abs(theta[:, None] - theta[None, :])
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, diff / np.where(sd > 0, sd, 1.0), 0.0)
    out: np.ndarray = ndtr(-z)
    return out


def pair_weight(theta: np.ndarray, var: np.ndarray, a: int, b: int, extra: int = 0) -> float:
    """Value of one more comparison of (a, b): sd reduction x P(order wrong), after `extra` more already drawn."""
    p = float(expit(theta[a] - theta[b]))
    q = max(p * (1.0 - p), 1e-6)
    v = float(var[a, b])
    for _ in range(extra):
        v = v / (1.0 + q * v)
    if v <= 0:
        return 0.0
    sd, sd_next = math.sqrt(v), math.sqrt(v / (1.0 + q * v))
    wrong = float(ndtr(-abs(float(theta[a] - theta[b])) / sd))
    return (sd - sd_next) * wrong


def _ranking(theta: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(-theta, kind="stable"))


def kendall_tau(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Kendall's tau-b between two score vectors (1 = same order)."""
    from scipy.stats import kendalltau

    res = kendalltau(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return float(res.statistic) if np.isfinite(res.statistic) else 0.0


def adaptive_schedule(
    candidates: Sequence[str],
    samples: Sequence[str],
    judge: JudgeBatch,
    config: ScheduleConfig = ScheduleConfig(),
    *,
    on_round: Callable[[RoundRecord], None] | None = None,
) -> ScheduleResult:
    """Judge (pair, sample) units in rounds, choosing pairs by Bradley-Terry uncertainty, until the ranking settles.

    Args:
        candidates: candidate names (K >= 2), in config order; units use their indices.
        samples: stage-2 sample ids, the same for every pair (unique).
        judge: called once per round with that round's units; returns one outcome per unit, in order.
        config: :class:`ScheduleConfig` (batch size, budget, stopping rule, seed).
        on_round: called with each round's :class:`RoundRecord` (progress, benchmarks).

    Returns:
        :class:`ScheduleResult`. Deterministic given ``config.seed`` and the outcomes.

    Raises:
        ValueError: fewer than two candidates, duplicate sample ids, or a judge returning the wrong number of
            outcomes or an outcome outside [0, 1].
    """
    names = tuple(candidates)
    k = len(names)
    if k < 2:
        raise ValueError(f"need at least two candidates; got {k}")
    ids = [str(s) for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError("sample ids must be unique")
    rng = np.random.default_rng(config.seed)
    order = [ids[i] for i in rng.permutation(len(ids))]  # shared by all pairs
    pairs = pair_index(k)
    total = len(pairs) * len(ids)
    budget = total if config.budget is None else min(config.budget, total)
    cursor = {p: 0 for p in pairs}
    wins = np.zeros((k, k))
    games = np.zeros((k, k))
    judged: list[tuple[Unit, Outcome]] = []
    rounds: list[RoundRecord] = []
    theta = np.zeros(k)
    stable = 0
    stopped = "exhausted"

    def left(p: tuple[int, int]) -> int:
        return len(ids) - cursor[p]

    def take(p: tuple[int, int]) -> Unit:
        unit = (p[0], p[1], order[cursor[p]])
        cursor[p] += 1
        return unit

    def run(units: list[Unit]) -> None:
        outcomes = list(judge(list(units)))
        if len(outcomes) != len(units):
            raise ValueError(f"judge returned {len(outcomes)} outcomes for {len(units)} units")
        for (a, b, s), o in zip(units, outcomes, strict=True):
            if o is not None and not (isinstance(o, float) and math.isnan(o)):
                o = float(o)
                if not 0.0 <= o <= 1.0:
                    raise ValueError(f"outcome {o} of unit {(a, b, s)} is outside [0, 1]")
                wins[a, b] += o
                wins[b, a] += 1.0 - o
                games[a, b] += 1.0
                games[b, a] += 1.0
            else:
                o = None
            judged.append(((a, b, s), o))

    rnd = 0
    while True:
        room = budget - len(judged)
        if room <= 0:
            stopped = "budget" if len(judged) < total else "exhausted"
            break
        if rnd == 0:
            units: list[Unit] = []
            for _ in range(config.burn_in):
                for p in pairs:
                    if left(p) > 0 and len(units) < room:
                        units.append(take(p))
            if not units:  # burn_in = 0: start with an ordinary round on the flat prior
                units = _draw(pairs, theta, difference_variance(theta, games, config.l2), cursor, left, take,
                              min(config.batch_size, room), config.explore, rng)
        else:
            var = difference_variance(theta, games, config.l2)
            units = _draw(pairs, theta, var, cursor, left, take, min(config.batch_size, room), config.explore, rng)
        if not units:
            stopped = "exhausted"
            break
        run(units)
        theta = bradley_terry(wins, l2=config.l2).theta
        ranking = _ranking(theta)
        var = difference_variance(theta, games, config.l2)
        pw = p_wrong(theta, var)
        worst = max(float(pw[ranking[i], ranking[i + 1]]) for i in range(k - 1))
        exp_tau = 1.0 - 2.0 * float(np.triu(pw, 1).sum()) / len(pairs)
        stable = stable + 1 if rounds and rounds[-1].ranking == ranking else 1
        rec = RoundRecord(rnd, len(judged), theta.copy(), ranking, exp_tau, worst, stable)
        rounds.append(rec)
        if on_round is not None:
            on_round(rec)
        rnd += 1
        if stable >= config.patience and exp_tau >= config.target_tau:
            stopped = "stable"
            break
    return ScheduleResult(names, judged, wins, theta, tuple(names[i] for i in _ranking(theta)), rounds,
                          stopped, total)


def _draw(pairs: list[tuple[int, int]], theta: np.ndarray, var: np.ndarray, cursor: dict[tuple[int, int], int],
          left: Callable[[tuple[int, int]], int], take: Callable[[tuple[int, int]], Unit], n: int, explore: float,
          rng: np.random.Generator) -> list[Unit]:
    """Draw n units one at a time, pair probability proportional to its (updated) weight."""
    drawn = {p: 0 for p in pairs}
    units: list[Unit] = []
    for _ in range(n):
        open_pairs = [p for p in pairs if left(p) > 0]
        if not open_pairs:
            break
        w = np.array([pair_weight(theta, var, a, b, drawn[(a, b)]) for a, b in open_pairs])
        top = float(w.max()) if len(w) else 0.0
        w = np.maximum(w, explore * top) if top > 0 else np.ones(len(open_pairs))
        p = open_pairs[int(rng.choice(len(open_pairs), p=w / w.sum()))]
        drawn[p] += 1
        units.append(take(p))
    return units


def sample_ids(task: Any) -> list[str]:
    """The sample ids of a stage-2 task (the same for every pair of a run)."""
    return [str(s.id) for s in task.dataset]


def task_subset(task: Any, ids: set[str]) -> Any:
    """A copy of an inspect task restricted to the samples `ids` (the task itself is left whole)."""
    from inspect_ai import task_with

    keep = [s for s in task.dataset if str(s.id) in ids]
    if len(keep) != len(ids):
        raise ValueError(f"task {task.name}: {len(ids) - len(keep)} sample id(s) not in its dataset")
    return task_with(copy.copy(task), dataset=keep)  # task_with changes the task in place


def unit_outcome(value: Any, criteria: Sequence[str] | None = None) -> Outcome:
    """A unit's outcome from a pairwise Score value (criterion -> 1 / 0.5 / 0 / NaN): the mean of the scored ones."""
    if not isinstance(value, dict):
        return None
    keys = list(criteria) if criteria is not None else list(value)
    vals = [float(value[c]) for c in keys if c in value and isinstance(value[c], int | float)
            and not math.isnan(float(value[c]))]
    return sum(vals) / len(vals) if vals else None


def run_pair_tasks(tasks: Sequence[tuple[Any, Sequence[str] | None]], folder: Path, label: str,
                   **eval_options: Any) -> list[Any]:
    """One `eval_set` in `folder` over stage-2 tasks, each restricted to its sample ids (None: the whole task);
    returns the logs. Raises `StageError` (`harness.run`) when a task did not complete."""
    from inspect_ai import eval_set

    from harness.run._plan import finished

    run = [task if ids is None else task_subset(task, set(ids)) for task, ids in tasks]
    ok, logs = eval_set(run, log_dir=str(folder), **eval_options)
    finished(ok, logs, label)
    return list(logs)


@dataclass
class InspectBatchJudge:
    """A :data:`JudgeBatch` that hands each round's units to a :data:`RoundRunner` (in
    ``<log_dir>/round-NNN-<hash of the units>``) and reads their outcomes from the logs it wrote.

    ``logs`` collects every round's logs (disjoint samples). :func:`inspect_batch_judge` builds one over
    inspect tasks of your own; stage 2 builds one over its runner (``harness.run._stage2``).
    """

    run_round: RoundRunner
    log_dir: Path
    criteria: Sequence[str] | None = None
    logs: list[Path] = field(default_factory=list)
    rounds: int = 0

    def __call__(self, units: list[Unit]) -> list[Outcome]:
        by_pair: dict[tuple[int, int], list[str]] = {}
        for a, b, s in units:
            by_pair.setdefault((a, b), []).append(s)
        digest = hashlib.sha256(json.dumps(sorted(map(list, units))).encode()).hexdigest()[:12]
        round_dir = self.log_dir / f"round-{self.rounds:03d}-{digest}"
        self.rounds += 1
        written = self.run_round(dict(sorted(by_pair.items())), round_dir)
        got: dict[Unit, Outcome] = {}
        for (a, b), path in written:
            for sample in iter_log_samples(path, all_samples_required=False):
                score = next(iter((sample.scores or {}).values()), None)
                got[(a, b, str(sample.id))] = unit_outcome(score.value if score is not None else None,
                                                           self.criteria)
        self.logs.extend(path for _, path in written)
        missing = [u for u in units if u not in got]
        if missing:
            raise RuntimeError(f"adaptive round {round_dir.name}: no result for {len(missing)} unit(s), e.g. "
                               f"{missing[0]}")
        return [got[u] for u in units]


def inspect_batch_judge(make_task: Callable[[int, int], Any], log_dir: Path, *, criteria: Sequence[str] | None = None,
                        **eval_options: Any) -> InspectBatchJudge:
    """A judge callback for :func:`adaptive_schedule` that evaluates stage-2 tasks of your own in this process.

    Args:
        make_task: ``(a, b) -> Task``: the all-pairs stage-2 task of candidates ``a < b`` (config order); called
            once per pair.
        log_dir: folder for the rounds (``<log_dir>/round-NNN-<hash of the units>``).
        criteria: criteria averaged into a unit's outcome (default: all of the sample's score).
        **eval_options: passed to ``eval_set`` (``model="none"``, ``model_roles``, ``max_connections``, ...).
    """
    from harness.core import local_path

    tasks: dict[tuple[int, int], Any] = {}

    def run_round(by_pair: dict[tuple[int, int], list[str]], round_dir: Path) -> list[tuple[tuple[int, int], Path]]:
        for pair in by_pair:
            if pair not in tasks:
                tasks[pair] = make_task(*pair)
        logs = run_pair_tasks([(tasks[p], ids) for p, ids in by_pair.items()], round_dir,
                              f"adaptive round {round_dir.name}", **eval_options)
        def names(md: dict[str, Any] | None) -> tuple[str, str]:
            return str((md or {}).get("candidate_a")), str((md or {}).get("candidate_b"))

        pairs = {names(tasks[p].metadata): p for p in by_pair}
        return [(pairs[names(lg.eval.metadata)], local_path(lg.location)) for lg in logs]

    return InspectBatchJudge(run_round, Path(log_dir), criteria)

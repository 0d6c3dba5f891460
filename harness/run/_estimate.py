"""The dry-run estimate: a run's model calls, the tokens they carry and what they cost, before any call is made.

Calls are upper bounds (before any cache hit). Tokens are estimated from the prompts the run would send: the
system prompts, the actual scenarios, persona cards and criteria, rendered through the same templates the
tasks use, with each reply replaced by a placeholder of the expected length. Replies are estimated at
`reply_fraction` of the role's `max_tokens` (typical) and at `max_tokens` (upper bound); a judge verdict at
:data:`JUDGE_VERDICT_TOKENS` per criterion (upper bound: `max_tokens`). Text is counted at
:data:`CHARS_PER_TOKEN` characters per token (OpenAI's rule of thumb for English) plus
:data:`MESSAGE_OVERHEAD_TOKENS` per chat message. Dollars come from the config's `[pricing]`.

Calls already answered in the run's current logs with the same model spec are subtracted ("new calls"): a re-run
takes them from the logs or the run's cache and sends only the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from math import comb
from pathlib import Path

from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries

from harness.fidelity import patient_messages, patient_system_prompt
from harness.inputs import ModelPrice, RunConfig, Scenario, assign_personas, dialogue_sample_id, format_usd
from harness.run._plan import RunPlan
from scorers import CLINICAL_SYSTEM, Turn, all_criteria_prompt, per_criterion_prompt, render_pair
from tasks import DEFAULT_SYSTEM_PROMPT

HARNESS_CPU_PER_CALL_S = 0.014
"""CPU seconds one harness process spends per judge call (13.7 ms measured with stage 2's default log_realtime off,
16-17 ms with it on; benchmarks/README.md, *Judge throughput re-measured*)."""
CHARS_PER_TOKEN = 4.0
"""Characters per token for English text (OpenAI's rule of thumb; tokenizers differ by some 10-20%)."""
MESSAGE_OVERHEAD_TOKENS = 4
"""Tokens a chat message costs beyond its text (role and separators, OpenAI's chat format)."""
JUDGE_VERDICT_TOKENS = 40
"""Typical tokens of one criterion's verdict: the prompt asks for `{"reason": "one short sentence", "verdict": ..}`."""
REPLY_FRACTION = 0.5
"""Typical candidate and patient reply length as a fraction of the role's `max_tokens` (`--reply-fraction`)."""


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else \
        f"{seconds / 3600:.1f} h"


def stage2_seconds(calls: int, latency: float, connections: int, workers: int) -> float:
    """Least stage-2 time: the connections' limit (calls x latency / connections) or, when longer, the harness's
    CPU (calls x CPU per call / workers)."""
    return max(calls * latency / connections, calls * HARNESS_CPU_PER_CALL_S / workers)


def dialogue_calls(cfg: RunConfig) -> int:
    """Model calls of one stage-1 dialogue of a model candidate, when no patient turn is regenerated: its
    `turns` replies and, with a `[patient]` model, the patient's `turns - 1` follow-ups."""
    return cfg.dialogue.turns + (cfg.dialogue.turns - 1 if cfg.patient is not None else 0)


def comparison_calls(plan: RunPlan) -> int:
    """Judge calls of one stage-2 comparison: criteria (one call each, or one for all) x orders (0 for reward
    heads, which make no model call)."""
    j = plan.cfg.judge
    per_order = len(plan.criteria.ids) if j.granularity == "per_criterion" or j.kind == "logprob" else 1
    return per_order * (2 if j.orders == "both" else 1) if j.kind != "rm" else 0


def _tok(chars: float, messages: int = 0) -> float:
    return chars / CHARS_PER_TOKEN + MESSAGE_OVERHEAD_TOKENS * messages


@dataclass(frozen=True)
class RoleCalls:
    """The estimated calls of one role played by one model."""

    role: str
    model: str
    calls: int
    """Upper bound on the calls (before cache hits; patient regenerations included)."""
    input_tokens: float
    """Typical input tokens over all calls (replies in the prompts at their typical length)."""
    output_tokens: float
    """Typical output tokens."""
    input_upper: float
    output_upper: float
    """Upper bounds: every reply at `max_tokens`, every regeneration made."""
    done: float = 0.0
    """Fraction of these calls already answered in the run's current logs (same model spec)."""
    batch: bool = False

    def new(self) -> RoleCalls:
        """What a re-run would send: these calls less the ones already answered."""
        keep = 1.0 - self.done
        return replace(self, calls=round(self.calls * keep), input_tokens=self.input_tokens * keep,
                       output_tokens=self.output_tokens * keep, input_upper=self.input_upper * keep,
                       output_upper=self.output_upper * keep, done=0.0)


def _dialogues(plan: RunPlan) -> list[tuple[Scenario, str]]:
    """(scenario, persona id) of every stage-1 dialogue: one per scenario single-turn, one per assigned persona
    multi-turn (the assignment of `tasks.dialogue`)."""
    cfg = plan.cfg
    if cfg.dialogue.turns == 1:
        return [(s, "") for s in plan.scenarios]
    assigned = assign_personas([s.id for s in plan.scenarios], [p.id for p in plan.personas],
                               cfg.data.personas_per_scenario, cfg.run.seed)
    return [(s, pid) for s in plan.scenarios for pid in assigned[s.id]]


def _comparisons(plan: RunPlan) -> list[tuple[Scenario, str]]:
    """(scenario, judging persona id or "") of every stage-2 comparison of one pair (as `tasks.pairwise` builds
    them)."""
    cfg = plan.cfg
    if cfg.dialogue.turns > 1:
        return [(s, pid if cfg.judge.mode == "persona" else "") for s, pid in _dialogues(plan)]
    if cfg.judge.mode != "persona":
        return [(s, "") for s in plan.scenarios]
    assigned = assign_personas([s.id for s in plan.scenarios], [p.id for p in plan.personas],
                               cfg.data.personas_per_scenario, cfg.run.seed)
    return [(s, pid) for s in plan.scenarios for pid in assigned[s.id]]


def _stage1_calls(plan: RunPlan, fraction: float) -> list[RoleCalls]:
    cfg = plan.cfg
    turns = cfg.dialogue.turns
    dialogues = _dialogues(plan)
    personas = {p.id: p for p in plan.personas}
    patient = cfg.patient if turns > 1 else None
    p_max = (patient.max_tokens or 160) if patient is not None else 0
    tries = patient.max_tries if patient is not None and patient.on_role_break == "regenerate" else 1
    out: list[RoleCalls] = []
    pat = [0.0, 0.0, 0.0, 0.0]  # the shared patient: input, output, input upper, output upper
    pat_calls = 0
    for c in cfg.candidates:
        if not c.model:
            continue
        c_max = c.max_tokens or 256
        system = c.system_prompt or cfg.dialogue.system_prompt or DEFAULT_SYSTEM_PROMPT
        tot = [0.0, 0.0, 0.0, 0.0]
        for frac, slot in ((fraction, 0), (1.0, 2)):
            reply, follow = "x" * round(frac * c_max * CHARS_PER_TOKEN), "x" * round(frac * p_max * CHARS_PER_TOKEN)
            for s, pid in dialogues:
                for t in range(1, turns + 1):  # candidate turn t sees the opening and t-1 exchanges
                    tot[slot] += _tok(len(system) + len(s.text) + (t - 1) * (len(reply) + len(follow)), 2 * t)
                    tot[slot + 1] += len(reply) / CHARS_PER_TOKEN
                if patient is None:
                    continue
                prompt = patient_system_prompt(personas[pid].profile(), s.text, s.risk, cfg.dialogue.stop_token)
                n_tries = 1 if slot == 0 else tries
                for t in range(1, turns):  # follow-up t: the opening, t therapist turns and t-1 follow-ups
                    dialogue = [("patient", s.text)] + [("therapist", reply), ("patient", follow)] * (t - 1) + [
                        ("therapist", reply)]
                    msgs = patient_messages(prompt, dialogue, s.risk)
                    pat[slot] += n_tries * _tok(sum(len(m) for _, m in msgs), len(msgs))
                    pat[slot + 1] += n_tries * len(follow) / CHARS_PER_TOKEN
        out.append(RoleCalls(f"candidate {c.name}", c.model, len(dialogues) * turns, tot[0], tot[1], tot[2], tot[3],
                             batch=c.batch is not False))
        pat_calls += len(dialogues) * (turns - 1) * tries
    if patient is not None and pat_calls:
        out.append(RoleCalls("patient", patient.model, pat_calls, pat[0], pat[1], pat[2], pat[3],
                             batch=patient.batch is not False))
    return out


def _judge_calls(plan: RunPlan, fraction: float, granularity: str) -> RoleCalls | None:
    """The stage-2 judge calls under `granularity` (`per_criterion` or `all`); None for reward heads."""
    cfg, j = plan.cfg, plan.cfg.judge
    if j.kind == "rm":
        return None
    turns, orders = cfg.dialogue.turns, 2 if j.orders == "both" else 1
    crits = list(plan.criteria.criteria)
    per_call = j.kind == "logprob" or granularity == "per_criterion"
    j_max = j.max_tokens or 512
    persona_mode = j.mode == "persona"
    systems = {p.id: len(p.judge_prompt()) for p in plan.personas}
    # prompt text around the pair (criterion blocks, instructions), per call
    wrap = ([len(per_criterion_prompt("", c, persona_mode)) for c in crits] if per_call
            else [len(all_criteria_prompt("", crits, persona_mode))])
    c_max = sum((c.max_tokens or 256) for c in cfg.candidates) / len(cfg.candidates)  # mean side over the pairs
    p_max = (cfg.patient.max_tokens or 160) if cfg.patient is not None and turns > 1 else 0
    comparisons = _comparisons(plan)
    pairs = comb(len(cfg.candidates), 2)
    tot = [0.0, 0.0, 0.0, 0.0]
    for frac, slot in ((fraction, 0), (1.0, 2)):
        reply, follow = "x" * round(frac * c_max * CHARS_PER_TOKEN), "x" * round(frac * p_max * CHARS_PER_TOKEN)
        pair_len: dict[str, int] = {}
        for s, pid in comparisons:
            if s.id not in pair_len:
                side = [Turn("patient", s.text), Turn("therapist", reply)] + [
                    Turn("patient", follow), Turn("therapist", reply)] * (turns - 1)
                pair_len[s.id] = len(render_pair(side, side))
            system = systems.get(pid, 0) if persona_mode else len(CLINICAL_SYSTEM)
            tot[slot] += orders * sum(_tok(system + pair_len[s.id] + w, 2) for w in wrap)
    verdict = 1 if j.kind == "logprob" else JUDGE_VERDICT_TOKENS * (1 if per_call else len(crits))
    n_calls = len(comparisons) * orders * len(wrap)
    tot[1], tot[3] = n_calls * min(verdict, j_max), n_calls * (1 if j.kind == "logprob" else j_max)
    return RoleCalls("judge", j.model, pairs * n_calls, pairs * tot[0], pairs * tot[1], pairs * tot[2],
                     pairs * tot[3], batch=j.batch is not False)


def _done_fraction(logs: Iterable[Path], scope: str, planned: set[str]) -> float:
    """Fraction of the `planned` sample ids answered (no error) in `logs` whose task ran under cache scope `scope`
    (the model spec hash): those calls a re-run takes from the logs or the run's cache."""
    done: set[str] = set()
    for log in logs:
        if not log.is_file():
            continue
        header = read_eval_log(str(log), header_only=True)
        if header.eval.task_args.get("cache_scope") != scope:
            continue
        done |= {str(s.id) for s in read_eval_log_sample_summaries(str(log)) if s.error is None} & planned
    return len(done) / len(planned) if planned else 0.0


def _with_done(plan: RunPlan, stage1: list[RoleCalls], judge: RoleCalls | None) -> tuple[list[RoleCalls],
                                                                                         RoleCalls | None]:
    """The estimates with `done` set from the run's current stage-1 and stage-2 logs (when the run exists)."""
    run_dir, cfg = plan.run_dir, plan.cfg
    index1 = run_dir / "stage1" / "index.json"
    if index1.is_file():
        logs1 = {k: run_dir / "stage1" / v for k, v in json.loads(index1.read_text()).items()}
        ids = {dialogue_sample_id(s.id, pid) for s, pid in _dialogues(plan)}
        fracs = {c.name: _done_fraction([logs1[c.name]], c.spec_hash(), ids) for c in cfg.candidates
                 if c.model and c.name in logs1}
        stage1 = [replace(r, done=fracs.get(r.role.removeprefix("candidate "), 0.0)) if r.role.startswith("candidate")
                  else r for r in stage1]
        if fracs:  # the patient's calls belong to the candidates' dialogues
            share = sum(fracs.values()) / sum(1 for c in cfg.candidates if c.model)
            stage1 = [replace(r, done=share) if r.role == "patient" else r for r in stage1]
    index2 = run_dir / "stage2" / "index.json"
    if judge is not None and index2.is_file():
        ids = {f"{s.id}--{pid}" if pid else s.id for s, pid in _comparisons(plan)}
        by_pair: dict[tuple[str, str], list[Path]] = {}
        for e in json.loads(index2.read_text()):
            by_pair.setdefault((e["candidate_a"], e["candidate_b"]), []).append(run_dir / "stage2" / e["log"])
        pairs = comb(len(cfg.candidates), 2)
        done = sum(_done_fraction(logs, cfg.judge.spec_hash(), ids) for logs in by_pair.values()) / pairs
        judge = replace(judge, done=min(done, 1.0))
    return stage1, judge


def estimate(plan: RunPlan, reply_fraction: float = REPLY_FRACTION,
             granularity: str | None = None) -> tuple[list[RoleCalls], RoleCalls | None]:
    """Stage-1 role calls and the judge's calls (`granularity` defaults to the config's), with `done` set from
    the run's current logs."""
    stage1 = _stage1_calls(plan, reply_fraction)
    judge = _judge_calls(plan, reply_fraction, granularity or plan.cfg.judge.granularity)
    return _with_done(plan, stage1, judge)


def judge_estimates(plan: RunPlan, reply_fraction: float = REPLY_FRACTION, first: RoleCalls | None = None,
                    granularity: str | None = None) -> list[tuple[str | None, RunPlan, RoleCalls | None]]:
    """(name, plan, calls) of every judge (`[[judges]]` in order, or the single `[judge]` with name None); `first`:
    the first judge's calls when already estimated. Each row's role names its judge in an ensemble."""
    out: list[tuple[str | None, RunPlan, RoleCalls | None]] = []
    for i, (name, _) in enumerate(plan.cfg.judge_specs()):
        jplan = plan.for_judge(name)
        calls = first if i == 0 and first is not None and granularity is None else \
            estimate(jplan, reply_fraction, granularity)[1]
        if calls is not None and name is not None:
            calls = replace(calls, role=f"judge {name}")
        out.append((name, jplan, calls))
    return out


def _usd(price: ModelPrice | None, tokens_in: float, tokens_out: float, batch: bool) -> float | None:
    return price.cost(tokens_in, tokens_out, batch) if price is not None else None


def _total(rows: list[RoleCalls], pricing: dict[str, ModelPrice], batch: bool | None, upper: bool = False) -> str:
    """Dollars of `rows`: each row in its own mode (`batch` None), or all online / all batch."""
    parts = [_usd(pricing.get(r.model), r.input_upper if upper else r.input_tokens,
                  r.output_upper if upper else r.output_tokens, r.batch if batch is None else batch) for r in rows]
    known = [p for p in parts if p is not None]
    unpriced = len(parts) - len(known)
    return format_usd(sum(known) if known else None) + (f" (+{unpriced} unpriced)" if unpriced and known else "")


def cost_lines(plan: RunPlan, reply_fraction: float = REPLY_FRACTION) -> list[str]:
    """The dry run's token and cost block: per role and model, calls (all and new), tokens (typical and upper
    bound) and dollars, then per-criterion vs all-criteria judging and online vs batch."""
    pricing = plan.cfg.pricing
    stage1, judge = estimate(plan, reply_fraction)
    judges = [j for _, _, j in judge_estimates(plan, reply_fraction, judge) if j is not None]
    rows = stage1 + judges
    lines = [f"tokens (estimated: {CHARS_PER_TOKEN:g} characters per token, replies at {reply_fraction:g} x max_tokens "
             f"(--reply-fraction), judge verdicts {JUDGE_VERDICT_TOKENS} tokens per criterion; upper bound: every "
             "reply at max_tokens):"]
    if not rows:
        return lines + ["  no model calls (reward-head judge and imported responses)"]
    width = max(len("role / model"), *(len(f"{r.role} / {r.model}") for r in rows))
    lines.append(f"  {'role / model':<{width}}  {'calls':>10}  {'new calls':>10}  {'input tok':>13}  "
                 f"{'output tok':>13}  {'out (upper)':>13}  {'cost':>12}")
    for r in rows:
        price = pricing.get(r.model)
        lines.append(f"  {f'{r.role} / {r.model}':<{width}}  {r.calls:>10,}  {r.new().calls:>10,}  "
                     f"{r.input_tokens:>13,.0f}  {r.output_tokens:>13,.0f}  {r.output_upper:>13,.0f}  "
                     f"{format_usd(_usd(price, r.input_tokens, r.output_tokens, r.batch)):>12}"
                     + (" (batch)" if r.batch else ""))
    new = [r.new() for r in rows]
    lines.append(f"  total: {sum(r.calls for r in rows):,} calls, {sum(r.input_tokens for r in rows):,.0f} input + "
                 f"{sum(r.output_tokens for r in rows):,.0f} output tokens: {_total(rows, pricing, None)} as "
                 f"configured (upper bound {_total(rows, pricing, None, upper=True)})")
    n_all, n_new = sum(r.calls for r in rows), sum(r.calls for r in new)
    lines.append(f"  a re-run would make {n_new:,} new calls ({n_all - n_new:,} answered in this run's current logs "
                 f"or cache), {sum(r.input_tokens for r in new):,.0f} + {sum(r.output_tokens for r in new):,.0f} "
                 f"tokens: {_total(new, pricing, None)}")
    if judge is not None and plan.cfg.judge.kind == "llm":
        first = " (the first judge's granularity; the other judges as configured)" if len(judges) > 1 else ""
        lines.append(f"judging, whole run (stage 1 as configured){first}: calls, input + output tokens, cost online "
                     "/ batch:")
        for gran in ("per_criterion", "all"):
            _, jg = estimate(plan, reply_fraction, gran)
            assert jg is not None
            both = stage1 + [jg] + judges[1:]
            mark = "  (configured)" if gran == plan.cfg.judge.granularity else ""
            lines.append(f"  {gran:<13}  {jg.calls:>10,} judge calls  {jg.input_tokens:>15,.0f} + "
                         f"{jg.output_tokens:>13,.0f} tok  online {_total(both, pricing, False)}  batch "
                         f"{_total(both, pricing, True)}{mark}")
    return lines


def dry_run(plan: RunPlan, workers: int = 1, latency: float = 1.0, reply_fraction: float = REPLY_FRACTION) -> str:
    """Upper bounds on the model calls a run makes (before any cache hit), the time they take at `latency`
    seconds per API call (calls x latency / max_connections, or the harness's CPU when that is longer), and the
    tokens and dollars they carry (:func:`cost_lines`)."""
    cfg = plan.cfg
    turns = cfg.dialogue.turns
    stage1, judge = estimate(plan, reply_fraction)
    dialogues = len(_dialogues(plan))
    cand_calls = sum(r.calls for r in stage1 if r.role.startswith("candidate"))
    patient_calls = sum(r.calls for r in stage1 if r.role == "patient")
    model_cands = sum(1 for c in cfg.candidates if c.model)
    patient_first = model_cands * dialogues * (turns - 1)
    pairs = comb(len(cfg.candidates), 2)
    judge_calls = 0
    parts: list[str] = []
    for name, jplan, jcalls in judge_estimates(plan, reply_fraction, judge):  # an ensemble: every judge, every pair
        judged = len(_comparisons(jplan))
        n = jcalls.calls if jcalls is not None else 0
        per_sample = n // (pairs * judged) if n else 0
        judge_calls += n
        who = "" if name is None else f" (judge {name})"
        parts.append(f"stage 2{who}: {pairs} pairs x {judged} comparisons x {per_sample} calls: <= {n} judge calls"
                     if jplan.cfg.judge.kind != "rm" else
                     f"stage 2{who}: {pairs} pairs x {judged} comparisons scored by reward heads locally: "
                     "0 model calls")
    if len(parts) > 1:
        parts.append(f"stage 2, all {len(parts)} judges: <= {judge_calls} judge calls")
    stage2 = "\n".join(parts)
    conns = cfg.run.max_connections
    # stage 1: every candidate and the (shared) patient have their own connections; a dialogue's turns are sequential
    t1 = max(dialogues * turns, patient_first) * latency / conns + (2 * turns - 1) * latency if cand_calls else 0.0
    t2 = stage2_seconds(judge_calls, latency, conns, workers)
    lines = [f"stage 1: {dialogues} dialogues x {len(cfg.candidates)} candidates: <= {cand_calls} candidate calls, "
             f"<= {patient_calls} patient calls", stage2,
             f"time at {latency:g} s per API call (--assume-latency), {conns} connections per model, {workers} "
             f"stage-2 worker(s): stage 1 >= {_duration(t1)}, stage 2 >= {_duration(t2)} (local models: see "
             "benchmarks/README.md)"]
    if cfg.safety_spec() is not None:
        lines.append("(the [safety] rubric stage's calls are not included)")
    return "\n".join(lines + cost_lines(plan, reply_fraction)) + "\n"

"""Stage 1: persona-conditioned therapy dialogues for one candidate (the task's model).

Single-turn (`turns=1`, the paper's protocol): the scenario is the patient's message and the candidate
replies once; one sample per scenario. Multi-turn: the `patient` role (required, never the candidate)
simulates each assigned persona for up to `turns` candidate replies, stopping early when it emits the
stop token; one sample per scenario x persona.

The patient (``patient_design = "framed"``, the default) is prompted from the persona and the scenario, sees each
therapist turn as speech it received, stops on speaker labels, and every follow-up is checked for role
(``harness.fidelity.check_role``: therapist/assistant patterns, the AnnoMI role classifier and, on crisis/elevated
scenarios, whether the disclosure is kept). A turn out of role is regenerated (`on_role_break = "regenerate"`, up
to `max_tries` generations, then the scripted fallback turn), kept and flagged (`"flag"`), or ends the dialogue
before it (`"stop"`). What happened to every follow-up is in the sample metadata (`patient_turns`, `role_guard`),
never dropped silently.

    inspect eval tasks/dialogue.py@dialogue --model scripted/therapist-warm -T candidate=warm
    inspect eval tasks/dialogue.py@dialogue --model openai/gpt-4o-mini -T turns=3 \
        --model-role patient=openai/gpt-4o-mini
"""

from __future__ import annotations

import functools
from pathlib import Path

import anyio
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import (
    CachePolicy,
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    get_model,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver

from harness.core import InputError
from harness.fidelity import (
    STOP_SEQUENCES,
    check_role,
    clean_patient_text,
    patient_messages,
    patient_system_prompt,
    persona_facts,
    scripted_patient_turn,
)
from harness.inputs import (
    assign_personas,
    dialogue_sample_id,
    load_responses,
    resolve_personas,
    resolve_scenarios,
    select_scenarios,
)
from tasks._errors import one_line_errors

DEFAULT_SYSTEM_PROMPT = (
    "You are a supportive, professional therapist. Respond to the person with empathy, listen carefully, "
    "and encourage them to find their own way forward. If they may be at risk of harm, address their "
    "safety and point them to crisis support."
)


def cache_policy(scope: str | None) -> CachePolicy | None:
    """A never-expiring cache keyed by `scope` (the runner passes a hash of the candidate/role spec).

    The scope matters: inspect's cache key does not include model_args, so two `hf/local` candidates
    with different weights would otherwise share entries.
    """
    return CachePolicy(expiry=None, scopes={"theraeval": scope}) if scope else None


def _patient_view(messages: list[ChatMessage], persona_prompt: str) -> list[ChatMessage]:
    """The conversation as the patient sees it: therapist turns become 'user', patient turns 'assistant'."""
    view: list[ChatMessage] = [ChatMessageSystem(content=persona_prompt)]
    for m in messages:
        if m.role == "assistant":
            view.append(ChatMessageUser(content=m.text))
        elif m.role == "user":
            view.append(ChatMessageAssistant(content=m.text))
    return view


ROLE_BREAK_ACTIONS = ("regenerate", "flag", "stop")
PATIENT_DESIGNS = ("framed", "plain")


def _framed_view(messages: list[ChatMessage], persona_prompt: str, risk: str) -> list[ChatMessage]:
    """The framed patient chat (`harness.fidelity.patient_messages`) as inspect messages."""
    dialogue = [("patient" if m.role == "user" else "therapist", m.text) for m in messages
                if m.role in ("user", "assistant")]
    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    return [kinds[r](content=t) for r, t in patient_messages(persona_prompt, dialogue, risk)]


@solver
def therapy_dialogue(
    system_prompt: str,
    turns: int,
    stop_token: str,
    patient_config: GenerateConfig,
    responses: dict[str, str] | None = None,
    cache_scope: str | None = None,
    on_role_break: str = "regenerate",
    max_tries: int = 3,
    fallback: str = "scripted",
    patient_design: str = "framed",
    role_check: bool = True,
) -> Solver:
    """Run one dialogue: candidate replies (or imported responses), patient-role follow-ups (role-checked)."""
    cache = cache_policy(cache_scope)

    def patient_cache(attempt: int) -> CachePolicy | None:
        if not cache_scope:
            return None
        return cache_policy(f"patient:{cache_scope}" + (f":try{attempt}" if attempt else ""))

    def retry_config(attempt: int) -> GenerateConfig:
        if attempt == 0:
            return patient_config
        # a fresh sample: another seed, and some temperature so that a greedy patient can change its reply
        return patient_config.merge(GenerateConfig(seed=(patient_config.seed or 0) + attempt,
                                                   temperature=max(patient_config.temperature or 0.0, 0.7)))

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.messages.insert(0, ChatMessageSystem(content=system_prompt))
        persona_prompt = state.metadata.get("patient_prompt", "")
        risk = str(state.metadata.get("risk", "none"))
        opening = state.input_text
        facts = state.metadata.get("persona_facts")
        state.metadata["ended_by_patient"] = False
        records: list[dict[str, object]] = []
        counts = {"regenerated": 0, "fallback": 0, "flagged": 0, "stopped": 0, "patient_calls": 0}
        for turn in range(turns):
            if responses is not None:
                state.messages.append(ChatMessageAssistant(content=responses[state.metadata["scenario_id"]]))
            elif cache is not None:
                state = await generate(state, cache=cache)
            else:
                state = await generate(state)
            if turn == turns - 1:
                break
            patient = get_model(role="patient", required=True)
            if patient_design == "framed":
                view = _framed_view(state.messages, persona_prompt, risk)
                base = patient_config.merge(GenerateConfig(stop_seqs=list(STOP_SEQUENCES)))
            else:
                view = _patient_view(state.messages, persona_prompt)
                base = patient_config
            rejected: list[dict[str, object]] = []
            outcome, attempt, text, ended = "ok", 0, "", False
            while True:
                config = base.merge(retry_config(attempt)) if attempt else base
                pc = patient_cache(attempt)
                reply = (await patient.generate(view, config=config, cache=pc) if pc is not None
                         else await patient.generate(view, config=config))
                attempt += 1
                counts["patient_calls"] += 1
                raw = reply.completion
                ended = stop_token in raw
                text = raw.replace(stop_token, "").strip() if ended else raw
                if patient_design != "plain":
                    text = clean_patient_text(text)
                if not role_check or (ended and not text.strip()):
                    break
                # a patient that ends the dialogue is not held to its crisis (the fidelity table still measures it)
                # off the event loop: the classifier's encoder forward pass must not stall other samples' streams
                rc = await anyio.to_thread.run_sync(functools.partial(
                    check_role, text, risk="none" if ended else risk, opening=opening,
                    earlier=[m.text for m in state.messages if m.role == "user"][1:]))
                if rc.in_role:
                    outcome = "regenerated" if attempt > 1 else "ok"
                    break
                rejected.append({"text": text, "p_therapist": rc.p_therapist, "reasons": list(rc.reasons)})
                if on_role_break == "flag":
                    outcome = "flagged"
                    break
                if on_role_break == "stop":
                    outcome = "stopped"
                    break
                if attempt >= max_tries:
                    if fallback == "scripted":
                        text, ended, outcome = scripted_patient_turn(opening, risk, facts, turn), False, "fallback"
                    else:
                        outcome = "flagged"
                    break
            if outcome != "ok":
                counts[outcome] += 1
            if outcome == "stopped":
                state.metadata["stopped_on_role_break"] = {"turn": turn, "rejected": rejected}
                break
            if ended:
                state.metadata["ended_by_patient"] = True
                if text.strip():
                    records.append({"turn": turn, "outcome": outcome, "tries": attempt, "rejected": rejected})
                    state.messages.append(ChatMessageUser(content=text))
                break
            records.append({"turn": turn, "outcome": outcome, "tries": attempt, "rejected": rejected})
            state.messages.append(ChatMessageUser(content=text))
        state.metadata["patient_turns"] = records
        state.metadata["role_guard"] = counts
        state.metadata["role_flagged"] = bool(counts["flagged"] or counts["stopped"])
        return state

    return solve


@task
@one_line_errors
def dialogue(
    candidate: str = "candidate",
    scenarios: str = "builtin",
    scenario_ids: str | list[str] | None = None,
    personas: str = "builtin",
    personas_per_scenario: int = 1,
    seed: int = 42,
    turns: int = 1,
    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
    responses: str | None = None,
    stop_token: str = "[END]",
    patient_temperature: float = 0.7,
    patient_seed: int = 0,
    patient_max_tokens: int = 160,
    cache_scope: str | None = None,
    on_role_break: str = "regenerate",
    max_tries: int = 3,
    fallback: str = "scripted",
    patient_design: str = "framed",
    role_check: bool = True,
) -> Task:
    """Stage-1 dialogues of one candidate.

    Args:
        candidate: The candidate's name on the leaderboard.
        scenarios: `builtin`, a scenarios file, `hf:<dataset>[:split]` or `epitome:<dir>[:split]`.
        scenario_ids: Only these scenarios, in this order (a list, or ids separated by commas:
            `-T scenario_ids=grief-001,anxiety-002`), as `[data] scenario_ids` in a run config.
        personas: `builtin` or a personas `.jsonl` (used by the patient simulator when `turns > 1`).
        personas_per_scenario: Personas drawn per scenario (0 = all), seeded by `seed` and the scenario id.
        seed: Seed of the persona assignment.
        turns: Candidate replies per dialogue (1 = the paper's single-turn protocol).
        system_prompt: The candidate's system prompt.
        responses: Imported responses file (CSV/JSONL with scenario_id, response) instead of a model.
        stop_token: The patient ends the conversation early by emitting this.
        patient_temperature: Patient role sampling temperature (role models do not inherit task config).
        patient_seed: Patient role seed.
        patient_max_tokens: Patient role reply limit.
        cache_scope: Cache every call forever under this scope (set by `theraeval run`).
        on_role_break: A patient follow-up out of role: `regenerate` (then the fallback), `flag` or `stop`.
        max_tries: Patient generations per follow-up under `regenerate` (the first included).
        fallback: After `max_tries` role breaks: `scripted` (a client turn from the opening) or `none` (flag it).
        patient_design: `framed` (persona + scenario prompt, received speech, stop on speaker labels) or `plain`
            (the persona prompt and the raw role swap, the patient before issue 21; for comparison).
        role_check: Check every follow-up's role (False: keep every patient turn as generated, record nothing).
    """
    if turns < 1:
        raise InputError(None, "turns", turns, "must be at least 1", "set turns = 1 (single-turn) or more")
    for name, value, allowed in (("on_role_break", on_role_break, ROLE_BREAK_ACTIONS),
                                 ("fallback", fallback, ("scripted", "none")),
                                 ("patient_design", patient_design, PATIENT_DESIGNS)):
        if value not in allowed:
            raise InputError(None, name, value, f"must be one of {list(allowed)}", f"set {name} = {allowed[0]!r}")
    if max_tries < 1:
        raise InputError(None, "max_tries", max_tries, "must be at least 1", "set max_tries = 3")
    scen = resolve_scenarios(scenarios)
    if scenario_ids is not None:
        ids = scenario_ids.split(",") if isinstance(scenario_ids, str) else [str(i) for i in scenario_ids]
        scen = select_scenarios(scen, [i.strip() for i in ids if i.strip()], None, "scenario_ids", scenarios)
    imported = load_responses(responses, [s.id for s in scen]) if responses else None
    if imported is not None and turns != 1:
        raise InputError(responses, "turns", turns, "imported responses are single-turn only", "set turns = 1")
    samples: list[Sample] = []
    if turns == 1:
        for s in scen:
            samples.append(Sample(id=s.id, input=s.text, metadata={
                "scenario_id": s.id, "risk": s.risk, "persona_id": ""}))
    else:
        pers = {p.id: p for p in resolve_personas(personas)}
        plan = assign_personas([s.id for s in scen], list(pers), personas_per_scenario, seed)
        for s in scen:
            for pid in plan[s.id]:
                prompt = (patient_system_prompt(pers[pid].profile(), s.text, s.risk, stop_token)
                          if patient_design == "framed" else pers[pid].patient_prompt(stop_token))
                facts = {**persona_facts(pers[pid]), "communication_style": pers[pid].communication_style}
                samples.append(Sample(id=dialogue_sample_id(s.id, pid), input=s.text, metadata={
                    "scenario_id": s.id, "risk": s.risk, "persona_id": pid, "patient_prompt": prompt,
                    "persona_facts": facts}))
    if turns > 1 and role_check:
        check_role("warm-up")  # load the role classifier and its encoder now, not inside the running eval
    patient_config = GenerateConfig(temperature=patient_temperature, seed=patient_seed,
                                    max_tokens=patient_max_tokens)
    return Task(
        dataset=MemoryDataset(samples, name=f"dialogue-{candidate}"),
        solver=therapy_dialogue(system_prompt, turns, stop_token, patient_config, imported, cache_scope,
                                on_role_break, max_tries, fallback, patient_design, role_check),
        name="dialogue",
        metadata={"candidate": candidate, "turns": turns, "stage": 1,
                  "patient": {"design": patient_design, "on_role_break": on_role_break, "max_tries": max_tries,
                              "fallback": fallback, "role_check": role_check} if turns > 1 else None,
                  "responses_file": str(Path(responses).name) if responses else None},
    )

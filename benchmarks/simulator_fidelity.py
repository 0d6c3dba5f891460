"""Simulated patient fidelity: the embedded SmolLM2 patient (as before, framed, framed + guard) beside a scripted
reference and the trivial reference (the scenario opening repeated), measured with harness.fidelity.

    python benchmarks/simulator_fidelity.py                      # quickstart: 8 scenarios x 3 candidates, 2 turns
    python benchmarks/simulator_fidelity.py --scenarios all --candidates smollm2-therapist
    python benchmarks/simulator_fidelity.py --references-only   # scripted + trivial, no model
    python benchmarks/simulator_fidelity.py --work DIR --from-logs  # re-measure the logs a run left in DIR

Simulators (the candidates and their replies are the quickstart's SmolLM2 candidates):

* ``smollm2 plain``: the patient as before issue 21 (persona prompt, therapist turns as the user, no role check);
* ``smollm2 framed``: the new patient prompt, received-speech framing and stop sequences, no role check;
* ``smollm2 framed+guard``: the default (``on_role_break = "regenerate"``, 3 tries, scripted fallback);
* ``scripted``: every follow-up is ``harness.fidelity.scripted_patient_turn`` (no model);
* ``trivial``: every follow-up repeats the scenario opening (a floor: perfectly "in role" and "crisis-kept" by
  construction, and unrealistic).

Figures: follow-ups read as the client by the AnnoMI role classifier (%), crisis/elevated dialogues keeping the
disclosure (%), persona facts not contradicted (%), guard counts, and realism (words per turn, question %, talk-type
shares) beside real AnnoMI client turns of 5+ words. The role classifier is 83% accurate on held-out AnnoMI
sessions (harness/fidelity/data/DATA_CARD.md), so the in-role figures carry that error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import ROOT, header  # noqa: E402

sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from harness.fidelity import (  # noqa: E402
    DialogueRecord,
    fidelity_rows,
    fidelity_table,
    persona_facts,
    reference_row,
    scripted_patient_turn,
)
from harness.inputs import (  # noqa: E402
    assign_personas,
    config_file,
    load_run_config,
    resolve_personas,
    resolve_scenarios,
)

SIMULATORS = {
    "smollm2 plain": {"patient_design": "plain", "role_check": False},
    "smollm2 framed": {"patient_design": "framed", "role_check": False},
    "smollm2 framed+guard": {"patient_design": "framed", "role_check": True},
}
COLUMNS = ["simulator", "dialogues", "follow_ups", "in_role_pct", "rule_hit_pct", "crisis_dialogues", "crisis_kept_pct",
           "persona_dialogues", "persona_adherent_pct", "regenerated", "fallback", "flagged", "words_mean",
           "question_pct", "change_pct", "neutral_pct", "sustain_pct"]


def references(scenario_ids: list[str] | None, seed: int) -> list[tuple[str, list[DialogueRecord]]]:
    """Scripted and trivial follow-ups (one per dialogue) on the bundled scenarios and their assigned personas."""
    scen = [s for s in resolve_scenarios("builtin") if scenario_ids is None or s.id in scenario_ids]
    pers = {p.id: p for p in resolve_personas("builtin")}
    plan = assign_personas([s.id for s in scen], list(pers), 1, seed)
    out: dict[str, list[DialogueRecord]] = {"scripted": [], "trivial": []}
    for s in scen:
        pid = plan[s.id][0]
        facts = {**persona_facts(pers[pid]), "communication_style": pers[pid].communication_style}
        for name, follow in (("scripted", scripted_patient_turn(s.text, s.risk, facts, 0)), ("trivial", s.text)):
            turns = [("patient", s.text), ("therapist", "(candidate reply)"), ("patient", follow)]
            out[name].append(DialogueRecord("reference", s.id, s.id, pid, s.risk, turns, facts))
    return list(out.items())


def embedded(name: str, settings: dict[str, object], scenario_ids: list[str] | None, candidates: list[str],
             work: Path) -> list[DialogueRecord]:
    """Stage-1 dialogues of the quickstart candidates with the embedded patient under `settings`."""
    from inspect_ai import eval as inspect_eval

    from harness.inputs import ModelSpec
    from harness.run import build_model
    from harness.verdicts import stage1_records
    from tasks import DEFAULT_SYSTEM_PROMPT, dialogue

    cfg, _ = load_run_config(config_file("quickstart"))
    scen_file = work / "scenarios.jsonl"
    if not scen_file.exists():
        import json

        rows = [s.model_dump(mode="json") for s in resolve_scenarios("builtin")
                if scenario_ids is None or s.id in scenario_ids]
        scen_file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert cfg.patient is not None
    patient = build_model(cfg.patient)
    logs: dict[str, Path] = {}
    for c in cfg.candidates:
        if c.name not in candidates:
            continue
        task = dialogue(candidate=c.name, scenarios=str(scen_file), personas="builtin", personas_per_scenario=1,
                        seed=cfg.run.seed, turns=cfg.dialogue.turns,
                        system_prompt=c.system_prompt or DEFAULT_SYSTEM_PROMPT,
                        patient_temperature=cfg.patient.temperature or 0.0, patient_seed=cfg.patient.seed or 0,
                        patient_max_tokens=cfg.patient.max_tokens or 160,
                        cache_scope=f"bench-{c.spec_hash()}", **settings)  # type: ignore[arg-type]
        spec = ModelSpec(model=c.model or "builtin/smollm2", temperature=c.temperature, top_p=c.top_p,
                         max_tokens=c.max_tokens, seed=c.seed)
        [log] = inspect_eval(task, model=build_model(spec), model_roles={"patient": patient}, display="none",
                             log_dir=str(work / name.replace(" ", "_")), max_connections=cfg.run.max_connections)
        if log.status != "success":
            raise SystemExit(f"{name} / {c.name}: {log.status} {log.error.message if log.error else ''}")
        logs[c.name] = Path(log.location.removeprefix("file://"))
    return stage1_records(logs)


def from_logs(folder: Path) -> list[DialogueRecord]:
    """The dialogues of the stage-1 logs in `folder` (one per candidate; the newest log of each)."""
    from inspect_ai.log import read_eval_log

    from harness.verdicts import stage1_records

    logs: dict[str, Path] = {}
    for f in sorted(folder.glob("*.eval")):
        head = read_eval_log(str(f), header_only=True)
        if head.status == "success":
            logs[str((head.eval.metadata or {}).get("candidate", f.stem))] = f
    if not logs:
        raise SystemExit(f"no finished stage-1 log in {folder}")
    return stage1_records(logs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="simulated patient fidelity")
    ap.add_argument("--scenarios", choices=("quickstart", "all"), default="quickstart")
    ap.add_argument("--candidates", default="smollm2-therapist,smollm2-advice,smollm2-plain")
    ap.add_argument("--simulators", default=",".join(SIMULATORS))
    ap.add_argument("--references-only", action="store_true")
    ap.add_argument("--out", default=None, help="also write the per-turn rows here (parquet)")
    ap.add_argument("--work", default=None, help="folder for the logs and the call cache (default: a new temp dir)")
    ap.add_argument("--from-logs", action="store_true", help="measure the logs already in --work, generate nothing")
    a = ap.parse_args(argv)
    header("simulator fidelity (harness.fidelity classifiers trained on AnnoMI; scenarios bundled, project-written)")
    cfg, _ = load_run_config(config_file("quickstart"))
    ids = list(cfg.data.scenario_ids) if a.scenarios == "quickstart" and cfg.data.scenario_ids else None
    tables: list[pd.DataFrame] = []
    per_turn: list[pd.DataFrame] = []
    runs: list[tuple[str, list[DialogueRecord]]] = references(ids, cfg.run.seed)
    if not a.references_only:
        work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="simfid-"))
        work.mkdir(parents=True, exist_ok=True)
        print(f"# logs and cache in {work}", flush=True)
        import os

        os.environ.setdefault("INSPECT_CACHE_DIR", str(work / "cache"))  # candidate replies shared across runs
        for name in a.simulators.split(","):
            t0 = time.perf_counter()
            if a.from_logs:
                recs = from_logs(work / name.replace(" ", "_"))
            else:
                recs = embedded(name, SIMULATORS[name], ids, a.candidates.split(","), work)
            print(f"# {name}: {len(recs)} dialogues in {time.perf_counter() - t0:.0f} s", flush=True)
            runs.append((name, recs))
    for name, recs in runs:
        rows = fidelity_rows(recs).assign(simulator=name)
        per_turn.append(rows)
        tables.append(fidelity_table(rows, ("simulator",)))
    table = pd.concat(tables, ignore_index=True)
    ref = reference_row()
    table = pd.concat([table, pd.DataFrame([{"simulator": "AnnoMI clients (real, 5+ words)", **ref}])],
                      ignore_index=True)
    table = table.reindex(columns=COLUMNS)
    counts = ["dialogues", "follow_ups", "crisis_dialogues", "persona_dialogues", "regenerated", "fallback", "flagged"]
    table[counts] = table[counts].astype("Int64")
    print(f"# scenarios: {a.scenarios} ({'all 76 bundled' if ids is None else len(ids)}); turns 2 (one simulated "
          "follow-up per dialogue)")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    if a.out:
        pd.concat(per_turn, ignore_index=True).to_parquet(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

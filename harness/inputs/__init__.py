"""Inputs: the run config, scenarios, personas (and the survey they come from), criteria sets, imported
responses, the persona-to-scenario assignment, and the bundled data (``data/``, ``configs/``).

Reads: user-written files (TOML, JSONL, CSV, EPITOME, HF datasets) and the bundled data; validates every one of
them up front (one :class:`~harness.core.InputError` per problem). Writes: only what a caller asks for
(``write_personas_jsonl``). May import: ``harness.core``.
"""

from harness.inputs._assignment import assign_personas, dialogue_sample_id
from harness.inputs._batch import BATCH_PROVIDERS, BatchSpec
from harness.inputs._config import (
    BUILTIN_CONFIGS,
    BUILTIN_SMOLLM2,
    STRUCTURED_PROVIDERS,
    CandidateSpec,
    DataSpec,
    DialogueSpec,
    GateSpec,
    JudgeSpec,
    ModelSpec,
    NamedJudgeSpec,
    PatientSpec,
    RunConfig,
    RunSpec,
    SafetySpec,
    config_file,
    load_run_config,
    redact,
    structured_by_default,
)
from harness.inputs._criteria import CriteriaSet, Criterion, builtin_criteria_sets, load_criteria
from harness.inputs._personas import ATTITUDES, IMPORTANCE_CRITERIA, Persona, load_personas_file
from harness.inputs._pricing import ModelPrice, config_models, format_usd
from harness.inputs._responses import load_responses
from harness.inputs._scenarios import RISK_LEVELS, Scenario, load_scenarios_file, select_scenarios
from harness.inputs._sources import DATA_DIR, EPITOME_FILES, epitome_split, resolve_personas, resolve_scenarios
from harness.inputs._survey import SURVEY_COLUMNS, personas_from_survey, write_personas_jsonl

__all__ = [
    "ATTITUDES",
    "BATCH_PROVIDERS",
    "BUILTIN_CONFIGS",
    "BUILTIN_SMOLLM2",
    "DATA_DIR",
    "EPITOME_FILES",
    "IMPORTANCE_CRITERIA",
    "RISK_LEVELS",
    "STRUCTURED_PROVIDERS",
    "SURVEY_COLUMNS",
    "BatchSpec",
    "CandidateSpec",
    "CriteriaSet",
    "Criterion",
    "DataSpec",
    "DialogueSpec",
    "GateSpec",
    "JudgeSpec",
    "ModelPrice",
    "ModelSpec",
    "NamedJudgeSpec",
    "PatientSpec",
    "Persona",
    "RunConfig",
    "RunSpec",
    "SafetySpec",
    "Scenario",
    "assign_personas",
    "builtin_criteria_sets",
    "config_models",
    "format_usd",
    "config_file",
    "dialogue_sample_id",
    "epitome_split",
    "load_criteria",
    "load_personas_file",
    "load_responses",
    "load_run_config",
    "load_scenarios_file",
    "personas_from_survey",
    "redact",
    "resolve_personas",
    "resolve_scenarios",
    "select_scenarios",
    "structured_by_default",
    "write_personas_jsonl",
]

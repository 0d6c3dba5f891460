"""Simulated-patient fidelity: does the stage-1 patient stay a patient, keep its crisis, its persona, and talk
like a real client?

Two small classifiers trained on AnnoMI (therapist vs client; change / neutral / sustain talk), shipped in
``harness/fidelity/data/`` with a data card, plus documented rule checks (crisis persistence, persona facts) and
the simulator helpers stage 1 uses to keep a small model in role (patient prompt, received-speech framing,
stop sequences, scripted fallback).

Reads: the bundled classifier files; AnnoMI only when retraining (``scripts/train_fidelity.py``). Writes: the
classifier files (training only). May import: ``harness.reward_heads``, ``harness.inputs``, ``harness.core``.
"""

from harness.fidelity._annomi import (
    ANNOMI_COMMIT,
    ANNOMI_STATEMENT,
    REFERENCE_FILE,
    TALK_TYPES,
    load_annomi,
    load_reference,
    train_bundled,
)
from harness.fidelity._classifier import (
    DATA_DIR,
    ROLE_CLASSIFIER,
    TALK_TYPE_CLASSIFIER,
    UtteranceClassifier,
    fit_classifier,
    load_classifier,
    role_classifier,
    talk_type_classifier,
)
from harness.fidelity._crisis import (
    CRISIS_RISKS,
    CrisisPersistence,
    CrisisTurn,
    crisis_cues,
    crisis_persistence,
)
from harness.fidelity._measure import (
    FIDELITY_COLUMNS,
    GUARD_OUTCOMES,
    ROLE_THRESHOLD,
    DialogueRecord,
    RoleCheck,
    check_role,
    fidelity_rows,
    fidelity_table,
    format_fidelity,
    reference_row,
    simulated_turns,
)
from harness.fidelity._persona import Contradiction, PersonaAdherence, persona_adherence, persona_facts, stated_ages
from harness.fidelity._simulator import (
    STOP_SEQUENCES,
    clean_patient_text,
    patient_messages,
    patient_state,
    patient_system_prompt,
    received_speech,
    scripted_patient_turn,
)
from harness.fidelity._text import ROLE_BREAK_PATTERNS, is_question, role_break_reasons, word_count

__all__ = [
    "ANNOMI_COMMIT",
    "ANNOMI_STATEMENT",
    "CRISIS_RISKS",
    "DATA_DIR",
    "FIDELITY_COLUMNS",
    "GUARD_OUTCOMES",
    "ROLE_THRESHOLD",
    "REFERENCE_FILE",
    "ROLE_BREAK_PATTERNS",
    "ROLE_CLASSIFIER",
    "STOP_SEQUENCES",
    "TALK_TYPES",
    "TALK_TYPE_CLASSIFIER",
    "Contradiction",
    "CrisisPersistence",
    "CrisisTurn",
    "DialogueRecord",
    "PersonaAdherence",
    "RoleCheck",
    "UtteranceClassifier",
    "check_role",
    "clean_patient_text",
    "crisis_cues",
    "crisis_persistence",
    "fidelity_rows",
    "fidelity_table",
    "fit_classifier",
    "format_fidelity",
    "is_question",
    "load_annomi",
    "load_classifier",
    "load_reference",
    "patient_messages",
    "patient_state",
    "patient_system_prompt",
    "persona_adherence",
    "persona_facts",
    "received_speech",
    "reference_row",
    "role_break_reasons",
    "role_classifier",
    "scripted_patient_turn",
    "simulated_turns",
    "stated_ages",
    "talk_type_classifier",
    "train_bundled",
    "word_count",
]

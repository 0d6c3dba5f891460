"""Survey CSV -> personas: one `Persona` per respondent row, with strict, row-level validation."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.core import InputError
from harness.inputs._personas import ATTITUDES, IMPORTANCE_CRITERIA, Persona

SEVERITIES: tuple[str, ...] = ("none", "mild", "moderate", "severe")
LIKERT: tuple[str, ...] = ("strongly agree", "agree", "neutral", "disagree", "strongly disagree")

# Column order of the bundled survey (harness/inputs/data/survey.csv); the header must contain all of them
# except OPTIONAL_COLUMNS, in any order, and may carry extra columns (ignored).
SURVEY_COLUMNS: tuple[str, ...] = (
    "respondent_id", "age_group", "gender", "ethnicity", "diagnoses", "severity", "current_treatment",
    "ai_experience",
    *(f"ai_{k}" for k in ATTITUDES),
    *(f"importance_{k}" for k in IMPORTANCE_CRITERIA),
    "helpful_areas", "appropriate_uses", "communication_style",
)
OPTIONAL_COLUMNS: frozenset[str] = frozenset({"communication_style"})
# `;`-separated cells; an empty cell means "none given".
LIST_COLUMNS: frozenset[str] = frozenset({"diagnoses", "ai_experience", "helpful_areas", "appropriate_uses"})

_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _norm(name: str) -> str:
    return name.strip().casefold()


def _split(cell: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in cell.split(";") if x.strip())


def _resolve_header(
    p: Path, fieldnames: list[str], columns: Mapping[str, str] | None,
) -> dict[str, str]:
    """Map each of our column names to the exact header string used in the file."""
    mapping = dict(columns or {})
    unknown = sorted(set(mapping) - set(SURVEY_COLUMNS))
    if unknown:
        raise InputError(p, "columns", unknown, "unknown column name(s) in the `columns` mapping",
                         f"map only these names: {', '.join(SURVEY_COLUMNS)}")
    by_norm: dict[str, str] = {}
    for h in fieldnames:
        key = _norm(h)
        if key in by_norm:
            raise InputError(p, "header", h, f"duplicate column (same as {by_norm[key]!r})",
                             "give each column a distinct name")
        by_norm[key] = h
    out: dict[str, str] = {}
    for ours in SURVEY_COLUMNS:
        wanted = mapping.get(ours, ours)
        actual = by_norm.get(_norm(wanted))
        if actual is not None:
            out[ours] = actual
        elif ours in mapping:
            raise InputError(p, "header", wanted, f"missing column (mapped from {ours!r})",
                             "check the mapped name against the file's header row")
        elif ours not in OPTIONAL_COLUMNS:
            raise InputError(p, "header", wanted, "missing column",
                             f"add column {wanted!r}, or map it with columns={{{ours!r}: '<your header>'}}")
    return out


def personas_from_survey(
    path: str | Path, *, prefix: str = "persona", columns: Mapping[str, str] | None = None,
) -> list[Persona]:
    """Build one `Persona` per data row of a survey CSV (UTF-8, optional BOM), in file order.

    Ids are ``f"{prefix}_{n:03d}"`` with ``n`` the data-row number counted from 1. Expected columns are
    `SURVEY_COLUMNS` (header names match ignoring surrounding whitespace and case; extra columns are
    ignored; `communication_style` may be absent). `;` separates items in diagnoses, ai_experience,
    helpful_areas and appropriate_uses, which may be empty. severity is none/mild/moderate/severe, the
    ai_* cells are Likert answers (strongly agree .. strongly disagree, any case) and importance_* are
    integers 1-5.

    ``columns`` maps our column names to your own header names, for a survey export with its own
    headings, e.g. ``{"age_group": "1. What is your age group?", "importance_empathy": "Q8 Empathy"}``;
    unmapped columns keep our names. Every problem raises `InputError` naming the file, row, column and
    value.
    """
    p = Path(path)
    if not _ID_RE.match(prefix):
        raise InputError(None, "prefix", prefix, "not a valid persona-id prefix",
                         "use letters, digits, '_', '.' or '-'")
    if not p.is_file():
        raise InputError(p, "path", str(p), "file not found", "point at an existing survey .csv file")
    if p.suffix.lower() != ".csv":
        raise InputError(p, "suffix", p.suffix, "unsupported survey file type", "export the survey as .csv")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(p, "encoding", e.object[max(0, e.start - 10):e.end + 10], "file is not UTF-8",
                         "re-export the CSV as UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise InputError(p, "header", None, "empty file (no header row)",
                         f"start the file with a header row: {','.join(SURVEY_COLUMNS)}")
    header = _resolve_header(p, list(reader.fieldnames), columns)
    n_cols = len(reader.fieldnames)

    personas: list[Persona] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(reader, start=1):
        at = f"row {n} (line {reader.line_num})"
        extra_cells: list[Any] = row.pop(None, None) or []  # type: ignore[assignment]  # DictReader restkey
        missing_cells = sum(v is None for v in row.values())
        if extra_cells or missing_cells:
            got = n_cols + len(extra_cells) - missing_cells
            raise InputError(p, at, got, f"row has {got} cells but the header has {n_cols}",
                             "quote cells that contain commas and give every row one cell per column")
        personas.append(_persona(p, n, at, row, header, prefix))
        rid = row[header["respondent_id"]].strip()
        if rid in seen:
            raise InputError(p, f"{at}, column {header['respondent_id']!r}", rid,
                             f"duplicate respondent_id (first in row {seen[rid]})",
                             "give each respondent a unique id")
        seen[rid] = n
    if not personas:
        raise InputError(p, "rows", 0, "no respondent rows found",
                         "add at least one data row below the header")
    return personas


def _persona(p: Path, n: int, at: str, row: dict[str, str], header: dict[str, str], prefix: str) -> Persona:
    def where(col: str) -> str:
        return f"{at}, column {header[col]!r}"

    def cell(col: str, *, required: bool = True) -> str:
        if col not in header:
            return ""
        value = row[header[col]].strip()
        if required and not value:
            raise InputError(p, where(col), value, "empty cell",
                             f"fill in {header[col]!r} for every respondent")
        return value

    for col in ("respondent_id", "age_group", "gender", "ethnicity"):
        cell(col)
    severity = cell("severity").casefold()
    if severity not in SEVERITIES:
        raise InputError(p, where("severity"), row[header["severity"]], "unknown severity",
                         f"use one of {', '.join(SEVERITIES)}")
    attitudes: dict[str, Any] = {}
    for key in ATTITUDES:
        col = f"ai_{key}"
        answer = " ".join(cell(col).casefold().split())
        if answer not in LIKERT:
            raise InputError(p, where(col), row[header[col]], "unknown Likert answer",
                             f"use one of {', '.join(LIKERT)}")
        attitudes[key] = answer
    importance: dict[str, int] = {}
    for key in IMPORTANCE_CRITERIA:
        col = f"importance_{key}"
        raw = cell(col)
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if not number.is_integer() or not 1 <= number <= 5:
            raise InputError(p, where(col), raw, "importance must be a whole number from 1 to 5",
                             "rate each importance 1 (not important) to 5 (very important)")
        importance[key] = int(number)
    style = cell("communication_style", required=False)
    extra: dict[str, Any] = {"communication_style": style} if style else {}
    return Persona.model_validate({
        "id": f"{prefix}_{n:03d}",
        "age_group": cell("age_group"),
        "gender": cell("gender"),
        "ethnicity": cell("ethnicity"),
        "diagnoses": _split(cell("diagnoses", required=False)),
        "severity": severity,
        "treatment": cell("current_treatment"),
        "ai_experience": _split(cell("ai_experience", required=False)),
        "ai_attitudes": attitudes,
        "importance": importance,
        "helpful_areas": _split(cell("helpful_areas", required=False)),
        "appropriate_uses": _split(cell("appropriate_uses", required=False)),
        **extra,
    })


def write_personas_jsonl(personas: Iterable[Persona], path: str | Path) -> Path:
    """Write personas as JSONL (one ``model_dump(mode="json")`` per line, sorted keys); byte-deterministic."""
    p = Path(path)
    lines = [json.dumps(x.model_dump(mode="json"), sort_keys=True, ensure_ascii=False) + "\n"
             for x in personas]
    with p.open("w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(lines)
    return p

"""Packet keys, clinician ratings and unblinding.

A *packet* (``theraeval packets``, :func:`harness.calibration.export_packets`) shows clinicians items
``item-0001, ...``: two anonymous responses, "A" and "B", to one scenario. Which candidate was shown as A is
decided per item by a seeded coin and recorded only in the *key* file (``key.csv``), never in the form.
Clinicians return ratings in long format::

    item_id,rater_id,criterion,label
    item-0001,clin-01,empathy,A

:func:`load_ratings` validates every row up front (one-line :class:`~harness.core.InputError` naming file,
field, value and fix) and *unblinds* each label through the key: ``A`` on an item whose key says candidate X was
shown as A means X is preferred. The result is re-expressed in the verdict table's space (``verdict`` = ``A``
when the verdict table's ``candidate_a`` is preferred), so it compares directly with the judge's ``combined``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from harness.core import InputError
from harness.stats import head_to_heads, majority_vote

logger = logging.getLogger(__name__)

KEY_COLUMNS: tuple[str, ...] = (
    "item_id", "packet_id", "run", "judge", "candidate_a", "candidate_b", "shown_as_a", "shown_as_b",
    "scenario_id", "scenario_risk", "persona_id", "criteria", "stage2_log", "stage2_sample",
)
"""Columns of ``key.csv``. ``candidate_a``/``candidate_b`` are the verdict table's pair; ``shown_as_a``/
``shown_as_b`` what the form showed; ``criteria`` the ``;``-separated criteria rated on the item; ``persona_id``
the dialogue's persona ("" for single-turn items); ``stage2_log``/``stage2_sample`` point at the judge's
stage-2 log and sample id(s) (``;``-separated when several judge personas voted)."""
RATING_COLUMNS: tuple[str, ...] = ("item_id", "rater_id", "criterion", "label")
"""Columns of a ratings CSV (long format; extra columns such as ``notes`` are ignored)."""
LABELS: tuple[str, ...] = ("A", "B", "tie")
RATINGS_TABLE_COLUMNS: tuple[str, ...] = (
    "item_id", "rater_id", "criterion", "label", "preferred", "verdict", "run", "candidate_a", "candidate_b",
    "shown_as_a", "shown_as_b", "scenario_id", "scenario_risk", "persona_id",
)
"""Columns returned by :func:`load_ratings`: ``label`` as written (form space), ``preferred`` the candidate
name or ``tie``, ``verdict`` in the verdict table's space (A = ``candidate_a`` preferred)."""
ITEM_KEY: tuple[str, ...] = ("run", "candidate_a", "candidate_b", "scenario_id", "persona_id")
"""Columns that identify one packet item in the verdict table."""

_LABEL_SPELLINGS = {"a": "A", "b": "B", "tie": "tie"}
_FIX_KEY = "pass the key.csv that `theraeval packets` wrote for these forms (default <run>/packets/key.csv)"


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    """A CSV as strings ("" for blanks; BOM from spreadsheet exports tolerated)."""
    if not path.is_file():
        fix = _FIX_KEY if what == "key" else "pass the ratings CSV (or a folder of them) returned by the clinicians"
        raise InputError(path, what, str(path), f"{what} file not found", fix)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(path, what, "", "the file is empty",
                         "export the ratings with the header item_id,rater_id,criterion,label" if what != "key"
                         else _FIX_KEY) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(path, what, str(e).splitlines()[0][:80], "not a readable UTF-8 CSV",
                         "save the sheet as CSV (UTF-8, comma-separated)") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip())


def read_key(path: str | Path) -> pd.DataFrame:
    """Read and validate a packet key (``KEY_COLUMNS``); one row per item.

    Raises:
        InputError: missing or empty file, missing columns, a repeated ``item_id``, an item whose shown
            candidates are not its pair, or an item without criteria.
    """
    path = Path(path)
    key = _read_csv(path, "key")
    missing = [c for c in KEY_COLUMNS if c not in key.columns]
    if missing:
        raise InputError(path, "columns", missing, f"not a packet key (it has {list(key.columns)[:8]})", _FIX_KEY)
    if key.empty:
        raise InputError(path, "key", "", "the key has no items", _FIX_KEY)
    dup = key["item_id"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(path, f"line {i + 2} item_id", key["item_id"].iloc[i], "item listed twice in the key",
                         "restore the key.csv written by `theraeval packets`; it lists each item once")
    for i, row in enumerate(key.itertuples(index=False)):
        if {row.shown_as_a, row.shown_as_b} != {row.candidate_a, row.candidate_b} or row.shown_as_a == row.shown_as_b:
            raise InputError(path, f"line {i + 2} shown_as_a", row.shown_as_a,
                             f"the shown candidates are not the item's pair ({row.candidate_a}, {row.candidate_b})",
                             "restore the key.csv written by `theraeval packets` (it must not be edited)")
        if not row.item_id or not row.criteria:
            field = "item_id" if not row.item_id else "criteria"
            raise InputError(path, f"line {i + 2} {field}", "", "empty", "restore the key.csv written by "
                             "`theraeval packets` (it must not be edited)")
    return key[list(KEY_COLUMNS)].reset_index(drop=True)


def _rating_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not files:
            raise InputError(path, "ratings", str(path), "the folder holds no .csv file",
                             "put the clinicians' ratings CSVs (item_id,rater_id,criterion,label) in it")
        return files
    return [path]


def _validate_rows(file: Path, frame: pd.DataFrame, key: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in RATING_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(file, "columns", missing, f"missing column(s); the file has {list(frame.columns)[:8]}",
                         "use the header item_id,rater_id,criterion,label (as in ratings_template.csv)")
    items = dict(zip(key["item_id"], key["criteria"].str.split(";"), strict=True))
    rows = frame[list(RATING_COLUMNS)].copy()
    rows["line_no"] = range(2, len(rows) + 2)
    blank = rows["label"] == ""
    for row in rows.itertuples(index=False):
        line = row.line_no
        if row.label == "" and row.rater_id == "":
            continue  # an unfilled template row
        if row.item_id not in items:
            raise InputError(file, f"line {line} item_id", row.item_id, "unknown item (not in the key)",
                             "rate only items of this packet, and pass the key written with its form")
        if row.criterion not in items[row.item_id]:
            raise InputError(file, f"line {line} criterion", row.criterion,
                             f"unknown criterion for {row.item_id}; the packet has {items[row.item_id]}",
                             "spell the criterion as in ratings_template.csv")
        if row.rater_id == "":
            raise InputError(file, f"line {line} rater_id", "", "missing rater id",
                             "write the same rater id (e.g. clin-01) on every row a clinician rated")
        if row.label != "" and row.label.lower() not in _LABEL_SPELLINGS:
            raise InputError(file, f"line {line} label", row.label, "not a label",
                             "write A (response A better), B (response B better) or tie")
    kept = rows[~blank].copy()
    kept["label"] = kept["label"].str.lower().map(_LABEL_SPELLINGS)
    kept["file_name"] = str(file)
    return kept


def load_ratings(path: str | Path, key_path: str | Path) -> pd.DataFrame:
    """Load, validate and unblind clinician ratings.

    Args:
        path: a long-format CSV (``RATING_COLUMNS``), or a folder whose ``*.csv`` files are read together (one
            per clinician, say). Labels are ``A``, ``B`` or ``tie`` (any case); a row with an empty label is
            an unrated item and is skipped; extra columns are ignored.
        key_path: the packet's ``key.csv`` (:func:`read_key`).

    Returns:
        DataFrame with ``RATINGS_TABLE_COLUMNS``, sorted by criterion, item and rater: ``preferred`` is the
        candidate the label points at through the key (or ``tie``); ``verdict`` re-expresses it in the verdict
        table's space (``A`` = the key's ``candidate_a`` preferred).

    Raises:
        InputError: a missing or empty file, missing columns, an unknown item or criterion, a bad label, a
            missing rater id, a rater rating the same item and criterion twice, no rating at all, or an invalid
            key. Every message names file, field (with line number) and value.
    """
    key_path = Path(key_path)
    path = Path(path)
    if not key_path.is_file():
        raise InputError(key_path, "key", str(key_path), "key file not found", _FIX_KEY)
    files = _rating_files(path)
    for f in files:
        if not f.is_file():
            raise InputError(f, "ratings", str(f), "ratings file not found",
                             "pass the ratings CSV (or a folder of them) returned by the clinicians")
    key = read_key(key_path)
    parts = [_validate_rows(f, _read_csv(f, "ratings"), key) for f in files]
    ratings = pd.concat(parts, ignore_index=True)
    if ratings.empty:
        raise InputError(path, "label", "", "no rating in the file (every label is empty)",
                         "fill in A, B or tie in the label column, with your rater id")
    dup = ratings.duplicated(["rater_id", "item_id", "criterion"], keep="first")
    if dup.any():
        row = ratings[dup].iloc[0]
        raise InputError(row["file_name"], f"line {row['line_no']} rater_id", row["rater_id"],
                         f"rated {row['item_id']} / {row['criterion']} twice",
                         "keep one rating per rater, item and criterion (delete the other row)")
    merged = ratings.merge(key, on="item_id", how="left", validate="many_to_one")
    swapped = merged["shown_as_a"] != merged["candidate_a"]
    merged["preferred"] = merged["label"].map({"tie": "tie"}).fillna("")
    merged.loc[merged["label"] == "A", "preferred"] = merged.loc[merged["label"] == "A", "shown_as_a"]
    merged.loc[merged["label"] == "B", "preferred"] = merged.loc[merged["label"] == "B", "shown_as_b"]
    flip = {"A": "B", "B": "A", "tie": "tie"}
    merged["verdict"] = merged["label"].where(~swapped, merged["label"].map(flip))
    out = merged[list(RATINGS_TABLE_COLUMNS)].sort_values(["criterion", "item_id", "rater_id"], kind="stable")
    return out.reset_index(drop=True)


def unblind_label(label: str, shown_as_a: str, candidate_a: str) -> str:
    """A form label (A/B/tie) as a verdict-table label: flipped when the pair's ``candidate_a`` was shown as B."""
    if label not in LABELS:
        raise ValueError(f"`label` must be one of {list(LABELS)}; got {label!r}")
    if shown_as_a == candidate_a or label == "tie":
        return label
    return "B" if label == "A" else "A"


def item_verdicts(verdicts: pd.DataFrame, *, collapse_personas: bool) -> pd.DataFrame:
    """The judge's verdict per packet item and criterion, with the stage-2 references for the key.

    Args:
        verdicts: the verdict table (``verdicts.parquet``).
        collapse_personas: True when items are persona-free (single-turn dialogues: every judge persona judged
            the same two responses): the personas' combined verdicts are reduced to one by
            :func:`harness.stats.majority_vote` (the paper's unit) and ``persona_id`` is "". False for
            multi-turn runs, where each persona has its own dialogue and item.

    Returns:
        DataFrame with ``ITEM_KEY``, ``judge``, ``scenario_risk``, ``criterion``, ``verdict`` (A/B/tie/unscored,
        candidate space), ``stage2_log`` and ``stage2_sample``.

    Raises:
        ValueError: the verdict table is malformed (see :func:`harness.stats.head_to_heads`).
    """
    h2h = head_to_heads(verdicts)
    if collapse_personas:
        h2h = majority_vote(h2h)
    group = ["run", "candidate_a", "candidate_b", "scenario_id"] + ([] if collapse_personas else ["persona_id"])
    refs_src = verdicts.assign(
        run=verdicts["run"].astype(str) if "run" in verdicts.columns else "",
        persona_id=verdicts["persona_id"].fillna("").astype(str) if "persona_id" in verdicts.columns else "",
        stage2_log=verdicts["stage2_log"].astype(str) if "stage2_log" in verdicts.columns else "",
        stage2_sample=verdicts["stage2_sample"].astype(str) if "stage2_sample" in verdicts.columns else "",
    )
    refs = refs_src.groupby(group, sort=True).agg(
        stage2_log=("stage2_log", lambda s: ";".join(dict.fromkeys(s))),
        stage2_sample=("stage2_sample", lambda s: ";".join(dict.fromkeys(s))),
    ).reset_index()
    out = h2h.merge(refs, on=group, how="left")
    out["persona_id"] = out["persona_id"].fillna("").astype(str)
    out = out.rename(columns={"outcome": "verdict"})
    return out[[*ITEM_KEY, "judge", "scenario_risk", "criterion", "verdict", "stage2_log", "stage2_sample"]]

"""Resolve the `scenarios` / `personas` specs of a config or task to validated objects.

Scenario specs: `builtin` (bundled), a `.jsonl`/`.json`/`.csv` path, `hf:<dataset or local dir>[:split]`
(a Hugging Face dataset with `id` and `text` columns; offline: local or cached only), or
`epitome:<dir>[:train|test|all]` (the user's copy of the EPITOME Reddit CSVs, split as in the paper).
Persona specs: `builtin` or a `.jsonl` path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from harness.core import InputError
from harness.inputs._personas import Persona, load_personas_file
from harness.inputs._scenarios import Scenario, _validated, load_scenarios_file

DATA_DIR = Path(__file__).resolve().parent / "data"
EPITOME_FILES = ("emotional-reactions-reddit.csv", "interpretations-reddit.csv", "explorations-reddit.csv")


def epitome_split(directory: str | Path, part: str = "test", *, test_size: int = 600,
                  seed: int = 42) -> list[Scenario]:
    """The paper's EPITOME question split (Beikzadeh et al. 2026, arXiv:2602.16053; data/prepare_dataset.py in
    github.com/mehrabbz/MODPO-Therapeutic-AI).

    Concatenate the three Reddit CSVs (emotional reactions first), drop NA, dedupe on `sp_id`, keep posts
    of 10-2000 characters and at least 3 words, then `train_test_split(test_size=600, random_state=42)`
    stratified on length quartiles: 2,979 posts -> 2,379 train / 600 test. EPITOME is not shipped
    (academic licence); point at your own copy.
    """
    from sklearn.model_selection import train_test_split

    d = Path(directory)
    frames = []
    for name in EPITOME_FILES:
        f = d / name
        if not f.is_file():
            raise InputError(f, "path", str(f), "EPITOME file not found",
                             f"point `epitome:<dir>` at a folder holding {', '.join(EPITOME_FILES)}")
        df = pd.read_csv(f)
        if not {"sp_id", "seeker_post"} <= set(df.columns):
            raise InputError(f, "header", list(df.columns), "missing sp_id/seeker_post columns",
                             "use the unmodified EPITOME Reddit CSVs")
        frames.append(df[["sp_id", "seeker_post"]])
    posts = pd.concat(frames).dropna().drop_duplicates("sp_id").reset_index(drop=True)
    n_chars = posts["seeker_post"].str.len()
    posts = posts[(n_chars >= 10) & (n_chars <= 2000) & (posts["seeker_post"].str.split().str.len() >= 3)]
    posts = posts.reset_index(drop=True)
    quartile = pd.qcut(posts["seeker_post"].str.len(), q=4, labels=False, duplicates="drop")
    train, test = train_test_split(posts, test_size=test_size, random_state=seed, stratify=quartile)
    chosen = {"train": train, "test": test, "all": posts}.get(part)
    if chosen is None:
        raise InputError(None, "epitome split", part, "unknown split", "use train, test or all")
    rows = [(f"sp_id {r.sp_id}", {"id": f"epitome-{r.sp_id}", "text": r.seeker_post, "source": "epitome"})
            for r in chosen.itertuples()]
    return _validated(rows, d)


def _hf_scenarios(spec: str) -> list[Scenario]:
    name, _, split = spec.partition(":")
    try:
        import datasets
    except ImportError:
        raise InputError(None, "scenarios", f"hf:{spec}", "the `datasets` package is not installed",
                         "pip install 'theraeval[train]'") from None
    try:
        ds: Any = (datasets.load_from_disk(name) if Path(name).is_dir()
                   else datasets.load_dataset(name, split=split or "train"))
        if isinstance(ds, datasets.DatasetDict):
            ds = ds[split or "train"]
    except Exception as e:  # noqa: BLE001 - any loading failure becomes one clear line
        raise InputError(None, "scenarios", f"hf:{spec}", f"could not load the dataset ({type(e).__name__}: {e})",
                         "use a local dataset folder (save_to_disk) or one in the HF cache; the hub is offline") from e
    missing = {"id", "text"} - set(ds.column_names)
    if missing:
        raise InputError(name, "columns", ds.column_names, f"missing column(s) {sorted(missing)}",
                         "rename columns to id and text (and optionally risk, source, tags)")
    keep = [c for c in ("id", "text", "risk", "source", "tags") if c in ds.column_names]
    rows = [(f"row {i}", {k: r[k] for k in keep}) for i, r in enumerate(ds)]
    return _validated(rows, name)


def resolve_scenarios(spec: str, base_dir: Path | None = None) -> list[Scenario]:
    """Load scenarios from a spec (see module docstring); relative paths are relative to `base_dir`."""
    if spec == "builtin":
        return load_scenarios_file(DATA_DIR / "scenarios.jsonl")
    if spec.startswith("hf:"):
        return _hf_scenarios(spec[3:])
    if spec.startswith("epitome:"):
        directory, _, part = spec[len("epitome:"):].partition(":")
        return epitome_split(_rel(directory, base_dir), part or "test")
    return load_scenarios_file(_rel(spec, base_dir))


def resolve_personas(spec: str, base_dir: Path | None = None) -> list[Persona]:
    """Load personas from `builtin` or a `.jsonl` path."""
    if spec == "builtin":
        return load_personas_file(DATA_DIR / "personas.jsonl")
    return load_personas_file(_rel(spec, base_dir))


def _rel(path: str, base_dir: Path | None) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() or base_dir is None else base_dir / p

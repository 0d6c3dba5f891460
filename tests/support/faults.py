"""Shared pieces of the reliability tests: the fault-server run config, table comparison, file scans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import zipfile_zstd  # noqa: F401  # registers Zstandard (inspect compresses .eval members with it) in zipfile

from harness.cli import main
from tests.support.run import SCENARIOS

KEY_COLUMNS = ["candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion", "order"]
"""One verdict row per value of these (pair x scenario x persona x criterion x order)."""
IGNORED_COLUMNS = ["stage2_log"]
"""Columns that name files (log names carry a timestamp), so differ between equivalent runs."""
CANDIDATES = 3
CRITERIA = ("empathy", "safety")
EXPECTED_ROWS = 3 * len(SCENARIOS) * 1 * len(CRITERIA) * 2  # pairs x scenarios x personas x criteria x orders
STAGE1_SERVER_CALLS = 2 * len(SCENARIOS) * 2 + CANDIDATES * len(SCENARIOS) * 1  # 2 API candidates x 2 turns + patient
STAGE2_SERVER_CALLS = EXPECTED_ROWS  # one judge call per (criterion, order)


JUDGE_CLIENT_ENV = "THERAEVAL_TEST_JUDGE_CLIENT"
"""Set to `direct` (or `auto`) to run the reliability tests' judge on that `[judge] client`."""


def judge_on_direct_client() -> bool:
    """Whether the reliability run's judge uses the direct judge client (:data:`JUDGE_CLIENT_ENV`)."""
    from harness.inputs import JudgeSpec

    client = os.environ.get(JUDGE_CLIENT_ENV) or "inspect"
    return JudgeSpec(model="openai-api/fault/judge-longer", client=client).uses_direct_client()  # type: ignore[arg-type]


def fault_config(tmp: Path, *, name: str = "r", judge: str = "openai-api/fault/judge-longer", extra_run: str = "",
                 extra_candidates: str = "", extra_judge: str = "", attempt_timeout: float = 2) -> Path:
    """The reliability run: 2 turns, 3 candidates (2 on the fault server, `long` streamed; 1 scripted), the
    patient and the judge on the fault server, 3 scenarios x 1 persona x 2 criteria. `attempt_timeout`: 2 s cuts
    the server's 3-s hangs short; a fault-free run can afford more, so a loaded machine does not time out (and
    rightly resend) calls the server answered late."""
    scen = tmp / "scenarios.jsonl"
    scen.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    if "client" not in extra_judge:  # inspect's path unless the environment picks another judge client
        extra_judge = f'{extra_judge}\nclient = "{os.environ.get(JUDGE_CLIENT_ENV) or "inspect"}"'.lstrip()
    text = f"""[run]
name = "{name}"
output_dir = "{tmp / "runs"}"
attempt_timeout = {attempt_timeout:g}
max_retries = 10
{extra_run}
[data]
scenarios = "{scen}"
personas_per_scenario = 1
criteria_ids = {json.dumps(list(CRITERIA))}

[dialogue]
turns = 2

[patient]
model = "openai-api/fault/patient"
on_role_break = "flag"       # one patient call per follow-up (the fault server's patient text is not a client's)

[judge]
model = "{judge}"
{extra_judge}

[[candidates]]
name = "short"
model = "openai-api/fault/cand-short"

[[candidates]]
name = "long"
model = "openai-api/fault/cand-long"
model_args = {{stream = true}}

[[candidates]]
name = "verbose"
model = "scripted/therapist-verbose"
{extra_candidates}"""
    cfg = tmp / f"{name}.toml"
    cfg.write_text(text)
    return cfg


def run_in_process(*argv: str) -> int:
    """`theraeval <argv>` in this process (the runner points INSPECT_CACHE_DIR at the run; restored after)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSPECT_CACHE_DIR", os.environ.get("INSPECT_CACHE_DIR", ""))
        return main(list(argv))


def theraeval_exe() -> str:
    """The `theraeval` console script of this environment."""
    exe = Path(sys.executable).parent / "theraeval"
    return str(exe) if exe.exists() else "theraeval"


def run_cli(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`theraeval <args>` as a subprocess (bounded in time)."""
    return subprocess.run([theraeval_exe(), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    """A verdict table without its file-name columns, in a canonical row order."""
    return df.drop(columns=IGNORED_COLUMNS).sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True)


def assert_complete(df: pd.DataFrame) -> None:
    """Every expected row is present exactly once."""
    assert len(df) == EXPECTED_ROWS, len(df)
    assert not df.duplicated(KEY_COLUMNS).any()
    sizes = df.groupby(KEY_COLUMNS[:4]).size()
    assert len(sizes) == 3 * len(SCENARIOS) and sizes.eq(len(CRITERIA) * 2).all()


@dataclass(frozen=True)
class CleanRun:
    """The fault-free reference run of :func:`fault_config`."""

    verdicts: pd.DataFrame
    transcripts: pd.DataFrame
    keys: frozenset[str]
    """Request bodies the server saw (each exactly once)."""
    stage1_keys: frozenset[str]
    seconds: float
    run_dir: Path
    """The run directory (its logs, tables and summary)."""


def leftovers(run_dir: Path) -> list[Path]:
    """Temporary files a killed writer can leave: ours (`.<name>.tmp`) and inspect's (`.inspect_tmp_*.writing`)."""
    return sorted(p for p in run_dir.rglob("*") if p.is_file() and (p.name.endswith(".tmp") or
                                                                    p.name.endswith(".writing")))


def file_texts(root: Path) -> Iterator[tuple[str, bytes]]:
    """(where, bytes) of every file under `root`, every member of every zip (.eval logs) and every parquet cell.

    Parquet pages are compressed, so their text is checked decoded; zip members are decompressed (a member
    that cannot be decompressed fails the scan rather than being skipped).
    """
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield str(path), data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    yield f"{path}!{member}", zf.read(member)
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
            yield f"{path} (decoded)", (" ".join(df.columns) + "\n" + df.astype(str).to_csv()).encode()


def record(name: str, **numbers: object) -> None:
    """Append measured numbers to $THERAEVAL_RELIABILITY_NUMBERS (a JSONL file) when it is set; they are quoted in
    docs/guarantees.md."""
    out = os.environ.get("THERAEVAL_RELIABILITY_NUMBERS")
    if out:
        with Path(out).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"test": name, **numbers}, default=str) + "\n")

"""Shared helpers of the benchmark scripts: machine description, synthetic scenarios, run configs, timing."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("INSPECT_LOG_LEVEL", "warning")

FEELINGS = ("anxious", "sad", "lonely", "angry", "overwhelmed", "stressed", "hopeless", "scared", "numb", "lost")
TOPICS = ("work", "my family", "school", "my friends", "money", "my health", "my partner", "the future")
THERAPEUTIC = ("empathy", "safety", "active_listening", "self_motivated_change", "trust_rapport",
               "patient_autonomy", "overall")


def machine() -> str:
    """One line: CPU model, cores, Python, date (UTC)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    today = _dt.datetime.now(_dt.UTC).date().isoformat()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {today}"


def header(title: str) -> None:
    print(f"# {title}")
    print(f"# machine: {machine()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")


def write_scenarios(path: Path, n: int) -> Path:
    """`n` synthetic single-message scenarios (ids s0000...), one in ten a crisis."""
    rows = []
    for i in range(n):
        f, t = FEELINGS[i % len(FEELINGS)], TOPICS[(i // len(FEELINGS)) % len(TOPICS)]
        risk = "crisis" if i % 10 == 9 else "low"
        rows.append({"id": f"s{i:04d}", "text": f"I have been feeling {f} about {t} lately (case {i}).",
                     "risk": risk})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_config(path: Path, *, name: str, output_dir: Path, scenarios: Path, candidates: dict[str, str],
                 judge: str = "openai-api/bench/judge", criteria: tuple[str, ...] = THERAPEUTIC,
                 granularity: str = "per_criterion", max_connections: int = 32, turns: int = 1,
                 patient: str | None = None, personas_per_scenario: int = 1, mode: str = "persona",
                 extra_run: str = "", extra_judge: str = "") -> Path:
    """A `theraeval run` config: candidates map name -> inspect model string; `extra_*`: lines added to a table."""
    crit = ", ".join(f'"{c}"' for c in criteria)
    text = (f'[run]\nname = "{name}"\noutput_dir = "{output_dir}"\nmax_connections = {max_connections}\n{extra_run}\n'
            f'[data]\nscenarios = "{scenarios}"\npersonas_per_scenario = {personas_per_scenario}\n'
            f'criteria_ids = [{crit}]\n\n[dialogue]\nturns = {turns}\n\n'
            f'[judge]\nmodel = "{judge}"\nmode = "{mode}"\ngranularity = "{granularity}"\n{extra_judge}')
    if patient:
        text += f'\n[patient]\nmodel = "{patient}"\n'
    for n, m in candidates.items():
        text += f'\n[[candidates]]\nname = "{n}"\nmodel = "{m}"\n'
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as t: ...` then `t[0]` is the wall time in seconds."""
    out: list[float] = []
    start = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - start)


def cpu_seconds(children: bool = True) -> float:
    """CPU seconds of this process and (`children`) of its finished child processes (stage-2 workers)."""
    usage = [resource.getrusage(resource.RUSAGE_SELF)] + (
        [resource.getrusage(resource.RUSAGE_CHILDREN)] if children else [])
    return sum(u.ru_utime + u.ru_stime for u in usage)


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, MiB (`ru_maxrss`, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a running process, e.g. the loopback server (psutil)."""
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)

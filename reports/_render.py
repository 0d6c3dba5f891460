"""Assemble the report: ``<out>/index.html`` plus ``<out>/assets`` (plotly.js, script, style, data files)."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

from harness.core import InputError, atomic_write_text
from reports import _sections as sec
from reports import _transcripts
from reports._cost import cost_section
from reports._data import RunData, load_run, require_tables
from reports._escape import Safe, json_island
from reports._fidelity import fidelity_section
from reports._figures import FigureGroup, all_figures
from reports._html import el
from reports._provenance import provenance
from reports._safety import safety_section
from reports._statistics import statistics_section

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "_assets"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'")
"""No inline script runs and nothing is fetched from the network, even if some markup slipped through."""

SECTIONS: tuple[tuple[str, str], ...] = (
    ("leaderboard", "Leaderboard"), ("criteria", "Criteria"), ("tradeoff", "Trade-offs"),
    ("significance", "Significance"), ("safety", "Crisis safety"), ("patient", "Simulated patient"),
    ("diagnostics", "Judge diagnostics"),
    ("agreement", "Clinician agreement"), ("statistics", "Statistical validity"),
    ("personas", "Personas"), ("transcripts", "Transcripts"), ("cost", "Cost"), ("downloads", "Downloads"),
    ("provenance", "Provenance"),
)


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` shipped inside the installed plotly package (never a CDN)."""
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: reinstall plotly (the report bundles its plotly.js)")
    return path


def _copy_assets(assets: Path, *, plotly: bool = True) -> None:
    assets.mkdir(parents=True, exist_ok=True)
    for name in ("report.js", "report.css"):
        src = ASSETS / name
        if not src.is_file():
            raise FileNotFoundError(f"{src} is missing from the reports package (package data not installed?)")
        shutil.copyfile(src, assets / name)
    if not plotly:
        return
    target = assets / "plotly.min.js"
    src = plotly_js_path()
    if not target.is_file() or target.stat().st_size != src.stat().st_size:
        shutil.copyfile(src, target)


def _copy_downloads(data: RunData, folder: Path) -> None:
    """Copy the run's tables and parquet files into the report (a stale copy of an earlier render is replaced)."""
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, src in sec.download_files(data):
        shutil.copyfile(src, folder / name)


def page(data: RunData, figs: dict[str, FigureGroup], counts: dict[str, int], generated_at: datetime,
         *, gated_last: bool = False) -> str:
    specs = {gid: g.specs for gid, g in figs.items() if g}
    body = [
        sec.header(data),
        sec.nav(list(SECTIONS)),
        el("main",
           sec.notices(data),
           sec.leaderboard(data, gated_last),
           # parser-blocking on purpose (small): marks the first leaderboard row, then waits for DOMContentLoaded
           el("script", src="assets/report.js"),
           el("section", sec.overview(data), sec.gate_section(data), class_="leaderboard-more"),
           sec.criteria_section(data, figs),
           sec.tradeoff_section(data, figs),
           sec.significance_section(data, figs),
           safety_section(data),
           fidelity_section(data),
           sec.diagnostics_section(data, figs),
           sec.agreement_section(data, figs),
           statistics_section(data),
           sec.persona_section(data, figs),
           sec.transcripts_section(data, counts),
           cost_section(data),
           sec.downloads_section(data)),
        sec.footer(provenance(data, generated_at)),
        json_island("figures", specs),
    ]
    head = el("head", el("meta", charset="utf-8"), el("meta", http_equiv="Content-Security-Policy", content=CSP),
              el("meta", name="viewport", content="width=device-width, initial-scale=1"),
              el("meta", name="referrer", content="no-referrer"),
              el("title", f"theraeval report \u2014 {data.name}"),
              el("link", rel="stylesheet", href="assets/report.css"))
    return "<!doctype html>\n" + el("html", head, el("body", [Safe(b) for b in body]), lang="en") + "\n"


def render_report(run_dir: Path, *, out_dir: Path | None = None, gated_last: bool = False) -> Path:
    """Render the static report of a run and return the path of its ``index.html``.

    Reads ``<run_dir>/tables/*.parquet`` (writing them first with
    :func:`harness.leaderboard.write_leaderboard` when missing), ``verdicts.parquet``,
    ``transcripts.parquet`` and the ``inputs/`` snapshots; writes ``<out_dir>/index.html`` and
    ``<out_dir>/assets/`` (default ``out_dir``: ``<run_dir>/report``). The report opens offline from
    ``file://``: plotly.js is copied from the installed plotly package and nothing is fetched.

    Args:
        run_dir: the run directory (``runs/<run name>``).
        out_dir: where to write the report.
        gated_last: list safety-gated candidates after the others in the leaderboard (the page's tick box
            switches it; rank bands still count every candidate).

    Returns:
        The path of ``index.html``.

    Raises:
        harness.core.InputError: ``run_dir`` is not a run directory (no verdicts and no tables).
    """
    run_dir = Path(run_dir)
    if not (run_dir / "verdicts.parquet").is_file() and not (run_dir / "tables" / "table.parquet").is_file():
        raise InputError(run_dir, "run_dir", str(run_dir), "no verdicts.parquet or tables/ in this directory",
                         "pass runs/<run name> of a run whose judge stage has finished")
    require_tables(run_dir)
    data = load_run(run_dir)
    out = Path(out_dir) if out_dir is not None else run_dir / "report"
    assets = out / "assets"
    _copy_assets(assets)
    data_dir = assets / "data"
    if data_dir.is_dir():
        shutil.rmtree(data_dir)  # stale per-scenario files of an earlier render
    counts = _transcripts.build(data, data_dir)
    _copy_downloads(data, out / sec.DOWNLOADS)
    figs = all_figures(data)
    index = out / "index.html"
    atomic_write_text(index, page(data, figs, counts, datetime.now(UTC).replace(microsecond=0),
                                  gated_last=gated_last))
    logger.info("report: wrote %s (%d comparisons in %d data files)", index, counts["comparisons"], counts["files"])
    return index

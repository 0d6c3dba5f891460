"""Static HTML reports of a run: leaderboard, figures, diagnostics and a transcript browser.

``render_report(run_dir)`` writes ``<run_dir>/report/index.html`` (+ ``assets/``), which opens offline
from ``file://``; ``render_comparison([run_a, run_b, ...], out_dir)`` writes one page comparing runs.
See docs/report.md.
"""

from reports._compare import render_comparison
from reports._render import render_report

__all__ = ["render_comparison", "render_report"]

"""Static HTML reports of a run: leaderboard, figures, diagnostics and a transcript browser.

``render_report(run_dir)`` writes ``<run_dir>/report/index.html`` (+ ``assets/``), which opens offline
from ``file://``. See docs/report.md.
"""

from reports._render import render_report

__all__ = ["render_report"]

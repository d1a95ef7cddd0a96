"""Layer 5: offline Plotly HTML reports, one self-contained page per run plus an index.

    from journey_analytics.reports import render_run_report
    path = render_run_report(con, Path("reports"), run_id=run_id, run_at=run_at, as_of=as_of,
                             title=cfg.report.title, stages=stage_names, timezone=cfg.report.timezone)

Reads only published tables (`marts.*`, `ingest.manifest`, `ingest.quarantine`); writes
`reports/<run_id>/index.html`, `reports/latest/index.html` and `reports/index.html`.
"""

from .render import render_run_report, render_runs_index
from .text import esc_html, esc_label

__all__ = ["esc_html", "esc_label", "render_run_report", "render_runs_index"]

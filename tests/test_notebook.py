"""The analyst's exploration notebook runs top to bottom against a real run's warehouse."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from tests.helpers import ROOT


def test_the_exploration_notebook_executes_and_reproduces_the_funnel(project, monkeypatch):
    config, _, _ = project
    monkeypatch.setenv("JOURNEY_WAREHOUSE", str(config.warehouse_path))
    notebook = nbformat.read(ROOT / "notebooks" / "exploration.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs), "the chart was drawn"

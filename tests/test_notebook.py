"""The analyst's exploration notebook runs top to bottom against a real run's warehouse."""

from __future__ import annotations

import json
import shutil

import duckdb
import nbformat
from nbclient import NotebookClient

from tests.helpers import ROOT


def _execute(warehouse, monkeypatch) -> list:
    """Run the notebook top to bottom against `warehouse`; its outputs, none an error."""
    monkeypatch.setenv("JOURNEY_WAREHOUSE", str(warehouse))
    notebook = nbformat.read(ROOT / "notebooks" / "exploration.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return outputs


def _chart_title(outputs: list) -> str:
    charts = [o["data"]["application/vnd.plotly.v1+json"] for o in outputs
              if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(charts) == 1, "the chart was drawn"
    return json.loads(json.dumps(charts[0]))["layout"]["title"]["text"]


def test_the_exploration_notebook_executes_and_reproduces_the_funnel(project, monkeypatch):
    config, _, _ = project
    assert _chart_title(_execute(config.warehouse_path, monkeypatch)) == (
        "Conversion to advocacy by channel at the attempt's start")  # the sample's last stage


def test_the_notebook_follows_the_configured_funnel_not_a_step_named_purchase(project, monkeypatch, tmp_path):
    """It looked for a step named purchase (an IndexError for `funnel.steps: [awareness, consideration]` or one
    stage), said "30-day window" whatever `funnel.window_days` was, and held the warehouse open after a failing
    cell, so the next run could not write it."""
    config, _, _ = project
    warehouse = shutil.copy(config.warehouse_path, tmp_path / "two_steps.duckdb")
    with duckdb.connect(str(warehouse)) as con:  # a funnel of two steps, as the metrics would write it
        con.execute("delete from marts.funnel_steps where step > 2")
        con.execute("update marts.funnel_customers set deepest_step = least(deepest_step, 2)")
    assert _chart_title(_execute(warehouse, monkeypatch)) == (
        "Conversion to consideration by channel at the attempt's start")
    notebook = (ROOT / "notebooks" / "exploration.ipynb").read_text(encoding="utf-8")
    assert "30-day" not in notebook and "con.close()" not in notebook and "with duckdb.connect(" in notebook

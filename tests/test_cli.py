"""The command line as a user types it (the nightly run itself is covered end to end in test_nightly)."""

from __future__ import annotations

import pytest

from journey_analytics.cli import main
from tests.helpers import source_paths, write_config
from tests.ingest.test_ingest import CRM_CSV, WEB_LINES, _write_web


@pytest.fixture
def folder(tmp_path):
    _write_web(tmp_path, WEB_LINES)
    header, *rows = CRM_CSV.splitlines()
    (tmp_path / "crm.csv").write_text("\n".join([header + ",new_col"] + [r + ",x" for r in rows]) + "\n")
    write_config(tmp_path, sources=source_paths(tmp_path, web="web.jsonl", crm="crm.csv"))
    return tmp_path


def test_sources_check_reports_counts_reasons_and_writes_nothing(folder, capsys):
    assert main(["sources", "check", "--config", str(folder / "journey.yaml")]) == 0
    out = capsys.readouterr().out
    assert "web.jsonl" in out and "crm.csv" in out
    assert "malformed_record 1" in out and "unparsable_timestamp 1" in out
    assert "ignored column(s) not in the spec: new_col" in out
    assert "preview of mapped rows:" in out and "channel=paid_search" in out
    assert not (folder / "data" / "warehouse.duckdb").exists()


def test_sources_check_of_an_unknown_source_names_the_known_ones(folder, capsys):
    assert main(["sources", "check", "nope", "--config", str(folder / "journey.yaml")]) == 2
    assert "no source named 'nope' (sources: web, crm)" in capsys.readouterr().err


def test_a_broken_config_exits_2_with_the_key(folder, capsys):
    (folder / "journey.yaml").write_text((folder / "journey.yaml").read_text().replace("max_links: 25", "max_links: -1"))
    assert main(["run", "--config", str(folder / "journey.yaml")]) == 2
    assert "identity.max_links: expected greater than or equal to 1; found -1" in capsys.readouterr().err

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


def test_explain_finds_a_customer_by_raw_email_and_shows_links_and_journey(project, capsys):
    import polars as pl

    from tests.helpers import ROOT

    config, con, _ = project
    persons = pl.read_parquet(ROOT / "data" / "sample" / "ground_truth" / "persons.parquet")
    person = persons.filter(pl.col("id_type") == "contact_id")["person_id"][0]
    mine = persons.filter(pl.col("person_id") == person)
    email = mine.filter(pl.col("id_type") == "email")["id_value"][0]
    assert main(["explain", "customer", "--email", f"  {email.upper()} ", "--config", str(config.base_dir / "journey.yaml")]) == 0
    out = capsys.readouterr().out
    for id_type, value in mine.select("id_type", "id_value").iter_rows():
        if id_type != "email":
            assert value in out  # every true identifier of the person is listed
    assert email not in out  # the raw email is never printed
    assert "by web/" in out and " signup at " in out  # the link made by the sign-up event
    n_events = con.execute("select count(*) from core.touchpoints t join core.identity_map m using (customer_id) "
                           "where m.id_type = 'contact_id' and m.id_value = ?",
                           [mine.filter(pl.col("id_type") == "contact_id")["id_value"][0]]).fetchall()[0][0]
    journey = out.split("journey:\n")[1].strip().splitlines()[1:]
    assert len(journey) == n_events


def test_explain_of_an_unknown_identifier_says_so(project, capsys):
    config, _, _ = project
    assert main(["explain", "customer", "--anonymous-id", "nobody", "--config", str(config.base_dir / "journey.yaml")]) == 1
    assert "no customer has anonymous_id 'nobody'" in capsys.readouterr().err


def test_stages_suggest_on_a_fully_mapped_sample_has_nothing_to_suggest(project, capsys):
    config, _, _ = project
    assert main(["stages", "suggest", "--config", str(config.base_dir / "journey.yaml")]) == 0
    assert capsys.readouterr().out == "# every event is mapped by a rule: nothing to suggest\n"


def test_explain_trims_a_plain_identifier_as_ingest_does(project, capsys):
    config, con, _ = project
    cookie = con.execute("select id_value from core.identity_map where id_type = 'anonymous_id' limit 1").fetchall()[0][0]
    path = str(config.base_dir / "journey.yaml")
    assert main(["explain", "customer", "--anonymous-id", f"  {cookie} ", "--config", path]) == 0
    assert cookie in capsys.readouterr().out

"""The command line as a user types it (the nightly run itself is covered end to end in test_nightly)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone

import duckdb
import pytest

from journey_analytics.cli import main, ready_to_run
from journey_analytics.config import load_config
from journey_analytics.warehouse import connect
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


def test_sources_check_names_json_keys_of_the_spec_that_no_line_holds(folder, capsys):
    """`identifiers: {email: e_mail}` and `properties: [scren]`: every row loaded without its email, and rows that
    differed only by screen collapsed into one, with no hint (a CSV fails on a missing column)."""
    assert main(["sources", "check", "web", "--config", str(folder / "journey.yaml")]) == 0
    assert "no line of these files holds the key(s) url that" in capsys.readouterr().out  # these lines have no url
    (web,) = source_paths(folder, web="web.jsonl")
    web["identifiers"] = {**web["identifiers"], "email": "e_mail"}
    web["properties"] = [*web["properties"], "scren"]
    write_config(folder, sources=[web])
    assert main(["sources", "check", "--config", str(folder / "journey.yaml")]) == 0
    assert ("note: no line of these files holds the key(s) e_mail, scren, url that the spec reads, so they are empty "
            "everywhere: check their spelling (JSON keys are case-sensitive)\n") in capsys.readouterr().out
    web["properties"] = [*web["properties"], "ctx.plan"]  # nested: a key is no path
    write_config(folder, sources=[web])
    assert main(["sources", "check", "--config", str(folder / "journey.yaml")]) == 0
    assert ("(JSON keys are case-sensitive); a key is not a path into an object (`ctx.plan` is the key "
            "\"ctx.plan\"): flatten nested fields in the export") in capsys.readouterr().out


def test_sources_check_with_on_bad_row_fail_shows_that_nothing_would_load(folder, capsys):
    sources = source_paths(folder, web="web.jsonl", crm="crm.csv")
    for source in sources:
        source["on_bad_row"] = "fail"
    write_config(folder, sources=sources)
    assert main(["sources", "check", "--config", str(folder / "journey.yaml")]) == 1
    out = capsys.readouterr().out
    web = next(line for line in out.splitlines() if line.strip().startswith("web.jsonl"))
    assert web.split()[1:5] == ["10", "0", "0", "7"]  # read, would load, dedup, quarantine
    assert web.endswith("(on_bad_row: fail; once fixed, 2 would load)")
    assert "has on_bad_row: fail, so a run would load nothing from this file" in out


def test_sources_check_fails_when_every_row_would_be_quarantined(folder, capsys):
    """A misspelt identifier column quarantined all 10 rows as missing_identifier and the check exited 0: a CI gate
    on the spec passed a source that would load nothing."""
    (web,) = source_paths(folder, web="web.jsonl")
    web["identifiers"] = {"anonymous_id": "anon_id"}
    write_config(folder, sources=[web])
    assert main(["sources", "check", "--config", str(folder / "journey.yaml")]) == 1
    out = capsys.readouterr().out
    assert next(line for line in out.splitlines() if line.strip().startswith("web.jsonl")).split()[1:5] == [
        "10", "0", "0", "10"]
    assert "ERROR: every row read would be quarantined: the spec does not fit the data" in out


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


def test_explain_says_where_the_last_runs_journeys_stop(folder, capsys):
    """As of 2026-03-01, ct-1 has its January order; its August lead comes later, as do both events that carry
    bob's email (the lead, and web's sign-up at 10:15:02Z). The identifier counts used to include it while the journey did not, and the email was not found."""
    path = str(folder / "journey.yaml")
    assert main(["run", "--config", path, "--as-of", "2026-03-01"]) == 0
    capsys.readouterr()
    assert main(["explain", "customer", "--id", "contact_id=ct-1", "--config", path]) == 0
    out = capsys.readouterr().out
    assert "as of 2026-03-01 00:00:00 UTC: the journey stops there" in out
    assert "changed since that run" not in out
    assert re.search(r"\n  contact_id  ct-1 +1 events \(\+1 after the as-of\)\n", out)
    (only,) = out.split("journey:\n")[1].strip().splitlines()[1:]
    assert re.fullmatch(r"  1  2026-01-15 \d\d:00:00  crm  +order_placed .*", only)
    assert main(["explain", "customer", "--email", "Bob.Raw@example.com", "--config", path]) == 1
    err = capsys.readouterr().err
    assert re.search(r"no customer has that email in the journeys as of 2026-03-01 00:00:00 UTC \(the last run's "
                     r"as-of\): its 2 event\(s\) come after that, from 2026-08-03 10:15:02 UTC", err)
    assert "bob" not in err.lower()
    # stages edited since that run: the journey shown is still the run's, and explain now says so
    (folder / "journey.yaml").write_text((folder / "journey.yaml").read_text().replace("- name: advocacy",
                                                                                   "- name: loyalty"))
    assert main(["explain", "customer", "--id", "contact_id=ct-1", "--config", path]) == 0
    assert "note: journey.yaml's stages, stage rules or funnel changed since that run" in capsys.readouterr().out


def test_running_out_of_memory_is_one_line_and_the_loaded_files_stay(tmp_path, capsys):
    """memory_limit: 64MB on 100,000 generated events: the files loaded, then the rebuild ran out of memory and the
    run ended in three tracebacks of OutOfMemoryException, with no `journey:` line (only ingest caught it)."""
    from journey_analytics.sample import generate_stream

    generate_stream(tmp_path / "data", events=100_000)
    files = {"web": "data/clickstream/*.jsonl", "crm": "data/crm/*.csv", "service": "data/service/*.csv"}
    config = write_config(tmp_path, sources=source_paths(tmp_path, **files), memory_limit="64MB")
    assert main(["run", "--config", str(tmp_path / "journey.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("journey: DuckDB ran out of memory within memory_limit (64MB): ") and err.count("\n") == 1, err
    assert err.endswith("Raise `memory_limit` in journey.yaml, or free memory, then run again.\n")
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from core.events").fetchone()[0] > 90_000  # the files stay loaded
        assert con.execute("select count(*) from marts.run_history").fetchone() == (0,)  # nothing published


def test_explain_of_an_identifier_loaded_after_the_customers_were_built_says_so(folder, capsys):
    """A run whose source failed loads the others but builds no customers: web's cookie a-1 is then loaded
    but in no customer, and its events are not after the last as-of either."""
    path = str(folder / "journey.yaml")
    write_config(folder, sources=source_paths(folder, crm="crm.csv"))
    assert main(["run", "--config", path]) == 0
    (folder / "broken.csv").write_text("activity_id,activity\nk9,lead_created\n")  # no occurred_at column
    broken = source_paths(folder, crm="broken.csv")[0] | {"name": "crm_broken"}
    write_config(folder, sources=source_paths(folder, crm="crm.csv", web="web.jsonl") + [broken])
    assert main(["run", "--config", path]) == 1
    capsys.readouterr()
    assert main(["explain", "customer", "--anonymous-id", "a-1", "--config", path]) == 1
    assert re.search(r"no customer has anonymous_id 'a-1' yet: its \d+ event\(s\) were loaded after run \S+ built "
                     r"the customers; the next run that completes includes them", capsys.readouterr().err)


def test_explain_leaves_out_the_events_of_a_source_journey_yaml_no_longer_declares(folder, capsys):
    """After `web` was removed, explain still counted its events and said the next run would include them."""
    path = str(folder / "journey.yaml")
    assert main(["run", "--config", path]) == 0
    write_config(folder, sources=source_paths(folder, crm="crm.csv"))  # web removed: its events stay stored
    assert main(["run", "--config", path]) == 0
    capsys.readouterr()
    assert main(["explain", "customer", "--anonymous-id", "a-1", "--config", path]) == 1
    assert re.search(r"no customer has anonymous_id 'a-1': only \d+ event\(s\) of a source journey.yaml no longer "
                     r"declares carry it, and those are left out of the journeys", capsys.readouterr().err)
    assert main(["explain", "customer", "--email", "Bob.Raw@example.com", "--config", path]) == 0
    out = capsys.readouterr().out  # bob's email: on his CRM lead and, left out now, on web's sign-up
    assert re.search(r"\n  email +\S+ +1 events\n", out), out


def test_explain_columns_are_as_wide_as_their_values(capsys):
    """A 10-character source ran into the event name (`email_toolemail_sent`) in fixed 9-wide columns."""
    from journey_analytics.cli import _print_columns

    _print_columns([("#", "source", "event"), ("12", "email_tool", "email_sent")], right=(0,))
    assert capsys.readouterr().out == "   #  source      event\n  12  email_tool  email_sent\n"


def test_explain_of_an_unknown_identifier_says_so(project, capsys):
    config, _, _ = project
    assert main(["explain", "customer", "--anonymous-id", "nobody", "--config", str(config.base_dir / "journey.yaml")]) == 1
    assert "no customer has anonymous_id 'nobody'" in capsys.readouterr().err


@pytest.mark.parametrize("lookup", [["cu_x", "--email", "a@x.org"], ["--id", "contact_id=ct-1", "--id", "user_id=u-1"],
                                    ["--email", "a@x.org", "--email", "b@x.org"]])
def test_explain_of_several_lookups_is_refused(project, capsys, lookup):
    config, _, _ = project
    assert main(["explain", "customer", *lookup, "--config", str(config.base_dir / "journey.yaml")]) == 2
    assert "give one customer id or one identifier, not several" in capsys.readouterr().err


@pytest.mark.parametrize("email, expected", [
    ("Nobody.Here@Example.org", "no customer has that email (stored as its salted hash "),
    ("nobody-here", "no customer can have that email: it is not one ingest would store"),  # hashed to nothing
])
def test_explain_of_an_unknown_email_does_not_echo_it(project, capsys, email, expected):
    config, _, _ = project
    assert main(["explain", "customer", "--email", email, "--config", str(config.base_dir / "journey.yaml")]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert email.lower() not in err.lower() and "nobody" not in err.lower()


@pytest.mark.parametrize("args, code, expected", [
    (["--id", "shoe_size=42"], 2, "journey: unknown identifier type 'shoe_size' (known: contact_id"),
    ([], 2, "journey: give a customer id, or an identifier: --email, --anonymous-id or --id TYPE=VALUE"),
])
def test_explain_input_problems_exit_2(project, capsys, args, code, expected):
    config, _, _ = project
    assert main(["explain", "customer", *args, "--config", str(config.base_dir / "journey.yaml")]) == code
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    (["explain", "customer", "--id", "foo"], "argument --id: 'foo': write TYPE=VALUE, e.g. --id contact_id=ct-1"),
    (["run", "--as-of", "yesterday"], "argument --as-of: 'yesterday' is not a time: write ISO-8601, e.g. 2026-11-01"),

    # a future as-of would count every open funnel window as closed (and 9999-12-31 broke the report)
    (["run", "--as-of", "9999-12-31T23:59:59Z"],
     "argument --as-of: as-of 9999-12-31 23:59:59 UTC is in the future (now is "),
])
def test_malformed_arguments_say_what_to_write(capsys, argv, expected):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2 and expected in capsys.readouterr().err


def test_explain_of_a_customer_made_only_of_a_super_node_says_where_its_events_went(project, capsys):
    config, con, _ = project
    (phantom,) = con.execute("select distinct customer_id from core.identity_map "
                             "where customer_id not in (select customer_id from core.touchpoints)").fetchall()
    assert main(["explain", "customer", phantom[0], "--config", str(config.base_dir / "journey.yaml")]) == 0
    out = capsys.readouterr().out
    assert "(super-node: not used for linking)" in out
    assert out.split("journey:\n")[1].startswith("  none: this customer's only identifier is a super-node")


def test_output_into_a_closed_pipe_ends_quietly(project):
    config, con, _ = project
    customer = con.execute("select customer_id from core.touchpoints limit 1").fetchall()[0][0]
    proc = subprocess.Popen([sys.executable, "-m", "journey_analytics.cli", "explain", "customer", customer,
                             "--config", str(config.base_dir / "journey.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` that has stopped reading
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1 and err == ""


def test_a_run_whose_console_goes_away_still_publishes(folder):
    """`journey run | head -1`: the next progress line raised BrokenPipeError inside the flow, which failed
    (exit 1) and rolled the whole rebuild back."""
    import duckdb

    from journey_analytics.config import load_config

    proc = subprocess.Popen([sys.executable, "-m", "journey_analytics.cli", "run", "--config", str(folder / "journey.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline().decode()
    proc.stdout.close()  # like `| head -1`, which has read its line
    err = proc.stderr.read().decode()
    assert first.startswith("run ") and proc.wait(timeout=300) == 0, err
    with duckdb.connect(str(load_config(folder / "journey.yaml").warehouse_path), read_only=True) as con:
        assert con.execute("select count(distinct run_id) from marts.run_history").fetchall() == [(1,)]
        assert con.execute("select count(*) from core.touchpoints").fetchall()[0][0] > 0


def test_stages_suggest_on_a_fully_mapped_sample_has_nothing_to_suggest(project, capsys):
    """It names the run it answers from: with --config it used to read as if that config's rules applied."""
    config, con, _ = project
    (second_run,) = con.execute("select run_id from marts.run_history order by run_at desc limit 1").fetchall()[0]
    assert main(["stages", "suggest", "--config", str(config.base_dir / "journey.yaml")]) == 0
    assert capsys.readouterr().out == (
        f"# From run {second_run} (as of 2026-11-01 00:00:00 UTC) and the stage rules it ran with; after changing "
        "rules, `journey run` first.\n# every event is mapped by a rule: nothing to suggest\n")


def test_explain_trims_a_plain_identifier_as_ingest_does(project, capsys):
    config, con, _ = project
    cookie = con.execute("select id_value from core.identity_map where id_type = 'anonymous_id' limit 1").fetchall()[0][0]
    path = str(config.base_dir / "journey.yaml")
    assert main(["explain", "customer", "--anonymous-id", f"  {cookie} ", "--config", path]) == 0
    assert cookie in capsys.readouterr().out


def test_a_path_too_long_for_its_column_is_shown_cut_at_the_front(folder, capsys):
    """Cut silently, `/tmp/rev/newsrc/app/x.parquet` showed as `c/newsrc/app/x.parquet`, a path of its own."""
    deep = folder / ("d" * 30) / "web.jsonl"
    deep.parent.mkdir()
    (folder / "web.jsonl").rename(deep)
    write_config(folder, sources=source_paths(folder, web=str(deep.relative_to(folder)), crm="crm.csv"))
    assert main(["sources", "check", "--config", str(folder / "journey.yaml")]) == 0
    shown = str(deep)[-38:]
    assert f"  …{shown}" in capsys.readouterr().out and len(str(deep)) > 39


@pytest.mark.parametrize("command", [["explain", "customer", "--email", "a@example.org"], ["stages", "suggest"]])
def test_commands_that_read_customers_before_any_were_built_say_what_to_run(folder, capsys, command):
    """A run whose source failed loads the other sources but builds no customers: this was a traceback."""
    from journey_analytics.config import load_config
    from journey_analytics.ingest import ingest_source
    from journey_analytics.warehouse import connect

    config = load_config(folder / "journey.yaml")
    with connect(config.warehouse_path) as con:
        ingest_source(con, config, config.sources[0], run_id="r1", now=datetime(2026, 9, 1, tzinfo=timezone.utc))
    assert main([*command, "--config", str(folder / "journey.yaml")]) == 2
    assert capsys.readouterr().err == (f"journey: {config.warehouse_path} has no customers yet: a run builds them once "
                                       "every source has loaded (`journey run`; fix a failed source first)\n")


# --- before a run: the warehouse and the folders it writes --------------------------------------------------------

@pytest.fixture
def held(folder):
    """The warehouse held open for writing by another process, as a running job or a notebook holds it."""
    path = folder / "data" / "warehouse.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(120)", str(path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ready"
    yield path
    holder.kill()
    holder.wait()


BUSY = "is in use by another process (another `journey run`, or a notebook holding it open)"


def test_a_run_while_the_warehouse_is_held_stops_before_prefect_starts_with_one_line(held, folder, capfd):
    """It waited ~25 s for Prefect's server, then printed Prefect's tracebacks before this line."""
    assert main(["run", "--config", str(folder / "journey.yaml")]) == 2
    out, err = capfd.readouterr()
    assert err == f"journey: {held} {BUSY}. Wait for it to finish or close it, then run again.\n" and out == ""


def test_a_damaged_warehouse_is_named_with_what_to_do_and_exits_2(project, tmp_path, capsys):
    """A warehouse cut short (a copy that stopped half-way) printed a traceback; another read error said "Free
    space on that disk", which does not help."""
    import os
    import shutil

    config, _con, _marts = project
    shutil.copy(config.base_dir / "journey.yaml", tmp_path / "journey.yaml")
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(config.warehouse_path, warehouse)
    os.truncate(warehouse, warehouse.stat().st_size // 2)
    assert main(["run", "--config", str(tmp_path / "journey.yaml")]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"journey: {warehouse}: the warehouse file is damaged (IO Error: Could not read enough bytes")
    assert err.endswith("No run can repair it: restore it from a backup, or rebuild from scratch (move it aside and "
                        "run again: every source is read anew; docs/operations.md, Recovery).\n")
    assert err.count("\n") == 1 and out == ""
    # the other commands that read it: a traceback and exit 1 (their first reads come after opening it)
    for command in (["stages", "suggest"], ["explain", "customer", "nobody"]):
        assert main([*command, "--config", str(tmp_path / "journey.yaml")]) == 2, command
        err = capsys.readouterr().err
        assert err.startswith(f"journey: {warehouse}: the warehouse file is damaged (") and err.count("\n") == 1, err


def test_a_backfill_while_the_warehouse_is_held_exits_2_with_one_line(held, folder):
    done = subprocess.run([sys.executable, "-m", "pipelines.backfill", "--from", "2026-06-01", "--to", "2026-06-02",
                           "--config", str(folder / "journey.yaml")], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (2, f"backfill: {held} {BUSY}. Wait for it to finish or close it, "
                                                 "then run again.\n")


def test_a_run_holds_the_warehouse_from_its_first_check_so_nothing_takes_it_while_prefect_starts(folder):
    """A notebook opened a few seconds after `journey run` started used to take the warehouse while Prefect's
    server started (~25 s), and the scheduled run was lost."""
    config = load_config(folder / "journey.yaml")
    other = [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True).close()",
             str(config.warehouse_path)]
    with ready_to_run(config):
        refused = subprocess.run(other, capture_output=True, text=True, timeout=60)
        connect(config.warehouse_path, memory_limit=config.memory_limit).close()  # the run's own connections
    assert refused.returncode != 0 and "lock" in refused.stderr.lower()
    assert subprocess.run(other, capture_output=True, text=True, timeout=60).returncode == 0  # released after


def test_sources_check_while_the_warehouse_is_held_says_so(held, folder, capsys):
    assert main(["sources", "check", "web", "--config", str(folder / "journey.yaml")]) == 2
    assert BUSY in capsys.readouterr().err


@pytest.mark.parametrize("key, value, expected", [
    ("warehouse", "data", "data cannot be opened ("),  # a folder, not a file
    ("warehouse", "journey.yaml/warehouse.duckdb", "journey.yaml/warehouse.duckdb: its folder cannot be created ("),
    ("reports_dir", "journey.yaml/reports", "journey.yaml/reports: `reports_dir` cannot be created ("),
    ("reports_dir", "journey.yaml", "journey.yaml: `reports_dir` is a file, not a folder;"),  # was "File exists"
])
def test_a_warehouse_or_reports_folder_that_cannot_be_used_stops_the_run_at_once(folder, capsys, key, value, expected):
    (folder / "data").mkdir(exist_ok=True)
    write_config(folder, sources=source_paths(folder, web="web.jsonl", crm="crm.csv"), **{key: value})
    assert main(["run", "--config", str(folder / "journey.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("journey: ") and str(folder / expected) in err and err.count("\n") == 1


def test_control_characters_from_data_reach_the_terminal_as_escapes(folder, capsys):
    """An event name holding ESC sequences retitled and rewrote the terminal in `sources check`'s preview."""
    _write_web(folder, [{"event_id": "c-1", "timestamp": "2026-08-03T10:15:02Z", "anonymous_id": "a-1",
                         "event": "view\x1b]0;OWNED\x07\x1b[2K\u202egnp.exe"}])
    assert main(["sources", "check", "web", "--config", str(folder / "journey.yaml")]) == 0
    out = capsys.readouterr().out
    assert "event_name=view\\x1b]0;OWNED\\x07\\x1b[2K" in out and "\x1b" not in out
    assert "\u202e" not in out  # a right-to-left override showed `exe.png` for `png.exe`
    (folder / "wh\x1b[2K").mkdir()  # a folder named as the warehouse: its error message shows the name
    write_config(folder, sources=source_paths(folder, web="web.jsonl"), warehouse="wh\x1b[2K")
    assert main(["run", "--config", str(folder / "journey.yaml")]) == 2
    err = capsys.readouterr().err
    assert "wh\\x1b[2K cannot be opened" in err and "\x1b" not in err

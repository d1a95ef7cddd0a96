"""Flow-level behaviour: a failing source leaves the published marts alone; backfill builds history."""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from journey_analytics.cli import main
from journey_analytics.sources.readers import SourceError
from journey_analytics.config import ConfigError, load_config
from journey_analytics.interrupts import STOPPED, finished, interruptible, interrupted
from tests.conftest import SAMPLE_AS_OF
from tests.helpers import ROOT


@pytest.fixture
def sample_copy(tmp_path):
    shutil.copy(ROOT / "journey.yaml", tmp_path / "journey.yaml")
    for kind in ("clickstream", "crm", "service"):
        shutil.copytree(ROOT / "data" / "sample" / kind, tmp_path / "data" / "sample" / kind)
    return tmp_path


def _marts(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"select * from marts.{t} order by all").fetchall()
                for t in ("funnel_steps", "path_frequencies")}


def test_a_source_missing_a_column_fails_alone_and_the_marts_stay_published(sample_copy, capsys):
    config_path = sample_copy / "journey.yaml"
    assert main(["run", "--config", str(sample_copy / "journey.yaml"), "--as-of", SAMPLE_AS_OF.isoformat()]) == 0
    warehouse = load_config(config_path).warehouse_path
    before = _marts(warehouse)
    # a new, valid CRM export read first, one without the email column, and a new, valid service file
    (sample_copy / "data/sample/crm/early.csv").write_text(
        "activity_id,occurred_at,activity,contact_id,email,lead_source,segment,amount\nx0,2026-10-30 09:00:00,renewal,ct-1,,,smb,9\n")
    (sample_copy / "data/sample/crm/late.csv").write_text(
        "activity_id,occurred_at,activity,contact_id,lead_source,segment,amount\nx1,2026-10-30 10:00:00,renewal,ct-1,,smb,9\n")
    (sample_copy / "data/sample/service/late.csv").write_text(
        "interaction_id,created_at,interaction,requester_email,topic,csat,nps,agent\n"
        "s-late,2026-10-30T10:00:00-04:00,ticket_opened,late@example.org,bug,,,a-7\n")
    assert main(["run", "--config", str(sample_copy / "journey.yaml"), "--as-of", SAMPLE_AS_OF.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "crm: FAILED" in out and "late.csv: required column(s) email not found" in out
    assert "note (data/sample/service/late.csv): ignored column(s) not in the spec: agent" in out
    assert "data/sample/service/late.csv: 1 read, 1 loaded, 0 deduplicated, 0 quarantined" in out
    # the CRM file committed before the failure is in the summary table, as it is in the warehouse
    assert re.search(r"\ncrm +data/sample/crm/early.csv +1 +1 +0 +0\n", out)
    _assert_failed_task_logs_carry_no_empty_traceback()
    assert _marts(warehouse) == before

    # the flow run itself ends Failed, so a scheduler and Prefect's UI see it
    from pipelines.nightly import nightly

    state = nightly(config_path=str(config_path), as_of=SAMPLE_AS_OF, progress=lambda _: None, return_state=True)
    assert state.is_failed() and "late.csv: required column(s) email not found" in state.message
    assert _marts(warehouse) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from core.events where event_id = 's-late'").fetchall() == [(1,)]
        assert con.execute("select count(*) from core.events where event_id = 'x1'").fetchall() == [(0,)]
        assert con.execute("select count(*) from core.events where event_id = 'x0'").fetchall() == [(1,)]


def test_a_run_counts_and_names_what_a_stopped_run_before_it_loaded(sample_copy, capsys):
    """A run stopped (or killed) during ingest keeps the files it committed and publishes nothing: the next run
    said nothing of it, and those files' rows were in no run's numbers (its quarantined rows in no run history)."""
    from journey_analytics import ingest
    from journey_analytics.warehouse import connect

    config = load_config(sample_copy / "journey.yaml")
    stopped = "20000101T000000Z-dead"
    con = connect(config.warehouse_path, memory_limit=config.memory_limit)
    files = ingest.ingest_source(con, config, next(s for s in config.sources if s.name == "crm"), run_id=stopped,
                                 now=SAMPLE_AS_OF)
    con.close()
    assert sum(f.rows_quarantined for f in files) > 0  # else the history's count could not tell
    assert main(["run", "--config", str(sample_copy / "journey.yaml"), "--as-of", SAMPLE_AS_OF.isoformat()]) == 0
    assert (f"note: run {stopped} ended before publishing marts (stopped, or a source or an audit failed): the "
            f"{len(files)} file(s) it loaded ({sum(f.rows_loaded for f in files):,} rows) count with this run's"
            in capsys.readouterr().out)
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        history, manifest, definition = con.execute(
            "select (select value from marts.run_history where metric = 'rows_quarantined'), "
            "(select sum(rows_quarantined) from ingest.manifest), "
            "(select value from marts.run_history where metric = 'funnel_definition')").fetchall()[0]
        latest_recorded = con.execute(
            "select value from marts.run_history where metric = 'latest_event_at'").fetchone()[0]
        latest_event = con.execute(
            "select occurred_at from core.touchpoints order by occurred_at desc limit 1").fetchone()[0]
    assert history == manifest
    assert definition == config.funnel_definition  # exact: 48 bits fit a DOUBLE
    assert latest_recorded == latest_event.timestamp() and latest_event < SAMPLE_AS_OF
    page = (config.reports_path / "latest" / "index.html").read_text(encoding="utf-8")
    assert f"<code>{stopped}</code>" in page
    assert f" · latest event {latest_event.astimezone(ZoneInfo(config.report.timezone)):%-d %b %Y, %H:%M}" in page


def test_a_warehouse_that_cannot_be_written_ends_the_run_with_its_reason_and_publishes_nothing(sample_copy):
    """A full disk under the warehouse at the rebuild's commit was rolled back, but the run ended in Prefect's
    tracebacks and DuckDB's "nanobind: leaked" lines, with no message of ours. Here no file of this process may
    grow past 2 MB (RLIMIT_FSIZE; DuckDB sees "File too large" as it would "No space left on device"), so the
    rebuild's write-ahead log cannot be written; Prefect's server, a process started before, is not limited."""
    from pipelines.nightly import WarehouseNotWritten, nightly

    config_path = str(sample_copy / "journey.yaml")
    nightly(config_path=config_path, as_of=SAMPLE_AS_OF, progress=lambda _: None)
    warehouse = load_config(config_path).warehouse_path
    before = _marts(warehouse)
    limits, on_xfsz = resource.getrlimit(resource.RLIMIT_FSIZE), signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, limits[1]))
    try:
        with pytest.raises(WarehouseNotWritten) as failed:
            nightly(config_path=config_path, as_of=SAMPLE_AS_OF, progress=lambda _: None)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, on_xfsz)
    message = str(failed.value)
    assert message.startswith(f"{warehouse}: the warehouse could not be written (") and "File too large" in message
    assert message.endswith("the marts and report stay as the previous run published them, and each file loaded "
                            "in full before stays loaded. Free space on that disk, then run again.")
    assert _marts(warehouse) == before  # nothing of the failed run was published
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(distinct run_id) from marts.run_history").fetchall() == [(1,)]
    assert nightly(config_path=config_path, as_of=SAMPLE_AS_OF, progress=lambda _: None).ok  # space again: it runs


def test_a_renamed_source_counts_once_and_its_old_events_are_deleted_only_when_forced(sample_copy, capsys):
    """Renaming `service` to `support` loaded its file again under the new name: every ticket counted twice, exit 0,
    and `journey sources reset service` answered 'no source named service'."""
    from pipelines.nightly import nightly

    config_path = sample_copy / "journey.yaml"
    first = nightly(config_path=str(config_path), as_of=SAMPLE_AS_OF, progress=lambda _: None)
    warehouse = load_config(config_path).warehouse_path
    before = _marts(warehouse)
    text = config_path.read_text()
    assert text.count("  - name: service\n") == 1
    config_path.write_text(text.replace("  - name: service\n", "  - name: support\n"))
    said: list[str] = []
    second = nightly(config_path=str(config_path), as_of=SAMPLE_AS_OF, progress=said.append)
    assert (second.journeys.touchpoints, second.journeys.customers) == (first.journeys.touchpoints,
                                                                        first.journeys.customers)
    assert _marts(warehouse) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = dict(con.execute("select source, count(*) from core.events group by all").fetchall())
        quarantined = dict(con.execute("select source, count(*) from ingest.quarantine group by all").fetchall())
        in_journeys = {s for (s,) in con.execute("select distinct source from core.touchpoints").fetchall()}
    assert stored["service"] == stored["support"] > 0 and in_journeys == {"web", "crm", "support"}
    quality = second.report.read_text(encoding="utf-8").split('id="quality"')[1]
    assert quality.count("no longer in journey.yaml: its events are left out of the journeys") == 1
    assert re.search(r"<td>service <small[^>]*>\(no longer in journey.yaml", quality)
    assert [line for line in said if "no longer declares" in line] == [
        f"  note: the warehouse holds {stored['service']:,} events of source 'service', which journey.yaml no longer "
        "declares: left out of the journeys. Declare it again to count them, or delete them with `journey sources "
        "reset service --force` (after renaming a source, its old name)"]

    capsys.readouterr()
    assert main(["sources", "reset", "service", "--config", str(config_path)]) == 2
    assert capsys.readouterr().err == (
        f"journey: source 'service': the warehouse holds {stored['service']:,} events of it from 1 file(s), left out of "
        "the journeys since journey.yaml no longer declares it, so no run reads its data again. Deleting them cannot "
        "be undone: pass --force to delete them, or declare the source again to count them.\n")
    assert main(["sources", "reset", "service", "--force", "--config", str(config_path)]) == 0
    assert quarantined["service"] > 0 and (f"source service: removed {stored['service']:,} events and "
                                           f"{quarantined['service']:,} quarantined rows read from 1 file(s).") in \
        capsys.readouterr().out
    assert main(["sources", "reset", "nope", "--config", str(config_path)]) == 2
    assert "no source named 'nope' (sources: web, crm, support)" in capsys.readouterr().err
    said.clear()
    nightly(config_path=str(config_path), as_of=SAMPLE_AS_OF, progress=said.append)
    assert _marts(warehouse) == before and not [line for line in said if "no longer declares" in line]


def test_the_console_keeps_off_what_the_command_tells_itself():
    """A failed source's summary line came after two ERROR records of its task repeating the message; a report
    that could not be written, after three. An error the command does not tell (a defect) stays."""
    from pipelines.nightly import _ToldByTheCommand

    def record(logger: str, message: str, **extra) -> logging.LogRecord:
        made = logging.LogRecord(logger, logging.ERROR, __file__, 1, message, None, None)
        made.__dict__.update(extra)
        return made

    told = _ToldByTheCommand()
    assert not told.filter(record("prefect.task_runs", "Finished in state Failed('crm.csv: required column')",
                                  task_name="ingest_source"))
    assert not told.filter(record("prefect.flow_runs", "Encountered exception during execution: ReportNotWritten('x')"))
    assert told.filter(record("prefect.task_runs", "Task run failed with exception: ValueError('a defect')",
                              task_name="build_marts"))


def _assert_failed_task_logs_carry_no_empty_traceback() -> None:
    """Prefect logs a task that returned a Failed state with exc_info=True though nothing was raised
    ("NoneType: None" under the message); the flow's filter, still in place after Prefect set up its
    logging for the runs, drops that empty traceback."""
    from pipelines.nightly import _NoNeedlessTraceback

    logger = logging.getLogger("prefect.task_runs")
    assert any(isinstance(f, _NoNeedlessTraceback) for f in logger.filters)
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "Task run failed with state: %s",
                               ("Failed",), (None, None, None))
    assert logger.filter(record)
    assert "NoneType" not in logging.Formatter().format(record)


def test_backfill_runs_one_night_after_another_and_says_so_at_the_end(sample_copy, capsys):
    """A backfill that succeeded ended without a word: no count of nights, nothing on which report is latest."""
    from pipelines.backfill import main as backfill_main

    config_path = sample_copy / "journey.yaml"
    assert backfill_main(["--from", "2026-08-01", "--to", "2026-08-03", "--config", str(config_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "backfill: 3 night(s) built, as of 2026-08-01 to 2026-08-03 00:00 Europe/Berlin; "
        f"{sample_copy / 'reports' / 'latest'} shows the last of them until the next nightly run")
    with duckdb.connect(str(load_config(config_path).warehouse_path), read_only=True) as con:
        nights = con.execute("select as_of, value from marts.run_history where metric = 'customers' "
                             "order by as_of").fetchall()
    berlin = ZoneInfo("Europe/Berlin")  # the sample's report.timezone: each night is its midnight there
    assert [as_of for as_of, _ in nights] == [datetime(2026, 8, day, tzinfo=berlin) for day in (1, 2, 3)]
    customers = [n for _, n in nights]
    assert customers[0] < customers[1] < customers[2]  # every night sees more people


def test_backfill_nights_are_midnights_in_the_report_zone_across_a_clock_change():
    from pipelines.nightly import backfill_nights

    nights = backfill_nights(date(2026, 10, 24), date(2026, 10, 26), "Europe/Berlin")  # CEST ends on the 25th
    assert nights == [datetime(2026, 10, 23, 22, tzinfo=timezone.utc), datetime(2026, 10, 24, 22, tzinfo=timezone.utc),
                      datetime(2026, 10, 25, 23, tzinfo=timezone.utc)]
    assert backfill_nights(date(2026, 10, 1), date(2026, 10, 1), "UTC") == [datetime(2026, 10, 1, tzinfo=timezone.utc)]


def test_backfill_stops_at_a_failed_night_and_exits_1_with_one_line(sample_copy):
    """In its own process, as an operator runs it: no traceback, and the flow stops at the failed night."""
    config_path = sample_copy / "journey.yaml"
    (sample_copy / "data/sample/crm/late.csv").write_text("activity_id,occurred_at\nx1,2026-10-30 10:00:00\n")
    done = subprocess.run([sys.executable, "-m", "pipelines.backfill", "--from", "2026-08-01", "--to", "2026-08-02",
                           "--config", str(config_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith(
        "backfill: the night as of 2026-08-01 00:00 Europe/Berlin failed (the nights before it are built): "
        "source(s) failed, so the marts and report stay as the previous run published them: "
        "crm: data/sample/crm/late.csv: required column(s)")
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.count("[ingest 1/3]") == 1  # the first night failed: no second night ran
    with duckdb.connect(str(load_config(config_path).warehouse_path), read_only=True) as con:
        # nothing published: no mart, and the run history (made with the warehouse) is empty
        assert con.execute("select table_name from information_schema.tables where table_schema = 'marts'"
                           ).fetchall() == [("run_history",)]
        assert con.execute("select count(*) from marts.run_history").fetchall() == [(0,)]


@pytest.mark.parametrize("argv, expected", [
    (["--from", "2026-10-05", "--to", "2026-10-01"], "--to 2026-10-01 is before --from 2026-10-05"),
    (["--from", "2026-10-01", "--to", "yesterday"], "'yesterday' is not a date: write YYYY-MM-DD"),
    (["--from", "2026-10-01", "--to", "2999-01-01"], "--to 2999-01-01 is in the future (today is"),
])
def test_backfill_refuses_bad_dates_before_prefect_starts(argv, expected, capsys):
    from pipelines.backfill import main as backfill_main

    with pytest.raises(SystemExit) as done:
        backfill_main(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2 and expected in err
    assert "python -m pipelines.backfill: error:" in err  # the command as typed, not its file's name


def test_backfill_with_a_broken_config_exits_2_with_its_message(tmp_path, capsys):
    from pipelines.backfill import main as backfill_main

    assert backfill_main(["--from", "2026-10-01", "--to", "2026-10-01", "--config", str(tmp_path / "nope.yaml")]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"backfill: {tmp_path / 'nope.yaml'}: cannot read the configuration") and "Traceback" not in err


def _api(base: str, path: str, body: dict | None = None, attempts: int = 5):
    """One call to the Prefect server's REST API. A busy server answers 429, 502 or 503; like Prefect's own
    client (`prefect.client.base`), retry those, here after 1, 2, 4, 8 s."""
    request = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST")
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code not in (429, 502, 503) or attempt == attempts - 1:
                raise
        time.sleep(2**attempt)


def _wait(what: str, check, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if found := check():
                return found
        except (OSError, urllib.error.URLError):
            pass  # not up yet
        time.sleep(1)
    raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")


def test_a_served_deployment_is_scheduled_and_runs_on_a_real_prefect_server(sample_copy, tmp_path):
    """The operator's path (docs/operations.md): a Prefect server, `pipelines.deploy` serving the flow;
    the scheduler creates the deployment's runs and a run triggered now completes and publishes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api"
    env = {**{k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"},  # as an operator's shell
           "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
           "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    logs = tmp_path / "server.log", tmp_path / "deploy.log"
    config_path = sample_copy / "journey.yaml"
    started = []
    try:
        with logs[0].open("w") as log:
            started.append(subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                             "--port", str(port)], env=env, stdout=log, stderr=log,
                                            start_new_session=True))
        _wait("the Prefect server", lambda: _api(api, "/health") is True, 180)
        with logs[1].open("w") as log:
            started.append(subprocess.Popen([sys.executable, "-m", "pipelines.deploy", "--cron", "0 3 * * *",
                                             "--config", str(config_path)], cwd=ROOT, env=env, stdout=log,
                                            stderr=log, start_new_session=True))
        deployment = _wait("the deployment", lambda: _api(api, "/deployments/name/journey-nightly/nightly"), 120)
        scheduled = _wait("the scheduler's runs", lambda: _api(api, "/flow_runs/filter", {
            "deployments": {"id": {"any_": [deployment["id"]]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}), 60)
        assert all(r["expected_start_time"].endswith("03:00:00Z") or "T03:00:00" in r["expected_start_time"]
                   for r in scheduled)
        run = _api(api, f"/deployments/{deployment['id']}/create_flow_run", {})
        state = _wait("the triggered run to end", lambda: (
            s if (s := _api(api, f"/flow_runs/{run['id']}")["state"])["type"] in ("COMPLETED", "FAILED", "CRASHED")
            else None), 300)
        assert state["type"] == "COMPLETED", (state, logs[1].read_text()[-3000:])
        # the server keeps the run's logs for its UI (they were held back to warnings, so it kept none)
        _wait("the run's logs on the server", lambda: [
            e for e in _api(api, "/logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}})
            if e["message"].startswith("marts/funnel_steps: ") and " rows in " in e["message"]], 30)
        assert (sample_copy / "reports" / "latest" / "index.html").is_file()
        with duckdb.connect(str(load_config(config_path).warehouse_path), read_only=True) as con:
            assert con.execute("select count(*) from marts.funnel_steps").fetchall()[0][0] > 0
    finally:
        for process in reversed(started):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_deploy_without_a_prefect_server_says_how_to_start_one(tmp_path):
    """Prefect's ephemeral server cannot schedule: serving there would never run the flow."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "pipelines.deploy", "--config", str(ROOT / "journey.yaml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "PREFECT_API_URL is not set" in done.stderr and "prefect server start" in done.stderr


@pytest.mark.parametrize("args, code, expected", [
    (["--cron", "61 2 * * *"], 2, "--cron '61 2 * * *' is not a cron expression: five fields"),
    (["--timezone", "Europe/Berln"], 2, "--timezone 'Europe/Berln' is not an IANA time zone name"),
    (["--config", "nope.yaml"], 2, "pipelines.deploy: nope.yaml: cannot read the configuration"),
    ([], 1, "cannot use the Prefect server at PREFECT_API_URL=http://127.0.0.1:9/api (ConnectError"),
])
def test_deploy_input_and_server_problems_say_what_to_fix_in_one_line(tmp_path, args, code, expected):
    """Each was a traceback (the unreachable server only when `serve` first called it)."""
    env = os.environ | {"PREFECT_HOME": str(tmp_path), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    done = subprocess.run([sys.executable, "-m", "pipelines.deploy", "--config", str(ROOT / "journey.yaml"), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == code and expected in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("command", [["-m", "journey_analytics.cli", "run"],
                                     ["-m", "pipelines.backfill", "--from", "2026-09-01", "--to", "2026-09-01"]])
def test_a_run_against_a_prefect_server_that_does_not_answer_says_so_in_one_line(sample_copy, command):
    """PREFECT_API_URL exported in the shell, its server not started: 120 lines of retries and tracebacks, exit 1."""
    env = os.environ | {"PREFECT_HOME": str(sample_copy / "prefect"), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    done = subprocess.run([sys.executable, *command, "--config", str(sample_copy / "journey.yaml")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "cannot use the Prefect server at PREFECT_API_URL=http://127.0.0.1:9/api (ConnectError" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_run_whose_prefect_database_is_damaged_says_what_to_delete_in_one_line(sample_copy):
    """The local server could not start: some 200 lines of uvicorn and SQLAlchemy tracebacks, exit 1."""
    home = sample_copy / "prefect"
    home.mkdir()
    (home / "prefect.db").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)  # a header, then garbage
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "journey_analytics.cli", "run", "--config",
                           str(sample_copy / "journey.yaml")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("journey: Prefect's local server stopped while starting (exit code ")
    assert "file is not a database" in done.stderr  # the cause, from its messages
    assert f"all its messages are in {home / 'local-server.log'}). If Prefect's database is damaged, delete " \
           f"{home / 'prefect.db'}" in done.stderr


def test_a_prefect_home_that_is_a_file_is_refused_before_prefect_starts(sample_copy, monkeypatch, capsys):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(sample_copy / "journey.yaml"))
    assert main(["run", "--config", str(sample_copy / "journey.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"journey: {sample_copy / 'journey.yaml'}: Prefect's home (by default `.prefect` beside journey.yaml) is a "
        "file, not a folder; point PREFECT_HOME at a folder\n")


def _start_run(config_path) -> tuple[subprocess.Popen, int]:
    """`journey run` as a terminal starts it (its own process group), once it is ingesting; and the pid of
    its Prefect server."""
    proc = subprocess.Popen([sys.executable, "-m", "journey_analytics.cli", "run", "--config", str(config_path)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in proc.stdout:  # the server is up once the run prints its first line
        if line.startswith("[ingest 1/"):
            break
    server = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
              and (args := _cmdline(p))[1:3] == ["-m", "pipelines.local_api"] and args[4:5] == [str(proc.pid)]]
    assert len(server) == 1, "no Prefect server of the run's own"
    return proc, server[0]


def _cmdline(proc_dir: Path) -> list[str]:
    try:
        return (proc_dir / "cmdline").read_bytes().decode().split("\0")
    except OSError:  # gone meanwhile
        return []


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_the_run_at_once_with_one_line_and_the_next_run_finishes(sample_copy, signum):
    """Ctrl-C reaches the terminal's whole process group. Prefect's own ephemeral server was in it and
    died too: the run then retried the dead API for minutes (up to the start-up timeout) and ended in a
    traceback. The run's server lives in a session of its own, is stopped at exit, and what the run had
    committed stays consistent. SIGTERM (`kill`, `timeout`, `systemctl stop`) reaches the run alone, and
    ended it with exit 1, three tracebacks and DuckDB's "nanobind: leaked" lines (177 lines)."""
    config_path = sample_copy / "journey.yaml"
    proc, server = _start_run(config_path)
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    said = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated (SIGTERM)"}[signum]
    assert proc.returncode == 128 + signum, err
    assert err.splitlines()[-1] == f"journey: {said}. {STOPPED}" and "Traceback" not in err and "leaked" not in err
    assert "ERROR" not in err, err  # Prefect's records of the stopped task and flow stay off the console
    _wait("the run's Prefect server to stop", lambda: _gone(server), 15)
    with duckdb.connect(str(load_config(config_path).warehouse_path), read_only=True) as con:
        loaded, events = con.execute("select (select coalesce(sum(rows_loaded), 0) from ingest.manifest), "
                                     "(select count(*) from core.events)").fetchall()[0]
    assert loaded == events  # only whole files were committed

    assert main(["run", "--config", str(sample_copy / "journey.yaml"), "--as-of", SAMPLE_AS_OF.isoformat()]) == 0


def test_a_run_with_another_hashing_salt_is_refused(sample_copy, monkeypatch, capsys):
    """JOURNEY_HASH_SALT set for cron and not in a shell: the run hashed each email to a second identifier,
    splitting customers, and said only that the sources' specs had changed. Refused before Prefect starts
    (exit 2), and by the flow itself, as a served deployment runs it."""
    from pipelines.nightly import nightly

    config_path = str(sample_copy / "journey.yaml")
    assert main(["run", "--config", config_path, "--as-of", SAMPLE_AS_OF.isoformat()]) == 0
    warehouse = load_config(config_path).warehouse_path
    before = warehouse.read_bytes()
    capsys.readouterr()
    monkeypatch.setenv("JOURNEY_HASH_SALT", "another-salt-123")
    assert main(["run", "--config", config_path, "--as-of", SAMPLE_AS_OF.isoformat()]) == 2
    err = capsys.readouterr().err
    assert "its personal data were hashed with another salt than this one (JOURNEY_HASH_SALT, from the " \
           "environment)" in err and "another-salt-123" not in err
    assert warehouse.read_bytes() == before
    with pytest.raises(ConfigError, match="hashed with another salt"):
        nightly(config_path=config_path, as_of=SAMPLE_AS_OF, progress=lambda _: None)
    capsys.readouterr()  # and explain would hash an email as it never was: "no customer has that email"
    assert main(["explain", "customer", "--email", "a@b.example", "--config", config_path]) == 2
    assert "hashed with another salt" in capsys.readouterr().err
    monkeypatch.delenv("JOURNEY_HASH_SALT")  # the salt it was loaded with: runs again
    assert main(["run", "--config", config_path, "--as-of", SAMPLE_AS_OF.isoformat()]) == 0


def test_a_salt_recorded_by_a_run_that_loaded_nothing_binds_no_one(tmp_path):
    """A first run from a shell without the cron's salt that stopped before loading anything (a source failed,
    Ctrl-C while Prefect started) recorded its salt, and every later run with the right one was refused."""
    from journey_analytics.ingest.salt import other_salt, remember_salt
    from journey_analytics.warehouse import connect
    from tests.helpers import write_config

    config = write_config(tmp_path)
    with connect(config.warehouse_path) as con:
        remember_salt(con, config)
        con.execute("update ingest.salt set fingerprint = 'another salt'")
        assert other_salt(con, config) is None  # nothing loaded under it
        remember_salt(con, config)
        con.execute("insert into ingest.manifest values ('r', 'web', 'x', 1, 'sha', 1, 1, 0, 0, now(), null, null)")
        assert other_salt(con, config) is None  # the salt the data were loaded with
        con.execute("update ingest.salt set fingerprint = 'another salt'")
        assert "hashed with another salt" in other_salt(con, config)


def test_a_killed_run_leaves_no_prefect_server_behind(sample_copy):
    """`kill -9` gives the run no chance to stop its server: the server notices and stops itself."""
    proc, server = _start_run(sample_copy / "journey.yaml")
    proc.kill()
    proc.communicate(timeout=30)
    _wait("the orphaned Prefect server to stop", lambda: _gone(server), 15)


def test_a_report_that_cannot_be_written_after_the_marts_are_published_says_so_in_one_line(sample_copy):
    """`reports/latest` is a file here, so the report cannot be copied there (as with a full disk): the run
    ended in three tracebacks without saying that its marts were already published."""
    config = load_config(sample_copy / "journey.yaml")
    config.reports_path.mkdir(parents=True, exist_ok=True)
    (config.reports_path / "latest").write_text("not a folder")
    done = subprocess.run([sys.executable, "-m", "journey_analytics.cli", "run", "--config",
                           str(sample_copy / "journey.yaml"), "--as-of", SAMPLE_AS_OF.isoformat()],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "leaked" not in done.stderr, done.stderr
    assert "ReportNotWritten" not in done.stderr, done.stderr  # Prefect's three records of it stay off the console
    assert done.stderr.splitlines()[-1].startswith(
        f"journey: {config.reports_path / 'latest'}: the report of run ") and \
        "could not be written (File exists), though its marts are published." in done.stderr
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from marts.funnel_steps").fetchall()[0][0] > 0


def test_running_out_of_memory_while_writing_the_report_says_the_marts_are_published(sample_copy, monkeypatch):
    """Said "Nothing of the rebuild is published", while the run's marts and history were committed."""
    from journey_analytics import reports
    from pipelines.nightly import ReportNotWritten, nightly

    def short_of_memory(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")

    monkeypatch.setattr(reports, "render_run_report", short_of_memory)
    with pytest.raises(ReportNotWritten) as stopped:
        nightly(config_path=str(sample_copy / "journey.yaml"), as_of=SAMPLE_AS_OF, progress=lambda _: None)
    assert "could not be written, though its marts are published: DuckDB ran out of memory" in str(stopped.value)
    with duckdb.connect(str(load_config(sample_copy / "journey.yaml").warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from marts.run_history").fetchone()[0] > 0


def test_a_failure_that_is_not_the_sources_stops_the_run(sample_copy, monkeypatch):
    """Only a SourceError fails a source alone (the others still load); anything else — a full disk, a
    bug — stops the run there, raised as it is, instead of being reported as that source's fault."""
    from journey_analytics import ingest
    from pipelines.nightly import nightly

    read = []

    def disk_full(con, config, source, **kwargs):
        read.append(source.name)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest, "ingest_source", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        nightly(config_path=str(sample_copy / "journey.yaml"), as_of=SAMPLE_AS_OF, progress=lambda _: None)
    assert read == ["web"]


def test_ctrl_c_is_an_interrupt_whatever_exception_it_surfaces_as(capsys):
    """DuckDB turns the KeyboardInterrupt raised inside a query into RuntimeError("Query interrupted"),
    as `converted` does here (the end-to-end test above interrupts real queries; a synthetic long query
    is no test bed: DuckDB 2.0 sometimes never returns from cancelling one on SIGINT). The signal, noted
    as it arrives, still ends the command as interrupted."""
    def converted():
        try:
            time.sleep(30)
        except KeyboardInterrupt:
            raise RuntimeError("Query interrupted") from None

    for run in (lambda: time.sleep(30), converted):
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        assert interruptible(run, "journey", "") == 130
        assert capsys.readouterr().err == "journey: interrupted.\n"
        assert not interrupted()  # the next command starts afresh
    with pytest.raises(RuntimeError, match="not an interrupt"):  # other errors still raise
        interruptible(lambda: (_ for _ in ()).throw(RuntimeError("not an interrupt")), "journey")


def test_sigterm_ends_the_command_as_terminated_whoever_handles_it(capsys):
    """While a flow runs, Prefect's own SIGTERM handler raises its exception, which DuckDB turns into
    RuntimeError("Query interrupted") as `taken_by_another_handler` does here: the command said nothing of
    the signal, printed tracebacks and exited 1. It is heard whoever handles it: exit 143 and one line."""
    class Terminated(BaseException):
        pass

    def raise_terminated(signum, frame):
        raise Terminated

    def taken_by_another_handler():
        before = signal.signal(signal.SIGTERM, raise_terminated)
        try:
            time.sleep(30)
        except Terminated:
            raise RuntimeError("Query interrupted") from None
        finally:
            signal.signal(signal.SIGTERM, before)

    for run in (lambda: time.sleep(30), taken_by_another_handler):
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
        assert interruptible(run, "journey", "Run it again.") == 143
        assert capsys.readouterr().err == "journey: terminated (SIGTERM). Run it again.\n"
        assert not interrupted()



def test_a_signal_while_a_command_ends_changes_nothing(capsys, monkeypatch):
    """The listener could note a SIGTERM after the command had ended, and the next command (in CI, the next test)
    said "terminated" at once; a signal landing while the command put its handlers back raised a traceback out
    of it and left them installed."""
    from journey_analytics import interrupts

    def work_until_signalled():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)

    for _ in range(30):
        assert interruptible(work_until_signalled, "journey", "") == 143
        assert interruptible(lambda: 0, "journey", "") == 0
    capsys.readouterr()
    close = os.close

    def signalled_while_closing(fd):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # handled meanwhile, inside the command's `finally`
        close(fd)

    before = signal.getsignal(signal.SIGTERM), sys.unraisablehook
    monkeypatch.setattr(interrupts.os, "close", signalled_while_closing)
    assert interruptible(lambda: 0, "journey", "") == 0
    monkeypatch.undo()
    assert (signal.getsignal(signal.SIGTERM), sys.unraisablehook) == before and not interrupted()


def test_ctrl_c_after_the_outcome_is_told_does_not_make_the_command_interrupted(capsys):
    """A run that had printed its summary and was only tearing down (its Prefect server) exited 130 with
    "interrupted ... Run it again to finish" on Ctrl-C: cron or CI recorded a finished run as failed."""
    def run():
        finished()  # the summary is printed
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)  # tearing down
        return 0

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert interruptible(run, "journey", "") == 0
    assert capsys.readouterr().err == ""
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before  # given back


def test_ctrl_c_while_the_server_stops_at_exit_is_ignored():
    """The run's Prefect server is stopped at exit (up to 10 s); Ctrl-C then printed "Exception ignored in
    atexit callback ... KeyboardInterrupt" and left the server running. A stand-in server takes 2 s to stop."""
    script = ("import atexit, os, signal, subprocess, sys, threading, time\n"
              "from pipelines import local_api\n"
              "server = subprocess.Popen([sys.executable, '-c', 'import signal, sys, time; signal.signal("
              "signal.SIGTERM, lambda *a: (time.sleep(2), sys.exit(0))); time.sleep(60)'])\n"
              "time.sleep(0.5)\n"
              "atexit.register(local_api._stop_at_exit, server)\n"
              "atexit.register(lambda: threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start())\n"
              "print(server.pid)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert (done.returncode, done.stderr) == (0, "")
    with pytest.raises(ProcessLookupError):  # stopped, not left running
        os.kill(int(done.stdout), 0)


def test_ctrl_c_that_lands_in_a_destructor_still_stops_the_command(capsys):
    """A KeyboardInterrupt raised while Python runs a `__del__` (CI: an asyncio transport's, during a run) is
    printed as "Exception ignored … Traceback" and dropped, and the run went on to exit 0."""
    class Interrupted:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)  # handled at the next instruction, still inside __del__
            sum(range(1000))

    def work():
        Interrupted()  # destroyed at once
        for _ in range(200):  # the rest of the run: 2 s unless stopped
            time.sleep(0.01)
        return 0

    hook = sys.unraisablehook
    for run in (work, lambda: Interrupted() and 0):  # the second ends before the interrupt comes again
        assert interruptible(run, "journey", "") == 130
        assert capsys.readouterr().err == "journey: interrupted.\n"  # no "Exception ignored … Traceback"
        assert sys.unraisablehook is hook  # given back
        time.sleep(0.2)  # and no second SIGINT arrives once the command is done


def test_a_command_that_does_not_stop_after_ctrl_c_exits_anyway_after_the_grace_period():
    """DuckDB 2.0 sometimes never returns from cancelling an interrupted query (in CI, a run still hung 60 s
    after Ctrl-C). Here the work swallows the interrupt and goes on, as that hang does: the command still
    ends with its one line and exit 130 once the grace period is over."""
    script = ("import os, signal, threading, time\n"
              "from journey_analytics import interrupts\n"
              "interrupts.GRACE_S = 1.0\n"
              "def hangs():\n"
              "    try:\n"
              "        time.sleep(60)\n"
              "    except KeyboardInterrupt:\n"
              "        time.sleep(60)\n"
              "threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
              "interrupts.interruptible(hangs, 'journey', '')\n")
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stderr) == (130, "journey: interrupted.\n")
    assert time.monotonic() - start < 20


def test_a_run_shows_the_metric_models_that_take_long_as_it_builds_them(sample_copy, monkeypatch):
    """At 1e8 touchpoints the metrics take minutes, and the console said nothing until all were built. Models that
    take `SHOWN_FROM_S` or more are shown with their rows; here every one, with the threshold at 0."""
    from journey_analytics.metrics import MARTS
    from pipelines import nightly as flow

    monkeypatch.setattr(flow, "SHOWN_FROM_S", 0)
    # and a rule with a misspelt value, which mapped nothing without a word
    raw = yaml.safe_load((sample_copy / "journey.yaml").read_text())
    raw["stages"][1]["rules"].append({"event_name": "pricing_veiw"})
    (sample_copy / "journey.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    lines: list[str] = []
    summary = flow.nightly(config_path=str(sample_copy / "journey.yaml"), as_of=SAMPLE_AS_OF, progress=lines.append)
    idle = f"stages[1].rules[{len(raw['stages'][1]['rules']) - 1}]"
    assert f"  note: 1 stage rule(s) map no event: {idle}; their values match no event (a misspelt name?)" in "\n".join(lines)
    shown = [line for line in lines if re.fullmatch(r"    \S+: .* s", line)]
    assert [line.split(":")[0].strip() for line in shown] == [*MARTS, "audits"]
    for name, line in zip(MARTS, shown):
        assert f"{name}: {summary.marts[name.replace('/', '.')]:,} rows in " in line
    assert lines.index(shown[-1]) < lines.index(next(line for line in lines if line.startswith("[metrics]")))


def test_a_full_disk_after_a_failed_file_names_that_file_too(sample_copy, monkeypatch):
    """The disk's error ended the run, and the error of the file that failed before it was nowhere."""
    from journey_analytics import ingest
    from pipelines.nightly import WarehouseNotWritten, nightly

    crm = sample_copy / "data" / "sample" / "crm"
    shutil.copy(crm / "activities.csv", crm / "z-later.csv")
    read = ingest.ingest_fitting

    def failing(con, config, source, unit, **kw):
        if unit.shown.endswith("activities.csv"):
            raise SourceError(f"{unit.shown}: cannot be read as CSV at line 7")
        if unit.shown.endswith("z-later.csv"):
            raise duckdb.IOException("No space left on device")
        return read(con, config, source, unit, **kw)

    monkeypatch.setattr(ingest, "ingest_fitting", failing)
    with pytest.raises(WarehouseNotWritten) as stopped:
        nightly(config_path=str(sample_copy / "journey.yaml"), as_of=SAMPLE_AS_OF, progress=lambda _: None)
    assert "No space left on device" in str(stopped.value)
    assert "(before it: data/sample/crm/activities.csv: cannot be read as CSV at line 7)" in str(stopped.value)

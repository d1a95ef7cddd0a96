import re
from pathlib import Path

import duckdb
import pytest
import yaml

from journey_analytics.config import ConfigError, load_config, memory_bytes
from tests.helpers import ROOT, sample_config_dict


def test_sample_config_loads_with_paths_relative_to_the_file():
    config = load_config(ROOT / "journey.yaml")
    assert config.stage_names == ("awareness", "consideration", "purchase", "post_purchase", "advocacy")
    assert config.funnel_steps == config.stage_names
    assert config.warehouse_path == ROOT / "data" / "warehouse.duckdb"
    assert [config.source_priority(s) for s in config.sources] == [1, 2, 3]


def test_funnel_steps_and_path_nodes_may_name_touchpoints(tmp_path):
    from journey_analytics.metrics import settings_from

    raw = sample_config_dict()
    raw["funnel"]["steps"] = ["awareness", "crm:lead_created", "purchase"]
    raw["paths"]["node"] = "touchpoint"
    path = tmp_path / "journey.yaml"
    path.write_text(yaml.safe_dump(raw))
    settings = settings_from(load_config(path))
    assert (settings.steps, settings.path_node) == (("awareness", "crm:lead_created", "purchase"), "touchpoint")


def _broken(tmp_path: Path, mutate) -> str:
    raw = sample_config_dict()
    mutate(raw)
    path = tmp_path / "journey.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(str(path))
    return message


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda r: r["sources"][0].update(kind="clicks"), "sources[0].kind: expected 'clickstream', 'crm' or 'service'; found 'clicks'"),
        (lambda r: r["sources"][1].update(timezone="Mars/Base"), "sources[1].timezone: expected an IANA time zone name like Europe/Berlin; found 'Mars/Base'"),
        (lambda r: r["sources"][1].update(priority=99999999999), "sources[1].priority: expected less than or equal to 2147483647; found 99999999999"),
        # zoneinfo reads these system files; DuckDB and Polars refuse them mid-run
        (lambda r: r["sources"][1].update(timezone="localtime"), "sources[1].timezone: expected an IANA time zone name like Europe/Berlin; found 'localtime'"),
        (lambda r: r["report"].update(timezone="posix/Europe/Berlin"), "report.timezone: expected an IANA time zone name like Europe/Berlin; found 'posix/Europe/Berlin'"),
        (lambda r: r["sources"][2]["columns"].pop("event_name"), "sources[2].columns.event_name: required, but missing"),
        (lambda r: r["sources"][2].update(colour="red"), "sources[2].colour: unknown key (check the spelling); found 'red'"),
        (lambda r: r.update(memory_limit="lots"), "memory_limit: expected a memory size like 512MB, 6GB or 1.5GiB; found 'lots'"),
        (lambda r: r.update(memory_limit="10MB"), "memory_limit: expected at least 64MB: DuckDB needs that much to load and build anything; found '10MB'"),
        (lambda r: r["funnel"].update(window_days=0), "funnel.window_days: expected greater than 0; found 0"),
        (lambda r: r["funnel"].update(window_days=float("inf")), "funnel.window_days: expected a finite number"),
        # numbers are numbers: `true` read as a 1-day window, "8" as 8 (report.keep_runs refused it)
        (lambda r: r["funnel"].update(window_days=True), "funnel.window_days: expected a valid number; found True"),
        (lambda r: r["funnel"].update(top_n="8"), "funnel.top_n: expected a valid integer; found '8'"),
        # a key near one it could be says which
        (lambda r: r.update(path=r.pop("paths")), "path: unknown key (did you mean 'paths'?)"),
        (lambda r: r["funnel"].update(windw_days=3), "funnel.windw_days: unknown key (did you mean 'window_days'?)"),
        (lambda r: r["stages"][0]["rules"][0].update(properties={"page": {"equal": "x"}}),
         "stages[0].rules[0].properties.page.equal: unknown key (did you mean 'equals'?)"),
        (lambda r: r["funnel"].update(steps=["awareness", {"crm": "lead_created"}]),
         "funnel.steps: crm: lead_created is read as a mapping; write crm:lead_created with no space after ':'"),
        # a rule with no test matched every event, and a name no source has matched none, both silently
        (lambda r: r["stages"][0]["rules"].insert(0, {}),
         "stages[0].rules[0]: a rule needs at least one of source, source_kind, event_name, properties"),
        (lambda r: r["stages"][0]["rules"].insert(0, {"event_name": None}),
         "stages[0].rules[0]: event_name is empty; give it a value"),
        (lambda r: r["stages"][0]["rules"].insert(0, {"source": "", "event_name": "x"}),
         "stages[0].rules[0]: source is empty; give it a value"),
        (lambda r: r["sources"][0].update(priority=True), "sources[0].priority: expected a valid integer; found True"),
        (lambda r: r["stages"][0]["rules"].insert(0, {"event_name": []}),
         "stages[0].rules[0].event_name: an empty list matches nothing"),
        (lambda r: r["stages"][3]["rules"].insert(0, {"source_kind": ["crm", "services"]}),
         "stages[3].rules[0].source_kind: 'services' is no source kind (clickstream, crm, service)"),
        (lambda r: r["stages"][4].update(name="purchase"),
         "stages[4].name: 'purchase' is already stages[2].name; stage names must be unique"),
        (lambda r: r.setdefault("report", {}).update(keep_runs=0), "report.keep_runs: expected greater than or equal to 1; found 0"),
        (lambda r: r["sources"][2].update(identifiers={"mail": "x"}), "sources[2].identifiers.mail: unknown identifier type"),
        (lambda r: r["paths"].update(goal_stage="buy"), "paths.goal_stage: 'buy' is not a stage"),
        (lambda r: r["stages"][0]["rules"][0].update(event_name={"regex": "("}),
         "stages[0].rules[0].event_name.regex: invalid regex: missing ): ( (RE2 syntax: no lookaround or backreferences); found '('"),
        (lambda r: r["sources"][0]["derive"]["channel"][0]["when"].update(utm_medium={"equals": "a", "like": "b"}), "exactly one of equals, in, like, regex, glob"),
        (lambda r: r["funnel"].update(breakdown="campaign"), "funnel.breakdown: expected 'channel', 'source', 'source_kind' or 'event_name'; found 'campaign'"),
        (lambda r: r["paths"].update(node="event"), "paths.node: expected 'stage' or 'touchpoint'; found 'event'"),
        (lambda r: r["funnel"].update(steps=["purchase", "awareness"]), "funnel.steps: the stages in ['purchase', 'awareness'] must be in stage order"),
        (lambda r: r["funnel"].update(steps=["awareness", "checkout"]), "funnel.steps: 'checkout' is neither a stage (awareness, consideration, purchase, post_purchase, advocacy) nor a touchpoint written source:event_name"),
        (lambda r: r["funnel"].update(steps=["awareness", "crm:lead", "crm:lead"]), "funnel.steps: ['awareness', 'crm:lead', 'crm:lead'] names a step twice"),
        (lambda r: r["funnel"].update(steps=["awareness", "crn:lead_created"]), "funnel.steps: 'crn:lead_created' names no source (web, crm, service) before its ':'"),
        (lambda r: r["funnel"].update(steps=["awareness", "crm:lead_*"]), "funnel.steps: 'crm:lead_*': the event name after ':' must be exact, without spaces around it and without * ? ["),
        (lambda r: r["funnel"].update(steps=["awareness", "crm: lead_created"]), "funnel.steps: 'crm: lead_created': the event name after ':' must be exact"),
        (lambda r: r["funnel"].update(segment="Customer Segment"), "funnel.segment: expected a name matching ^[A-Za-z_][A-Za-z0-9_]*$; found 'Customer Segment'"),
        (lambda r: r.update(base_dir="/elsewhere"), "base_dir: unknown key (check the spelling); found '/elsewhere'"),
        (lambda r: r["stages"][4]["rules"].append({"event_name": {"regex": "^(?!landing)review"}}),
         "stages[4].rules[2].event_name.regex: invalid regex: invalid perl operator: (?! (RE2 syntax"),
        (lambda r: r["stages"][4]["rules"].append({"event_name": {"like": "review\\"}}),
         "stages[4].rules[2].event_name.like: it ends with the escape character"),
        # checks between keys of a source name the key to change and show its value (they named the whole source)
        (lambda r: r["sources"][0].update(delimiter=";"), "sources[0].delimiter: applies to csv sources only; remove it from this jsonl source; found ';'"),
        (lambda r: r["sources"][1].update(delimiter=";;"), 'sources[1].delimiter: expected one ASCII character other than a quote, e.g. ";" or a tab (write "\\t" in YAML); found \';;\''),
        (lambda r: r["sources"][1].update(delimiter='"'), "sources[1].delimiter: expected one ASCII character other than a quote, e.g. \";\" or a tab (write \"\\t\" in YAML); found '\"'"),
        (lambda r: r["sources"][2]["types"].update(opns="integer"),
         "sources[2].types.opns: not a column in `properties` (topic, csat, nps); add it there or remove it from `types`; found 'integer'"),
        (lambda r: r["sources"][2].update(identifiers={}),
         "sources[2].identifiers: declare at least one identifier column, e.g. identifiers: {anonymous_id: cookie}; found an empty mapping"),
        (lambda r: r["sources"][1].pop("path"), "sources[1].path: required for a csv source: a file or a glob"),
        (lambda r: (r["sources"][0].pop("path"), r["sources"][0].update(format="postgres", table="t")),
         "sources[0].uri: required for a postgres source, e.g. postgresql://user@host/db (${VAR} reads the environment)"),
        (lambda r: (r["sources"][0].pop("path"), r["sources"][0].update(format="postgres", uri="postgresql://db")),
         "sources[0].table: a postgres source needs `table` (schema.table) or `query` (a SELECT)"),
        # an updated row of a table without ids loaded as a second event, silently
        (lambda r: (r["sources"][0].pop("path"), r["sources"][0]["columns"].pop("event_id"),
                    r["sources"][0].update(format="postgres", uri="postgresql://db", table="t")),
         "sources[0].columns: a postgres source needs `event_id`: a table's rows change in place"),
        (lambda r: (r["sources"][0].pop("path"), r["sources"][0].update(format="postgres", uri="postgresql://db", table="t", query="select 1")),
         "sources[0].table: give `table` or `query`, not both; found 't'"),
        (lambda r: r["identity"]["types"].append({"name": "email", "pii": "email"}),
         "identity.types: the type 'email' is declared twice; declare each type once (their order is their priority)"),
        (lambda r: r.update(privacy={"salt": 1234567890}),
         "privacy.salt: expected text; YAML reads this value as a number: write it in quotes; found 10 characters"),
        (lambda r: r.update(memory_limit=6), "memory_limit: expected text; YAML reads this value as a number: write it in quotes; found 6"),
        # a value that may be text or a mapping: the errors of the shape written, without pydantic's names
        (lambda r: r["sources"][0]["derive"]["channel"][0].update(then={"colum": "x"}),
         "sources[0].derive.channel[0].then.colum: unknown key (did you mean 'column'?); found 'x'"),
        (lambda r: r["sources"][0]["derive"]["channel"][0].update(then=[1]),
         "sources[0].derive.channel[0].then: expected a valid string; found [1]"),
        (lambda r: r["stages"][0]["rules"][0].update(properties={"int": {"regex": "("}}),  # a key, not a shape
         "stages[0].rules[0].properties.int.regex: invalid regex"),
        (lambda r: r["sources"][0]["derive"].update(segment=[{"then": "x"}]),
         "sources[0].derive.segment: unknown key here: expected 'channel'; found 'segment'"),
        (lambda r: r["sources"][2].update(colour={1: "a", "b": "c"}),  # was a TypeError sorting the keys
         "sources[2].colour: unknown key (check the spelling); found a mapping with keys [1, 'b']"),
    ],
)
def test_errors_name_the_key_what_was_expected_and_what_was_found(tmp_path, mutate, expected):
    message = _broken(tmp_path, mutate)
    assert expected in message
    assert not re.search(r"\.(str|ColumnRef|DeriveCase)\b|\[key\]", message)  # pydantic's names for shapes


def test_unreadable_and_non_mapping_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping at the top level; found list"):
        load_config(tmp_path / "list.yaml")


def test_salt_comes_from_the_environment_when_set(monkeypatch):
    config = load_config(ROOT / "journey.yaml")
    monkeypatch.setenv("JOURNEY_HASH_SALT", "from-the-environment")
    assert config.hash_salt == "from-the-environment"


def test_a_short_salt_in_the_environment_is_refused_as_in_the_file(monkeypatch):
    monkeypatch.setenv("JOURNEY_HASH_SALT", "abc")
    with pytest.raises(ConfigError, match=r"JOURNEY_HASH_SALT \(environment, overrides privacy.salt\): 3 character"):
        load_config(ROOT / "journey.yaml")


def test_environment_values_that_are_not_utf8_are_clear_errors(tmp_path, monkeypatch):
    """Bytes that are not UTF-8 in the environment reach Python as lone surrogates; DuckDB cannot take
    them (a conversion traceback mid-run). A salt or a `${VAR}` in a PostgreSQL `uri` says so up front."""
    from journey_analytics.sources.postgres import resolve_uri
    from journey_analytics.sources.readers import SourceError
    from tests.helpers import write_config

    monkeypatch.setenv("JOURNEY_HASH_SALT", "salt-\udcff-bytes")
    with pytest.raises(ConfigError, match=r"JOURNEY_HASH_SALT \(environment, overrides privacy.salt\): not valid UTF-8"):
        load_config(ROOT / "journey.yaml")
    monkeypatch.delenv("JOURNEY_HASH_SALT")
    monkeypatch.setenv("CRM_URL", "postgresql://ann@127.0.0.1/cr\udcffm")
    config = write_config(tmp_path, sources=[{
        "name": "crm_db", "kind": "crm", "format": "postgres", "uri": "${CRM_URL}", "table": "activities",
        "columns": {"event_id": "id", "occurred_at": "at", "event_name": "activity"},
        "identifiers": {"contact_id": "contact_id"}}])
    with pytest.raises(SourceError, match=r"source 'crm_db': \$\{CRM_URL\} in `uri` is not valid UTF-8 text"):
        resolve_uri(config.sources[0])


def test_a_key_written_twice_in_one_mapping_is_an_error_naming_both_lines(tmp_path):
    text = (ROOT / "journey.yaml").read_text()
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith("path:"))
    lines = text.splitlines()
    lines.insert(first, lines[first - 1].replace("path:", "path: nowhere/*.csv #"))
    (tmp_path / "journey.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "journey.yaml")
    assert f"key 'path' is written twice in one mapping (first on line {first}); keep one" in str(err.value)
    assert f"in {tmp_path / 'journey.yaml'}, line {first + 1}" in str(err.value)


def test_an_unset_goal_stage_that_is_not_a_stage_says_it_is_the_default(tmp_path):
    message = _broken(tmp_path, lambda r: (r.pop("paths"), r["stages"][2].update(name="buy"),
                                           r["funnel"].pop("steps", None)))
    assert "paths.goal_stage: 'purchase' (the default) is not a stage" in message
    assert "set paths.goal_stage to the stage that counts as converted" in message


@pytest.mark.parametrize("name", ["converted", "unmapped"])
def test_a_stage_cannot_take_a_name_the_marts_give_to_something_else(tmp_path, name):
    # a stage `converted` would be one Sankey node with the terminal node of converted paths
    message = _broken(tmp_path, lambda r: (r["stages"][2].update(name=name), r["paths"].update(goal_stage=name),
                                           r["funnel"].pop("steps", None)))
    assert f"stages: {name!r} cannot name a stage" in message and "rename the stage" in message


def test_yaml_scalars_in_conditions_are_the_text_they_match(tmp_path):
    """`true` is the text 'true' (not Python's 'True'); `no`, `yes`, `off` stay text (YAML 1.2 booleans only);
    numbers and dates are the text they were written as (not 668 for `01234`)."""
    text = (ROOT / "journey.yaml").read_text().replace(
        "      - source_kind: service\n",
        "      - source_kind: service\n      - {properties: {is_trial: true, country: no, tier: 2, flag: off, "
        "zip: 01234, price: 2.50, day: 2026-06-01}}\n")
    (tmp_path / "journey.yaml").write_text(text)
    rule = load_config(tmp_path / "journey.yaml").stages[3].rules[1]
    assert {k: c.op for k, c in rule.properties.items()} == {
        "is_trial": ("equals", "true"), "country": ("equals", "no"), "tier": ("equals", "2"), "flag": ("equals", "off"),
        "zip": ("equals", "01234"), "price": ("equals", "2.50"), "day": ("equals", "2026-06-01")}


@pytest.mark.parametrize("mutate, secret", [
    (lambda r: r["privacy"].update(salt="Sh0rtPw"), "Sh0rtPw"),
    (lambda r: r["privacy"].update(salt=98765432101234), "98765432101234"),
    (lambda r: r["sources"][0].update(url="postgresql://journey:PgPassw0rd!@127.0.0.1:5432/db"), "PgPassw0rd"),
    (lambda r: r["privacy"].update(Salt=r["privacy"].pop("salt")), "sample-salt-not-secret"),  # was shown
    (lambda r: r.update(privacy=r["privacy"]["salt"]), "sample-salt-not-secret"),  # was shown
    (lambda r: r.update(salt="TopLevelSecretSalt"), "TopLevelSecretSalt"),  # a salt under an unknown key: was shown
    (lambda r: r["sources"][0].update(url="postgresql://crm:my secret pw@db/crm"), "secret pw"),  # a blank: was shown
    (lambda r: r["sources"][0].update(url="postgresql://crm:s3cr@t-PW@db/crm"), "t-PW"),  # an @: its tail was shown
    (lambda r: r["sources"][0].update(url="host=db user=crm password=KvSecret"), "KvSecret"),  # key=value: was shown
])
def test_a_configuration_error_never_shows_a_salt_or_a_password(tmp_path, mutate, secret):
    message = _broken(tmp_path, mutate)
    assert "salt" in message.lower() or "url" in message or "privacy:" in message
    assert secret not in message
    assert "***" in message or "characters" in message  # masked, not left out


@pytest.mark.parametrize("line", ["  salt: SuperSecretSalt: oops", "  salt: SuperSecretSalt\n  salt: SuperSecretSalt"])
def test_a_yaml_error_quoting_the_salt_line_does_not_show_the_salt(tmp_path, line):
    text = (ROOT / "journey.yaml").read_text().replace("  salt: sample-salt-not-secret", line)
    (tmp_path / "journey.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "journey.yaml")
    assert "line 9" in str(err.value) and "SuperSecretSalt" not in str(err.value)


@pytest.mark.parametrize("old, new, where", [
    ("then: paid_search}", 'then: "paid\\udc80"}', "sources[0].derive.channel[0].then"),
    ("{utm_medium: cpc}", '{"utm\\ud83d": cpc}', "sources[0].derive.channel[0].when"),
    ("reports_dir: reports", 'reports_dir: "rep\\udc80"', "reports_dir"),
])
def test_a_lone_surrogate_escape_is_a_config_error_naming_where(tmp_path, old, new, where) -> None:
    """YAML lets "\\udc80" write half a UTF-16 pair; DuckDB cannot take it (it was a traceback in
    `sources check`), and printing it would fail too, so the message shows the escape, not the text."""
    text = (ROOT / "journey.yaml").read_text()
    assert old in text
    path = tmp_path / "journey.yaml"
    path.write_text(text.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {where}: holds the escape \\u"), message
    message.encode("utf-8")  # printable: no surrogate in the message itself


def test_problems_between_keys_of_a_source_are_listed_with_the_others(tmp_path):
    """They were a model validator's: pydantic runs one only when every key is valid, so the delimiter's
    problem showed only once the time zone was fixed, named the whole source and dumped its keys."""
    message = _broken(tmp_path, lambda r: (r["sources"][2].update(delimiter=";;", timezone="CEST"),
                                           r["sources"][2]["types"].update(opns="integer"), r["sources"][1].pop("path")))
    assert "4 problem(s)" in message
    assert "  - sources[1].path: required for a csv source: a file or a glob" in message.splitlines()  # no `found`
    assert "sources[2].timezone: expected an IANA time zone name" in message
    assert "sources[2].delimiter: expected one ASCII character" in message
    assert "sources[2].types.opns: not a column in `properties`" in message
    assert "found a mapping" not in message


def test_a_tab_delimiter_is_written_in_double_quotes(tmp_path):
    """A tab is a delimiter the CSV reader takes (TSV exports); `'\\t'` or a bare `\\t` is a backslash
    and a t in YAML, which no reader splits on, so the error says how to write the tab."""
    text = (ROOT / "journey.yaml").read_text()
    old = "    types: {amount: number}\n"
    assert old in text
    path = tmp_path / "journey.yaml"
    path.write_text(text.replace(old, old + '    delimiter: "\\t"\n'))
    assert load_config(path).sources[1].delimiter == "\t"
    for written in ("'\\t'", "\\t"):
        path.write_text(text.replace(old, old + f"    delimiter: {written}\n"))
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert ('sources[1].delimiter: a backslash and a t, not a tab: YAML reads \\t as a tab only in double quotes; '
                'write delimiter: "\\t"') in str(err.value)


@pytest.mark.parametrize("encode, expected", [
    (lambda t: t.replace("reports_dir: reports", "reports_dir: r\u00e9ports").encode("cp1252"),
     "line 4 is not UTF-8 (byte 0xe9 at byte 15 of the line); save the file as UTF-8 (journey reads UTF-8 only)"),
    (lambda t: b"# Caf\xe9 config\n" + t.encode(), "line 1 is not UTF-8 (byte 0xe9 at byte 6 of the line)"),
    (lambda t: t.encode("utf-16"), "the file is UTF-16 text (it starts with a UTF-16 byte order mark); save the file as UTF-8"),
    (lambda t: t.encode("utf-32"), "the file is UTF-32 text (it starts with a UTF-32 byte order mark)"),
    (lambda t: t.encode("utf-16-le"), "line 1 holds a NUL byte, as UTF-16 or UTF-32 text does; save the file as UTF-8"),
    (lambda t: ("# Café\n" + t).encode("utf-16-be"), "line 1 holds a NUL byte"),  # é alone is no UTF-8 either
])
def test_a_file_that_is_not_utf8_is_a_config_error_naming_where(tmp_path, encode, expected):
    """It was a UnicodeDecodeError traceback (exit 1); now the file, the line and byte, and the fix (exit 2)."""
    from journey_analytics.cli import main

    path = tmp_path / "journey.yaml"
    text = (ROOT / "journey.yaml").read_text()
    assert text.splitlines()[3] == "reports_dir: reports"
    path.write_bytes(encode(text))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {expected}")
    assert main(["sources", "check", "--config", str(path)]) == 2


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "journey.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (ROOT / "journey.yaml").read_bytes())
    assert load_config(path).stage_names == load_config(ROOT / "journey.yaml").stage_names


@pytest.mark.parametrize("size, expected", [("6gb", 6 * 10**9), ("1.5gib", 1.5 * 2**30), ("512 mb", 512 * 10**6),
                                            ("244.1 MiB", int(244.1 * 2**20))])
def test_a_memory_size_is_read_in_any_case_as_duckdb_reads_it(tmp_path, size, expected):
    raw = sample_config_dict()
    raw["memory_limit"] = size
    (tmp_path / "journey.yaml").write_text(yaml.safe_dump(raw))
    assert load_config(tmp_path / "journey.yaml").memory_limit == size
    assert memory_bytes(size) == int(expected)
    con = duckdb.connect()
    con.execute("set memory_limit = ?", [size])  # DuckDB takes it as written
    assert con.execute("select current_setting('memory_limit')").fetchall()[0][0].endswith("iB")


def test_a_mapping_written_where_text_or_a_mapping_may_go_counts_only_its_own_problems(tmp_path):
    message = _broken(tmp_path, lambda r: r["sources"][0]["derive"]["channel"][0].update(then={"colum": "x"}))
    assert message.splitlines()[1:] == [
        "  - sources[0].derive.channel[0].then.column: required, but missing",
        "  - sources[0].derive.channel[0].then.colum: unknown key (did you mean 'column'?); found 'x'",
    ] and ": 2 problem(s) in the configuration" in message.splitlines()[0]


def test_property_keys_named_like_types_keep_their_place_and_every_problem_is_told(tmp_path):
    """Keys are the config writer's words: `int`, `str`, `Source` are property names here, not pydantic's names
    for the shapes a value may take (only `then:` may be text or a mapping)."""
    message = _broken(tmp_path, lambda r: r["stages"][0]["rules"][0].update(
        properties={"int": {"regex": "("}, "str": {"regex": "("}, "Source": {"regx": "a"}}))
    assert ": 3 problem(s) in the configuration" in message.splitlines()[0]
    for key in ("properties.int.regex: invalid regex", "properties.str.regex: invalid regex", "properties.Source"):
        assert f"stages[0].rules[0].{key}" in message


def test_a_home_folder_of_no_user_is_a_config_error(tmp_path):
    raw = sample_config_dict()
    raw["warehouse"] = "~no_such_user_here/w.duckdb"
    (tmp_path / "journey.yaml").write_text(yaml.safe_dump(raw))
    config = load_config(tmp_path / "journey.yaml")
    with pytest.raises(ConfigError, match="~no_such_user_here is no user's home folder on this machine"):
        config.warehouse_path

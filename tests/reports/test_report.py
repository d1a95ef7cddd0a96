"""Layer 5: the run report and the index, checked as files and in real headless Chromium."""

from __future__ import annotations

import copy
import errno
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
import yaml
from plotly.colors import unlabel_rgb
from plotly.offline import get_plotlyjs_version
from report_warehouse import (
    ARTIFACTS,
    BUCKETS,
    DAY,
    N_SANKEY_LINKS,
    N_SANKEY_NODES,
    PREV_RUN_ID,
    RUN_AT,
    RUN_ID,
    SANKEY_LINKS,
    TIMEZONE,
    TITLE,
    STAGES,
    TIME_IN_STAGE,
    TIME_TO_CONVERT_COUNTS,
    XSS,
    build_warehouse,
    open_report,
    render,
)

from journey_analytics.config import load_config
from tests.helpers import sample_config_dict
from journey_analytics.reports import esc_html, esc_label, render_run_report
from journey_analytics.reports.render import check_run_id
from journey_analytics.reports.run_page import plotly_js
from journey_analytics.reports.sankey import sankey_figure, sankey_graph
from journey_analytics.reports.figures import trends_figure
from journey_analytics.reports.html import breakdown_table
from journey_analytics.reports.index_page import RunEntry, runs_index_html
from journey_analytics.reports.palette import OKABE_ITO, OTHER, UNKNOWN, colour_for, contrast, heat, stage_colours
from journey_analytics.reports.summary import change_sentence, history_up_to, previous_run, same_funnel
from journey_analytics.reports.text import fmt_days, fmt_duration, fmt_nps, fmt_pct, fmt_pts

BERLIN = ZoneInfo("Europe/Berlin")


# --- escaping and wording -------------------------------------------------------------------

def test_esc_label_shows_plotly_markup_as_text():
    assert esc_label(XSS) == "&lt;img src=x onerror=alert(1)&gt;"
    assert esc_label("a & <b>b</b>") == "a &amp; &lt;b&gt;b&lt;/b&gt;"
    assert esc_label("&lt;") == "&amp;lt;"  # an entity in data stays literal too
    assert esc_label(None) == ""


def test_esc_html_escapes_quotes_for_attributes():
    assert esc_html('"><script>x</script>') == "&quot;&gt;&lt;script&gt;x&lt;/script&gt;"
    assert esc_html(None) == ""


def test_plain_words_formatting():
    assert fmt_pts(-0.032) == "\u22123.2 pts"
    assert fmt_pts(0.005) == "+0.5 pts"
    assert fmt_pts(0.0001) == "unchanged"
    # an NPS of 0 read "+0", a negative one had a hyphen where the text says "−100 to 100"
    assert [fmt_nps(v) for v in (100, 0, -0.4, 33.3, -25)] == ["+100", "0", "0", "+33", "\u221225"]
    assert [fmt_duration(s) for s in (45, 720, 5 * 3600, 3 * 86400, None)] == ["45 s", "12 min", "5.0 h",
                                                                            "3.0 d", "\u2014"]
    # a share that is not 0 or 1 never reads as one: 1 customer of 2,500 is not "0.0%"
    assert [fmt_pct(v) for v in (0, 0.0004, 0.0005, 0.4213, 0.9994, 0.9996, 1, None)] == [
        "0.0%", "under 0.1%", "0.1%", "42.1%", "99.9%", "over 99.9%", "100.0%", "\u2014"]
    assert [fmt_pct(v, 0) for v in (0.004, 0.996)] == ["under 1%", "over 99%"]
    # a window as configured, not rounded: 0.01 days read "14 min"
    assert [fmt_days(d) for d in (30, 1, 1.5, 0.5, 0.01, 0.0001, 1e-7, 1e-12, 1.0000001, 30.123456789)] == [
        "30 days", "1 day", "1.5 days", "12 h", "14.4 min", "8.64 s", "0.00864 s", "8.64e-08 s", "1.0000001 days",
        "30.123456789 days"]


def test_change_sentence_names_the_change_since_previous_run(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        history = con.sql("select * from marts.run_history").pl()
    sentence = change_sentence(history, RUN_ID, STAGES, BERLIN)
    assert sentence.startswith("Since the previous run (as of 11 Mar 2025, 01:00 CET): ")
    assert "purchase conversion \u22123.2 pts" in sentence
    assert "consideration conversion \u22121.0 pts" in sentence
    assert "customers +50 (+5.3%)" in sentence
    # what a run quarantined is its own count, not a level: after a run that read no file it read "−214 (−100.0%)"
    assert "quarantined" not in sentence
    assert change_sentence(history, PREV_RUN_ID, STAGES, BERLIN) is None  # first run: nothing to compare
    assert change_sentence(None, RUN_ID, STAGES, BERLIN) is None


def test_runs_are_compared_on_the_funnel_steps_the_metrics_wrote_not_on_every_stage(warehouse, tmp_path):
    """funnel.steps [awareness, purchase] in marts.funnel_stages: the sentence, the trends and the index
    compare purchase only (they compared every stage after the first)."""
    db = tmp_path / "steps.duckdb"
    shutil.copy(warehouse, db)
    with duckdb.connect(str(db)) as con:
        con.execute("create table marts.funnel_stages as "
                    "select * from (values (1, 'awareness', 1), (2, 'purchase', 4)) as s(step, stage, stage_index)")
        history = con.sql("select * from marts.run_history").pl()
    sentence = change_sentence(history, RUN_ID, ["awareness", "purchase"], BERLIN)
    assert "purchase conversion \u22123.2 pts" in sentence and "consideration" not in sentence
    trends = trends_figure(history, ["awareness", "purchase"], {}, "UTC")
    assert [t.name for t in trends.data if t.showlegend] == ["purchase"]
    page = render(db, tmp_path / "reports").read_text(encoding="utf-8")
    index = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Reached purchase" in index and "Reached consideration" not in index
    assert "purchase conversion" in page and "consideration conversion" not in page
    render(warehouse, tmp_path / "all")  # no marts.funnel_stages: every stage is a step
    assert "Reached consideration" in (tmp_path / "all" / "index.html").read_text(encoding="utf-8")


def test_conversions_are_not_compared_when_the_funnel_steps_changed_since_the_previous_run(warehouse):
    """After `funnel.steps` was edited, a step's conversion measures another chain of steps: the sentence said
    "purchase conversion −3.9 pts" for a change the data did not make."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        history = con.sql("select * from marts.run_history").pl()
    steps = ["awareness", "crm:lead_created", "purchase"]
    edited = history.filter((pl.col("run_id") != RUN_ID) | ~pl.col("metric").str.contains(":")
                            | pl.col("metric").str.ends_with(":awareness") | pl.col("metric").str.ends_with(":purchase"))
    mine = edited.filter(pl.col("run_id") == RUN_ID).head(1)
    edited = pl.concat([edited, mine.with_columns(metric=pl.lit("reached:crm:lead_created"), value=pl.lit(40.0)),
                        mine.with_columns(metric=pl.lit("conversion_from_start:crm:lead_created"), value=pl.lit(0.4))])
    sentence = change_sentence(edited, RUN_ID, steps, BERLIN)
    assert "the funnel changed (its steps, window or stage rules), so conversions are not compared" in sentence
    assert "purchase conversion" not in sentence and "customers +50 (+5.3%)" in sentence
    assert "purchase conversion \u22123.2 pts" in change_sentence(history, RUN_ID, STAGES, BERLIN)  # same steps
    trends = {t.name: list(t.y) for t in trends_figure(edited, steps, {}, "UTC").data if t.showlegend}
    assert trends["purchase"][0] is None and trends["purchase"][1] is not None  # a gap before the edit
    assert None not in {t.name: list(t.y) for t in trends_figure(history, STAGES, {}, "UTC").data}["purchase"]
    # each run's quarantined rows are that run's own: bars, not a line drawn between runs
    assert {t.type for t in trends_figure(history, STAGES, {}, "UTC").data if t.name == "rows quarantined by the run"} \
        == {"bar"}


def test_runs_are_told_apart_by_their_funnel_steps_and_their_order():
    """Touchpoint steps may be reordered (only stages keep stage order), which the step names alone do not show;
    a run without a funnel has nothing to compare and is not "changed"; runs recorded before `step:` metrics
    existed count by their step names."""
    old = {"reached:awareness": 10.0, "reached:purchase": 2.0}
    first = {**old, "step:awareness": 1.0, "step:web:signup": 2.0, "step:crm:lead": 3.0,
             "reached:web:signup": 5.0, "reached:crm:lead": 4.0}
    swapped = {**first, "step:web:signup": 3.0, "step:crm:lead": 2.0}
    assert same_funnel(first, dict(first)) and not same_funnel(first, swapped)
    assert same_funnel({"customers": 5.0}, first) and same_funnel(first, {})  # no funnel: nothing to tell apart
    assert same_funnel(old, {**old, "step:awareness": 1.0, "step:purchase": 2.0})  # recorded before step:
    assert not same_funnel(old, first)

    at = [datetime(2026, 10, 25, 0, 45, tzinfo=timezone.utc), datetime(2026, 10, 25, 1, 15, tzinfo=timezone.utc)]
    rows = [(run, at_, metric, value) for run, at_, metrics in (("r1", at[0], swapped), ("r2", at[1], first))
            for metric, value in {**metrics, "conversion_from_start:crm:lead": 0.4}.items()]
    history = pl.DataFrame([(r, a, a, m, v) for r, a, m, v in rows],
                           schema=["run_id", "run_at", "as_of", "metric", "value"], orient="row")
    sentence = change_sentence(history, "r2", ["awareness", "web:signup", "crm:lead"], ZoneInfo("UTC"))
    assert "the funnel changed" in sentence and "crm:lead conversion" not in sentence
    # 02:45 CEST and then 02:15 CET in Berlin (clocks went back): the page's run is still the latest
    trends = trends_figure(history, ["awareness", "web:signup", "crm:lead"], {}, "Europe/Berlin")
    (line,) = [t for t in trends.data if t.name == "crm:lead"]
    assert [x.strftime("%H:%M") for x in line.x] == ["02:45", "02:15"] and list(line.y) == [None, 0.4]


def test_runs_are_told_apart_by_their_funnel_definition():
    """The same steps with another window or other stage rules measure something else: a reviewer saw "purchase
    conversion −22.2 pts" after `funnel.window_days` went from 30 to 1 on the same data."""
    steps = {"reached:awareness": 10.0, "reached:purchase": 2.0, "step:awareness": 1.0, "step:purchase": 2.0}
    assert same_funnel({**steps, "funnel_definition": 7.0}, {**steps, "funnel_definition": 7.0})
    assert not same_funnel({**steps, "funnel_definition": 7.0}, {**steps, "funnel_definition": 8.0})
    assert same_funnel(steps, {**steps, "funnel_definition": 8.0})  # recorded before it: by the steps


def test_the_funnel_definition_follows_what_a_conversion_means(tmp_path):
    raw = sample_config_dict()
    definitions = {}
    for name, edit in (("sample", lambda r: None),
                       ("breakdown", lambda r: r["funnel"].update(breakdown="source")),  # not what conversion means
                       # the same test written as a one-value list, which read as another funnel (trends cut)
                       ("list", lambda r: r["stages"][3]["rules"][0].update(source_kind=["service"])),
                       ("window", lambda r: r["funnel"].update(window_days=1)),
                       ("rules", lambda r: r["stages"][0]["rules"].pop()),
                       ("inference", lambda r: r.setdefault("inference", {}).update(min_share=0.9)),
                       ("steps", lambda r: r["funnel"].update(steps=["awareness", "purchase"]))):
        edited = copy.deepcopy(raw)
        edit(edited)
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(edited))
        definitions[name] = load_config(tmp_path / f"{name}.yaml").funnel_definition
    assert definitions["breakdown"] == definitions["list"] == definitions["sample"] < 2**48
    assert len({definitions[n] for n in ("sample", "window", "rules", "inference", "steps")}) == 5


def test_the_runs_index_marks_runs_whose_funnel_had_other_steps(tmp_path):
    steps = {"reached:awareness": 10.0, "reached:purchase": 2.0, "conversion_from_start:purchase": 0.2}
    entries = [RunEntry(run_id=r, run_at=datetime(2026, 1, d, tzinfo=timezone.utc), as_of=None, metrics=m,
                        sort_at=datetime(2026, 1, d, tzinfo=timezone.utc))
               for r, d, m in (("new", 3, {**steps, "step:awareness": 1.0, "step:purchase": 2.0}),
                               ("same", 2, dict(steps)),
                               ("other", 1, {**steps, "reached:consideration": 5.0}))]
    page = runs_index_html(entries, title="t", steps=["awareness", "purchase"], tz=ZoneInfo("UTC"))
    rows = page.split("<tr")[2:]
    assert "20.0%" in rows[0] and "20.0%" in rows[1] and "other funnel" not in rows[0] + rows[1]
    assert "other funnel" in rows[2] and "20.0%" not in rows[2]


def test_touchpoints_take_a_palette_colour_by_their_text_and_other_labels_stay_grey():
    colours = stage_colours(["awareness", "purchase"])
    assert colour_for("awareness", colours) == OKABE_ITO[0]
    touchpoints = {label: colour_for(label, colours) for label in ("web:signup", "crm:lead_created", "web:a › b")}
    assert set(touchpoints.values()) <= set(OKABE_ITO)
    assert touchpoints == {label: colour_for(label, {}) for label in touchpoints}  # the same in every report
    assert colour_for("Other", colours) == OTHER and colour_for("no colon", colours) == UNKNOWN


def test_runs_are_placed_and_compared_by_the_time_their_data_run_up_to():
    """A backfill runs past nights minutes apart, after a nightly run: each sits at its night, a rerun
    of a night replaces it, and 'previous' is the night before in data time."""
    night = [datetime(2026, 10, d, tzinfo=timezone.utc) for d in (1, 2, 3)]
    today = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)
    runs = [("nightly", today, today, 900.0), ("n1", today + timedelta(minutes=1), night[0], 100.0),
            ("n2", today + timedelta(minutes=2), night[1], 200.0), ("n3", today + timedelta(minutes=3), night[2], 300.0),
            ("n1-again", today + timedelta(minutes=4), night[0], 110.0)]
    history = pl.DataFrame([(r, at, of, "customers", v) for r, at, of, v in runs],
                           schema=["run_id", "run_at", "as_of", "metric", "value"], orient="row")
    assert previous_run(history, "n3") == ("n2", night[1])
    assert previous_run(history, "nightly") == ("n3", night[2])
    assert previous_run(history, "n1-again") is None and previous_run(history, "n1") is None
    assert set(history_up_to(history, "n2", night[1])["run_id"]) == {"n1-again", "n2"}
    assert set(history_up_to(history, "n1", night[0])["run_id"]) == {"n1"}  # re-rendering the first run
    shown = history_up_to(history, "nightly", today)
    (line,) = trends_figure(shown, ["a"], {}, "UTC").data
    assert list(line.x) == [n.replace(tzinfo=None) for n in night] + [today.replace(tzinfo=None)]
    assert list(line.y) == [110.0, 200.0, 300.0, 900.0]
    sentence = change_sentence(history, "n3", ["a"], ZoneInfo("UTC"))
    assert sentence == "Since the previous run (as of 2 Oct 2026, 00:00 UTC): customers +100 (+50.0%)."


def test_sankey_graph_indexes_step_keyed_nodes():
    links = pl.DataFrame(SANKEY_LINKS, schema=["step", "source_label", "target_label", "customers"], orient="row")
    g = sankey_graph(links, STAGES)
    assert len(g.nodes) == N_SANKEY_NODES and len(g.values) == N_SANKEY_LINKS
    assert g.total_customers == 1000
    customers = dict(zip(g.nodes, g.node_customers))
    assert customers[(2, "consideration")] == 500 and customers[(5, "converted")] == 120
    assert g.nodes[:2] == [(1, "awareness"), (1, "consideration")]  # config order within a step


def test_an_other_node_that_holds_ended_journeys_says_how_many_ended_there():
    """`(end)` rare at step 3 is folded into Other there: its 3 customers left the paths in Other, which the
    hover said nothing of (Other showed 4 in and 1 out)."""
    links = pl.DataFrame([(1, "awareness", "consideration", 10), (2, "consideration", "purchase", 6),
                          (2, "consideration", "Other", 4), (3, "Other", "(end)", 1), (3, "purchase", "converted", 6)],
                         schema=["step", "source_label", "target_label", "customers"], orient="row")
    g = sankey_graph(links, STAGES)
    assert dict(zip(g.nodes, g.node_ended)) == {(1, "awareness"): 0, (2, "consideration"): 0, (3, "purchase"): 0,
                                               (3, "Other"): 3, (4, "converted"): 6, (4, "(end)"): 1}
    hover = dict(zip(g.nodes, sankey_figure(links, STAGES, {}).data[0].node.customdata))
    assert "3 of them ended here" in hover[(3, "Other")]
    assert "ended here" not in hover[(3, "purchase")] + hover[(2, "consideration")]


def test_the_page_states_the_window_the_goal_the_as_of_time_and_the_latest_event(warehouse, tmp_path):
    """A 30-day and an 8.64-second window drew the same words; 'data up to' named the run's as-of time, which
    readers took for the end of the data (the sample's data end a month earlier)."""
    text = render(warehouse, tmp_path / "reports", window_days=14, goal_stage="consideration").read_text("utf-8")
    meta = text[text.index('<p class="meta">Run'):]
    meta = meta[:meta.index("</p>")]
    assert " · as of 12 Mar 2025, 01:00 CET · latest event 8 Mar 2025, 21:00 CET · " in meta
    assert "data up to" not in text
    assert "within the funnel window: 14 days from the touchpoint that started the attempt" in _section(text, "funnel")
    assert "silent for a whole funnel window (14 days)" in _section(text, "pain")
    # "finished" is reaching the last stage, whatever the goal stage: the reader is told which
    assert f"reached its last stage, <span class=\"chip\"" in _section(text, "pain")
    assert f">{STAGES[-1]}</span>" in _section(text, "pain").split("reached its last stage")[1][:160]
    assert "reached the goal stage, <span class=\"chip\"" in _section(text, "sankey")
    assert ">consideration</span>" in _section(text, "sankey").split("reached the goal stage")[1][:120]
    # the legend speaks of steps: a step may be a touchpoint type
    assert "Reached this step" in text and "Dropped off before this step" in text and "this stage" not in text


def test_the_paths_and_the_sankey_say_they_show_the_first_max_steps_nodes(warehouse, tmp_path):
    """Paths are cut after `paths.max_steps` nodes, but the table said "from start to finish" and the Sankey's
    (end) "it stopped there": a cut journey that went on, without reaching the goal, ends in (end)."""
    text = render(warehouse, tmp_path / "reports", max_steps=3).read_text("utf-8")
    assert "the first 3 stages of each journey, then its outcome" in _section(text, "sankey")
    assert "<b>(end)</b>: it has not reached it (yet)" in _section(text, "sankey")
    assert "The most common journeys: the first 3 stages of each" in _section(text, "paths")
    assert "start to finish" not in text and "stopped there" not in text


def test_a_one_step_funnel_says_there_is_no_time_between_steps(warehouse, tmp_path):
    db = tmp_path / "one.duckdb"
    db.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(db)) as con:
        con.execute("create table marts.funnel_stages as select 1 as step, 'awareness' as stage, 1 as stage_index")
        con.execute("delete from marts.funnel_steps where step > 1")
        con.execute("delete from marts.funnel_time_to_convert")
    text = render(db, tmp_path / "reports").read_text(encoding="utf-8")
    assert "The funnel has one step, so there is no time between steps." in _section(text, "funnel")
    assert "No customer reached a second step" not in text


# --- files ----------------------------------------------------------------------------------

def test_report_is_one_self_contained_file(report):
    text = report.read_text(encoding="utf-8")
    assert report.parent.name == RUN_ID
    assert text.count(plotly_js()[:120]) == 1, "plotly.js must be embedded exactly once"
    ours = text.replace(plotly_js(), "")  # plotly.js itself names URLs it never loads for our charts
    assert not re.search(r"<script[^>]*\bsrc=", ours), "no external scripts"
    assert not re.search(r"<link\b", ours), "no external stylesheets or preloads"
    assert not re.search(r"https?:", ours), "no remote URL anywhere in the page"
    assert "default-src 'none'" in ours  # the CSP forbids loading anything, as a second line of defence
    assert (report.parent.parent / "latest" / "index.html").read_bytes() == report.read_bytes()


def test_data_strings_never_reach_the_page_as_markup(report):
    text = report.read_text(encoding="utf-8")
    for raw in (XSS, "<b onmouseover=alert(3)>", "<script>alert(5)</script>", "<script>alert(7)</script>", "<test>",
                "<day2>"):
        assert raw not in text, f"unescaped {raw!r} in the report"
    assert esc_html(XSS) in text  # the paths table, the data-quality examples
    assert "Customer journeys — &lt;test&gt; &amp; shop" in text


def _section(text: str, anchor: str) -> str:
    start = text.index(f'<section id="{anchor}"')
    return text[start:text.index("</section>", start)]


def test_pain_points_table_ranks_touchpoints_with_their_survey_scores(report):
    rows = re.findall(r"<tr>(.*?)</tr>", _section(report.read_text(encoding="utf-8"), "pain"))[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    assert [c[0] for c in cells] == ["1", "2", "–"]  # unranked (too few customers) last, with a dash
    assert cells[1][1] == f"service: <b>{esc_html(XSS)}</b>"
    assert cells[1][5:] == ["15.0%", "2.75 (80)", "\u221235 (80)"]
    assert cells[0][6:] == ["", ""]  # no survey follows a pricing view
    assert "The first" not in _section(report.read_text(encoding="utf-8"), "pain")  # all three shown
    assert "response in this period" not in _section(report.read_text(encoding="utf-8"), "pain")


def test_a_pain_points_table_cut_short_says_so():
    from report_warehouse import PAIN_POINTS

    from journey_analytics.reports.run_page import RunInfo, _pain_points

    schema = ["rank", "source", "event_name", "stage", "customers", "exits", "exit_rate", "csat_responses",
              "avg_csat", "nps_responses", "nps"]
    pain = pl.DataFrame(PAIN_POINTS * 5, schema=schema, orient="row")
    table = _pain_points(pain, {}, RunInfo(run_id=RUN_ID, run_at=RUN_AT, as_of=RUN_AT, title="t", stages=STAGES,
                                           timezone="UTC"))
    assert len(re.findall(r"<tr>", table)) == 1 + 12
    assert "The first 12 of 15 touchpoints; all are in <code>marts.pain_points</code>." in table


def test_a_megabyte_event_name_is_cut_in_the_tables_and_long_words_wrap():
    """A 1 MB event name was written out whole, twice, and made two tables 10.8 M px wide."""
    from report_warehouse import PAIN_POINTS

    from journey_analytics.reports.html import CSS, breakdown_table
    from journey_analytics.reports.run_page import RunInfo, _pain_points

    schema = ["rank", "source", "event_name", "stage", "customers", "exits", "exit_rate", "csat_responses",
              "avg_csat", "nps_responses", "nps"]
    huge = "x" * 1_000_000
    pain = pl.DataFrame(PAIN_POINTS, schema=schema, orient="row").with_columns(event_name=pl.lit(huge))
    table = _pain_points(pain, {}, RunInfo(run_id=RUN_ID, run_at=RUN_AT, as_of=RUN_AT, title="t", stages=STAGES,
                                           timezone="UTC"))
    assert "<b>" + "x" * 120 + "…</b>" in table and len(table) < 20_000
    breakdown = pl.DataFrame({"dimension": ["channel"] * 2, "breakdown_value": [huge] * 2, "step": [1, 2],
                              "stage": ["awareness", "purchase"], "reached": [10, 4], "in_progress": [0, 0],
                              "dropped": [0, 6], "conversion_from_start": [1.0, 0.4]})
    cells = breakdown_table(breakdown, "channel")
    assert "x" * 120 + "…" in cells and len(cells) < 5_000
    assert "td { overflow-wrap:anywhere; }" in CSS  # a long word wraps in its cell instead of widening the table
    # touchpoint path nodes are `source:event_name`: the paths table and the Sankey cut them too
    from journey_analytics.reports.html import paths_table
    from journey_analytics.reports.sankey import sankey_figure

    node = "web:" + huge
    paths = pl.DataFrame({"rank": [1], "path": [f"{node} > converted"], "customers": [3], "share": [1.0]})
    shown = paths_table(paths, {})
    assert (node[:120] + "…") in shown and len(shown) < 5_000
    links = pl.DataFrame({"step": [1], "source_label": [node], "target_label": ["converted"], "customers": [3]})
    figure = sankey_figure(links, list(STAGES), {})
    assert max(len(label) for label in figure.data[0].node.label) == 121


def test_pain_points_without_any_survey_response_say_which_settings_to_check():
    """A misspelt pain_points.csat_property blanked the CSAT column without a word (a misspelt segment is told)."""
    from report_warehouse import PAIN_POINTS

    from journey_analytics.reports.run_page import RunInfo, _pain_points

    schema = ["rank", "source", "event_name", "stage", "customers", "exits", "exit_rate", "csat_responses",
              "avg_csat", "nps_responses", "nps"]
    pain = pl.DataFrame(PAIN_POINTS, schema=schema, orient="row").with_columns(csat_responses=0, avg_csat=None)
    info = RunInfo(run_id=RUN_ID, run_at=RUN_AT, as_of=RUN_AT, title="t", stages=STAGES, timezone="UTC",
                   csat_property="satisfaction")
    table = _pain_points(pain, {}, info)  # NPS responses came in: only the CSAT key is wrong
    assert ("No CSAT response in this period: no event carries the property <code>satisfaction</code> "
            "(<code>pain_points.csat_property</code>)") in table  # the key configured, not the default
    assert "No NPS response" not in table
    table = _pain_points(pain.with_columns(nps_responses=0, nps=None), {}, info)
    assert "No CSAT response" in table
    assert "No NPS response in this period: no event carries the property <code>nps</code>" in table


def test_stage_inference_table_shows_proposals_and_which_are_used(report):
    section = _section(report.read_text(encoding="utf-8"), "inference")
    assert "journey stages suggest" in section
    rows = re.findall(r"<tr>(.*?)</tr>", section)[1:]
    assert len(rows) == 2 and rows[0].endswith("<td>used</td>") and rows[1].endswith("<td>not confident</td>")
    assert esc_html("<script>alert(7)</script>") in rows[1]


def _stage_to_stage_part(report: Path) -> str:
    return _section(report.read_text(encoding="utf-8"), "time").split("From one stage to the next", 1)[1]


def _table_rows(part: str) -> list[list[str]]:
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", part, re.S)]


def test_time_in_stage_shows_the_time_from_one_stage_to_the_next(report):
    """SEMANTICS.md reports stage-to-stage times beside time in stage; the report left them out."""
    assert _table_rows(_stage_to_stage_part(report)) == [
        ["From → to", "Customers", "Median", "p90"],
        ["awareness → consideration", "600", "5.0 h", "3.0 d"],
        ["consideration → &lt;img src=x onerror=alert(1)&gt;", "300", "2.0 d", "8.0 d"]]


def test_stage_to_stage_lists_only_pairs_customers_moved_between_ties_in_stage_order(tmp_path):
    """The mart keeps every consecutive pair, 0 customers where nobody moved; the table listed those too, and
    sorted ties by stage name ('<img…' before 'consideration'), not in stage order (marts.stages)."""
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("delete from marts.stage_to_stage")
        con.executemany("insert into marts.stage_to_stage values (?,?,?,?,?)", [
            ("awareness", "consideration", 0, None, None), ("consideration", XSS, 240, 86400.0, 2 * 86400.0),
            (XSS, "purchase", 240, 3600.0, 7200.0)])
    assert _table_rows(_stage_to_stage_part(render(db, tmp_path / "reports"))) == [
        ["From → to", "Customers", "Median", "p90"],
        ["consideration → &lt;img src=x onerror=alert(1)&gt;", "240", "24.0 h", "2.0 d"],
        ["&lt;img src=x onerror=alert(1)&gt; → purchase", "240", "60 min", "2.0 h"]]


def test_stage_to_stage_without_any_move_says_so_instead_of_a_table_of_zeros(tmp_path):
    """A run as of a time before any event: every pair has 0 customers, and the table listed them all."""
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.stage_to_stage set customers = 0, median_s = null, p90_s = null")
    part = _stage_to_stage_part(render(db, tmp_path / "reports"))
    assert "No customer moved from one stage to the next in this period." in part and "<table" not in part


def test_funnel_shows_the_time_to_convert_distribution(report):
    """SEMANTICS.md reports time to convert as median, p90 and histogram; the report drew only the first two."""
    funnel = _section(report.read_text(encoding="utf-8"), "funnel")
    assert "Time to convert" in funnel and 'id="fig-time-to-convert"' in funnel


def test_time_to_convert_bars_are_each_steps_share_of_its_customers(opened):
    traces = opened.page.evaluate(
        "document.getElementById('fig-time-to-convert').data.map(t => [t.name, t.x, t.y])")
    assert all(x == [esc_label(b) for b in BUCKETS] for _, x, _ in traces)  # '< 1 min' shown as text
    assert [(name, len(x)) for name, x, _ in traces] == [
        ("awareness → consideration", 10), (f"consideration → {esc_label(XSS)}", 10),
        (f"{esc_label(XSS)} → purchase", 10)]
    for (_, _, shares), (reached, counts) in zip(traces, [(600, TIME_TO_CONVERT_COUNTS[2]),
                                                           (300, TIME_TO_CONVERT_COUNTS[3]),
                                                           (240, TIME_TO_CONVERT_COUNTS[4])]):
        assert shares == pytest.approx([c / reached for c in counts])
    bars = opened.page.evaluate("[...document.querySelectorAll('#fig-time-to-convert .barlayer .trace')]"
                                ".map(t => t.querySelectorAll('.point').length)")
    assert bars == [10, 10, 10]


def test_segment_funnel_is_shown_apart_from_the_channel_funnel(report):
    text = report.read_text(encoding="utf-8")
    assert "<table>" in _section(text, "segment") and "<table>" in _section(text, "channel")
    assert "enterprise" in _section(text, "segment") and "enterprise" not in _section(text, "channel")


# Hand-computed from the fixture (report_warehouse._breakdown): each channel's reached per later step,
# its share of the channel's starts rounded to a whole percent, values by starts, Other last.
# each cell: the share that reached the step, how many, and (in an as-of report, say) how many are still in their
# window, which the share does not count as reached yet: it was only in a hover, so a cell read as final
CHANNEL_ROWS = [
    ["paid_search", "500", "60%300 · 5 in progress", "30%150 · 5 in progress", "24%120 · 5 in progress"],
    ["email", "250", "55%137 · 5 in progress", "25%62 · 5 in progress", "18%46 · 5 in progress"],  # 137.4999...
    ["<b onmouseover=alert(3)>direct</b>", "150", "50%75 · 5 in progress", "20%30 · 5 in progress",
     "14%21 · 5 in progress"],
    ["Other", "100", "45%45 · 5 in progress", "16%16 · 5 in progress", "10%10 · 5 in progress"],
]


def test_funnel_by_channel_is_a_table_of_shares_and_counts_darker_where_fewer_got_there(opened):
    page = opened.page
    rows = page.evaluate("[...document.querySelectorAll('#channel tbody tr')]"
                         ".map(r => [...r.cells].map(c => c.textContent))")
    assert rows == CHANNEL_ROWS  # the markup in a channel's name is shown as text
    head = page.evaluate("[...document.querySelectorAll('#channel thead th')].map(c => c.textContent)")
    assert head == ["channel", "Started (awareness)", "consideration", XSS, "purchase"]
    shades = page.evaluate("""[...document.querySelectorAll('#channel tbody tr:first-child .heat')].map(c => {
        const [r, g, b] = getComputedStyle(c).backgroundColor.match(/\\d+/g).map(Number);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; })""")
    assert shades == sorted(shades, reverse=True) and shades[0] > shades[-1]  # 60% > 30% > 24%
    detail = page.locator("#channel tbody tr:nth-child(3) .heat").first.get_attribute("title")
    assert detail == ("<b onmouseover=alert(3)>direct</b> → consideration: reached 75 (50.0% of those who started); "
                      "still in progress 5; dropped 70")


@pytest.mark.parametrize(("changes", "message"), [
    # a run before any event: no funnel customer, so no breakdown row of any dimension
    (["delete from marts.funnel_breakdown"], "No customer started the funnel in this period."),
    (["delete from marts.funnel_breakdown where dimension = 'segment'"],
     "No segment is configured: set funnel.segment in journey.yaml"),
    (["delete from marts.funnel_breakdown where breakdown_value = 'enterprise'",
      "update marts.funnel_breakdown set breakdown_value = '(none)' where breakdown_value = 'smb'"],
     "No event of this period's customers carries a segment, so every customer is (none)"),
])
def test_segment_section_says_truly_why_it_draws_no_chart(tmp_path, changes, message):
    """With funnel.segment set and no customer in the period, the page advised setting funnel.segment."""
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:
        for sql in changes:
            con.execute(sql)
    segment = _section(render(db, tmp_path / "reports").read_text(encoding="utf-8"), "segment")
    assert message in segment and "<table>" not in segment
    assert ("set funnel.segment" in segment) == message.startswith("No segment is configured")


def test_quarantine_examples_show_this_runs_rejects_first(report):
    text = report.read_text(encoding="utf-8")
    examples = text[text.index("Examples of rejected rows"):]
    rows = re.findall(r'<tr><td>(\w+)</td><td class="when">(.*?)</td><td class="path"><code>(.*?)</code>', examples)
    assert rows == [
        ("crm", "this run", "data/crm/&lt;day2&gt;.csv:4"),
        ("web", "this run", "data/web/day2.jsonl:3"),
        ("web", "this run", "data/web/day2.jsonl:9"),
        ("web", "this run", "data/web/day2.jsonl:12"),
        ("web", f'<span title="{PREV_RUN_ID}">earlier run</span>', "data/web/day1.jsonl:7"),
    ]


def test_the_breakdown_is_named_by_its_attribute_and_only_channels_get_the_direct_traffic_note(tmp_path):
    """With `funnel.breakdown: event_name` and no breakdown row in the period, the page said "By channel" (its name
    came from the rows), and every breakdown's intro explained direct traffic, which only channels have."""
    channel = _section(render(build_warehouse(tmp_path / "a.duckdb"), tmp_path / "a").read_text(), "channel")
    assert "Funnel by channel" in channel and "(direct)" in channel
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("delete from marts.funnel_breakdown where dimension <> 'segment'")
    page = render(db, tmp_path / "reports", breakdown="event_name").read_text()
    assert 'href="#channel">By event name</a>' in page
    assert "Funnel by event name" in _section(page, "channel") and "direct" not in _section(page, "channel")
    assert "by channel" not in page.lower()


def test_absent_breakdown_table_is_reported_not_drawn(tmp_path):
    db = build_warehouse(tmp_path / "old.duckdb", with_breakdown=False)
    text = render(db, tmp_path / "reports").read_text(encoding="utf-8")
    assert "Not available: <code>marts.funnel_breakdown</code>" in text
    assert "<table>" not in _section(text, "channel") and 'id="fig-funnel"' in text


def test_empty_marts_render_plain_messages_without_errors(tmp_path, request):
    db = build_warehouse(tmp_path / "empty.duckdb")
    with duckdb.connect(str(db)) as con:
        for table in ("funnel_steps", "funnel_time_to_convert", "funnel_breakdown", "time_in_stage",
                      "path_frequencies", "sankey_links", "run_history"):
            con.execute(f"delete from marts.{table}")
        con.execute("delete from ingest.quarantine")
    report = render(db, tmp_path / "reports")
    text = report.read_text(encoding="utf-8")
    for message in ("No customer started the funnel in this period.", "No journeys in this period.",
                    "No customer reached a second step in this period.",
                    "No stage visits in this period.", "No run with earlier data to draw a trend with",
                    "No row has been quarantined.", "nothing to compare yet"):
        assert message in text
    assert 'class="plotly-graph-div"' not in text
    browser = request.getfixturevalue("chromium_browser")  # skips here if Chromium is missing
    seen = open_report(browser, report)
    assert (seen.console_errors, seen.page_errors, seen.blocked) == ([], [], [])
    seen.page.context.close()


def test_marts_of_zeros_and_a_single_run_say_so_instead_of_drawing_empty_charts(tmp_path):
    """The marts keep a row per step and stage when nobody got there (a run as of a date before any data):
    the funnel drew invisible bars on a -1..1 axis, time in stage five empty stages; a trend of one run
    had axis ticks a millisecond apart."""
    db = build_warehouse(tmp_path / "zeros.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.funnel_steps set reached = 0, in_progress = 0, dropped = 0")
        con.execute("update marts.funnel_time_to_convert set customers = 0")
        con.execute("update marts.time_in_stage set visits = 0, customers = 0, completed = 0, open = 0")
        con.execute("delete from marts.run_history where run_id <> ?", [RUN_ID])
    text = render(db, tmp_path / "reports").read_text(encoding="utf-8")
    for message in ("No customer started the funnel in this period.", "No stage visits in this period.",
                    "No customer reached a second step in this period.", "No run with earlier data to draw a trend with"):
        assert message in text
    for div in ("fig-funnel", "fig-time-to-convert", "fig-time-in-stage", "fig-trends"):
        assert f'id="{div}"' not in text
    assert 'id="fig-sankey"' in text  # the other marts still draw


def test_without_a_change_sentence_the_page_says_truly_why():
    """`journey run`, then `journey run --as-of` an earlier time: the previous run is chosen by data time, so the
    second has none, though a run is recorded; the page said 'No previous run recorded'."""
    from journey_analytics.reports.summary import no_change_reason

    now, september = datetime(2026, 11, 29, 22, tzinfo=timezone.utc), datetime(2026, 9, 1, tzinfo=timezone.utc)
    history = pl.DataFrame([("now", now, now, "customers", 2500.0),
                            ("sep", now + timedelta(minutes=1), september, "customers", 1412.0),
                            ("sep-again", now + timedelta(minutes=2), september, "customers", 1412.0),
                            ("odd", now + timedelta(minutes=3), now + timedelta(days=1), "other", 1.0)],
                           schema=["run_id", "run_at", "as_of", "metric", "value"], orient="row")
    no_earlier = ("No run with earlier data to compare with: the other recorded runs are as of the same time or "
                  "later.")
    assert change_sentence(history, "sep", ["a"], BERLIN) is None
    assert no_change_reason(history, "sep") == no_earlier
    assert no_change_reason(history, "sep-again") == no_earlier  # a rerun over the same data is not earlier
    assert no_change_reason(history.filter(pl.col("run_id") == "now"), "now") == (
        "No previous run recorded, so there is nothing to compare yet.")
    assert no_change_reason(None, "now") == "No previous run recorded, so there is nothing to compare yet."
    assert no_change_reason(history, "missing") == (
        "This run's numbers are not in the run history, so there is nothing to compare.")
    assert change_sentence(history, "odd", ["a"], BERLIN) is None  # its previous run ('now') shares no metric
    assert no_change_reason(history, "odd") == (
        "The previous run recorded none of this run's headline numbers, so there is nothing to compare.")


def test_report_of_the_run_with_the_earliest_data_says_no_run_has_earlier_data(warehouse, tmp_path):
    text = render(warehouse, tmp_path / "reports", run_id=PREV_RUN_ID).read_text(encoding="utf-8")
    assert ('<p class="note" id="change">No run with earlier data to compare with: the other recorded runs are '
            "as of the same time or later.</p>") in text
    # the trends said they "start with the next run", though this run has later runs already
    assert "No run with earlier data to draw a trend with: each later night's run adds a point" in text


def test_change_sentence_skips_metrics_without_a_value(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        history = con.sql("select * from marts.run_history").pl()
    history = history.with_columns(
        pl.when(pl.col("metric") == "conversion_from_start:purchase").then(None).otherwise(pl.col("value"))
        .alias("value"))
    sentence = change_sentence(history, RUN_ID, STAGES, BERLIN)
    assert "purchase conversion" not in sentence and "consideration conversion" in sentence


def test_table_missing_a_contract_column_is_an_error(tmp_path):
    db = build_warehouse(tmp_path / "bad.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("alter table marts.sankey_links drop column customers")
        with pytest.raises(ValueError, match=r"marts\.sankey_links is missing column\(s\) customers"):
            render_run_report(con, tmp_path / "reports", run_id=RUN_ID, run_at=RUN_AT, as_of=RUN_AT,
                              title="t", stages=STAGES, timezone="UTC")


@pytest.mark.parametrize("run_id", ["../etc", "a/b", "latest", "", ".hidden", "a\\b"])
def test_run_id_must_be_a_plain_folder_name(run_id):
    with pytest.raises(ValueError, match="cannot be a report folder name"):
        check_run_id(run_id)


def test_index_lists_every_run_newest_first_and_latest_follows_the_newest(warehouse, tmp_path):
    out = tmp_path / "reports"
    prev_at = RUN_AT - timedelta(days=1)
    render(warehouse, out, run_id=PREV_RUN_ID, run_at=prev_at, as_of=prev_at)
    newest = render(warehouse, out, run_id=RUN_ID)
    (out / "manual-test").mkdir()
    (out / "manual-test" / "index.html").write_text("<p>kept by hand</p>")
    (out / "manual-test" / "index.html").touch()
    # Re-rendering an old run (a backfill) must not move `latest` away from the newest run.
    old = render(warehouse, out, run_id=PREV_RUN_ID, run_at=prev_at, as_of=prev_at).read_text(encoding="utf-8")
    assert "2025-03-12" not in old  # its trends stop at its own run

    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"]+)/index.html">', index)
    assert links == ["latest", "manual-test", RUN_ID, PREV_RUN_ID]  # no history: sorted by file time
    row = index[index.index(f">{RUN_ID}</a>"):]
    row = row[: row.index("</tr>")]
    assert all(n in row for n in ("20,000", "1,000", "24.0%", "12 Mar 2025, 03:00 CET"))
    prev_row = index[index.index(f">{PREV_RUN_ID}</a>"):]
    assert "19,000" in prev_row[: prev_row.index("</tr>")]
    assert "<script" not in index and esc_html(XSS) in index and XSS not in index
    assert (out / "latest" / "index.html").read_bytes() == newest.read_bytes()


def test_keep_runs_deletes_the_oldest_reports_by_data_time_and_never_a_copy_or_a_link(warehouse, tmp_path):
    """report.keep_runs: every nightly report (plotly.js inside, ~1.5 MB) stayed on disk for ever."""
    from journey_analytics.reports import render_run_report

    db, out, outside = tmp_path / "runs.duckdb", tmp_path / "reports", tmp_path / "archive"
    shutil.copy(warehouse, db)
    day = timedelta(days=1)
    times = {"r0": (RUN_AT, RUN_AT), "r1": (RUN_AT + day, RUN_AT + day), "r2": (RUN_AT + 2 * day, RUN_AT + 2 * day),
             "rb": (RUN_AT + 5 * day, RUN_AT - day),  # a backfill night: run last, its data the oldest
             "r3": (RUN_AT + 6 * day, RUN_AT + 3 * day)}
    ids = {name: f"{at.strftime('%Y%m%dT%H%M%SZ')}-{name}" for name, (at, _) in times.items()}
    outside.mkdir()
    (outside / "index.html").write_text("<p>archived</p>")
    (outside / "run.json").write_text("{}")
    out.mkdir()
    (out / ids["r0"]).symlink_to(outside, target_is_directory=True)  # a run's folder linked in from elsewhere

    def run(name: str) -> None:
        run_at, as_of = times[name]
        with duckdb.connect(str(db)) as con:
            con.execute("insert into marts.run_history values (?, ?, ?, 'customers', 1)", [ids[name], run_at, as_of])
            render_run_report(con, out, run_id=ids[name], run_at=run_at, as_of=as_of, title=TITLE, stages=STAGES,
                              timezone=TIMEZONE, keep_runs=2)

    with duckdb.connect(str(db)) as con:
        con.execute("insert into marts.run_history values (?, ?, ?, 'customers', 1)", [ids["r0"], *times["r0"]])
    for name in ("r1", "r2", "rb"):
        run(name)
    assert {p.name for p in out.iterdir()} >= {ids["r1"], ids["r2"], ids["rb"]}  # rb: the run just written
    shutil.copytree(out / ids["r2"], out / "march-review")  # kept by hand, run.json and all
    run("r3")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(
        ["latest", "march-review", ids["r0"], ids["r2"], ids["r3"]])  # r1 and the backfill night rb: oldest data
    assert (outside / "index.html").exists() and (outside / "run.json").exists()
    links = set(re.findall(r'<a href="([^"]+)/index.html">', (out / "index.html").read_text(encoding="utf-8")))
    assert links == {"latest", "march-review", ids["r0"], ids["r2"], ids["r3"]}


def test_keep_runs_also_deletes_the_reports_of_runs_a_rebuilt_warehouse_forgot(warehouse, tmp_path):
    """Only runs in marts.run_history were candidates: after the warehouse was rebuilt from scratch, with keep_runs: 1
    and five more runs, reports/ still held all nine run folders. A folder named as runs are, with its run.json, is
    one; a copy under another name still is not."""
    from journey_analytics.reports import render_run_report

    db, out = tmp_path / "runs.duckdb", tmp_path / "reports"
    shutil.copy(warehouse, db)
    day = timedelta(days=1)
    ids = [f"{(RUN_AT + k * day):%Y%m%dT%H%M%SZ}-{k:04x}" for k in range(4)]

    def run(k: int, keep_runs: int | None) -> None:
        with duckdb.connect(str(db)) as con:
            con.execute("insert into marts.run_history values (?, ?, ?, 'customers', 1)",
                        [ids[k], RUN_AT + k * day, RUN_AT + k * day])
            render_run_report(con, out, run_id=ids[k], run_at=RUN_AT + k * day, as_of=RUN_AT + k * day, title=TITLE,
                              stages=STAGES, timezone=TIMEZONE, keep_runs=keep_runs)

    run(0, None)
    run(1, None)
    shutil.copytree(out / ids[0], out / "march-review")  # kept by hand, run.json and all
    with duckdb.connect(str(db)) as con:
        con.execute("delete from marts.run_history")  # the warehouse rebuilt: its history starts again
    run(2, 2)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(["latest", "march-review", ids[1], ids[2]])
    run(3, 1)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(["latest", "march-review", ids[3]])


def test_keep_runs_makes_room_when_the_disk_is_full_and_deletes_nothing_else_early(warehouse, tmp_path, monkeypatch):
    """Old reports were deleted only once the new one was written: on a disk full of them the write failed first,
    so nothing was ever deleted and every night failed until someone deleted reports by hand. Only a full disk
    deletes them first: a report that cannot be written for another reason must not cost the old ones."""
    from journey_analytics.reports import render as rendering, render_run_report

    db, out = tmp_path / "runs.duckdb", tmp_path / "reports"
    shutil.copy(warehouse, db)
    ids = [f"{(RUN_AT + timedelta(days=k)):%Y%m%dT%H%M%SZ}-{k:04x}" for k in range(3)]

    def run(k: int, keep_runs: int | None) -> None:
        at = RUN_AT + timedelta(days=k)
        with duckdb.connect(str(db)) as con:
            con.execute("insert into marts.run_history values (?, ?, ?, 'customers', 1)", [ids[k], at, at])
            render_run_report(con, out, run_id=ids[k], run_at=at, as_of=at, title=TITLE, stages=STAGES,
                              timezone=TIMEZONE, keep_runs=keep_runs)

    run(0, None)
    run(1, None)
    (out / ids[2]).write_text("")  # the new report cannot be written there, though the disk has room
    with pytest.raises(OSError):
        run(2, 1)
    assert (out / ids[0] / "index.html").exists() and (out / ids[1] / "index.html").exists()
    (out / ids[2]).unlink()
    run(1, 2)  # re-rendered: its own folder is one of the two kept, not two of them
    assert (out / ids[0] / "index.html").exists() and (out / ids[1] / "index.html").exists()

    written = rendering.write_atomic

    def full_until_room(path: Path, text: str) -> None:  # the disk is full while both old reports are there
        if path.name == "index.html" and (out / ids[0]).exists() and (out / ids[1]).exists():
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written(path, text)

    monkeypatch.setattr(rendering, "write_atomic", full_until_room)
    run(2, 2)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(["latest", ids[1], ids[2]])


def test_index_keeps_each_runs_times_and_numbers_after_the_warehouse_is_rebuilt(warehouse, tmp_path):
    """Rebuilding the warehouse from scratch wipes marts.run_history; the run folders on disk keep
    their times and headline numbers in run.json, so the index still shows them."""
    from journey_analytics.reports.render import render_runs_index

    out = tmp_path / "reports"
    prev_at = RUN_AT - timedelta(days=1)
    render(warehouse, out, run_id=PREV_RUN_ID, run_at=prev_at, as_of=prev_at)
    render(warehouse, out, run_id=RUN_ID)
    before = (out / "index.html").read_text(encoding="utf-8")
    rebuilt = build_warehouse(tmp_path / "rebuilt.duckdb")
    with duckdb.connect(str(rebuilt)) as con:
        con.execute("delete from marts.run_history")
        render_runs_index(con, out, title=TITLE, stages=STAGES, timezone=TIMEZONE)
    after = (out / "index.html").read_text(encoding="utf-8")
    assert after == before
    assert re.findall(r'<a href="([^"]+)/index.html">', after) == ["latest", RUN_ID, PREV_RUN_ID]
    row = after[after.index(f">{RUN_ID}</a>"):]
    assert all(n in row[: row.index("</tr>")] for n in ("20,000", "1,000", "24.0%", "12 Mar 2025, 03:00 CET"))
    # a damaged or hostile file: the index is still written, that row without times and numbers
    good = (out / RUN_ID / "run.json").read_text()
    for bad in ["{not json", "[" * 100_000, good.replace('"metrics": {', '"metrics": {"events": 1' + "0" * 400 + ","),
                good.replace('"metrics": {', '"metrics": {"events": 1e999,'),
                re.sub(r'"run_at": "[^"]*"', '"run_at": "9999-12-31T23:59:59-05:00"', good),
                re.sub(r'"run_at": "[^"]*"', '"run_at": "9999-12-31T23:59:59+00:00"', good)]:
        (out / RUN_ID / "run.json").write_text(bad)
        with duckdb.connect(str(rebuilt)) as con:
            render_runs_index(con, out, title=TITLE, stages=STAGES, timezone=TIMEZONE)
        row = (out / "index.html").read_text(encoding="utf-8")
        row = row[row.index(f">{RUN_ID}</a>"):]
        assert "9999" not in row[: row.index("</tr>")] and "Dec" not in row[: row.index("</tr>")]


def test_run_folders_written_before_run_json_get_it_while_history_knows_them(warehouse, tmp_path):
    from journey_analytics.reports.index_page import read_run_file

    out = tmp_path / "reports"
    render(warehouse, out, run_id=PREV_RUN_ID)
    (out / PREV_RUN_ID / "run.json").unlink()  # as a folder from an older version
    render(warehouse, out, run_id=RUN_ID)
    saved = read_run_file(out / PREV_RUN_ID)
    assert saved["metrics"]["customers"] == 950 and saved["run_at"].tzinfo is not None  # its history row


def test_temp_files_a_killed_report_writer_left_are_removed_by_the_next_run(warehouse, tmp_path):
    out = tmp_path / "reports"
    render(warehouse, out, run_id=PREV_RUN_ID)
    (out / "latest" / ".index.html.4242.tmp").write_text("<half")  # killed while refreshing latest
    (out / "crashed-run").mkdir()
    (out / "crashed-run" / ".index.html.4243.tmp").write_text("<half")  # killed while writing its report
    (out / PREV_RUN_ID / ".run.json.4244.tmp").write_text("{")  # killed while writing its run.json
    render(warehouse, out, run_id=RUN_ID)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        PREV_RUN_ID, f"{PREV_RUN_ID}/index.html", f"{PREV_RUN_ID}/run.json", RUN_ID, f"{RUN_ID}/index.html",
        f"{RUN_ID}/run.json", "index.html", "latest", "latest/index.html"]


def test_run_missing_from_history_still_becomes_latest_with_numbers_from_the_marts(warehouse, tmp_path):
    out = tmp_path / "reports"
    render(warehouse, out, run_id=RUN_ID)
    later = RUN_AT + timedelta(days=1)
    report = render(warehouse, out, run_id="20250313T020000Z-0001", run_at=later, as_of=later)
    text = report.read_text(encoding="utf-8")
    cards = re.findall(r'<div class="n">([^<]*)</div><div class="l">([^<]*)</div>', text)
    assert cards == [("\u2014", "events"), ("1,000", "customers"), ("0", "rows quarantined in this run")]
    assert "This run&#x27;s numbers are not in the run history, so there is nothing to compare." in text
    assert (out / "latest" / "index.html").read_bytes() == report.read_bytes()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<a href="([^"]+)/index.html">', index)[1:] == ["20250313T020000Z-0001", RUN_ID]
    assert "13 Mar 2025, 03:00 CET" in index


# --- in the browser -------------------------------------------------------------------------

def test_page_has_no_console_or_page_errors(opened):
    assert opened.console_errors == []
    assert opened.page_errors == []


def test_page_makes_no_network_requests(opened):
    assert opened.blocked == []
    assert opened.requests and all(u.startswith("file://") for u in opened.requests), opened.requests


def test_sankey_draws_every_node_and_link(opened):
    page = opened.page
    assert page.locator("#fig-sankey g.sankey-node").count() == N_SANKEY_NODES
    assert page.locator("#fig-sankey path.sankey-link").count() == N_SANKEY_LINKS
    labels = page.locator("#fig-sankey g.sankey-node text.node-label").all_text_contents()
    for label in ("Other", "converted", "(end)", XSS):
        assert label in labels


def test_funnel_has_one_bar_per_stage_in_each_layer(opened):
    per_trace = opened.page.evaluate(
        "[...document.querySelectorAll('#fig-funnel .barlayer .trace')]"
        ".map(t => t.querySelectorAll('.point').length)")
    assert per_trace == [len(STAGES)] * 3  # reached, still in progress, dropped off


def test_every_funnel_number_is_on_screen_without_hovering(chromium_browser, tmp_path):
    """A bar label that does not fit is hidden (uniformtext), and the in-progress parts had no label: a screenshot
    of the sample lost the advocacy count (78 · 3.1%) and every in-progress count."""
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:  # a last step too thin for a label inside its bar
        con.execute("update marts.funnel_steps set reached = 12, in_progress = 20, dropped = 268, "
                    "conversion_from_start = 0.012, conversion_from_previous = 0.04 where step = 4")
    seen = open_report(chromium_browser, render(db, tmp_path / "reports"))
    shown = "\n".join(seen.page.evaluate("""() => [...document.querySelectorAll('#fig-funnel text')]
        .filter(t => { const r = t.getBoundingClientRect(); return r.width > 0 && r.height > 0; })
        .map(t => t.textContent)"""))
    seen.page.context.close()
    for numbers in ("1,000 started", "600 reached · 60.0%", "50 in progress · 350 dropped", "300 reached · 30.0%",
                    "40 in progress · 260 dropped", "12 reached · 1.2%", "20 in progress · 268 dropped"):
        assert numbers in shown, shown


def test_a_long_funnels_step_labels_stay_level_and_apart(chromium_browser, tmp_path):
    """With 40 steps (touchpoint steps make long funnels) the labels under standing bars turned on their side and
    ran into each other: 60 steps gave 176 overlapping pairs. Every label must be level, whole and apart."""
    db = build_warehouse(tmp_path / "w.duckdb")
    n = 40
    with duckdb.connect(str(db)) as con:
        con.execute("delete from marts.funnel_steps")
        con.executemany("insert into marts.funnel_steps values (?,?,?,?,?,?,?,?,?)", [
            (k, f"step {k} of the long funnel", 1000 - k, None if k == 1 else 0, None if k == 1 else 1,
             (1000 - k) / 999, None if k == 1 else 0.99, None if k == 1 else DAY, None if k == 1 else 2 * DAY)
            for k in range(1, n + 1)])
    seen = open_report(chromium_browser, render(db, tmp_path / "reports"))
    labels = seen.page.evaluate("""() => [...document.querySelectorAll('#fig-funnel .xtick text, #fig-funnel .ytick text')]
        .map(t => ({text: t.textContent, turned: (t.getAttribute('transform') || '').includes('rotate'),
                    box: t.getBoundingClientRect().toJSON()}))""")
    seen.page.context.close()
    steps = sorted((label for label in labels if "long funnel" in label["text"]),
                   key=lambda label: (round(label["box"]["top"]), label["box"]["left"]))  # reading order
    assert [label["text"].split(" of ")[0] for label in steps] == [f"step {k}" for k in range(1, n + 1)]
    assert not [label["text"] for label in steps if label["turned"]]
    boxes = [label["box"] for label in labels]
    apart = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
             if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]]
    assert not apart


def test_every_time_in_stage_number_is_on_screen_at_800_px(chromium_browser, report):
    """Bar labels that did not fit were hidden (every one at 800 px wide), one lay under the Kaplan–Meier diamond, and
    the KM median was only in a hover: each stage's four numbers must be visible text at any width, apart."""
    seen = open_report(chromium_browser, report)
    seen.page.set_viewport_size({"width": 800, "height": 900})
    seen.page.wait_for_timeout(800)  # plotly.js lays the figure out again for the new width
    shown = "\n".join(seen.page.evaluate("""() => [...document.querySelectorAll('#fig-time-in-stage text')]
        .filter(t => { const r = t.getBoundingClientRect(); return r.width > 0 && r.height > 0; })
        .map(t => t.textContent)"""))
    labels = seen.page.evaluate("""() => [...document.querySelectorAll('#fig-time-in-stage .ytick text')]
        .map(t => t.getBoundingClientRect().toJSON())""")
    seen.page.context.close()
    assert len(labels) == len(TIME_IN_STAGE) and not [  # and apart: under standing bars they turned and overlapped
        (a, b) for i, a in enumerate(labels) for b in labels[i + 1:]
        if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]]
    for _stage, _visits, _customers, _completed, _open, median, p75, p90, km in TIME_IN_STAGE:
        assert (f"median {fmt_duration(median)} · p75 {fmt_duration(p75)} · p90 {fmt_duration(p90)}" in shown
                and f"incl. open visits (KM): median {fmt_duration(km)}" in shown), shown


def test_xss_label_is_literal_text_and_runs_nothing(opened):
    page = opened.page
    ticks = page.locator("#fig-funnel .ytick text").all_text_contents()
    assert any(t.startswith(XSS) for t in ticks), ticks
    assert page.locator("#paths .chip", has_text=XSS).count() == 2
    node = page.locator("#fig-sankey g.sankey-node", has=page.locator("text.node-label", has_text=XSS)).first
    node.locator("rect.node-rect").hover()
    page.wait_for_timeout(300)
    hover = " ".join(page.locator("#fig-sankey .hoverlayer text").all_text_contents())
    assert XSS in hover and "customers" in hover
    page.mouse.move(0, 0)
    assert page.locator("img").count() == 0
    assert page.evaluate("document.querySelectorAll('iframe, object, embed').length") == 0
    assert page.evaluate("document.querySelectorAll('image, use').length") == 0  # nothing an SVG could load
    assert page.evaluate("document.querySelectorAll('[onerror], [onmouseover]').length") == 0
    assert opened.dialogs == []


def test_page_fits_a_1280_px_screen(opened):
    assert opened.page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_the_embedded_plotly_js_is_the_version_plotly_py_writes_figures_for(opened):
    """The partial bundle (reports/assets) must be rebuilt when plotly.py moves to another plotly.js."""
    assert opened.page.evaluate("() => window.Plotly.version") == get_plotlyjs_version()
    assert plotly_js().startswith(f"/*! plotly.js v{get_plotlyjs_version()} partial bundle")


def test_every_figure_draws_after_the_text_has_painted(opened):
    """The text, tables and headline numbers paint first; the figures draw after, in page order.

    How long that takes is a benchmark, not a test (benchmarks/report_render.py, docs/performance.md)."""
    page = opened.page
    expected, order, draw_start, ready = page.evaluate(
        "() => { const r = window.journeyReport; return [r.expected, r.order, r.drawStartAt, r.readyAt]; }")
    drawn = page.evaluate("[...document.querySelectorAll('.plotly-graph-div')].filter(d => d.querySelector("
                          "'svg.main-svg')).map(d => d.id)")
    figures = ["fig-funnel", "fig-time-to-convert", "fig-sankey", "fig-time-in-stage", "fig-trends"]
    assert order == drawn == figures and expected == len(figures)
    paint = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
    assert paint <= draw_start < ready


def test_a_figure_that_fails_to_draw_leaves_the_others_drawn(chromium_browser, report, tmp_path):
    """A figure that throws while it is parsed stopped the chain: every later figure stayed blank."""
    broken = tmp_path / "index.html"
    page = report.read_text(encoding="utf-8")
    broken.write_text(page.replace('class="figure-spec">{', 'class="figure-spec">{oops', 1), encoding="utf-8")
    seen = open_report(chromium_browser, broken)
    order = seen.page.evaluate("window.journeyReport.order")
    drawn = seen.page.evaluate("[...document.querySelectorAll('.plotly-graph-div')].filter(d => d.querySelector("
                               "'svg.main-svg')).map(d => d.id)")
    seen.page.context.close()
    assert order == drawn == ["fig-time-to-convert", "fig-sankey", "fig-time-in-stage", "fig-trends"]
    assert len(seen.console_errors) == 1 and "JSON" in seen.console_errors[0]


def test_screenshot_is_saved(opened):
    shot = ARTIFACTS / "report.png"
    assert shot.is_file() and shot.stat().st_size > 50_000
    assert (Path(ARTIFACTS) / ".gitignore").read_text().strip() == "*.png"


def _wcag_ratio(a, b) -> float:
    """WCAG 2's contrast ratio, written here from its definition (not from the palette module)."""
    def luminance(rgb):
        r, g, b = ((c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_gives_wcags_known_ratios():
    assert contrast((255, 255, 255), (0, 0, 0)) == pytest.approx(21)
    assert contrast((0x77, 0x77, 0x77), (255, 255, 255)) == pytest.approx(4.48, abs=0.005)  # WCAG's classic grey
    assert contrast((255, 0, 0), (255, 255, 255)) == pytest.approx(4.0, abs=0.005)


def test_breakdown_cells_keep_their_text_readable_on_every_shade():
    """WCAG AA asks 4.5:1 for text; the page's dark grey fell to 4.0:1 on the middle of the scale."""
    for i in range(1001):
        background, ink = heat(i / 1000)
        assert _wcag_ratio(unlabel_rgb(background), tuple(int(ink[k:k + 2], 16) for k in (1, 3, 5))) >= 4.5, (
            i, background, ink)


def test_this_runs_numbers_count_the_files_of_an_unfinished_run_before_it_and_say_so(tmp_path):
    """A run stopped after loading files publishes no marts and no report: those files were in no run's numbers."""
    unfinished = "20250311T140000Z-dead"  # between PREV_RUN_ID and RUN_ID; run history never heard of it
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("insert into ingest.manifest values (?, 'crm', 'data/crm/day1b.csv', 500, ?, 30, 27, 1, 2, ?)",
                    [unfinished, "d" * 64, RUN_AT - timedelta(hours=12)])
        con.executemany("insert into ingest.quarantine values (?, 'crm', 'data/crm/day1b.csv', ?, 'missing_column', "
                        "'activity is empty', '{}')", [(unfinished, 3), (unfinished, 8)])
    quality = _section(render(db, tmp_path / "reports").read_text(encoding="utf-8"), "quality")
    assert (f"This run also counts what 1 earlier run(s) loaded before ending without publishing marts (stopped, "
            f"or a source or an audit failed): <code>{unfinished}</code> (1 file(s), 27 rows loaded).") in quality
    crm = re.search(r"<tr><td>crm</td>(.*?)</tr>", quality).group(1)
    # this run: its own crm file (50 read, 49 loaded, 0 deduplicated, 1 quarantined) and the unfinished run's
    assert re.findall(r'<td class="num[^"]*">([\d,]+)</td>', crm) == ["2", "80", "76", "1", "3", "80", "76", "1", "3"]
    reasons = re.search(r"<tr><td>crm</td><td>missing_column</td>(.*?)</tr>", quality).group(1)
    assert re.findall(r">(\d+)<", reasons) == ["3", "3"]
    assert f'<span title="{unfinished}">unfinished run, counted here</span>' in quality
    # a database table read every night grew "Read" forever: the columns say they sum every read
    assert ">All runs, summed<" in quality and "The all-runs columns sum every read" in quality


def test_a_report_of_a_warehouse_without_run_history_counts_only_the_run_itself(tmp_path):
    """A warehouse no run has published to (or written before run history existed), opened read-only."""
    db = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("drop table marts.run_history")
    quality = _section(render(db, tmp_path / "reports").read_text(encoding="utf-8"), "quality")
    web = re.search(r"<tr><td>web</td>(.*?)</tr>", quality).group(1)
    numbers = re.findall(r'<td class="num[^"]*">([\d,]+)</td>', web)
    assert numbers == ["1", "120", "110", "7", "3", "220", "205", "9", "6"]  # this run: day2.jsonl only
    assert 'id="unfinished"' not in quality


def test_a_breakdown_cell_without_a_share_is_a_dash_not_the_darkest_shade():
    bd = pl.DataFrame({"dimension": ["channel"] * 4, "breakdown_value": ["email", "email", "ads", "ads"],
                       "step": [1, 2, 1, 2], "stage": ["awareness", "purchase"] * 2, "reached": [0, 0, 10, 4],
                       "in_progress": [0, 0, 0, 1], "dropped": [0, 0, 0, 5],
                       "conversion_from_start": [None, None, 1.0, 0.4]})
    rows = re.findall(r"<tr>(.*?)</tr>", breakdown_table(bd, "channel"))
    assert rows[1].startswith("<td>ads</td>") and "40%" in rows[1]
    assert rows[2] == '<td>email</td><td class="num">0</td><td class="num cell">–</td>'


def test_a_report_that_cannot_be_written_leaves_no_empty_run_folder(warehouse, tmp_path, monkeypatch):
    """A full disk left `reports/<run_id>/` empty for good: no index lists it, so no pruning removes it. A
    folder that was there before (the run rendered again) stays."""
    from journey_analytics.reports import render as rendering

    def disk_full(path, text):  # as write_atomic fails on a full disk: its folder made, the file not written
        path.parent.mkdir(parents=True, exist_ok=True)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rendering, "write_atomic", disk_full)
    out = tmp_path / "reports"
    with pytest.raises(OSError, match="No space left"):
        render(warehouse, out)
    assert not (out / RUN_ID).exists()
    (out / RUN_ID).mkdir(parents=True)
    with pytest.raises(OSError, match="No space left"):
        render(warehouse, out)
    assert (out / RUN_ID).is_dir()

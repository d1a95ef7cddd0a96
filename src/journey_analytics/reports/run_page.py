"""The report of one run: header, funnel, paths, time in stage, channels, data quality, trends.

The page embeds plotly.js once, after the content, and every figure uses it: a partial bundle of the same
version plotly.py writes figures for, with only the trace types drawn here (`assets/README.md`), which
boots in a quarter of the time of the full 4.8 MB library. The text paints first and the figures draw after
it (`html.draw_script`); breakdowns are tables, not charts. Sections whose table is absent or empty say so
in words instead of drawing an empty chart.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl

from journey_analytics.config import Funnel, PainPoints, Paths, default_of

from . import figures, html
from .data import ReportData
from .palette import stage_colours
from .sankey import sankey_figure
from .summary import change_sentence, history_up_to, no_change_reason, run_metrics
from .text import LABEL_CHARS, clip, esc_html, fmt_days, fmt_duration, fmt_int, fmt_nps, fmt_pct, fmt_time


PLOTLY_BUNDLE = Path(__file__).parent / "assets" / "plotly-journey.min.js"


@cache
def plotly_js() -> str:
    """The embedded plotly.js: core (scatter), bar and sankey."""
    return PLOTLY_BUNDLE.read_text(encoding="utf-8")


@dataclass(frozen=True)
class RunInfo:
    """What the report says about the run itself (not read from the marts)."""

    run_id: str
    run_at: datetime
    as_of: datetime
    title: str
    stages: list[str]
    timezone: str
    steps: list[str] = field(default_factory=list)  # the funnel steps (marts.funnel_stages); [] = the stages
    path_node: str = default_of(Paths, "node")  # what a path and Sankey node is (a stage or a touchpoint label)
    window_days: float = default_of(Funnel, "window_days")  # the funnel window W
    breakdown: str = default_of(Funnel, "breakdown")  # the touchpoint attribute of the breakdown table
    goal_stage: str = default_of(Paths, "goal_stage")  # a path ending in `converted` reached it
    max_steps: int = default_of(Paths, "max_steps")  # the nodes of a path kept before its last node
    csat_property: str = default_of(PainPoints, "csat_property")  # the survey properties pain points rate
    nps_property: str = default_of(PainPoints, "nps_property")
    sources: tuple[str, ...] = ()  # the sources journey.yaml declares (data quality marks others); () = not known


INTROS = {
    "funnel": (
        "How many customers reached each step of the funnel, in order, within the funnel window: {window} from "
        "the touchpoint that started the attempt. The coloured part of a bar counts customers who reached the "
        "step; the hatched part, customers who reached the previous step and whose latest attempt's window is "
        "still open (not lost yet); the grey part, customers who dropped off. Beside each step: how many reached "
        "it and their share of those who started, how many are in progress and dropped off, and the time from "
        "the previous step, median and p90 (9 in 10 customers took at most that long)."
    ),
    "sankey": (
        "How customers move from {node} to {node}: the first {max_steps} {node}s of each journey, then its "
        "outcome. Each column is one step of the journey and the width of a band is the number of customers. "
        "<b>converted</b>: the journey reached the goal stage, {goal}; <b>(end)</b>: it has not reached it (yet); "
        "<b>Other</b>: less common {node}s at that step (and a converted or (end) that is rare there: hover tells "
        "how many ended in it). Hover for numbers."
    ),
    "paths": (
        "The most common journeys: the first {max_steps} {node}s of each (a {node} repeated in a row counts "
        "once), then converted (it reached {goal}) or (end) (it has not). When there "
        "are more paths than the table shows, a last row, <b>other paths</b>, groups the rest, so the rows "
        "add up to every customer with a staged touchpoint (a customer whose events no stage rule or "
        "inference maps has no path)."
    ),
    "time": (
        "How long one visit to a stage lasts. Bars use completed visits (median, 75th and 90th percentile); "
        "the diamond is the median including visits still open (Kaplan–Meier), each counted up to the run's "
        "as-of time (in the header), not to the latest event. A diamond far right of its bars means many open "
        "visits are already long: customers stalling in that stage, or customers gone quiet there without a "
        "later touchpoint. Beside each stage: its visits, how many are still open, and the numbers of the bars and "
        "the diamond."
    ),
    "channel": (
        "Share of the customers who started the funnel that reached each step, by the {dimension} of the "
        "touchpoint that started their counted attempt, with how many customers started. That is the latest "
        "first-step touchpoint from which the customer got as far as they did, not their very first touch. "
        "Darker means fewer got that far. Customers still inside their window count as not reached yet; a cell "
        "says how many are in progress."
    ),
    "channel_attempts": (  # only true of channels
        " A page view with no campaign (direct) a minute after an ad click starts a later attempt, so direct "
        "is far larger here than among first touches."
    ),
    "segment": (
        "The same funnel by customer segment (persona): the latest value any of the customer's events "
        "carries, even one after the funnel started. Customers whose events carry none are shown as "
        "(none); when only a later stage's source (a CRM, say) carries the segment, (none) mostly means "
        "customers who never got that far, so compare the named segments with each other, not with (none)."
    ),
    "pain": (
        "The places to fix first. <b>Exit rate</b>: of the customers who had this touchpoint, the share for "
        "whom it was the last one — they have been silent for a whole funnel window ({window}) and never "
        "finished the journey (reached its last stage, {last}). <b>CSAT</b> (1–5) and <b>NPS</b> (−100 to 100) "
        "come from the service surveys "
        "that followed the touchpoint. Touchpoints with few customers are not ranked and come after the ranked "
        "ones."
    ),
    "inference": (
        "Events that no stage rule maps. Each is given the stage customers were in when it happened, if "
        "one stage clearly dominates; <b>used</b> ones are in the charts above. Promote them to rules in "
        "journey.yaml (<code>journey stages suggest</code> prints them ready to paste)."
    ),
    "quality": (
        "What happened to every row read from the sources. Quarantined rows were rejected and kept aside "
        "with the reason; duplicates were already loaded and were skipped. The all-runs columns sum every read: "
        "a file read again after it changed, or a database table read every night, counts each time, its rows "
        "loaded before as duplicates skipped."
    ),
    "trends": ("The headline numbers of every recorded run, so a change stands out against the usual range. "
               "Each run sits at its as-of time, the time its data run up to (a backfilled night at its "
               "midnight; of two runs over the same time, the later one). Times in {tz}. A conversion is drawn "
               "only for the runs whose funnel was this run's: the same steps in the same order, window and "
               "stage rules; with another it measured something else."),
}


def _headline(data: ReportData, run_id: str) -> list[tuple[str, str]]:
    """Events, customers, quarantined rows; from run history, else from the marts themselves."""
    m = run_metrics(data.run_history, run_id)
    customers = m.get("customers")
    if customers is None and data.path_frequencies is not None:
        customers = data.path_frequencies["customers"].sum()
    quarantined = m.get("rows_quarantined")
    if quarantined is None and data.manifest_by_source is not None:
        quarantined = data.manifest_by_source["quarantined_run"].sum()
    return [("events", fmt_int(m.get("events"))), ("customers", fmt_int(customers)),
            ("rows quarantined in this run", fmt_int(quarantined))]


def _latest_event(data: ReportData, run_id: str, tz: ZoneInfo) -> str:
    """' · latest event <time>' from run history (the data may end well before the as-of time), or ''."""
    seconds = run_metrics(data.run_history, run_id).get("latest_event_at")
    if seconds is None:
        return ""
    return f" · latest event {esc_html(fmt_time(datetime.fromtimestamp(seconds, timezone.utc), tz))}"


def _paths(paths: pl.DataFrame | None, colours: dict[str, str]) -> str:
    return _shown(paths, "marts.path_frequencies", "No journeys in this period.",
                  lambda f: html.paths_table(f, colours))


def _stage_to_stage(pairs: pl.DataFrame | None, colours: dict[str, str]) -> str:
    """Seconds from entering one stage to first entering the next, per consecutive pair (marts.stage_to_stage).

    The mart keeps a row for every pair, 0 customers where nobody moved; the table lists only the pairs
    customers moved between, as its note says."""
    head = ("<h3>From one stage to the next</h3>\n<p class=\"note\">Time from a customer's first entry into a stage "
            "to their first later entry into the next one, for each pair of stages customers moved between.</p>\n")
    if pairs is None:
        return head + html.missing("marts.stage_to_stage")
    rows = [[html.chip(r["from_stage"], colours) + " → " + html.chip(r["to_stage"], colours),
             fmt_int(r["customers"]), fmt_duration(r["median_s"]), fmt_duration(r["p90_s"])]
            for r in pairs.filter(pl.col("customers") > 0).iter_rows(named=True)]
    if not rows:
        return head + "<p class=\"empty\">No customer moved from one stage to the next in this period.</p>"
    return head + html.table(["From → to", "Customers", "Median", "p90"], rows, numeric={1, 2, 3})


def _shown(frame: pl.DataFrame | None, table: str, empty: str, show: Callable[[pl.DataFrame], str]) -> str:
    """`show(frame)`, or why there is nothing to show (`table` absent, or nothing in it)."""
    if frame is None:
        return html.missing(table)
    if frame.is_empty():
        return f"<p class=\"empty\">{empty}</p>"
    return show(frame)


def _figure(frame: pl.DataFrame | None, table: str, build: Callable[[pl.DataFrame], go.Figure],
            div_id: str, empty: str) -> str:
    """The figure `build` draws of `frame`, or why there is none."""
    return _shown(frame, table, empty, lambda f: html.figure_html(build(f), div_id))


def _time_to_convert(data: ReportData, colours: dict[str, str], steps: list[str]) -> str:
    """The distribution behind the funnel's median and p90 (marts.funnel_time_to_convert, SEMANTICS.md)."""
    empty = ("The funnel has one step, so there is no time between steps." if len(steps) < 2 else
             "No customer reached a second step in this period.")
    return ("<h3>Time to convert</h3>\n<p class=\"note\">How long the customers who reached a step took from the "
            "previous step of the same attempt, as a share of the customers who reached it.</p>\n" + _figure(
                _drawn(data.time_to_convert, lambda f: f["customers"].sum() > 0), "marts.funnel_time_to_convert",
                lambda f: figures.time_to_convert_figure(f, colours, data.funnel_steps), "fig-time-to-convert", empty))


def _drawn(frame: pl.DataFrame | None, worth: Callable[[pl.DataFrame], bool]) -> pl.DataFrame | None:
    """`frame`, or none of its rows when they hold nothing worth a chart: the marts keep a row per funnel
    step and stage even when no customer got there, and one run alone makes no trend."""
    return frame if frame is None or frame.is_empty() or worth(frame) else frame.clear()


def _pain_points(pain: pl.DataFrame | None, colours: dict[str, str], info: RunInfo) -> str:
    return _shown(pain, "marts.pain_points", "No touchpoints in this period.",
                  lambda f: _pain_table(f, colours, info))


def _pain_table(pain: pl.DataFrame, colours: dict[str, str], info: RunInfo, top: int = 12) -> str:
    rows = [[esc_html(r["rank"] or "–"),
             f"{esc_html(r['source'])}: <b>{esc_html(clip(r['event_name'], LABEL_CHARS))}</b>",
             html.chip(r["stage"], colours), fmt_int(r["customers"]), fmt_int(r["exits"]),
             fmt_pct(r["exit_rate"]),
             "" if r["avg_csat"] is None else f"{r['avg_csat']:.2f} ({fmt_int(r['csat_responses'])})",
             "" if r["nps"] is None else f"{fmt_nps(r['nps'])} ({fmt_int(r['nps_responses'])})"]
            for r in pain.head(top).to_dicts()]
    shown = "" if pain.height <= top else (
        f"<p class=\"meta\">The first {top} of {fmt_int(pain.height)} touchpoints; all are in "
        "<code>marts.pain_points</code>.</p>")
    for score, key, name in (("CSAT", "csat", info.csat_property), ("NPS", "nps", info.nps_property)):
        if pain[f"{key}_responses"].sum() == 0:  # a misspelt key blanks a column
            shown += (f"<p class=\"meta\">No {score} response in this period: no event carries the property "
                      f"<code>{esc_html(name)}</code> (<code>pain_points.{key}_property</code>); check it against "
                      "the properties a source keeps.</p>")
    return html.table(["#", "Touchpoint", "Stage", "Customers", "Exits", "Exit rate", "CSAT (responses)",
                       "NPS (responses)"], rows, numeric={3, 4, 5, 6, 7}) + shown


def _inference(inference: pl.DataFrame | None, colours: dict[str, str]) -> str:
    return _shown(inference, "marts.stage_inference", "Every event is mapped by a rule: nothing to infer.",
                  lambda f: _inference_table(f, colours))


def _inference_table(inference: pl.DataFrame, colours: dict[str, str]) -> str:
    rows = [[f"{esc_html(r['source'])}: <b>{esc_html(clip(r['event_name'], LABEL_CHARS))}</b>",
             html.chip(r["proposed_stage"], colours) if r["proposed_stage"] else "–",
             fmt_pct(r["share"]), fmt_int(r["occurrences"]), fmt_int(r["customers"]),
             "used" if r["is_used"] else "not confident"]
            for r in inference.to_dicts()]
    return html.table(["Event", "Proposed stage", "Share", "Occurrences", "Customers", ""], rows,
                      numeric={2, 3, 4})


def _dimension(breakdown: pl.DataFrame | None, segment: bool) -> pl.DataFrame | None:
    if breakdown is None:
        return None
    return breakdown.filter((pl.col("dimension") == "segment") == segment)


def _segment(breakdown: pl.DataFrame | None) -> str:
    """The segment funnel, or why there is none. Every funnel customer has a row of the breakdown dimension,
    and a segment row only when funnel.segment is set ('(none)' if no event carries a value), so a mart
    without any row means no customer in this period, not a missing setting."""
    if breakdown is None:
        return html.missing("marts.funnel_breakdown")
    segments = _dimension(breakdown, segment=True)
    if breakdown.is_empty():
        empty = "No customer started the funnel in this period."
    elif segments.is_empty():
        empty = ("No segment is configured: set funnel.segment in journey.yaml to the event property that holds "
                 "the customer's segment.")
    elif set(segments["breakdown_value"]) == {"(none)"}:
        empty = ("No event of this period's customers carries a segment, so every customer is (none): check that "
                 "funnel.segment names a property a source keeps (its <code>properties</code> in journey.yaml).")
    else:
        return html.breakdown_table(segments, "segment")
    return f"<p class=\"empty\">{empty}</p>"


def run_report_html(data: ReportData, info: RunInfo) -> str:
    """The whole self-contained page for one run."""
    tz = ZoneInfo(info.timezone)
    colours = stage_colours(info.stages)
    breakdowns = data.funnel_breakdown  # its dimension, else (no row in this period) the configured one
    dimensions = [] if breakdowns is None else breakdowns.filter(pl.col("dimension") != "segment")["dimension"].unique()
    dimension = str(dimensions[0] if len(dimensions) else info.breakdown).replace("_", " ")
    steps = info.steps or info.stages
    sentence = change_sentence(data.run_history, info.run_id, steps, tz)
    change = (f"<p class=\"change\" id=\"change\">{esc_html(sentence)}</p>" if sentence else
              f"<p class=\"note\" id=\"change\">{esc_html(no_change_reason(data.run_history, info.run_id))}</p>")
    node = "touchpoint" if info.path_node == "touchpoint" else "stage"
    window = esc_html(fmt_days(info.window_days))
    node_note = (" A touchpoint is named <code>source:event_name</code>; only touchpoints with a stage count."
                 if node == "touchpoint" else "")
    sections = [
        html.section("funnel", "Funnel", INTROS["funnel"].format(window=window), _figure(
            _drawn(data.funnel_steps, lambda f: f["reached"].sum() > 0), "marts.funnel_steps",
            lambda f: figures.funnel_figure(f, colours),
            "fig-funnel", "No customer started the funnel in this period.") + _time_to_convert(data, colours, steps)),
        html.section("sankey", f"Journeys between {node}s", INTROS["sankey"].format(
            node=node, goal=html.chip(info.goal_stage, colours), max_steps=info.max_steps) + node_note, _figure(
            data.sankey_links, "marts.sankey_links", lambda f: sankey_figure(f, info.stages, colours),
            "fig-sankey", "No journeys in this period.")),
        html.section("paths", "Most common journeys", INTROS["paths"].format(
            node=node, goal=html.chip(info.goal_stage, colours), max_steps=info.max_steps),
                     _paths(data.path_frequencies, colours)),
        html.section("time", "Time in stage", INTROS["time"], _figure(
            _drawn(data.time_in_stage, lambda f: f["visits"].sum() > 0), "marts.time_in_stage",
            lambda f: figures.time_in_stage_figure(f, info.stages, colours),
            "fig-time-in-stage", "No stage visits in this period.") + _stage_to_stage(data.stage_to_stage, colours)),
        html.section("pain", "Pain points", INTROS["pain"].format(
            window=window, last=html.chip(info.stages[-1], colours)),
                     _pain_points(data.pain_points, colours, info)),
        html.section("channel", f"Funnel by {esc_html(dimension)}", INTROS["channel"].format(
            dimension=esc_html(dimension)) + (INTROS["channel_attempts"] if dimension == "channel" else ""), _shown(
            _dimension(data.funnel_breakdown, segment=False), "marts.funnel_breakdown", "No breakdown in this period.",
            lambda f: html.breakdown_table(f, dimension))),
        html.section("segment", "Funnel by segment", INTROS["segment"], _segment(data.funnel_breakdown)),
        html.section("inference", "Inferred stages", INTROS["inference"], _inference(data.stage_inference, colours)),
        html.section("quality", "Data quality", INTROS["quality"], html.data_quality_html(
            data.manifest_by_source, data.quarantine_by_reason, data.quarantine_examples, info.run_id,
            data.unfinished_runs, info.sources)),
        html.section("trends", "Trends across runs", INTROS["trends"].format(tz=esc_html(info.timezone)), _figure(
            _drawn(history_up_to(data.run_history, info.run_id, info.as_of), lambda f: f["run_id"].n_unique() > 1),
            "marts.run_history", lambda f: figures.trends_figure(f, steps, colours, info.timezone),
            "fig-trends", "No run with earlier data to draw a trend with: each later night's run adds a point, and "
            "a backfill adds earlier nights (docs/operations.md).")),
    ]
    nav = "".join(f"<a href=\"#{a}\">{t}</a>" for a, t in (
        ("funnel", "Funnel"), ("sankey", "Journeys"), ("paths", "Top paths"), ("time", "Time in stage"),
        ("pain", "Pain points"), ("channel", f"By {esc_html(dimension)}"), ("segment", "By segment"),
        ("inference", "Inferred stages"), ("quality", "Data quality"), ("trends", "Trends")))
    header = (
        f"<header>\n<h1>{esc_html(info.title)}</h1>\n"
        f"<p class=\"meta\">Run <code>{esc_html(info.run_id)}</code> · run at {esc_html(fmt_time(info.run_at, tz))}"
        f" · as of {esc_html(fmt_time(info.as_of, tz))}{_latest_event(data, info.run_id, tz)}"
        f" · times in {esc_html(info.timezone)}</p>\n"
        f"{html.cards(_headline(data, info.run_id))}\n{change}\n<nav>{nav}</nav>\n</header>"
    )
    scripts = ("<script>window.PlotlyConfig={MathJaxConfig:'local'};</script>\n"
               f"<script>{plotly_js()}</script>\n{html.draw_script()}")
    return html.page(f"{info.title} — {info.run_id}", header + "\n" + "\n".join(sections), tail=scripts)

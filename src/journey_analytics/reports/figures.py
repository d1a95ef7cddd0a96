"""One function per chart: Polars frame in, plotly Figure out.

Every data string that reaches a figure goes through `esc_label` first (stage names, path
labels), because plotly.js interprets a subset of HTML in labels and hover text. Each
stage keeps its colour from `palette.stage_colours` on every chart.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from .palette import DROPPED, GRID, TEXT, colour_for
from .summary import same_funnel
from .text import duration_unit, esc_label, fmt_duration, fmt_int, fmt_pct

FONT = {
    "family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    "size": 13,
    "color": TEXT,
}
PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def style(fig: go.Figure, height: int, **layout) -> go.Figure:
    """Shared look: white background, system font, legend on top, no clipped text."""
    defaults = {
        "template": "plotly_white",
        "height": height,
        "autosize": True,
        "font": FONT,
        "margin": {"l": 64, "r": 24, "t": 40, "b": 64},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"font": {"size": 13}, "align": "left"},
        "uniformtext": {"minsize": 10, "mode": "hide"},
    }
    fig.update_layout(**{**defaults, **layout})
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID)
    return fig


def in_stage_order(labels: list[str], stages: list[str]) -> list[str]:
    """Configured stages first, in config order; anything else after, as found."""
    known = [s for s in stages if s in labels]
    return known + [s for s in dict.fromkeys(labels) if s not in stages]


def _small(text: str) -> str:
    return f"<span style='font-size:11px'>{text}</span>"


ROW_PX = 80  # the height of one step's or stage's bars: the four lines of its label, and a gap


def lying(ticks: list[str], values: list) -> dict:
    """A bar trace's coordinates, lying down: the labels on the left, one row each, the values along the bottom.
    Under standing bars four-line labels turned on their side and ran into each other: a funnel from six steps
    at 1280 px, time in stage from four stages at 800 px."""
    return {"y": ticks, "x": values, "orientation": "h"}


def rows_layout(fig: go.Figure, n: int, values_title: str, **layout) -> go.Figure:
    """`style` for a figure of `n` lying rows: its height, the first row on top, room for the labels."""
    style(fig, 160 + ROW_PX * n, **layout)  # and room for a legend of two or three lines
    fig.update_yaxes(automargin=True, autorange="reversed")
    fig.update_xaxes(title_text=values_title)
    return fig


def _funnel_tick(r: dict, first: bool) -> str:
    """Stage; reached (share of the start); in progress and dropped; time from the previous step."""
    stage, reached = f"<b>{esc_label(r['stage'])}</b>", fmt_int(r["reached"])
    if first:
        return f"{stage}<br>{reached} started<br>{_small('start of the funnel')}"
    left = f"{fmt_int(r['dropped'])} dropped"
    if r["in_progress"]:
        left = f"{fmt_int(r['in_progress'])} in progress · {left}"
    took = f"median {fmt_duration(r['median_s_to_convert'])} · p90 {fmt_duration(r['p90_s_to_convert'])}"
    return f"{stage}<br>{reached} reached · {fmt_pct(r['conversion_from_start'])}<br>{_small(left)}<br>{_small(took)}"


def funnel_figure(steps: pl.DataFrame, colours: dict[str, str]) -> go.Figure:
    """Stacked bars per step: reached (stage colour), still in progress (hatched), dropped (grey).

    Row k of `marts.funnel_steps` holds the customers who reached step k and, of those who
    reached step k-1 but not k, how many are still inside their window (`in_progress`) and how
    many dropped off. So each bar's full length is reached(k-1): the drop-off is visible where
    it happens. The numbers are in the tick labels, not in the bars: a bar label that does not fit
    is hidden (`uniformtext`), so a small last step or in-progress part lost its number in a
    screenshot or printout. The bars lie down (`lying`), step 1 on top.
    """
    rows = steps.sort("step").to_dicts()
    ticks = [_funnel_tick(r, first=i == 0) for i, r in enumerate(rows)]
    col = [colour_for(r["stage"], colours) for r in rows]
    names = [esc_label(r["stage"]) for r in rows]
    reached_hover = [
        f"<b>{n}</b><br>started the funnel: {fmt_int(r['reached'])}" if i == 0 else
        f"<b>{n}</b><br>reached: {fmt_int(r['reached'])}<br>"
        f"{fmt_pct(r['conversion_from_start'])} of the customers who started, "
        f"{fmt_pct(r['conversion_from_previous'])} of the previous step<br>"
        f"time from previous step: median {fmt_duration(r['median_s_to_convert'])}, "
        f"p90 {fmt_duration(r['p90_s_to_convert'])}"
        for i, (n, r) in enumerate(zip(names, rows))
    ]
    fig = go.Figure()
    fig.add_bar(
        name="Reached this step", **lying(ticks, [r["reached"] for r in rows]),
        marker={"color": col, "line": {"width": 0}}, hovertext=reached_hover, hoverinfo="text",
    )
    fig.add_bar(
        name="Still in progress (window still open)", **lying(ticks, [r["in_progress"] or 0 for r in rows]),
        marker={"color": "rgba(255,255,255,0)", "line": {"color": col, "width": 1.5},
                "pattern": {"shape": "/", "fgcolor": col, "size": 7, "solidity": 0.45}},
        hovertext=[f"<b>{n}</b><br>still in progress: {fmt_int(r['in_progress'])}<br>"
                   "reached the previous step; their latest attempt's window is still open"
                   for n, r in zip(names, rows)],
        hoverinfo="text",
    )
    fig.add_bar(
        name="Dropped off before this step", **lying(ticks, [r["dropped"] or 0 for r in rows]),
        marker={"color": DROPPED, "line": {"width": 0}},
        hovertext=[f"<b>{n}</b><br>dropped off: {fmt_int(r['dropped'])}<br>"
                   "reached the previous step but not this one, window closed" for n, r in zip(names, rows)],
        hoverinfo="text",
    )
    rows_layout(fig, len(rows), "customers", barmode="stack", bargap=0.25,
                legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "traceorder": "normal"})
    fig.update_xaxes(separatethousands=True)
    return fig


def time_to_convert_figure(ttc: pl.DataFrame, colours: dict[str, str], steps: pl.DataFrame | None) -> go.Figure:
    """How long the customers who reached each step took from the previous one (`marts.funnel_time_to_convert`).

    One bar group per time bucket, one bar per step, as a share of the step's customers (a step's
    buckets sum to its `reached`), so steps of very different sizes compare; the hover gives counts.
    `steps` (`marts.funnel_steps`) names step 1, which has no buckets; a step nobody reached is left out.
    """
    names = dict(zip(steps["step"].to_list(), steps["stage"].to_list())) if steps is not None else {}
    names |= dict(zip(ttc["step"].to_list(), ttc["stage"].to_list()))
    fig = go.Figure()
    for (step,), rows in ttc.sort("step", "bucket_index").group_by("step", maintain_order=True):
        total = rows["customers"].sum()
        if not total:
            continue
        stage = names[step]
        label = f"{esc_label(names.get(step - 1, f'step {step - 1}'))} → {esc_label(stage)}"
        buckets = [esc_label(b) for b in rows["bucket"]]
        fig.add_bar(
            name=label, x=buckets, y=[c / total for c in rows["customers"]],
            marker={"color": colour_for(stage, colours), "line": {"width": 0}},
            hovertext=[f"<b>{label}</b><br>{b}: {fmt_int(c)} customers "
                       f"({fmt_pct(c / total)} of the {fmt_int(total)} who reached {esc_label(stage)})"
                       for b, c in zip(buckets, rows["customers"])],
            hoverinfo="text",
        )
    style(fig, 380, barmode="group", bargap=0.2, bargroupgap=0.05)
    fig.update_xaxes(title_text="time from the previous step")
    fig.update_yaxes(title_text="share of the step's customers", tickformat=".0%", rangemode="tozero")
    return fig


def time_in_stage_figure(tis: pl.DataFrame, stages: list[str], colours: dict[str, str]) -> go.Figure:
    """Median / p75 / p90 of completed visits per stage, plus the Kaplan–Meier median.

    KM also counts visits still open at as_of, so when it sits far above the plain median, many
    open visits are already long (customers stalling there, or gone quiet without a later touchpoint).
    The numbers are in the tick labels, as the funnel's are: labels on the bars were hidden where they did not
    fit (every one at 800 px) or lay under the KM diamond, and the KM median was only in a hover. The bars lie
    down (`lying`), the first stage on top.
    """
    by_stage = {r["stage"]: r for r in tis.to_dicts()}
    order = in_stage_order(list(by_stage), stages)
    rows = [by_stage[s] for s in order]
    top = max((v for r in rows for v in (r["p90_s"], r["km_median_s"]) if v is not None), default=None)
    unit, per = duration_unit(top)
    ticks = [f"<b>{esc_label(r['stage'])}</b><br>" + "<br>".join(map(_small, (
        f"{fmt_int(r['visits'])} visits · {fmt_int(r['open'])} still open",
        f"median {fmt_duration(r['median_s'])} · p75 {fmt_duration(r['p75_s'])} · p90 {fmt_duration(r['p90_s'])}",
        f"incl. open visits (KM): median {fmt_duration(r['km_median_s'])}"))) for r in rows]
    col = [colour_for(r["stage"], colours) for r in rows]
    names = [esc_label(r["stage"]) for r in rows]

    def scaled(key: str) -> list[float | None]:
        return [None if r[key] is None else r[key] / per for r in rows]

    fig = go.Figure()
    # Median solid; p75 and p90 hatched in the stage colour (dense, then sparse), so the three
    # read apart without relying on colour. (A hatched bar with a per-bar colour array must keep a
    # single transparent marker colour, or plotly.js logs a colour warning when drawing its legend.)
    stats = [("median_s", "Median", None), ("p75_s", "75th percentile", 0.55), ("p90_s", "90th percentile", 0.25)]
    for key, label, solidity in stats:
        marker = ({"color": col} if solidity is None else
                  {"color": "rgba(255,255,255,0)", "line": {"color": col, "width": 1.5},
                   "pattern": {"shape": "/", "fgcolor": col, "size": 7, "solidity": solidity}})
        fig.add_bar(
            name=label, **lying(ticks, scaled(key)), marker=marker,
            hovertext=[f"<b>{n}</b><br>{label.lower()}: {fmt_duration(r[key])}<br>"
                       f"{fmt_int(r['completed'])} of {fmt_int(r['visits'])} visits completed · "
                       f"{fmt_int(r['customers'])} customers visited the stage"
                       for n, r in zip(names, rows)],
            hoverinfo="text",
        )
    fig.add_scatter(
        name="Median incl. open visits (Kaplan–Meier)", y=ticks, x=scaled("km_median_s"), mode="markers",
        marker={"symbol": "diamond", "size": 13, "color": TEXT, "line": {"color": "#FFFFFF", "width": 1.5}},
        hovertext=[f"<b>{n}</b><br>median incl. {fmt_int(r['open'])} open visits: "
                   f"{fmt_duration(r['km_median_s'])}" for n, r in zip(names, rows)],
        hoverinfo="text",
    )
    for tick, r in zip(ticks, rows):
        if r["median_s"] is None:
            fig.add_annotation(x=0, y=tick, xanchor="left", showarrow=False, font={"color": "#57606A"},
                               text="no completed visit yet")
    rows_layout(fig, len(rows), f"time in stage ({unit})", barmode="group", bargap=0.3, bargroupgap=0.05)
    fig.update_xaxes(rangemode="tozero")
    return fig


def trends_figure(history: pl.DataFrame, steps: list[str], colours: dict[str, str], tz: str) -> go.Figure:
    """Headline numbers across runs (one run per data time, `summary.history_up_to`): customers,
    events, rows the run quarantined, conversion per funnel step after the first (`steps`), each run
    placed at the time its data run up to. Conversions are drawn only for the runs with the latest run's
    funnel (`summary.same_funnel`: steps, order, window, stage rules): with another, a step's conversion
    measured something else.

    Times are shown in the report's time zone `tz` (plotly.js has no time zones of its own).
    """
    wide = (
        history.with_columns(utc=pl.col("as_of"),
                             as_of=pl.col("as_of").dt.convert_time_zone(tz).dt.replace_time_zone(None))
        .pivot(on="metric", index=["run_id", "utc", "as_of"], values="value", aggregate_function="first")
        .sort("utc")  # in UTC: local times repeat an hour when clocks go back
    )
    when = wide["as_of"].to_list()
    metrics = [{k: v for k, v in row.items() if v is not None}
               for row in wide.drop("run_id", "utc", "as_of").iter_rows(named=True)]
    same_funnels = [same_funnel(m, metrics[-1]) for m in metrics]  # the latest run (this report's) is the last
    fig = make_subplots(rows=2, cols=2, horizontal_spacing=0.08, vertical_spacing=0.16, subplot_titles=(
        "Customers", "Events", "Rows quarantined by the run (from the files it read)",
        "Conversion from the first funnel step"))

    def line(metric: str, name: str, colour: str, row: int, col: int, pct: bool = False, bars: bool = False) -> None:
        if metric not in wide.columns:
            return
        fmt = "%{y:.1%}" if pct else "%{y:,.0f}"
        values = wide[metric].to_list()
        if pct:  # a gap where the funnel was defined otherwise
            values = [v if same else None for v, same in zip(values, same_funnels)]
        hover = f"%{{fullData.name}}: {fmt}<br>as of %{{x|%d %b %Y %H:%M}}<extra></extra>"
        if bars:  # one run's own count, not a level: a line would draw a trend between runs
            fig.add_bar(x=when, y=values, name=name, row=row, col=col, marker={"color": colour}, showlegend=False,
                        hovertemplate=hover)
            return
        fig.add_scatter(
            x=when, y=values, name=name, mode="lines+markers", row=row, col=col,
            line={"color": colour, "width": 2.5}, marker={"size": 7}, showlegend=pct, hovertemplate=hover,
        )

    line("customers", "customers", TEXT, 1, 1)
    line("events", "events", TEXT, 1, 2)
    line("rows_quarantined", "rows quarantined by the run", "#8C8C8C", 2, 1, bars=True)
    for step in steps[1:]:
        line(f"conversion_from_start:{step}", esc_label(step), colour_for(step, colours), 2, 2, True)
    style(fig, 600, margin={"l": 64, "r": 24, "t": 40, "b": 24},
          legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": -0.1, "yanchor": "top",
                  "title": {"text": "reached: "}})
    fig.update_yaxes(rangemode="tozero", separatethousands=True)
    fig.update_yaxes(tickformat=".0%", row=2, col=2)
    return fig

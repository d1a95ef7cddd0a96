"""Page assembly: the HTML shell, the header, and the sections that are tables, not charts.

Every value from data passes through `esc_html` here; a figure is a sized `<div>` with its
plotly JSON beside it (`figure_html`), drawn by `draw_script` once the text has painted. The page
forbids all network access in its Content-Security-Policy, so even a mistake cannot make it phone
home: it opens from disk with a double click and works offline.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import polars as pl

from .figures import PLOTLY_CONFIG
from .palette import colour_for, heat
from .text import LABEL_CHARS, clip, esc_html, fmt_int, fmt_pct

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'")

CSS = """
:root { --text:#1F2328; --muted:#57606A; --line:#D0D7DE; --bg:#F6F8FA; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text);
  font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif; }
main { max-width:1200px; margin:0 auto; padding:24px 24px 48px; }
h1 { font-size:26px; margin:0 0 4px; } h2 { font-size:20px; margin:0 0 4px; }
h3 { font-size:16px; margin:20px 0 8px; }
.meta, .intro, .note { color:var(--muted); margin:0 0 12px; }
nav { margin:12px 0 20px; display:flex; flex-wrap:wrap; gap:6px 16px; }
nav a { color:#0969DA; text-decoration:none; } nav a:hover { text-decoration:underline; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(180px,1fr)); gap:12px; margin:16px 0; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
.card .n { font-size:26px; font-weight:600; font-variant-numeric:tabular-nums; }
.card .l { color:var(--muted); font-size:13px; }
.change { background:#fff; border-left:4px solid #0072B2; padding:10px 14px; margin:0 0 16px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:20px 24px; margin:0 0 20px; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { padding:6px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:middle; }
td { overflow-wrap:anywhere; }
th { background:var(--bg); font-weight:600; overflow-wrap:break-word; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.num, td.when { white-space:nowrap; }
tr.other td { font-style:italic; color:var(--muted); }
.chip { display:inline-block; padding:1px 8px; margin:2px 0; border-radius:4px; background:var(--bg);
  border-left:5px solid var(--c,#A6A6A6); white-space:nowrap; }
.arrow { color:var(--muted); margin:0 4px; }
.share { position:relative; min-width:110px; }
.share .bar { position:absolute; left:0; top:5px; bottom:5px; background:#56B4E9; opacity:.35; border-radius:2px; }
.share span.v { position:relative; }
code { font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; word-break:break-all; }
.empty { color:var(--muted); font-style:italic; }
td.path { min-width:16em; } td.time { min-width:11em; }
.figure { width:100%; contain:strict; }
.scroll { overflow-x:auto; }
th.group { text-align:center; border-bottom:2px solid var(--line); }
td.first, th.first { border-left:2px solid var(--line); }
td.cell { padding:2px; } .heat { display:block; padding:4px 8px; border-radius:3px; line-height:1.25; }
.heat small { display:block; font-size:12px; opacity:.85; }
"""


def page(title: str, body: str, head: str = "", tail: str = "") -> str:
    """The HTML shell; `title` is plain text, `body`, `head` and `tail` (scripts after the body's
    content, so the text paints before they run) are already-safe HTML."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc_html(title)}</title>\n<style>{CSS}</style>\n{head}</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n{tail}</body>\n</html>\n"
    )


def figure_html(fig: go.Figure, div_id: str) -> str:
    """A figure's `<div>`, sized, and its data as JSON for `draw_script`.

    `<` is written as `\\u003c` (same JSON value), so no string from data can end the script element.
    """
    spec = fig.to_json().replace("<", "\\u003c")
    return (f"<div class=\"figure\" style=\"height:{fig.layout.height or 450}px\">"
            f"<div id=\"{div_id}\" class=\"plotly-graph-div\"></div>"
            f"<script type=\"application/json\" class=\"figure-spec\">{spec}</script></div>")


def draw_script() -> str:
    """Draws every figure of the page in order, one per task, once the text has painted.

    plotly.js boots and draws in about a second on a small machine; waiting for the first contentful
    paint and yielding between figures keeps the page readable and scrollable meanwhile. A figure that
    fails (even while it is parsed or set up) is logged to the console and the others still draw.
    Records in `window.journeyReport` the figures in the order drawn, and `drawStartAt` and `readyAt`
    (ms since navigation): when the first figure starts and when the last has drawn.
    """
    return (
        "<script>(function(){var specs=document.querySelectorAll('script.figure-spec'),i=0,started=false,"
        "config=%s,r=window.journeyReport={expected:specs.length,order:[],drawStartAt:null,readyAt:null};"
        "function next(){if(i===specs.length){r.readyAt=performance.now();return;}"
        "if(i===0){r.drawStartAt=performance.now();}var s=specs[i++],div=s.previousElementSibling;"
        "Promise.resolve().then(function(){var spec=JSON.parse(s.textContent);r.order.push(div.id);"
        "return Plotly.newPlot(div,spec.data,spec.layout,config);}).then("
        "function(){setTimeout(next,0);},function(e){console.error(e);setTimeout(next,0);});}"
        "function start(){if(!started){started=true;setTimeout(next,0);}}"
        "if(window.PerformanceObserver&&(PerformanceObserver.supportedEntryTypes||[]).indexOf('paint')>=0){"
        "new PerformanceObserver(function(l){if(l.getEntriesByName('first-contentful-paint').length){start();}})"
        ".observe({type:'paint',buffered:true});}"
        "else{requestAnimationFrame(function(){setTimeout(start,0);});}})();</script>\n"
    ) % json.dumps(PLOTLY_CONFIG)


def section(anchor: str, title: str, intro: str, body: str) -> str:
    """A titled card; `title` and `intro` are our own words, `body` is safe HTML."""
    return (f"<section id=\"{anchor}\">\n<h2>{title}</h2>\n<p class=\"intro\">{intro}</p>\n"
            f"{body}\n</section>")


def missing(table: str) -> str:
    return f"<p class=\"empty\">Not available: <code>{esc_html(table)}</code> is not in this warehouse.</p>"


def cards(items: list[tuple[str, str]]) -> str:
    """Big numbers with a label each; values are pre-formatted plain text."""
    inner = "".join(f"<div class=\"card\"><div class=\"n\">{esc_html(v)}</div>"
                    f"<div class=\"l\">{esc_html(label)}</div></div>" for label, v in items)
    return f"<div class=\"cards\">{inner}</div>"


def table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset(),
          row_class: list[str] | None = None, col_class: dict[int, str] | None = None,
          groups: list[tuple[str, int]] | None = None) -> str:
    """An HTML table from already-escaped cells; `numeric` columns align right.

    `groups` adds a header row above `head`: (label, number of columns it spans).
    """
    classes = {**{i: "num" for i in numeric}, **(col_class or {})}

    def cls(i: int) -> str:
        return f" class=\"{classes[i]}\"" if i in classes else ""

    top = ("<tr>" + "".join(f"<th colspan=\"{n}\" class=\"group\">{g}</th>" for g, n in groups) + "</tr>"
           if groups else "")
    th = "".join(f"<th{cls(i)}>{h}</th>" for i, h in enumerate(head))
    body = []
    for n, row in enumerate(rows):
        rc = f" class=\"{row_class[n]}\"" if row_class and row_class[n] else ""
        body.append(f"<tr{rc}>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>")
    return (f"<div class=\"scroll\"><table>\n<thead>{top}<tr>{th}</tr></thead>\n<tbody>\n"
            + "\n".join(body) + "\n</tbody>\n</table></div>")


def chip(label: str, colours: dict[str, str], limit: int | None = None) -> str:
    """A label in its colour, cut to `limit` characters when given (a touchpoint label comes from data)."""
    shown = label if limit is None else clip(label, limit)
    return f"<span class=\"chip\" style=\"--c:{colour_for(label, colours)}\">{esc_html(shown)}</span>"


def paths_table(paths: pl.DataFrame, colours: dict[str, str]) -> str:
    """Top paths, one chip per node in its colour (`palette.colour_for`), with a share bar."""
    rows, classes = [], []
    for r in paths.sort("rank").to_dicts():
        is_other = r["path"] == "other paths"
        nodes = [r["path"]] if is_other else (r["path"] or "").split(" > ")
        shown = "<span class=\"arrow\">→</span>".join(chip(n, colours, LABEL_CHARS) for n in nodes)
        width = min(max((r["share"] or 0) * 100, 0), 100)
        share = (f"<span class=\"bar\" style=\"width:{width:.1f}%\"></span>"
                 f"<span class=\"v\">{fmt_pct(r['share'])}</span>")
        rows.append(["" if is_other else fmt_int(r["rank"]), shown, fmt_int(r["customers"]), share])
        classes.append("other" if is_other else "")
    return table(["#", "Path", "Customers", "Share of customers"], rows, {0, 2}, classes, {3: "share"})


def breakdown_table(bd: pl.DataFrame, dimension: str) -> str:
    """The funnel per value of `dimension` (`marts.funnel_breakdown`): customers who started, then each
    later step's share of them, coloured by that share (darker: fewer got that far), with counts.

    Rows are sorted by how many customers started, `Other` last, so the big values lead. A table,
    not a plotly heatmap: every number is on screen and in the page's text, and it costs no drawing.
    """
    steps = bd.select("step", "stage").unique().sort("step").to_dicts()
    bd = bd.with_columns(pl.col("breakdown_value").fill_null("(unknown)"))
    cell = {(r["breakdown_value"], r["step"]): r for r in bd.to_dicts()}
    started = {v: r["reached"] for (v, step), r in cell.items() if step == steps[0]["step"]}
    values = sorted({v for v, _ in cell}, key=lambda v: (v == "Other", -(started.get(v) or 0), v))
    rows = []
    for v in values:
        label = clip(v, LABEL_CHARS)
        row = [esc_html(label), fmt_int(started.get(v))]
        for s in steps[1:]:
            c = cell.get((v, s["step"]))
            if c is None or c["conversion_from_start"] is None:  # no row, or no one started: nothing to colour
                row.append("–")
                continue
            background, ink = heat(c["conversion_from_start"])
            detail = (f"{label} → {s['stage']}: reached {fmt_int(c['reached'])} "
                      f"({fmt_pct(c['conversion_from_start'])} of those who started); still in progress "
                      f"{fmt_int(c['in_progress'])}; dropped {fmt_int(c['dropped'])}")
            open_now = f" · {fmt_int(c['in_progress'])} in progress" if c["in_progress"] else ""  # not lost yet
            row.append(f"<span class=\"heat\" style=\"background:{background};color:{ink}\" "
                       f"title=\"{esc_html(detail)}\">{fmt_pct(c['conversion_from_start'], 0)}"
                       f"<small>{fmt_int(c['reached'])}{open_now}</small></span>")
        rows.append(row)
    head = [esc_html(dimension), f"Started ({esc_html(steps[0]['stage'])})"]
    head += [esc_html(s["stage"]) for s in steps[1:]]
    return table(head, rows, set(range(1, len(head))), col_class={i: "num cell" for i in range(2, len(head))})


def data_quality_html(by_source: pl.DataFrame | None, reasons: pl.DataFrame | None,
                      examples: pl.DataFrame | None, run_id: str,
                      unfinished: list[tuple[str, int, int]], declared: tuple[str, ...] = ()) -> str:
    """Rows read/loaded/deduplicated/quarantined per source, reasons, and example rejects. A source not among
    `declared` (journey.yaml's, when known) was removed or renamed: its row says its events are left out.

    "This run" also counts the files of `unfinished` runs (run id, files, rows loaded): those
    just before it that ended without publishing marts, which no report counted; a note names them."""
    if by_source is None:
        return missing("ingest.manifest")
    parts = ["<h3>Rows per source</h3>"]
    if unfinished:
        runs = "; ".join(f"<code>{esc_html(r)}</code> ({fmt_int(files)} file(s), {fmt_int(loaded)} rows loaded)"
                         for r, files, loaded in unfinished)
        parts.append(f"<p class=\"note\" id=\"unfinished\">This run also counts what {len(unfinished)} earlier "
                     f"run(s) loaded before ending without publishing marts (stopped, or a source or an audit failed): "
                     f"{runs}.</p>")
    gone = " <small class=\"meta\">(no longer in journey.yaml: its events are left out of the journeys)</small>"
    rows = [[esc_html(r["source"]) + (gone if declared and r["source"] not in declared else ""),
             fmt_int(r["files_run"]), fmt_int(r["read_run"]), fmt_int(r["loaded_run"]), fmt_int(r["deduplicated_run"]),
             fmt_int(r["quarantined_run"]), fmt_int(r["read_total"]), fmt_int(r["loaded_total"]),
             fmt_int(r["deduplicated_total"]), fmt_int(r["quarantined_total"])]
            for r in by_source.to_dicts()]
    head = ["Source", "Files", "Read", "Loaded", "Duplicates skipped", "Quarantined",
            "Read", "Loaded", "Duplicates skipped", "Quarantined"]
    groups = [("", 1), ("This run", 5), ("All runs, summed", 4)]
    parts.append(table(head, rows, set(range(1, 10)), col_class={6: "num first"}, groups=groups)
                 if rows else "<p class=\"empty\">No files read yet.</p>")
    parts.append("<h3>Why rows were quarantined</h3>")
    if reasons is None:
        parts.append(missing("ingest.quarantine"))
    elif reasons.is_empty():
        parts.append("<p class=\"empty\">No row has been quarantined.</p>")
    else:
        parts.append(table(["Source", "Reason", "This run", "All runs"], [
            [esc_html(r["source"]), esc_html(r["reason"]), fmt_int(r["rows_run"]), fmt_int(r["rows_total"])]
            for r in reasons.to_dicts()], {2, 3}))
    parts.append("<h3>Examples of rejected rows (up to 5 per source, this run's first)</h3>")
    if examples is None or examples.is_empty():
        parts.append("<p class=\"empty\">No row has been quarantined.</p>")
    else:
        head = ["Source", "Run", "File and line", "Reason", "Detail", "Row as read (identifiers hashed)"]
        unfinished_ids = {u[0] for u in unfinished}
        parts.append(table(head, [
            [esc_html(r["source"]),
             _which_run(r["run_id"], run_id, unfinished_ids),
             f"<code>{esc_html(r['path'])}:{esc_html(r['line'])}</code>", esc_html(r["reason"]),
             esc_html(r["detail"]), f"<code>{esc_html(clip(r['raw_record']))}</code>"]
            for r in examples.to_dicts()], col_class={1: "when", 2: "path"}))
    return "\n".join(parts)


def _which_run(rejected_by: str, run_id: str, unfinished: set[str]) -> str:
    if rejected_by == run_id:
        return "this run"
    label = "unfinished run, counted here" if rejected_by in unfinished else "earlier run"
    return f"<span title=\"{esc_html(rejected_by)}\">{label}</span>"

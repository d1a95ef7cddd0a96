"""The Sankey of paths (of stages, or of touchpoints with `paths.node: touchpoint`), built from
`marts.sankey_links`.

A node is (step, label) and a link goes from (step, source_label) to (step + 1, target_label),
so the same label appears once per step it occurs at (loops back show up as a later column,
not as a cycle). Nodes keep one vertical order in every column: configured stages in config
order, then other labels, then `Other`, `converted`, `(end)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from .figures import style
from .palette import colour_for, rgba
from .text import LABEL_CHARS, clip, esc_label, fmt_int, fmt_pct

_TAIL = ("Other", "converted", "(end)")


@dataclass(frozen=True)
class SankeyGraph:
    """Nodes and links as plotly wants them: index-based links, per-node totals."""

    nodes: list[tuple[int, str]]  # (step, label)
    node_customers: list[int]
    node_ended: list[int]  # customers whose path ends at the node: inflow - outflow (0 at the first step)
    sources: list[int]
    targets: list[int]
    values: list[int]
    total_customers: int


def _node_key(stages: list[str]):
    rank = {s: i for i, s in enumerate(stages)}

    def key(node: tuple[int, str]) -> tuple:
        step, label = node
        if label in rank:
            return (step, 0, rank[label], label)
        if label in _TAIL:
            return (step, 2, _TAIL.index(label), label)
        return (step, 1, 0, label)

    return key


def sankey_graph(links: pl.DataFrame, stages: list[str]) -> SankeyGraph:
    """Index the (step, label) nodes; a node's customers are max(inflow, outflow), and those whose path ends
    there are inflow - outflow (every path ends in a terminal node, which may be folded into `Other`)."""
    rows = [r for r in links.to_dicts() if r["customers"]]
    inflow: dict[tuple[int, str], int] = {}
    outflow: dict[tuple[int, str], int] = {}
    for r in rows:
        src, dst = (r["step"], r["source_label"]), (r["step"] + 1, r["target_label"])
        outflow[src] = outflow.get(src, 0) + r["customers"]
        inflow[dst] = inflow.get(dst, 0) + r["customers"]
    nodes = sorted(set(inflow) | set(outflow), key=_node_key(stages))
    index = {n: i for i, n in enumerate(nodes)}
    first = min((r["step"] for r in rows), default=1)
    return SankeyGraph(
        nodes=nodes,
        node_customers=[max(inflow.get(n, 0), outflow.get(n, 0)) for n in nodes],
        node_ended=[max(inflow.get(n, 0) - outflow.get(n, 0), 0) for n in nodes],
        sources=[index[(r["step"], r["source_label"])] for r in rows],
        targets=[index[(r["step"] + 1, r["target_label"])] for r in rows],
        values=[r["customers"] for r in rows],
        total_customers=sum(r["customers"] for r in rows if r["step"] == first),
    )


def _share(n: int, total: int) -> str:
    return fmt_pct(n / total) if total else fmt_pct(None)


def _ending(label: str) -> str:
    return {"converted": "reached the goal stage", "(end)": "journey stopped here",
            "Other": "less common at this step, grouped"}.get(label, "")


def sankey_figure(links: pl.DataFrame, stages: list[str], colours: dict[str, str]) -> go.Figure:
    """Flows of customers from step to step; hover shows customers and their share of the customers
    with a path (every customer with a staged touchpoint)."""
    g = sankey_graph(links, stages)
    total = g.total_customers
    labels = [esc_label(clip(label, LABEL_CHARS)) for _, label in g.nodes]
    node_hover = [
        f"<b>{name}</b> · step {step}<br>{fmt_int(n)} customers ({_share(n, total)} of customers with a path)"
        + (f"<br>{_ending(label)}" if _ending(label) else "")
        + (f"<br>{fmt_int(ended)} of them ended here: a converted or (end) too rare at this step is grouped"
           if label == "Other" and ended else "")
        for (step, label), name, n, ended in zip(g.nodes, labels, g.node_customers, g.node_ended)
    ]
    link_hover = [
        f"<b>{labels[s]}</b> → <b>{labels[t]}</b> (step {g.nodes[s][0]} → {g.nodes[t][0]})<br>"
        f"{fmt_int(v)} customers ({_share(v, total)} of customers with a path)"
        for s, t, v in zip(g.sources, g.targets, g.values)
    ]
    node_colours = [colour_for(label, colours) for _, label in g.nodes]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={
            "label": labels, "color": node_colours, "customdata": node_hover,
            "hovertemplate": "%{customdata}<extra></extra>", "align": "left", "sort": "input",
            "pad": 14, "thickness": 18, "line": {"color": "#FFFFFF", "width": 0.5},
        },
        link={
            "source": g.sources, "target": g.targets, "value": g.values,
            "color": [rgba(node_colours[s], 0.35) for s in g.sources],
            "customdata": link_hover, "hovertemplate": "%{customdata}<extra></extra>",
        },
    ))
    steps = sorted({step for step, _ in g.nodes})
    style(fig, 520, margin={"l": 16, "r": 16, "t": 36, "b": 16})
    for i, step in enumerate(steps):
        fig.add_annotation(
            x=i / max(len(steps) - 1, 1), y=1.0, xref="paper", yref="paper", yanchor="bottom",
            xanchor="left" if i == 0 else "right" if i == len(steps) - 1 else "center",
            text=f"step {step}", showarrow=False, font={"size": 12, "color": "#57606A"},
        )
    return fig

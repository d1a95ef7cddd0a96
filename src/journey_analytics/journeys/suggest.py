"""Turn stage-inference proposals into journey.yaml rules an analyst can paste."""

from __future__ import annotations

import json

import duckdb


def suggested_rules(con: duckdb.DuckDBPyConnection) -> str:
    """YAML for `stages:`: confident proposals as rules, the others as comments with their numbers."""
    rows = con.execute(
        "select source, event_name, proposed_stage, share, occurrences, n_with_stage, customers, is_used "
        "from marts.stage_inference order by proposed_stage_index nulls last, source, event_name"
    ).fetchall()
    if not rows:
        return "# every event is mapped by a rule: nothing to suggest\n"
    lines = ["# Paste each rule under its stage in journey.yaml (stages: - name: ... rules:)."]
    current = None
    for source, event, stage, share, occurrences, with_stage, customers, used in rows:
        if stage is None:
            lines.append(f"# {source}/{event}: never seen after a mapped event; no stage to propose")
            continue
        why = f"{share:.0%} of {with_stage} occurrences ({customers} customers) happen in {stage}"
        if stage != current:
            lines.append(f"- name: {stage}\n  rules:")
            current = stage
        rule = f"{{source: {json.dumps(source)}, event_name: {json.dumps(event)}}}"
        if used:
            lines.append(f"    - {rule}   # {why}")
        else:
            lines.append(f"    # - {rule}   # not confident: {why}")
    return "\n".join(lines) + "\n"

"""Turn stage-inference proposals into journey.yaml rules an analyst can paste."""

from __future__ import annotations

import json
import re

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.runs import last_run


# Characters YAML reads as line breaks (U+0085, U+2028, U+2029) or rejects, and bidirectional controls (which
# show a rule's text in another order than it is): escaped, so no event name can end a comment line, break the
# output or disguise itself.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]")


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar: JSON string syntax, with printable characters beyond ASCII kept as
    they are (JSON's surrogate-pair escapes for emoji would not read back as the same text in YAML)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def suggested_rules(con: duckdb.DuckDBPyConnection) -> str:
    """YAML for `stages:`: confident proposals as rules, the others as comments with their numbers."""
    rows = sqlfiles.query(con, "queries/stage_inference_rules").fetchall()
    run_id, as_of = last_run(con)
    # the proposals are the warehouse's, as the last run's rules left it, not those of the config now
    origin = (f"# From run {run_id} (as of {as_of:%Y-%m-%d %H:%M:%S} UTC) and the stage rules it ran with; "
              "after changing rules, `journey run` first.\n" if run_id else "")
    if not rows:
        return origin + "# every event is mapped by a rule: nothing to suggest\n"
    lines = [origin + "# Paste each rule under its stage in journey.yaml (stages: - name: ... rules:)."]
    current = None
    for source, event, stage, share, occurrences, with_stage, customers, used in rows:
        if stage is None:
            lines.append(f"# {_quoted(source)} / {_quoted(event)}: never seen after a mapped event; "
                         "no stage to propose")
            continue
        why = f"{share:.0%} of {with_stage} occurrences ({customers} customers) happen in {stage}"
        if stage != current:
            lines.append(f"- name: {stage}\n  rules:")
            current = stage
        rule = f"{{source: {_quoted(source)}, event_name: {_exactly(event)}}}"
        if used:
            lines.append(f"    - {rule}   # {why}")
        else:
            lines.append(f"    # - {rule}   # not confident: {why}")
    return "\n".join(lines) + "\n"


def _exactly(event_name: str) -> str:
    """A YAML condition matching exactly this name: plain, or, when the name holds the glob characters `*` or
    `?` (which a plain event_name value treats as wildcards), a LIKE pattern with `%`, `_` and `\\` escaped."""
    if "*" not in event_name and "?" not in event_name:
        return _quoted(event_name)
    escaped = event_name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{{like: {_quoted(escaped)}}}"

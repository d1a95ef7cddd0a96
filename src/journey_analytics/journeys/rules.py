"""Stage rules as data.

The rules in journey.yaml become two small tables (`core.stage_rules`,
`core.stage_rule_conditions`) that static SQL joins against: a rule value is a row in a table,
never text in a query, so a value full of quotes or SQL matches literally and changes nothing.
"""

from __future__ import annotations

import polars as pl

from journey_analytics.config import RULE_FIELDS, Condition, Config
from journey_analytics.sources.mapping import json_pointer


def glob_to_like(pattern: str) -> str:
    """`review_*` → `review\\_%` (LIKE with ESCAPE '\\'): `*` any run, `?` one character."""
    out = []
    for ch in pattern:
        out.append({"*": "%", "?": "_", "%": "\\%", "_": "\\_", "\\": "\\\\"}.get(ch, ch))
    return "".join(out)


def _condition_rows(cond: Condition, *, globs: bool) -> list[tuple[str, str]]:
    """(op, value) rows, any of which satisfies the condition. With `globs`, a plain value holding
    `*` or `?` is a glob (event names: "exact or glob")."""
    op, value = cond.op
    if globs and op in ("equals", "in"):
        values = [value] if op == "equals" else list(value)
        return [("like", glob_to_like(v)) if ("*" in v or "?" in v) else ("equals", v) for v in values]
    match op:
        case "equals":
            return [("equals", value)]
        case "in":
            return [("equals", v) for v in value]
        case "glob":
            return [("like", glob_to_like(value))]
        case "like":
            return [("like", value)]
        case "regex":
            return [("regex", value)]
    raise AssertionError(op)


def _tested_properties(config: Config) -> list[str]:
    """Every property key a rule tests, in first-use order. `$property_paths` and the conditions' `prop_index`
    must number them alike (index = position + 1), so both take them from here."""
    return list(dict.fromkeys(k for s in config.stages for r in s.rules for k in r.properties))


def property_paths(config: Config) -> list[str]:
    """JSON pointers of every property a rule tests, in first-use order (index = position + 1)."""
    return [json_pointer(k) for k in _tested_properties(config)]


def rule_tables(config: Config) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(stage_rules, stage_rule_conditions) in file order: rule_id 1 is tested first."""
    prop_index = {k: i + 1 for i, k in enumerate(_tested_properties(config))}
    rules, conds = [], []
    rule_id = 0
    for stage_index, stage in enumerate(config.stages, start=1):
        for rule in stage.rules:
            rule_id += 1
            tests = [(f, None, getattr(rule, f)) for f in RULE_FIELDS if getattr(rule, f) is not None]
            tests += [("property", prop_index[k], c) for k, c in rule.properties.items()]
            rules.append((rule_id, stage.name, stage_index, len(tests)))
            for condition_id, (field, index, cond) in enumerate(tests, start=1):
                rows = _condition_rows(cond, globs=field == "event_name")
                conds += [(rule_id, condition_id, field, index, op, v) for op, v in rows]
    return (
        pl.DataFrame(rules, schema=["rule_id", "stage", "stage_index", "n_conditions"], orient="row",
                     schema_overrides={"rule_id": pl.Int32, "stage_index": pl.Int32, "n_conditions": pl.Int32}),
        pl.DataFrame(conds, schema=["rule_id", "condition_id", "field", "prop_index", "op", "value"], orient="row",
                     schema_overrides={"rule_id": pl.Int32, "condition_id": pl.Int32, "prop_index": pl.Int32,
                                       "field": pl.String, "op": pl.String, "value": pl.String}),
    )

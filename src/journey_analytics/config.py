"""Load and validate `journey.yaml`.

The models are strict (unknown keys are errors) so a typo fails loudly at load time, and every
error names the file, the key, what was expected and what was found. Paths in the file are
relative to the file's folder, so a run works from any working directory.
"""

from __future__ import annotations

import codecs
import difflib
import functools
import hashlib
import json
import os
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import polars as pl
import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo,
                      field_validator, model_validator)
from pydantic_core import InitErrorDetails, PydanticCustomError

NAME = r"^[a-z][a-z0-9_]*$"
# A property the metrics read by name (segment, csat, nps): a plain key, because the one JSON path syntax
# DuckDB and Spark share is `$.key` (DuckDB has no `$['key']`, Spark no `$."key"`).
PROPERTY_KEY = r"^[A-Za-z_][A-Za-z0-9_]*$"
PropertyKey = Annotated[str, Field(pattern=PROPERTY_KEY)]
# the event fields a stage rule tests besides properties
RULE_FIELDS = ("source", "source_kind", "event_name")
SourceKind = Literal["clickstream", "crm", "service"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)


class ConfigError(ValueError):
    """A problem in journey.yaml, phrased for the person who has to fix it."""


@functools.cache  # a DuckDB connection per check (≈ 17 ms), and a command loads journey.yaml more than once
def iana_zone(value: str) -> str:
    """A zone every engine here knows: Python's zoneinfo also reads the system's `localtime`, `posixrules` and
    `posix/...` files, which DuckDB and Polars refuse mid-run (a source's times, the report's dates)."""
    try:
        ZoneInfo(value)
        pl.Series([0]).cast(pl.Datetime("us")).dt.replace_time_zone(value)
        duckdb.connect().execute("select timezone(?, timestamptz '2020-01-01 00:00:00+00')", [value]).fetchall()
    except (ZoneInfoNotFoundError, ValueError, pl.exceptions.PolarsError, duckdb.Error) as exc:
        raise ValueError("expected an IANA time zone name like Europe/Berlin") from exc
    return value


Zone = Annotated[str, AfterValidator(iana_zone)]


def memory_bytes(size: str) -> int:
    """Bytes in a memory size as journey.yaml and DuckDB write it: 512MB, 6GB, 1.5GiB, 244.1 MiB (any case,
    as DuckDB reads it: 6gb)."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?) ?([KMGT])(i?)B", size, re.IGNORECASE)
    if not match:
        raise ValueError("expected a memory size like 512MB, 6GB or 1.5GiB")
    return int(float(match[1]) * (1024 if match[3] else 1000) ** ("KMGT".index(match[2].upper()) + 1))


MIN_MEMORY = "64MB"  # the least the sample's whole run was seen to work in (10MB failed every load)


def _memory_size(value: str) -> str:
    if memory_bytes(value) < memory_bytes(MIN_MEMORY):
        raise ValueError(f"expected at least {MIN_MEMORY}: DuckDB needs that much to load and build anything")
    return value


MemorySize = Annotated[str, AfterValidator(_memory_size)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _needed(message: str) -> PydanticCustomError:
    """A key another key makes required (`format: csv` → `path`): reported at that key, with no `found`
    when it is missing (there is nothing to show)."""
    return PydanticCustomError("needed", message)


def _errors_at(found: dict[str, Any], message: str) -> ValidationError:
    """One error per key inside the value a field validator checks (`types` → `types.opns`): pydantic puts
    the field's location before each, so every error names the key to change and shows its value."""
    return ValidationError.from_exception_data("journey.yaml", [
        InitErrorDetails(type=PydanticCustomError("value_error", message), loc=(key,), input=value)
        for key, value in found.items()])


def _text(value: Any) -> Any:
    """A YAML scalar as the text it matches: `true` → 'true' (not Python's 'True'); a number as written
    in journey.yaml (`01234`, `2.50`, `+12` stay so, not 668, 2.5, 12)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return getattr(value, "yaml_text", str(value))
    return value


class Condition(_Model):
    """One test on a value; exactly one operator. A bare scalar in YAML means `equals`."""

    equals: str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    like: str | None = None
    regex: str | None = None
    glob: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalar_is_equals(cls, value: Any) -> Any:
        if isinstance(value, (str, int, float, bool)):
            return {"equals": _text(value)}
        if isinstance(value, list):
            value = {"in": value}
        if isinstance(value, dict):
            value = {k: ([_text(x) for x in v] if isinstance(v, list) else _text(v)) for k, v in value.items()}
            # one value listed is that value: one form of the test, so one funnel definition
            if list(value) == ["in"] and isinstance(value["in"], list) and len(value["in"]) == 1:
                return {"equals": value["in"][0]}
        return value

    # `regex` and `like` are checked on their own keys (field validators), so an error names
    # `...event_name.regex` and shows the pattern, not the condition's keys.
    @field_validator("regex")
    @classmethod
    def _re2(cls, value: str | None) -> str | None:
        if value is not None:
            try:  # checked by the engine that runs it (RE2), which rejects some patterns Python accepts
                duckdb.connect().execute("select regexp_matches('', ?)", [value]).fetchall()
            except duckdb.Error as exc:
                message = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
                raise ValueError(f"invalid regex: {message} (RE2 syntax: no lookaround or backreferences)") from None
        return value

    @field_validator("like")
    @classmethod
    def _no_trailing_escape(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"(?<!\\)(\\\\)*\\$", value):
            raise ValueError("it ends with the escape character `\\`; write `\\\\` for a literal backslash")
        return value

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        given = [k for k in ("equals", "in_", "like", "regex", "glob") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, in, like, regex, glob")
        if self.in_ == ():
            raise ValueError("an empty list matches nothing; list at least one value")
        return self

    @property
    def op(self) -> tuple[str, Any]:
        for key in ("equals", "in_", "like", "regex", "glob"):
            value = getattr(self, key)
            if value is not None:
                return key.rstrip("_"), value
        raise AssertionError("unreachable")


class ColumnRef(_Model):
    column: str


class DeriveCase(_Model):
    """`{when: {column: condition, ...}, then: constant | {column: name}}`; no `when` = otherwise."""

    when: dict[str, Condition] = Field(default_factory=dict)
    then: str | ColumnRef


class SourceColumns(_Model):
    event_id: str | None = None  # None: a hash of time, event name, identifiers and properties is the id
    occurred_at: str
    event_name: str


class Source(_Model):
    """A source spec. Checks between its keys are field validators reading the keys before them (`info.data`;
    a key that failed its own check is absent, so it is not blamed twice), not a model validator: pydantic
    runs that only once every key is valid, so its problem hid behind any other and named no key."""

    name: Annotated[str, Field(pattern=NAME)]
    kind: SourceKind
    format: Literal["csv", "jsonl", "parquet", "postgres"]
    path: str | None = Field(default=None, validate_default=True)
    # postgres: `postgresql://user@host/db`; `${VAR}` reads the environment
    uri: str | None = Field(default=None, validate_default=True)
    query: str | None = None  # postgres: a SELECT, instead of `table` (before it: `table`'s check reads it)
    table: str | None = Field(default=None, validate_default=True)  # postgres: `schema.table`
    timezone: Zone | None = None
    delimiter: str = ","  # csv: the character between values, e.g. `;` or a tab
    priority: int | None = Field(default=None, strict=True, ge=-(2**31), le=2**31 - 1)  # stored as an INTEGER
    columns: SourceColumns
    identifiers: dict[str, str]
    derive: dict[Literal["channel"], tuple[DeriveCase, ...]] = Field(default_factory=dict)
    properties: tuple[str, ...] = ()
    on_bad_row: Literal["quarantine", "fail"] = "quarantine"  # fail: a file with any bad row is not loaded
    # declared types of property columns; a value that does not parse is quarantined as wrong_type
    types: dict[str, Literal["integer", "number", "boolean", "timestamp"]] = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _path_for_files(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("format") not in (None, "postgres") and not value:
            raise _needed(f"required for a {info.data['format']} source: a file or a glob")
        return value

    @field_validator("uri")
    @classmethod
    def _uri_for_postgres(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("format") == "postgres" and not value:
            raise _needed("required for a postgres source, e.g. postgresql://user@host/db "
                          "(${VAR} reads the environment)")
        return value

    @field_validator("table")
    @classmethod
    def _table_or_query(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("format") == "postgres" and "query" in info.data:
            if value and info.data["query"]:
                raise ValueError("give `table` or `query`, not both")
            if not (value or info.data["query"]):
                raise _needed("a postgres source needs `table` (schema.table) or `query` (a SELECT)")
        return value

    @field_validator("columns")
    @classmethod
    def _an_id_for_a_table(cls, value: SourceColumns, info: ValidationInfo) -> SourceColumns:
        """A table changes in place: without an id, a row updated since the last read loaded as a second event
        beside the first, without a word (files note rows edited in place; a table's rows have no line)."""
        if info.data.get("format") == "postgres" and value.event_id is None:
            raise _needed("a postgres source needs `event_id`: a table's rows change in place, and without an id an "
                          "updated row would load as a second event beside the first. Map its key, or select one "
                          "(`query: select order_no::text as order_id, ...`)")
        return value

    @field_validator("delimiter")  # runs only when written: the default needs no check
    @classmethod
    def _one_character(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("format") not in (None, "csv"):
            raise ValueError(f"applies to csv sources only; remove it from this {info.data['format']} source")
        if value == "\\t":  # '\t' or \t: YAML turns \t into a tab only in double quotes
            raise ValueError('a backslash and a t, not a tab: YAML reads \\t as a tab only in double quotes; '
                             'write delimiter: "\\t"')
        if not (len(value) == 1 and value.isascii() and (value.isprintable() or value == "\t") and value != '"'):
            raise ValueError('expected one ASCII character other than a quote, e.g. ";" or a tab (write "\\t" in YAML)')
        return value

    @field_validator("identifiers")
    @classmethod
    def _some_identifier(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("declare at least one identifier column, e.g. identifiers: {anonymous_id: cookie}")
        return value

    @field_validator("types")
    @classmethod
    def _typed_properties(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        properties = info.data.get("properties")  # None: wrong itself, so not checked against
        if properties is not None and (untyped := {c: t for c, t in value.items() if c not in properties}):
            raise _errors_at(untyped, f"not a column in `properties` ({', '.join(properties) or 'none'}); "
                                      "add it there or remove it from `types`")
        return value


class IdentityType(_Model):
    name: Annotated[str, Field(pattern=NAME)]
    pii: Literal["email", "phone"] | None = None


class Identity(_Model):
    max_links: int = Field(default=25, ge=1, strict=True)
    types: tuple[IdentityType, ...]


class StageRule(_Model):
    source: Condition | None = None
    source_kind: Condition | None = None
    event_name: Condition | None = None
    properties: dict[str, Condition] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _tests_something(self) -> StageRule:
        """A rule without a test (`- {}`, or `event_name:` left empty) matched every event: each one put in
        the first such stage, and the run went on."""
        empty = [k for k in RULE_FIELDS if k in self.model_fields_set and (
            getattr(self, k) is None or getattr(self, k).op == ("equals", "") or "" in (getattr(self, k).in_ or ()))]
        if empty:
            raise ValueError(f"{empty[0]} is empty; give it a value (e.g. {empty[0]}: ...) or remove the key")
        if self.source is self.source_kind is self.event_name is None and not self.properties:
            raise ValueError("a rule needs at least one of source, source_kind, event_name, properties; "
                             "this one would match every event")
        return self


# Labels the marts give that a stage name would be mistaken for.
RESERVED_STAGES = {
    "unmapped": "is the stage of events that no rule maps",
    "converted": "is the last node of a path that reached paths.goal_stage",
}


class Stage(_Model):
    name: Annotated[str, Field(pattern=NAME)]
    rules: tuple[StageRule, ...] = ()


class Inference(_Model):
    min_share: float = Field(default=0.6, gt=0, le=1, strict=True, allow_inf_nan=False)
    min_customers: int = Field(default=20, ge=1, strict=True)


class Sessions(_Model):
    timeout_minutes: float = Field(default=30, gt=0, strict=True, allow_inf_nan=False)
    max_hours: float = Field(default=24, gt=0, strict=True, allow_inf_nan=False)


# Touchpoint attributes a funnel breakdown can use (taken from the attempt's step-1 touchpoint).
Breakdown = Literal["channel", "source", "source_kind", "event_name"]
BREAKDOWNS: tuple[str, ...] = get_args(Breakdown)


def is_touchpoint_label(step: str) -> bool:
    """A funnel step or path node naming a touchpoint type as `source:event_name` (a stage name has no ':')."""
    source, colon, event_name = step.partition(":")
    return bool(colon and re.match(NAME, source) and event_name)


def funnel_step_problems(steps: tuple[str, ...], stage_names: tuple[str, ...],
                         source_names: tuple[str, ...] | None = None) -> list[str]:
    """What is wrong with `funnel.steps`: each step is a stage or a touchpoint `source:event_name` (of one of
    `source_names`, when given; an exact event name, no pattern), none twice, the stages in stage order."""
    problems = []
    for step in steps:
        source, _, event_name = step.partition(":")
        if step in stage_names:
            continue
        if not is_touchpoint_label(step):
            problems.append(f"funnel.steps: {step!r} is neither a stage ({', '.join(stage_names)}) nor a "
                            "touchpoint written source:event_name")
        elif source_names is not None and source not in source_names:
            problems.append(f"funnel.steps: {step!r} names no source ({', '.join(source_names)}) before its ':'")
        elif event_name != event_name.strip() or re.search(r"[*?\[]", event_name):
            problems.append(f"funnel.steps: {step!r}: the event name after ':' must be exact, without spaces around "
                            "it and without * ? [ (a step matches one event name, not a pattern)")
    if len(set(steps)) != len(steps):
        problems.append(f"funnel.steps: {list(steps)} names a step twice")
    positions = [stage_names.index(s) for s in steps if s in stage_names]
    if positions != sorted(positions):
        problems.append(f"funnel.steps: the stages in {list(steps)} must be in stage order ({', '.join(stage_names)})")
    return problems


class Funnel(_Model):
    steps: tuple[str, ...] | None = None
    window_days: float = Field(default=30, gt=0, le=36_500, allow_inf_nan=False, strict=True)  # at most 100 years
    breakdown: Breakdown = "channel"
    segment: PropertyKey | None = None  # event property holding a customer's segment / persona, e.g. `segment`
    top_n: int = Field(default=8, ge=1, strict=True)

    @field_validator("steps", mode="before")
    @classmethod
    def _label_with_a_space(cls, value: Any) -> Any:
        """`crm: lead_created` is a YAML mapping, which the type error alone did not explain."""
        for item in value if isinstance(value, list) else ():
            if isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), str):
                (source, event_name), = item.items()
                raise ValueError(f"{source}: {event_name} is read as a mapping; write {source}:{event_name} with no "
                                 "space after ':' (or quote it)")
        return value


# What a path node is: the stage of a run of touchpoints, or the touchpoint label `source:event_name`.
PathNode = Literal["stage", "touchpoint"]
PATH_NODES: tuple[str, ...] = get_args(PathNode)


class Paths(_Model):
    node: PathNode = "stage"
    max_steps: int = Field(default=6, ge=1, strict=True)
    top_n: int = Field(default=20, ge=1, strict=True)
    nodes_per_step: int = Field(default=8, ge=1, strict=True)
    goal_stage: str = "purchase"


class PainPoints(_Model):
    csat_property: PropertyKey = "csat"  # survey event properties
    nps_property: PropertyKey = "nps"
    min_customers: int = Field(default=20, ge=1, strict=True)  # fewer customers: listed, not ranked


class Report(_Model):
    title: str = "Customer journeys"
    timezone: Zone = "UTC"
    keep_runs: int | None = Field(default=None, ge=1, strict=True)  # run reports kept, newest first; None: all


def default_of(model: type[BaseModel], key: str) -> Any:
    """A setting's default, for code that takes it outside a Config (the metrics, the report): defined here only."""
    return model.model_fields[key].default


class Privacy(_Model):
    salt: str = Field(min_length=8)


class Config(_Model):
    warehouse: str = "data/warehouse.duckdb"
    memory_limit: MemorySize | None = None  # DuckDB's cap; None: its default (80 % of RAM)
    reports_dir: str = "reports"
    privacy: Privacy
    identity: Identity
    sources: tuple[Source, ...]
    stages: tuple[Stage, ...]
    inference: Inference = Inference()
    sessions: Sessions = Sessions()
    funnel: Funnel = Funnel()
    paths: Paths = Paths()
    pain_points: PainPoints = PainPoints()
    report: Report = Report()
    _base_dir: Path = PrivateAttr(default=Path("."))

    @property
    def base_dir(self) -> Path:
        """The folder of the journey.yaml: relative paths in it are relative to this folder."""
        return self._base_dir

    def problems(self) -> list[str]:
        """Cross-reference problems (keys that name other keys), each as `key: what is wrong`."""
        id_types = {t.name for t in self.identity.types}
        stage_names = [s.name for s in self.stages]
        problems = [f"{key}: declare at least one" for key in ("sources", "stages") if not getattr(self, key)]
        for i, source in enumerate(self.sources):
            for id_type in source.identifiers:
                if id_type not in id_types:
                    problems.append(
                        f"sources[{i}].identifiers.{id_type}: unknown identifier type; "
                        f"declare it under identity.types (known: {', '.join(sorted(id_types))})"
                    )
        names = [s.name for s in self.sources]
        for dup in {n for n in names if names.count(n) > 1}:
            problems.append(f"sources: the name {dup!r} is used twice; source names must be unique")
        type_names = [t.name for t in self.identity.types]
        for dup in sorted({n for n in type_names if type_names.count(n) > 1}):
            problems.append(f"identity.types: the type {dup!r} is declared twice; declare each type once "
                            "(their order is their priority)")
        for i, name in enumerate(stage_names):
            if name in stage_names[:i]:
                problems.append(f"stages[{i}].name: {name!r} is already stages[{stage_names.index(name)}].name; "
                                "stage names must be unique")
        for i, stage in enumerate(self.stages):  # a misspelt kind matched nothing, silently
            for j, rule in enumerate(stage.rules):
                op, value = rule.source_kind.op if rule.source_kind else (None, ())
                for unknown in [v for v in ((value,) if op == "equals" else value if op == "in" else ())
                                if v not in SOURCE_KINDS]:
                    problems.append(f"stages[{i}].rules[{j}].source_kind: {unknown!r} is no source kind "
                                    f"({', '.join(SOURCE_KINDS)}); the rule could never match it")
        for reserved, meaning in RESERVED_STAGES.items():
            if reserved in stage_names:
                problems.append(f"stages: {reserved!r} cannot name a stage: it {meaning}; rename the stage")
        problems += funnel_step_problems(self.funnel.steps or (), stage_names, tuple(names))
        if self.paths.goal_stage not in stage_names:
            written = "goal_stage" in self.paths.model_fields_set
            problems.append(f"paths.goal_stage: {self.paths.goal_stage!r}{'' if written else ' (the default)'} is not a "
                            f"stage ({', '.join(stage_names)}); set paths.goal_stage to the stage that counts as converted")
        salt = os.environ.get("JOURNEY_HASH_SALT")
        if salt and len(salt) < 8:
            problems.append(f"JOURNEY_HASH_SALT (environment, overrides privacy.salt): {len(salt)} character(s); "
                            "use at least 8")
        if salt and lone_surrogate(salt):  # bytes that are not UTF-8 (Python keeps them as surrogates)
            problems.append("JOURNEY_HASH_SALT (environment, overrides privacy.salt): not valid UTF-8 text; "
                            "set it in a UTF-8 locale or use ASCII")
        return problems

    # -- derived views used across layers -------------------------------------------------
    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    @property
    def source_names(self) -> tuple[str, ...]:
        """The sources declared, in file order: the journeys count these only (a removed or renamed source's
        stored events are left out)."""
        return tuple(s.name for s in self.sources)

    @property
    def funnel_steps(self) -> tuple[str, ...]:
        return self.funnel.steps or self.stage_names

    @property
    def funnel_definition(self) -> int:
        """A fingerprint (48 bits, exact as a DOUBLE) of what a funnel step's conversion means: the steps in
        order, the window, and what puts an event in a stage (the stages' rules, inference). Run history
        records it, so a report does not present an edit of these as a change in the data."""
        defined = {"steps": self.funnel_steps, "window_days": self.funnel.window_days,
                   "stages": [s.model_dump(mode="json") for s in self.stages],
                   "inference": self.inference.model_dump(mode="json")}
        text = json.dumps(defined, sort_keys=True, default=str)
        return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)

    @property
    def hash_salt(self) -> str:
        return os.environ.get("JOURNEY_HASH_SALT") or self.privacy.salt

    def source_priority(self, source: Source) -> int:
        """Explicit priority, else the position in the file (earlier = higher priority = smaller number)."""
        return source.priority if source.priority is not None else self.source_names.index(source.name) + 1

    def resolve(self, path: str) -> Path:
        """A configured path: `~` is the user's home (as in a shell), a relative path is relative to the
        config file's folder."""
        try:
            p = Path(path).expanduser()
        except RuntimeError:  # ~name of no user here
            raise ConfigError(f"{path}: {path.split('/')[0]} is no user's home folder on this machine; "
                              "write the folder's path") from None
        return p if p.is_absolute() else self.base_dir / p

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse)

    @property
    def reports_path(self) -> Path:
        return self.resolve(self.reports_dir)


# Keys whose value is a secret wherever they are written (a salt put at the top level by mistake)
SECRET_KEY = re.compile(r"salt|passw|secret|token", re.IGNORECASE)


def without_secrets(text: str, *, quoted_yaml: bool = False) -> str:
    """A configuration message never shows a URI's password (up to the line's last `@`: a password may hold
    blanks or `@`), a `password=` value (a key=value connection string), nor, where it quotes YAML lines, a salt."""
    text = re.sub(r"(://[^:/@\s]*:)[^\n]*@", r"\1***@", text)
    text = re.sub(r"(\bpassword\s*=\s*)[^\s&'\"]+", r"\1***", text, flags=re.IGNORECASE)
    return re.sub(r"(\bsalt[\"']?\s*:\s*)\S.*", r"\1***", text) if quoted_yaml else text


# Keys whose value may be text or a mapping (a union): pydantic reports each branch, under its type's name.
UNION_KEYS = {"then": ("str", "ColumnRef")}


def _readable_errors(errors: list[Any]) -> list[Any]:
    """pydantic's errors as a config's writer needs them: for a value that may be text or a mapping (`then:`),
    only the errors of the shape written, without pydantic's name of the shape in the key; for a key that is not
    allowed (`derive: {segment: ...}`), that error alone, at the key, not its value's errors too."""
    def branch(loc: tuple) -> int | None:
        return next((i for i in range(1, len(loc)) if loc[i] in UNION_KEYS.get(loc[i - 1], ())), None)

    wrong_keys = {tuple(e["loc"][:-1]) for e in errors if e["loc"][-1:] == ("[key]",)}
    kept = []
    for err in errors:
        loc = tuple(err["loc"])
        if any(loc[:len(k)] == k and loc != k + ("[key]",) for k in wrong_keys):
            continue
        i = branch(loc)
        if i is not None:
            text, mapping = UNION_KEYS[loc[i - 1]]
            wrote_mapping = any(tuple(e["loc"][:i + 1]) == loc[:i] + (mapping,) and e["type"] != "model_type"
                                for e in errors)
            if loc[i] != (mapping if wrote_mapping else text):
                continue
            loc = loc[:i] + loc[i + 1:]
        kept.append({**err, "loc": loc})
    return kept


def _keys_at(loc: tuple) -> list[str]:
    """The keys that the mapping holding the last key of `loc` accepts ([] when it is not a model's)."""
    model: Any = Config
    skip = False  # the next part is a key of a free mapping (e.g. a property name)
    for part in loc[:-1]:
        if skip or isinstance(part, int):
            skip = False
            continue
        fields = {f.alias or name: f for name, f in getattr(model, "model_fields", {}).items()}
        if part not in fields:
            return []
        annotation, model = fields[part].annotation, None
        while model is None and annotation is not None:  # into tuple[...], X | None, dict[str, X]
            args = [a for a in get_args(annotation) if a not in (type(None), Ellipsis)]
            model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
            skip = skip or getattr(annotation, "__origin__", None) is dict
            annotation = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)),
                              args[-1] if args else None)
        if model is None:
            return []
    return [f.alias or name for name, f in getattr(model, "model_fields", {}).items()]


def _format_error(path: Path, exc: ValidationError) -> str:
    errors = _readable_errors(exc.errors())
    lines = [f"{path}: {len(errors)} problem(s) in the configuration"]
    for err in errors:
        if err["loc"][-1:] == ("[key]",):
            err = {**err, "loc": err["loc"][:-1], "msg": "unknown key here: " + err["msg"]}
        key = ".".join(str(p) for p in err["loc"])
        key = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", key) or "(top level)"
        found = err.get("input")
        if err["type"] == "missing":
            lines.append(f"  - {key}: required, but missing")
            continue
        if err["type"] == "needed" and found is None:  # a key another key makes required, not written
            lines.append(f"  - {key}: {err['msg']}")
            continue
        found_text = repr(found) if not isinstance(found, dict) else \
            f"a mapping with keys {sorted(found, key=str)}" if found else "an empty mapping"
        if err["loc"][:1] == ("privacy",) or SECRET_KEY.search(str(err["loc"][-1])):  # a salt under any key
            found_text = f"{len(str(found))} characters"
        msg = err["msg"].removeprefix("Value error, ").replace("Input should be", "expected", 1)
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), _keys_at(tuple(err["loc"])), n=1, cutoff=0.7)
            msg = f"unknown key (did you mean {close[0]!r}?)" if close else "unknown key (check the spelling)"
        if err["type"] == "string_pattern_mismatch":
            msg = f"expected a name matching {err['ctx']['pattern']}"
        if err["type"] == "string_type" and isinstance(found, (int, float)):  # YAML read `1234567890`, `6`, `true`
            kind = "true/false" if isinstance(found, bool) else "a number"
            msg = f"expected text; YAML reads this value as {kind}: write it in quotes"
        lines.append(f"  - {key}: {msg}; found {found_text}")
    return without_secrets("\n".join(lines))


class _YamlLoader(yaml.SafeLoader):
    """YAML as a condition value means it: only true/false are booleans (YAML 1.2; in YAML 1.1, which PyYAML
    follows, `no`, `yes`, `on`, `off` are too, so `{country: no}` would become 'false'), dates stay text,
    and a number keeps the text it was written as (`yaml_text`) for conditions that compare text.
    A key written twice in one mapping is an error (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # the parent method says what is wrong with it
            if key in first:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is written twice in one mapping (first on line {first[key] + 1}); "
                    "keep one", key_node.start_mark)
            first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


class _Int(int):
    yaml_text: str


class _Float(float):
    yaml_text: str


def _number(kind: type, construct: Any) -> Any:
    def build(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        value = kind(construct(loader, node))
        value.yaml_text = node.value
        return value
    return build


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_YamlLoader.add_constructor("tag:yaml.org,2002:int", _number(_Int, yaml.SafeLoader.construct_yaml_int))
_YamlLoader.add_constructor("tag:yaml.org,2002:float", _number(_Float, yaml.SafeLoader.construct_yaml_float))


def lone_surrogate(value: Any, where: str = "") -> tuple[str, str] | None:
    """Where a lone surrogate is in `value` (a string, or nested in a parsed YAML value), which UTF-8 cannot
    encode: written by a YAML escape like "\\udc80", or an environment value whose bytes are not UTF-8."""
    if isinstance(value, str):
        char = next((c for c in value if "\ud800" <= c <= "\udfff"), None)
        return (where or "(top level)", char) if char else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        here = f"{where}[{key}]" if isinstance(value, list) else f"{where}.{key}" if where else str(key)
        if found := lone_surrogate(key, where or "(top level)") or lone_surrogate(item, here):
            return found
    return None


_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),  # UTF-32 LE starts as UTF-16 LE
               (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
_SAVE_AS_UTF8 = "save the file as UTF-8 (journey reads UTF-8 only)"


def _utf8_text(path: Path, data: bytes) -> str:
    """The file's text, or a ConfigError saying where it is not UTF-8 (it was a UnicodeDecodeError traceback).
    A UTF-8 byte order mark is fine (some Windows editors write one); UTF-16 and UTF-32 are named, with or
    without a byte order mark (without one, their ASCII characters decode as UTF-8 beside NUL bytes)."""
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            raise ConfigError(f"{path}: the file is {encoding} text (it starts with a {encoding} byte order mark); "
                              f"{_SAVE_AS_UTF8}")
    if b"\0" in data:  # never in YAML; checked first, as a non-ASCII character of such text is no UTF-8 either
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise ConfigError(f"{path}: line {line} holds a NUL byte, as UTF-16 or UTF-32 text does; {_SAVE_AS_UTF8}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = data.count(b"\n", 0, exc.start) + 1, exc.start - data.rfind(b"\n", 0, exc.start)
        raise ConfigError(f"{path}: line {line} is not UTF-8 (byte 0x{data[exc.start]:02x} at byte {column} of the "
                          f"line); {_SAVE_AS_UTF8}") from None
    return text.removeprefix("\ufeff")


def load_config(path: str | os.PathLike[str] = "journey.yaml") -> Config:
    """Read and validate a journey.yaml; raise ConfigError with a readable message on any problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror}); pass --config PATH") from exc
    text = _utf8_text(path, data)
    try:
        raw = yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        message = f"{path}: not valid YAML: {exc}".replace('"<unicode string>"', str(path))
        raise ConfigError(without_secrets(message, quoted_yaml=True)) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level; found {type(raw).__name__}")
    if found := lone_surrogate(raw):
        where, char = found
        raise ConfigError(f"{path}: {where}: holds the escape \\u{ord(char):04x}, half of a UTF-16 pair, which no text "
                          "can hold (DuckDB and the reports need UTF-8); write the character itself")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from None
    config._base_dir = path.resolve().parent
    if problems := config.problems():
        raise ConfigError("\n".join([f"{path}: {len(problems)} problem(s) in the configuration"] + [f"  - {p}" for p in problems]))
    return config

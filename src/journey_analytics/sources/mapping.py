"""Compile a source spec into the SELECT that maps its raw rows onto the canonical batch.

The canonical batch has a fixed schema whatever the source looks like:
`line, malformed, event_id, occurred_at_raw, event_name, channel, identifiers, written_identifiers, properties,
type_errors`; the raw
record of a rejected row is rebuilt only for the few rows the quarantine keeps.
DuckDB evaluates it vectorised over each Arrow batch the readers produce, which is what makes
ingest fast. It is where most SQL text follows the configuration (a PostgreSQL source's quoted table
name and `journey explain`'s hashing expression are the others), so it is built under two rules: every
column name is a quoted identifier, and every value (salt, constants, patterns, JSON keys) is a bound
parameter — nothing from journey.yaml is ever spliced into the text.
Personal identifiers are normalised and hashed here, so raw values never reach a table.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from journey_analytics import sqlfiles
from journey_analytics.config import Condition, Config, Source

# The only timestamp text accepted (sql/ingest/classified.sql, typed `timestamp` properties): an ISO-8601
# date, optionally a time, and after a time optionally Z, UTC or a numeric offset (up to ±18:00, minutes
# below 60). Anything else (a date with a trailing `-01`, a named zone, `epoch`, `infinity`, an offset out
# of range) is unparsable rather than silently shifted.
TIMESTAMP_FORMAT = (r"^([0-9]{4}-[0-9]{2}-[0-9]{2})"
                    r"(?:[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)"
                    r"(?:\s*(Z|z|UTC|[+-](?:(?:0[0-9]|1[0-7])(?::?[0-5][0-9])?|18(?::?00)?)))?)?$")
# Typed properties: the text must have this shape *and* cast (so `0x10`, `1e3` or `4.6` is not an integer,
# `nan`, `inf` or `1e400` not a number).
TYPE_FORMATS = {
    "integer": ("bigint", r"^[+-]?[0-9]+$"),
    "number": ("double", r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"),
    "boolean": ("boolean", r"^(?i)(true|false|t|f|yes|no|y|n|1|0)$"),
    "timestamp": ("timestamp", TIMESTAMP_FORMAT),  # its date and time parts are cast, as for occurred_at
}

# Redaction of what a rejected row shows: anything shaped like an email (any script; `@` possibly JSON- or
# URL-escaped), and, in a line that is not JSON (so its fields cannot be hashed), the value after every key
# that feeds a personal identifier.
_ENDS_ADDRESS = r"""\s"'<>(),;:@＠﹫\\"""  # characters an email-like run stops at: a `\` too, as `\"` escapes a quote
# the full-width and small forms read as an @ too; so do a URL inside a URL (`%2540`) and HTML's `&#64;`, `&commat;`
_AT = r"(@|＠|﹫|\\u0040|(?i:\\uff20|\\ufe6b)|%40|%2540|(?i:&#0*64;|&#x0*40;|&commat;))"
EMAIL_LIKE = rf"[^{_ENDS_ADDRESS}]+{_AT}[^{_ENDS_ADDRESS}]+"
# In a value stored as written (event name, channel, property) only an address whose domain ends in a dot and a
# label starting with a letter (`click@header` is a name, `lodash@4.17.21` a version), which also stops at what
# separates the parts of a URL (`?to=ann%40x.org&id=1` keeps `&id=1`) or marks up text (`` ` * [ ] ``). JSON
# escapes just before it (`\n` in JSON text) are kept, so an object property stays valid JSON (`ADDRESS_KEEPS`).
_ENDS_STORED = _ENDS_ADDRESS + r"/?&=#`*\[\]"
_JSON_ESCAPES = r"""((?:\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*)"""
ADDRESS_LIKE = (_JSON_ESCAPES + rf"[^{_ENDS_STORED}]+{_AT}"
                rf"([^{_ENDS_STORED}.]+\.)+\pL[^{_ENDS_STORED}.]+")
ADDRESS_KEEPS = r"\1<redacted email>"
# The value after a personal key, whatever its shape: an array or object runs to the end of the line (its
# inner keys are no boundary); anything else (string, cut-off string, bare words) up to the next key, which
# is kept, or the end of the line. A key may be written `\"key\"` (JSON text held in a JSON string). A second
# pass finds a repeated key that the first pass's match ran into; it skips the values the first pass
# redacted, which hold a marker until both passes are done.
# No value begins with `>`: a second pass could otherwise end a key `=>` at `=`, and take `>` and the marker for a
# value. What ends a key: `:` (JSON, Python, YAML-ish), `=` (Java's Map.toString, key=value logs) or `=>` (Ruby),
# with blanks or /* comments */ before it.
_NEXT_KEY_OR_END = r"""(,\s*\\?["'][^"']*["']\s*:|$)"""
VALUE_UP_TO_NEXT_KEY = r"""([\[{].*|"[^\x01].*?|[^"\[{\s>].*?|"?)""" + _NEXT_KEY_OR_END
KEY_ENDS = r"(?:\s|/\*.*?\*/)*(?::|=>?)\s*"
REDACTING = '"\x01"'  # a redacted value between the passes: no data value starts with \x01 (JSON forbids it)
# A line that does not begin with `{` or a key may continue a record that a raw line break cut inside a value
# (`{"phone":"+49 170` / `1234567","event":…}`), or hold values without keys (`["w2","+49 170 5550401"]`, fields
# written as a CSV line, a value alone on a line of a pretty-printed record): its text up to its first key may be a
# personal value, so it is redacted as one (a line of plain text, or an array, is then redacted whole). A line
# beginning with a key (`  "event_id": "w1",`, pretty-printed) is left to the redaction by key.
CONTINUED_VALUE = r"""^(\s*)([^\s{].*?)""" + _NEXT_KEY_OR_END
KEY_FIRST = r"""^\s*\\?["'][^"']*\\?["']\s*(:|=)"""


def referenced_columns(source: Source) -> list[str]:
    """Every source column the spec reads, in a stable order."""
    cols = required_columns(source)
    for cases in source.derive.values():
        for case in cases:
            cols += list(case.when)
            if not isinstance(case.then, str):
                cols.append(case.then.column)
    cols += list(source.properties)
    return list(dict.fromkeys(cols))


def required_columns(source: Source) -> list[str]:
    cols = [c for c in (source.columns.event_id, source.columns.occurred_at, source.columns.event_name) if c]
    return list(dict.fromkeys(cols + list(source.identifiers.values())))


def pii_kind(source: Source, config: Config, name: str) -> str | None:
    """'email' or 'phone' when column `name` feeds a personal identifier type of `source`, else None.
    Compared ignoring case, as DuckDB resolves column names: `EMAIL` and `email` name one column there."""
    pii = {t.name: t.pii for t in config.identity.types if t.pii}
    return next((pii[t] for t, col in source.identifiers.items() if col.lower() == name.lower() and t in pii), None)


SPACES = "' ' || chr(9) || chr(10) || chr(13) || chr(160)"  # what a value is trimmed of: a tab is no identifier
# An email address as an identifier: something, one @, a domain with a dot; `n/a`, `unknown`, `-` or `none@none`
# is none, rather than one identifier shared by everyone who typed it
EMAIL_SHAPE = r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+"
# What exports write for "no value" in any other identifier column (compared ignoring case): as an identifier,
# `N/A` would be one shared by every row without one, and stitch all their customers into one
NO_VALUE = ("null", "none", "nil", "n/a", "na", "nan", "undefined", "unknown", "-", "--", "?")


def trimmed_sql(value: str) -> str:
    """SQL for a value trimmed of spaces, tabs, line breaks and no-break spaces, as every value is read."""
    return f"trim({value}, {SPACES})"


def text_sql(value: str) -> str:
    """SQL for a plain text value as stored: `trimmed_sql`, NULL when empty."""
    return f"nullif({trimmed_sql(value)}, '')"


def pii_sql(value: str, kind: str, salt: str) -> str:
    """SQL for the stored form of a personal identifier, given SQL for the raw value and the salt:
    hex `sha256(salt || ':' || normalised)`. The value is trimmed of spaces, tabs, line breaks and no-break
    spaces; an email written with a display name (`"Singh, Xenia" <x@corp.example>`) is the address in
    the brackets, must have the shape of one (EMAIL_SHAPE), and is then NFC-normalised and lower-cased
    character by character; a phone keeps its digits and an optional leading +. NULL when nothing is
    left (so `n/a` or `-` as an email or a phone is no identifier, rather than one identifier shared by
    everyone who gave none), and for a JSON array or object (`["a@x.org"]`: which of its values?). Ingest
    and `journey explain --email` both use this one expression, so a lookup always hashes as ingest did."""
    trimmed = trimmed_sql(value)
    listed = (f"coalesce(left({trimmed}, 1) in ('[', '{{') and json_valid({trimmed}) "  # a JSON array or object,
              f"and json_type(try_cast({trimmed} as json)) in ('ARRAY', 'OBJECT'), false)")  # not `[Sales] <a@x.org>`
    if kind == "email":
        address = f"coalesce(nullif(regexp_extract({trimmed}, '<\\s*([^<>\\s]+)\\s*>$', 1), ''), {trimmed})"
        kept = f"regexp_extract({address}, '^{EMAIL_SHAPE}$')"  # '' when not an address
        normal = f"lower(nfc_normalize({kept}))"
    else:
        kept = f"regexp_replace({trimmed}, '[^0-9]', '', 'g')"  # no digit: no phone number
        normal = f"(case when starts_with({trimmed}, '+') then '+' else '' end || {kept})"
    return f"case when {kept} <> '' and not {listed} then sha256({salt} || ':' || {normal}) end"


def quote(name: str) -> str:
    """A SQL identifier: double-quoted, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


class _Compiler:
    def __init__(self, source: Source, config: Config, file_columns: list[str] | None):
        self.source, self.config = source, config
        self.params: dict[str, Any] = {}
        self.jsonl = source.format == "jsonl"
        self.columns = referenced_columns(source)
        self.file_columns = file_columns if file_columns is not None else self.columns

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def col(self, name: str) -> str:
        if self.jsonl:
            return f"fields[{self.columns.index(name) + 1}]"  # position computed here, not configured
        return quote(name) if name in self.file_columns else "null::varchar"

    def text(self, name: str) -> str:
        return text_sql(self.col(name))

    def hashed(self, name: str, kind: str) -> str:
        return pii_sql(self.col(name), kind, self.bind(self.config.hash_salt))

    def pii_kind(self, name: str) -> str | None:
        return pii_kind(self.source, self.config, name)

    def value(self, name: str) -> str:
        """A column as a rejected row's raw record keeps it: as written, but hashed when it feeds a personal
        identifier type, so the raw value never reaches a table whichever key the spec uses it in."""
        kind = self.pii_kind(name)
        return self.hashed(name, kind) if kind else self.col(name)

    def stored_text(self, name: str) -> str:
        """A column's text as stored (event name, channel, property, identifier): hashed when it feeds a
        personal identifier type, else trimmed as `text_sql` (NULL when blank)."""
        kind = self.pii_kind(name)
        return self.hashed(name, kind) if kind else self.text(name)

    def condition(self, name: str, cond: Condition) -> str:
        op, value = cond.op
        col = self.text(name)  # as stored: a blank value matches nothing, not `regex: "."`
        match op:
            case "equals":
                return f"{col} = {self.bind(value)}"
            case "in":
                return f"list_contains({self.bind(list(value))}, {col})"
            case "like":
                return f"{col} like {self.bind(value)} escape '\\'"
            case "glob":
                return f"{col} glob {self.bind(value)}"
            case "regex":
                return f"regexp_matches({col}, {self.bind(value)})"
        raise AssertionError(op)

    def derived(self, field: str) -> str:
        cases = self.source.derive.get(field, ())
        whens, otherwise = [], "null::varchar"
        for case in cases:
            then = self.bind(case.then) if isinstance(case.then, str) else self.stored_text(case.then.column)
            if not case.when:
                otherwise = then
                break
            test = " and ".join(f"coalesce({self.condition(c, k)}, false)" for c, k in case.when.items())
            whens.append(f"when {test} then {then}")
        return f"case {' '.join(whens)} else {otherwise} end" if whens else otherwise

    def without_emails(self, sql: str) -> str:
        """A text stored as written (event name, channel, property): an email address in it (`ADDRESS_LIKE`)
        reads `<redacted email>`, as the column holding it is no personal identifier (≈ 0.15–0.2 s per 1M URLs).
        The replacement adds no quote or backslash and keeps the escapes before the address, so JSON text
        (an object property) stays valid JSON."""
        return f"regexp_replace({sql}, {self.bind(ADDRESS_LIKE)}, {self.bind(ADDRESS_KEEPS)}, 'g')"

    def property_value(self, name: str) -> str:
        """A property as stored: `stored_text` (hashed when its column is personal), without emails, as event names."""
        return self.without_emails(self.stored_text(name))

    def identifiers(self) -> str:
        """The row's identifiers as a list of (id_type, id_value), those without a value left out: empty, a
        personal value without the shape of one (`pii_sql`), or another written as one of `NO_VALUE`."""
        items, no_value = [], self.bind(list(NO_VALUE))
        for id_type, col in self.source.identifiers.items():
            value = self.stored_text(col)  # hashed when the column feeds any personal identifier type
            if not self.pii_kind(col):
                value = f"case when not list_contains({no_value}, lower({value})) then {value} end"
            items.append(f"{{'id_type': {self.bind(id_type)}::varchar, 'id_value': {value}}}")
        return f"list_filter([{', '.join(items)}], lambda x: x.id_value is not null)"

    def written_identifiers(self) -> str:
        """The identifier columns that hold text (not blank). On a row left without an identifier, each held text
        that is none (`N/A`, an email without the shape of one): the quarantine detail names them."""
        items = [f"case when {self.text(col)} is not null then {self.bind(col)}::varchar end"
                 for col in dict.fromkeys(self.source.identifiers.values())]
        return f"list_filter([{', '.join(items)}], lambda x: x is not null)"

    def type_errors(self) -> str:
        """The declared-type property columns whose value is present but does not parse."""
        checks = []
        for c, t in self.source.types.items():
            sql_type, pattern = TYPE_FORMATS[t]
            value, shape = trimmed_sql(self.col(c)), self.bind(pattern)
            cast = value if t != "timestamp" else (
                f"regexp_extract({value}, {shape}, 1) || ' ' || "
                f"coalesce(nullif(regexp_extract({value}, {shape}, 2), ''), '00:00')")
            valid = f"regexp_full_match({value}, {shape}) and try_cast({cast} as {sql_type}) is not null"
            if t == "number":
                valid += f" and isfinite(try_cast({value} as double))"
            checks.append(f"case when {self.text(c)} is not null and not ({valid}) "
                          f"then {self.bind(f'{c} is not a valid {t}')} end")
        return f"list_filter([{', '.join(checks)}]::varchar[], lambda x: x is not null)" if checks else "[]::varchar[]"

    def json_object(self, names: list[str], value, as_json: bool = False) -> str:
        """A JSON object of `names`; typed JSON (no re-parse when stored in a JSON column) or its text."""
        if not names:
            return "'{}'::json" if as_json else "'{}'"
        return ("json_object(" + ", ".join(f"{self.bind(n)}::varchar, {value(n)}" for n in names) + ")"
                + ("" if as_json else "::varchar"))

    def rows(self, where: str = "") -> str:
        """The WITH clause exposing `rows`: the raw batch (rows passing `where`) plus `__malformed` (and, for
        JSON lines, `fields`)."""
        if not self.jsonl:
            return f"with rows as (select *, false as __malformed from raw {where})\n"
        paths = self.bind([json_pointer(k) for k in self.columns])
        return (
            "with raw_rows as (select __line, __text as text, coalesce(json_type(case when json_valid(__text) "
            f"then __text else 'null' end) <> 'OBJECT', true) as __malformed from raw {where}),\n"
            # a malformed line is read as an empty object: every field null, the line kept for the quarantine
            f"rows as (select __line, text, __malformed, json_extract_string(case when __malformed then '{{}}' "
            f"else text end, {paths}) as fields from raw_rows)\n"
        )

    def batch(self) -> str:
        c = self.source.columns
        return (
            self.rows()
            + "select\n"
            "    __line as line,\n    __malformed as malformed,\n"
            f"    {self.stored_text(c.event_id) if c.event_id else 'null::varchar'} as event_id,\n"
            f"    {self.text(c.occurred_at)} as occurred_at_raw,\n"
            f"    {self.without_emails(self.stored_text(c.event_name))} as event_name,\n"
            f"    {self.without_emails(self.derived('channel'))} as channel,\n"
            f"    {self.identifiers()} as identifiers,\n"
            f"    {self.written_identifiers()} as written_identifiers,\n"
            f"    {self.json_object(list(self.source.properties), self.property_value, as_json=True)} as properties,\n"
            f"    {self.type_errors()} as type_errors\n"
            "from rows"
        )

    def records(self) -> str:
        """Raw records of the rows `classified` rejected: the columns the spec reads (PII hashed; a
        malformed line's personal keys redacted). Other columns are not read at all, whatever their type."""
        kept = self.columns if self.jsonl else [c for c in self.file_columns if c in self.columns]
        record = self.json_object(kept, self.value)
        if self.jsonl:
            # emails anywhere are redacted as the record is stored (sql/ingest/known_rejects.sql)
            continued, tail_marked = self.bind(CONTINUED_VALUE), self.bind(r"\1" + REDACTING + r"\3")
            redacted = (f"case when regexp_matches(text, {self.bind(KEY_FIRST)}) then text "
                        f"else regexp_replace(text, {continued}, {tail_marked}) end")
            for name in self.columns:
                if self.pii_kind(name):
                    key = (f"({json_key_pattern(name)}|'{re.escape(name)}'|"  # JSON, Python,
                           f'\\\\"{re.escape(name)}\\\\"|\\b{re.escape(name)}\\b)')  # JSON in a string, bare
                    # in any case, as the column is hashed under any spelling (`"MSISDN"` for `msisdn`)
                    pattern = self.bind("(?i)(" + key + KEY_ENDS + ")" + VALUE_UP_TO_NEXT_KEY)
                    marked = self.bind(r"\1" + REDACTING + r"\4")
                    for _ in range(2):  # a match ends where a repeated key begins: twice catches the repeat
                        redacted = f"regexp_replace({redacted}, {pattern}, {marked}, 'g')"
            redacted = f"replace({redacted}, {self.bind(REDACTING)}, '\"<redacted>\"')"
            record = f"case when __malformed then {redacted} else {record} end"
        rejected = "where __line in (select line from classified where outcome not in ('loaded', 'deduplicated'))"
        return self.rows(rejected) + f"select __line as line, {record} as raw_record from rows"


def json_key_pattern(key: str) -> str:
    """A regex for `key` as a quoted JSON key, each character as itself or as the `\\uXXXX` escape of itself
    or of its other case (so that under `(?i)` the pattern matches the key in any case, escaped or not)."""
    def escaped(ch: str) -> str:
        return "\\\\u" + "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{ord(ch):04x}")

    def char(ch: str) -> str:
        if ord(ch) >= 0x10000:
            return re.escape(ch)
        cases = dict.fromkeys(c for c in (ch, ch.lower(), ch.upper()) if len(c) == 1 and ord(c) < 0x10000)
        return f"(?:{re.escape(json_key(ch)[1:-1])}|{'|'.join(map(escaped, cases))})"
    return '"' + "".join(map(char, key)) + '"'


def json_pointer(key: str) -> str:
    """A JSON Pointer to a top-level key: any key, where a `$.` path takes `*` for a wildcard even quoted
    and refuses the empty key."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def nested_key_hint(keys: list[str]) -> str:
    """Why JSON keys no line holds may be missing, when one has a dot: a key is no path into an object."""
    dotted = next((k for k in keys if "." in k), None)
    return (f"a key is not a path into an object (`{dotted}` is the key {json_key(dotted)}): flatten nested fields "
            "in the export") if dotted else ""


def json_key(key: str) -> str:
    """A key as JSON text writes it: `"my key"` with quotes and backslashes escaped."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Mapping:
    """The compiled SELECTs over the registered raw batch `raw`, and their parameters.

    `raw` holds `__line` plus either the file's text columns (CSV, Parquet, PostgreSQL) or, for JSON
    lines, one `__text` column with the whole line.
    """

    batch: str  # → the canonical batch
    records: str  # → (line, raw_record) of the rows the classification rejected
    params: dict[str, Any]
    # JSON lines only: → one list, per key in `role_keys` then in `other_keys`, of how many lines hold that key's
    # text; and, per key in `cased_keys`, how many valid lines write it only in another case, and how (the
    # distinct spellings)
    presence: str | None = None
    role_keys: tuple[str, ...] = ()
    cased_keys: tuple[str, ...] = ()
    other_keys: tuple[str, ...] = ()  # the other keys the spec reads (identifiers, properties, derive)

    def bind(self, sql: str) -> dict[str, Any]:
        return sqlfiles.used(sql, self.params)


def spec_fingerprint(source: Source, config: Config) -> str:
    """SHA-256 of what decides how a source's rows are mapped: its spec as written, in the order written
    (identifiers build `row_md5` in that order), with keys left at their default omitted (a new optional
    key does not change it) and without where the data lives (`path`, `uri`) or `on_bad_row` (whether a
    file loads); its priority; how its identifier types are hashed, and a keyed hash of the salt. The
    manifest keeps it, so a run can tell files read under an earlier spec."""
    pii = {t.name: t.pii for t in config.identity.types if t.pii}
    decides = {
        "source": source.model_dump(mode="json", exclude_defaults=True, exclude={"path", "uri", "on_bad_row"}),
        "priority": config.source_priority(source),
        "pii": [(name, pii[name]) for name in source.identifiers if name in pii],
        "salt": hmac.new(config.hash_salt.encode(), b"journey-analytics spec fingerprint", "sha256").hexdigest(),
    }
    return hashlib.sha256(json.dumps(decides).encode()).hexdigest()


def compile_mapping(source: Source, config: Config, file_columns: list[str] | None, count_keys: bool = False
                    ) -> Mapping:
    compiler = _Compiler(source, config, file_columns)
    batch, records = compiler.batch(), compiler.records()
    if not compiler.jsonl:
        return Mapping(batch, records, compiler.params)
    # A JSON line may omit a key that is null, so only the keys `columns` names (needed on every event) are
    # checked: a key whose text is on no line of a file is a spec error, as a missing CSV column is.
    c = source.columns
    keys = tuple(dict.fromkeys(k for k in (c.event_id, c.occurred_at, c.event_name) if k))
    # the key's text, or (rarely needed, so parsed only then) the key written with JSON escapes (`\u00fc`)
    counts = ", ".join(
        f"count(*) filter (where case when contains(__text, {compiler.bind(json_key(k))}) then true "
        f"when json_valid(__text) then json_exists(__text, {compiler.bind(json_pointer(k))}) else false end)"
        for k in keys)
    # with `count_keys`, the other keys the spec reads (`sources check`: one on no line of any file is most likely
    # misspelt). They may be absent from most lines, so a line is parsed only when it holds a backslash (a key
    # written with escapes, `gr\u00f6\u00dfe`); else the key's text with its colon is looked for (the same text
    # as a value, `"utm_medium":"email"`, is not the key `email`; a nested key is taken for it)
    others = tuple(k for k in referenced_columns(source) if k not in keys) if count_keys else ()
    counts = ", ".join([counts, *(
        f"count(*) filter (where contains(__text, {compiler.bind(json_key(k) + ':')}) "
        f"or contains(__text, {compiler.bind(json_key(k) + ' :')}) or (contains(__text, '\\') "
        f"and case when json_valid(__text) then json_exists(__text, {compiler.bind(json_pointer(k))}) end))"
        for k in others)])
    # Keys are matched as written, so a key feeding a personal identifier that a line writes only in another
    # case (`User_Email` for `user_email`) is read as empty there, and the identifier lost: such lines are found
    # for a note, parsing a line's keys only when it lacks the key's text and holds it ignoring case.
    cased = tuple(k for k in dict.fromkeys(source.identifiers.values()) if compiler.pii_kind(k))
    spelled = "".join(
        f", case when not contains(__text, {compiler.bind(json_key(k))}) "
        f"and regexp_matches(__text, {compiler.bind('(?i)' + re.escape(json_key(k)))}) and json_valid(__text) "
        f"then list_filter(json_keys(__text), "
        f"lambda x: lower(x) = lower({compiler.bind(k)}) and x <> {compiler.bind(k)})[1] "
        f"end as k{i}" for i, k in enumerate(cased))
    found = range(len(cased))
    presence = (f"select [{counts}], [{', '.join(f'count(k{i})' for i in found)}]::bigint[], "
                f"[{', '.join(f'list(distinct k{i}) filter (where k{i} is not null)' for i in found)}]::varchar[][] "
                f"from (select __text{spelled} from raw)")
    return Mapping(batch, records, compiler.params, presence, keys, cased, others)

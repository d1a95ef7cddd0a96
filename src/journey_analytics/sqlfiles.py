"""Load the SQL models in `sql/` and build tables from them.

A model file holds one SELECT (dbt style); its path names the table it builds:
`sql/marts/funnel_steps.sql` builds `marts.funnel_steps`. Values reach SQL only as bound
parameters (`$as_of`), never as text.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

_PACKAGED = Path(__file__).parent / "sql"  # inside a built wheel
_SOURCE_TREE = Path(__file__).resolve().parents[2] / "sql"  # in a checkout / editable install
SQL_DIR = _PACKAGED if _PACKAGED.is_dir() else _SOURCE_TREE


@cache
def load(name: str) -> str:
    """Return the text of `sql/<name>.sql`, e.g. `load("marts/funnel_steps")`."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"SQL model {name!r} not found at {path}")
    return path.read_text(encoding="utf-8")


# What cannot hold a parameter: a comment, a string, a quoted identifier (a column may be named `$p0`).
_NOT_CODE = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", re.S)


def used(sql: str, params: dict[str, Any], marker: str = "$") -> dict[str, Any]:
    # DuckDB (and Spark) reject named parameters the statement does not use; Spark marks them `:name`.
    code = _NOT_CODE.sub(" ", sql)
    return {k: v for k, v in params.items() if re.search(rf"{re.escape(marker)}{k}\b", code)}


def query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> duckdb.DuckDBPyConnection:
    """Run the SELECT in `sql/<name>.sql` with bound parameters; returns the cursor."""
    sql = load(name)
    return con.execute(sql, used(sql, params))


def records(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of the SELECT in `sql/<name>.sql` as dicts keyed by column name."""
    cursor = query(con, name, **params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def relation(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> duckdb.DuckDBPyRelation:
    """The SELECT in `sql/<name>.sql` as a relation (for `.pl()`, `.to_arrow_table()` without a copy)."""
    sql = load(name)
    return con.sql(sql, params=used(sql, params))


def build(con: duckdb.DuckDBPyConnection, name: str, *, temp: bool = False, sql_name: str | None = None,
          **params: Any) -> int:
    """Create or replace the table `<layer>.<model>` from `sql/<layer>/<model>.sql`; return its row count.

    With `temp=True` the result is the session-local temp table `<model>` instead; `sql_name` reads
    another file for the same table (a faster form of the same model).
    """
    schema, model = name.split("/")
    sql = load(sql_name or name).strip().rstrip(";")
    table = model if temp else f"{schema}.{model}"
    if not temp:
        con.execute(f"create schema if not exists {schema}")
    con.execute(f"create or replace {'temp ' if temp else ''}table {table} as {sql}", used(sql, params))
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


def run_script(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> None:
    """Run every statement of `sql/<name>.sql` in order (statements end with `;` at a line end)."""
    for statement in load(name).split(";\n"):
        if statement.strip() and not all(l.strip().startswith("--") or not l.strip() for l in statement.splitlines()):
            con.execute(statement, used(statement, params))

"""`journey` — the command line.

    journey run [--config PATH] [--as-of TIME]    the nightly job (a Prefect flow run)
    journey sources check [NAME] [--config PATH]  what a source would load, without writing
    journey sources reset NAME [--force] [--config PATH]  forget what a source loaded; the next run reads it again
    journey explain customer [ID] [--email E | --anonymous-id A | --id TYPE=VALUE]
    journey stages suggest                        inferred stages as journey.yaml rules
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from journey_analytics import sqlfiles
from journey_analytics.config import Config, ConfigError, load_config
from journey_analytics.console import quiet_stdout
from journey_analytics.ingest.salt import other_salt, remember_salt
from journey_analytics.interrupts import STOPPED, finished, interruptible
from journey_analytics.runs import check_as_of, parse_time, run_metric
from journey_analytics.sources.mapping import nested_key_hint
from journey_analytics.sources.readers import SourceError
from journey_analytics.warehouse import WarehouseError, connect, damaged, opening, tells_damage


def prefect_defaults(base_dir: Path, logging_level: str = "WARNING") -> None:
    """A project-local Prefect home and a quiet, offline ephemeral server unless the operator set them. A run
    shows its own lines, so Prefect's logs are kept to warnings; a served deployment passes INFO, for its
    server to keep each file's counts and each model's seconds for the UI."""
    os.environ.setdefault("PREFECT_HOME", str(base_dir / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", logging_level)


@contextmanager
def ready_to_run(config: Config) -> Iterator[None]:
    """Fail at once, before Prefect's server starts (~25 s) and not after the marts are rebuilt, when a run
    could not finish: the warehouse is busy or cannot be opened, or a folder it writes to is not writable.
    Then hold the warehouse open until the run ends, so that no other process (a second run, a notebook)
    takes it while Prefect starts or between the nights of a backfill; the run's own connections, in this
    process, share it."""
    held = connect(config.warehouse_path, memory_limit=config.memory_limit)
    try:
        folders = [(config.warehouse_path.parent, "`warehouse`'s folder (DuckDB writes its .wal file next to it)",
                    "journey.yaml"), (config.reports_path, "`reports_dir`", "journey.yaml")]
        if not os.environ.get("PREFECT_API_URL"):  # the run's own Prefect server keeps its database there
            folders.append((Path(os.environ.get("PREFECT_HOME") or config.base_dir / ".prefect").expanduser(),
                            "Prefect's home (by default `.prefect` beside journey.yaml)", "PREFECT_HOME"))
        for folder, what, setting in folders:
            if folder.exists() and not folder.is_dir():
                raise ConfigError(f"{folder}: {what} is a file, not a folder; point {setting} at a folder")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"{folder}: {what} cannot be created ({exc.strerror}); check {setting}") from None
            if not os.access(folder, os.W_OK):
                raise ConfigError(f"{folder}: {what} is not writable by the user running journey; make it writable "
                                  f"or point {setting} elsewhere")
        with opening(config.warehouse_path):  # its first reads: a damaged file says so here
            remember_salt(held, config)
        yield
    finally:
        held.close()


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # fail fast, before Prefect starts
    with ready_to_run(config):
        return _run_held(args, config)


def _run_held(args: argparse.Namespace, config: Config) -> int:
    prefect_defaults(config.base_dir)
    from journey_analytics.metrics import AuditError
    from pipelines.local_api import local_api
    from pipelines.nightly import RunStopped, SourcesFailed, nightly, quiet_console  # Prefect: only here

    quiet_console()
    try:
        with local_api():
            summary = nightly(config_path=str(args.config), as_of=args.as_of)
    except SourcesFailed as exc:  # the other sources loaded; the summary below says which failed
        summary = exc.summary
    except AuditError as exc:  # a broken metric invariant: nothing of this run was published
        _error(f"{exc}\nThe marts and report stay as the previous run published them; "
               "please report this with the audit's rows.")
        return 1
    except RunStopped as exc:  # no report written, or no warehouse, or not enough memory: said in one line
        _error(str(exc))
        return 1
    try:
        _print_summary(summary)
    except BrokenPipeError:  # the console went away (piped into `head`): the run's outcome still decides
        quiet_stdout()
    finished()
    return 0 if summary.ok else 1


def _print_summary(summary) -> None:
    """The run's files, notes and failed sources as a table, then customers and the report's path."""
    print()
    print(f"{'source':<12}{'file':<44}{'read':>10}{'loaded':>10}{'dedup':>8}{'quarant.':>10}")
    for f in summary.files:
        note = "  (gone)" if f.gone else "  (unchanged)" if f.skipped else ""
        print(f"{f.source:<12}{_tail(f.path, 43):<44}{f.rows_read:>10,}{f.rows_loaded:>10,}"
              f"{f.rows_deduplicated:>8,}{f.rows_quarantined:>10,}{note}")
    # each distinct note once per source (after a spec change every file of the source has the same one);
    # a file's notes are joined by "; " (ingest)
    notes = Counter((f.source, note) for f in summary.files if f.note for note in f.note.split("; "))
    for (source, text), n in notes.items():
        where = (next(f.path for f in summary.files if f.source == source and text in f.note.split("; "))
                 if n == 1 else f"{n} files")
        print(f"{source:<12}note ({where}): {text}")
    for name, why in summary.failed_sources.items():
        print(f"{name:<12}FAILED: {why}")
    if summary.ok:
        print(f"\n{summary.journeys.customers:,} customers, {summary.journeys.touchpoints:,} touchpoints.")
        print(f"Report: {summary.report}")
    sys.stdout.flush()


def _tail(path: str, width: int) -> str:
    """The end of a path that is too long for its column, marked as cut (so it cannot pass for a path)."""
    return path if len(path) <= width else "…" + path[-(width - 1):]


def _sources(config, args: argparse.Namespace) -> list:
    """The source named `args.name`, or every source when no name is given."""
    chosen = [s for s in config.sources if args.name in (None, s.name)]
    if not chosen:
        raise ConfigError(f"{args.config}: no source named {args.name!r} "
                          f"(sources: {', '.join(config.source_names)})")
    return chosen


def _sources_check(args: argparse.Namespace) -> int:
    from journey_analytics.ingest.check import check_source

    config = load_config(args.config)
    chosen = _sources(config, args)
    failed = False
    for source in chosen:
        result = check_source(config, source)
        where = source.path or (f"table {source.table}" if source.table else "query")
        print(f"source {source.name} ({source.kind}, {source.format}) — {where}")
        if result.error and not result.files:
            failed = True
            print(f"  ERROR: {result.error}\n")
            continue
        if result.after_reset:
            print(f"  read before under an earlier spec: counted as a run would read the source after "
                  f"`journey sources reset {source.name}` (until then a run skips files already read)")
        print(f"  {'file':<40}{'read':>10}{'would load':>12}{'dedup':>8}{'quarantine':>12}")
        for f in result.files:
            refused = result.refused(f)
            loaded, deduplicated = (0, 0) if refused else (f.rows_loaded, f.rows_deduplicated)
            print(f"  {_tail(f.path, 39):<40}{f.rows_read:>10,}{loaded:>12,}{deduplicated:>8,}{f.rows_quarantined:>12,}"
                  + ("  (gone)" if f.gone else "  (read before, unchanged: a run skips it)" if f.skipped else "")
                  + (f"  (on_bad_row: fail; once fixed, {f.rows_loaded:,} would load)" if refused else ""))
            if f.reasons:
                print("    quarantined by reason: " + ", ".join(f"{k} {n:,}" for k, n in f.reasons))
            if f.note:
                print(f"    note: {f.note}")
        if absent := result.keys_on_no_line():
            print(f"  note: no line of these files holds the key(s) {', '.join(absent)} that the spec reads, so they "
                  "are empty everywhere: check their spelling (JSON keys are case-sensitive)"
                  + (f"; {hint}" if (hint := nested_key_hint(absent)) else ""))
        if result.preview:
            print("  preview of mapped rows:")
            for row in result.preview:
                print("    " + "  ".join(f"{k}={v}" for k, v in row.items()))
        elif not result.error and any(f.rows_deduplicated for f in result.files):
            print("  no preview: no row would be new (every valid row is loaded already)")
        elif not result.error and any(f.rows_read for f in result.files):
            failed = True  # a spec that loads nothing fits no data: the gate a CI check of the spec relies on
            print("  ERROR: every row read would be quarantined: the spec does not fit the data (see the reasons "
                  "above; a misspelt identifier key, say)")
        if result.error:
            failed = True
            print(f"  ERROR: {result.error}")
        print()
    return 1 if failed else 0


def _sources_reset(args: argparse.Namespace) -> int:
    from journey_analytics.ingest.reset import reset_source, reset_undeclared

    config = load_config(args.config)
    declared = next((s for s in config.sources if s.name == args.name), None)
    if not config.warehouse_path.exists():
        _sources(config, args)  # an unknown name is named as such
        print(f"{config.warehouse_path} does not exist yet: nothing to reset")
        return 0
    con = connect(config.warehouse_path, memory_limit=config.memory_limit)
    try:  # a name journey.yaml no longer declares: what the warehouse still holds of it
        done = reset_source(con, config, declared, force=args.force) if declared else \
            reset_undeclared(con, args.name, force=args.force)
    finally:
        con.close()
    if done is None:  # a name neither journey.yaml nor the warehouse knows
        _sources(config, args)
    print(f"source {args.name}: removed {done.events:,} events and {done.quarantined:,} quarantined rows read from "
          f"{done.files:,} file(s).")
    for why in done.at_risk:
        print(f"  forced although {why}")
    print("The next `journey run` reads the source again under the current spec and rebuilds the marts." if declared
          else "The next `journey run` rebuilds the marts without them.")
    return 0


def _open_warehouse(config_path: Path):
    config = load_config(config_path)
    if not config.warehouse_path.exists():
        raise ConfigError(f"{config.warehouse_path} does not exist yet: run `journey run` first")
    con = connect(config.warehouse_path, read_only=True, memory_limit=config.memory_limit)
    if not sqlfiles.query(con, "queries/customers_built").fetchall()[0][0]:
        con.close()
        raise ConfigError(f"{config.warehouse_path} has no customers yet: a run builds them once every source "
                          "has loaded (`journey run`; fix a failed source first)")
    return config, con


def _type_value(text: str) -> tuple[str, str]:
    """`--id TYPE=VALUE`."""
    id_type, sep, value = text.partition("=")
    if not sep or not id_type.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: write TYPE=VALUE, e.g. --id contact_id=ct-1")
    return id_type.strip(), value


def _as_of(text: str):
    try:
        as_of = parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: write ISO-8601, e.g. 2026-11-01 or 2026-11-01T02:30:00+01:00 "
            "(no offset means UTC)") from None
    try:
        return check_as_of(as_of, datetime.now(timezone.utc))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _explain(args: argparse.Namespace) -> int:
    from journey_analytics.journeys.explain import NotFound, UnknownIdType, explain, find_customer

    config, con = _open_warehouse(args.config)
    lookups = [("email", v) for v in args.email] + [("anonymous_id", v) for v in args.anonymous_id]
    lookups += args.id or []
    if not args.customer_id and not lookups:
        raise ConfigError("give a customer id, or an identifier: --email, --anonymous-id or --id TYPE=VALUE")
    if len(lookups) + bool(args.customer_id) > 1:  # one customer is explained; which one would be a guess
        raise ConfigError("give one customer id or one identifier, not several: explain shows one customer")
    if lookups and (problem := other_salt(con, config)):  # an email would be hashed as it never was
        raise ConfigError(problem)
    try:
        customer = args.customer_id or find_customer(con, config, *lookups[0])
        found = explain(con, customer, list(config.source_names))
    except UnknownIdType as exc:
        raise ConfigError(str(exc)) from None
    except NotFound as exc:  # like grep: 1 when nothing matches
        _error(str(exc))
        return 1
    print(f"customer {found.customer_id}")
    if found.as_of is not None:
        print(f"as built by run {found.run_id}, as of {found.as_of:%Y-%m-%d %H:%M:%S} UTC: the journey stops there, "
              "and later events are counted apart")
        if run_metric(con, found.run_id, "funnel_definition") not in (None, config.funnel_definition):
            print("note: journey.yaml's stages, stage rules or funnel changed since that run: the stages below are "
                  "the run's; `journey run` to rebuild with the current ones")
    print("\nidentifiers:")
    _print_columns([(i["id_type"], i["id_value"], f"{i['n_events']} events"
                     + (f" (+{i['n_later']} after the as-of)" if i["n_later"] else "")
                     + ("  (super-node: not used for linking)" if i["is_super_node"] else ""))
                    for i in found.identifiers])
    print("\nlinks that merged them (first event that carried both):")
    for e in found.edges or [{"id_type_a": None}]:
        if e["id_type_a"] is None:
            print("  none: a single identifier")
            break
        print(f"  {e['id_type_a']}={e['id_value_a'][:16]} — {e['id_type_b']}={e['id_value_b'][:16]}  "
              f"by {e['first_source']}/{e['first_event_id']} {e['first_event_name']} at {e['first_seen_at']:%Y-%m-%d %H:%M:%S}"
              f" ({e['n_events']} event(s))")
    print("\njourney:")
    if not found.journey and all(i["is_super_node"] for i in found.identifiers):
        print("  none: this customer's only identifier is a super-node, set aside for linking, so each of its events\n"
              "  belongs to the customer of another identifier the event carries (or to none)")
        return 0
    _print_columns([("#", "occurred_at (UTC)", "source", "event", "channel", "stage", "how", "visit")]
                   + [(str(t["event_seq"]), f"{t['occurred_at']:%Y-%m-%d %H:%M:%S}", t["source"], t["event_name"][:32],
                       (t["channel"] or "")[:24], t["stage"], t["stage_source"], str(t["visit_seq"] or ""))
                      for t in found.journey], right=(0,))
    return 0


def _print_columns(rows: list[tuple[str, ...]], right: tuple[int, ...] = ()) -> None:
    """Rows as columns as wide as their widest value, two spaces apart; columns `right` right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    for row in rows:
        cells = [v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))]
        print(("  " + "  ".join(cells)).rstrip())


def _suggest(args: argparse.Namespace) -> int:
    from journey_analytics.journeys.suggest import suggested_rules

    _, con = _open_warehouse(args.config)
    print(suggested_rules(con), end="")
    return 0


# Control characters (but line feeds and tabs) shown as escapes: values from data reach the terminal in
# previews, explanations and messages, and an ESC sequence there could retitle or rewrite the terminal; so are
# the bidirectional overrides and isolates, which show text in another order than it is (`evil\u202egnp.exe`).
# Only this module's output: Prefect's log lines on stderr keep their colours.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)] if chr(c) not in "\n\t"} | {
    c: f"\\u{c:04x}" for c in [*range(0x202a, 0x202f), *range(0x2066, 0x206a)]}


class _Escaped:
    """A text stream that writes control characters as escapes (`\\x1b`); anything else is the stream's."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text.translate(_CONTROLS))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _error(message: str) -> None:
    print(f"journey: {message}".translate(_CONTROLS), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    stdout, sys.stdout = sys.stdout, _Escaped(sys.stdout)
    try:
        return _main(argv)
    finally:
        sys.stdout = stdout


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="journey", description="Customer journeys from touchpoint logs.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="ingest every source, rebuild journeys and metrics, write the report")
    run.add_argument("--config", type=Path, default=Path("journey.yaml"), help="path to journey.yaml")
    run.add_argument("--as-of", type=_as_of, default=None,
                     help="ISO time the run is as of (default: now; no offset means UTC)")
    run.set_defaults(handler=_run, interrupted=STOPPED)
    sources = sub.add_parser("sources", help="work with source specs").add_subparsers(dest="action", required=True)
    check = sources.add_parser("check", help="validate a source spec against its data without writing anything")
    check.add_argument("name", nargs="?", help="source name (default: every source)")
    check.add_argument("--config", type=Path, default=Path("journey.yaml"), help="path to journey.yaml")
    check.set_defaults(handler=_sources_check)
    reset = sources.add_parser("reset", help="forget what a source loaded, so the next run reads its files again")
    reset.add_argument("name", help="source name")
    reset.add_argument("--force", action="store_true",
                       help="reset even if reading again might not bring every row back (files gone or changed, a database)")
    reset.add_argument("--config", type=Path, default=Path("journey.yaml"), help="path to journey.yaml")
    reset.set_defaults(handler=_sources_reset,
                       interrupted="A reset is one transaction: done whole, or not at all.")
    explain = sub.add_parser("explain", help="why a customer is who they are, and their journey")
    explain.add_argument("what", choices=["customer"])
    explain.add_argument("customer_id", nargs="?", help="a customer_id (cu_...)")
    explain.add_argument("--email", action="append", default=[],
                         help="find the customer by email (hashed before lookup)")
    explain.add_argument("--anonymous-id", action="append", default=[],
                         help="find the customer by anonymous (cookie) id")
    explain.add_argument("--id", action="append", type=_type_value, metavar="TYPE=VALUE",
                         help="find the customer by any identifier")
    explain.add_argument("--config", type=Path, default=Path("journey.yaml"), help="path to journey.yaml")
    explain.set_defaults(handler=_explain)
    stages = sub.add_parser("stages", help="work with stages").add_subparsers(dest="action", required=True)
    suggest = stages.add_parser("suggest", help="print inferred stages as journey.yaml rules")
    suggest.add_argument("--config", type=Path, default=Path("journey.yaml"), help="path to journey.yaml")
    suggest.set_defaults(handler=_suggest)
    parser.set_defaults(interrupted="")
    args = parser.parse_args(argv)
    try:
        code = interruptible(lambda: args.handler(args), "journey", args.interrupted)
        sys.stdout.flush()  # here, so a closed pipe is caught below rather than at exit
        return code
    except (ConfigError, SourceError, WarehouseError) as exc:
        _error(str(exc))
        return 2
    except duckdb.Error as exc:  # a read of a damaged warehouse by any command (a run's own reads say it earlier)
        if not tells_damage(str(exc)):
            raise
        _error(damaged(load_config(args.config).warehouse_path, exc))
        return 2
    except BrokenPipeError:  # output piped into `head` and the like, which stopped reading
        quiet_stdout()
        return 1


if __name__ == "__main__":
    sys.exit(main())

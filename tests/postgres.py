"""A throwaway PostgreSQL server on loopback for the tests that read a database source.

Uses the machine's PostgreSQL binaries (`.ci/run` installs Debian's `postgresql`); initdb and
the server run as the `postgres` user when the tests run as root, as PostgreSQL requires.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server in a fresh temp folder; yield its URI (user `journey`, database `postgres`, trust auth).

    The folder is outside pytest's private tmp tree, which the `postgres` user cannot enter.
    """
    bindir = binaries()
    folder = Path(tempfile.mkdtemp(prefix="journey-pg-"))
    data = folder / "pgdata"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = _free_port()
    run = lambda cmd: subprocess.run(_as_server_user(cmd), check=True, capture_output=True, text=True)  # noqa: E731
    run([str(bindir / "initdb"), "-D", str(data), "-U", "journey", "--auth=trust", "-E", "UTF8"])
    run([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "server.log"), "-o",
         f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"])
    try:
        yield f"postgresql://journey@127.0.0.1:{port}/postgres"
    finally:
        run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)

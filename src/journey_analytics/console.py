"""Printing to a console that may go away mid-run: output piped into `head`, a closed terminal or ssh session."""

from __future__ import annotations

import os
import sys


def say(line: str = "") -> None:
    """`print(line)`, flushed; once stdout is closed, this and later lines go nowhere instead of failing the
    work they report on (a nightly run that lost its console still publishes)."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        quiet_stdout()


def quiet_stdout() -> None:
    """Point stdout at the null device, so later writes and the interpreter's flush at exit do not fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

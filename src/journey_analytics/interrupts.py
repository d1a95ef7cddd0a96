"""Ctrl-C during a command: one line and exit 130, not a page of tracebacks.

The signal is noted as it arrives, because it seldom surfaces as a KeyboardInterrupt: DuckDB turns
the one raised inside a query into its own RuntimeError ("Query interrupted"), which a Prefect task
then carries out of the flow in its state, logged as a failure on the way.
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable

STOPPED = ("interrupted. What the run had committed stays: each file it had loaded in full, and the marts if it "
           "had built them; the rest is rolled back. Run it again to finish.")

_received: list[int] = []


def interrupted() -> bool:
    """Whether Ctrl-C arrived during `interruptible`: whatever fails from then on is the interrupt."""
    return bool(_received)


def interruptible(run: Callable[[], int], prog: str, said: str = STOPPED) -> int:
    """`run()`, or exit code 130 with `said` on stderr when Ctrl-C (SIGINT) stopped it."""
    def note(signum, frame):
        _received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, note)
    try:
        return run()
    except BaseException as exc:
        if not _received:
            raise
        while exc is not None:  # frames kept by Prefect's states would hold DuckDB objects until exit
            traceback.clear_frames(exc.__traceback__)
            exc = exc.__context__
        print(f"{prog}: {said}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        _received.clear()

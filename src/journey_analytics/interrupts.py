"""Ctrl-C during a command: one line and exit 130, not a page of tracebacks.

The signal is noted as it arrives, because it seldom surfaces as a KeyboardInterrupt: DuckDB turns
the one raised inside a query into its own RuntimeError ("Query interrupted"), which a Prefect task
then carries out of the flow in its state, logged as a failure on the way.

DuckDB 2.0 sometimes hangs cancelling the interrupted query (in `Executor::CancelTasks`; about 1 in 3
tries on a long scan, measured). So a command not stopped `GRACE_S` seconds after Ctrl-C exits anyway,
as `kill -9` would: what was committed stays, DuckDB rolls back the rest when the warehouse is next opened,
and the run's Prefect server stops itself when its parent is gone.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable

GRACE_S = 15.0

STOPPED = ("interrupted. What the run had committed stays: each file it had loaded in full, and the marts if it "
           "had built them; the rest is rolled back. Run it again to finish.")

_received: list[int] = []


def finished() -> None:
    """The command's outcome is decided and told (a run's summary printed): Ctrl-C from now on, while it only
    tears down (releases the warehouse, stops its Prefect server), no longer makes the run "interrupted"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def interrupted() -> bool:
    """Whether Ctrl-C arrived during `interruptible`: whatever fails from then on is the interrupt."""
    return bool(_received)


def interruptible(run: Callable[[], int], prog: str, said: str = STOPPED) -> int:
    """`run()`, or exit code 130 with `said` on stderr when Ctrl-C (SIGINT) stopped it (within `GRACE_S`)."""
    stopped = threading.Event()

    def exit_unless_stopped() -> None:
        if not stopped.wait(GRACE_S):
            print(f"{prog}: {said}", file=sys.stderr, flush=True)
            os._exit(130)

    def note(signum, frame):
        if not _received:
            threading.Thread(target=exit_unless_stopped, daemon=True).start()
        _received.append(signum)
        raise KeyboardInterrupt

    def deliver_again(unraisable) -> None:
        """Ctrl-C that lands while Python runs a destructor (`__del__`, e.g. of an asyncio transport) raises
        there, and Python prints and drops it: the run went on to the end, exit 0. Deliver it again, a moment
        later (delivered at once, it would raise inside this hook and be dropped again), to stop the run."""
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and _received:
            threading.Timer(0.05, lambda: stopped.is_set() or os.kill(os.getpid(), signal.SIGINT)).start()
        else:
            hook(unraisable)

    previous, hook = signal.signal(signal.SIGINT, note), sys.unraisablehook
    sys.unraisablehook = deliver_again
    try:
        code = run()
        if not _received:
            return code
        print(f"{prog}: {said}", file=sys.stderr)  # what Ctrl-C raised was dropped, and the work ended anyway
        return 130
    except BaseException as exc:
        if not _received:
            raise
        while exc is not None:  # frames kept by Prefect's states would hold DuckDB objects until exit
            traceback.clear_frames(exc.__traceback__)
            exc = exc.__context__
        print(f"{prog}: {said}", file=sys.stderr)
        return 130
    finally:
        stopped.set()
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = hook
        _received.clear()

"""Ctrl-C or SIGTERM during a command: one line and exit 130 (143 for SIGTERM), not a page of tracebacks.

The signal is noted as it arrives, because it seldom surfaces as a KeyboardInterrupt: DuckDB turns
the one raised inside a query into its own RuntimeError ("Query interrupted"), which a Prefect task
then carries out of the flow in its state, logged as a failure on the way. While a flow runs, Prefect
handles SIGTERM itself (its handler raises its own exception, which DuckDB turns into the same
RuntimeError): the signal is then noted from Python's wakeup file descriptor, which hears every signal
whoever handles it.

DuckDB 2.0 sometimes hangs cancelling the interrupted query (in `Executor::CancelTasks`; about 1 in 3
tries on a long scan, measured). So a command not stopped `GRACE_S` seconds after the signal exits anyway,
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

STOPPED = ("What the run had committed stays: each file it had loaded in full, and its marts if it had said "
           "\"[metrics] … published\"; the rest is rolled back. Run it again to finish.")

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal's number, as a shell reports it
SAID = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated (SIGTERM)"}

_received: list[int] = []
_lock = threading.Lock()


def finished() -> None:
    """The command's outcome is decided and told (a run's summary printed): Ctrl-C or SIGTERM from now on,
    while it only tears down (releases the warehouse, stops its Prefect server), no longer makes the run
    "interrupted" (a cron wrapper read a finished run's exit 143 as a failure)."""
    for signum in EXIT:
        signal.signal(signum, signal.SIG_IGN)


def interrupted() -> bool:
    """Whether Ctrl-C or SIGTERM arrived during `interruptible`: whatever fails from then on is the interrupt."""
    return bool(_received)


def interruptible(run: Callable[[], int], prog: str, said: str = STOPPED) -> int:
    """`run()`, or, when Ctrl-C (SIGINT) or SIGTERM stopped it (within `GRACE_S`), exit code 130 or 143 and one
    line on stderr: "<prog>: interrupted. <said>" (or "terminated (SIGTERM)")."""
    stopped = threading.Event()

    def told() -> tuple[str, int]:
        signum = _received[0]
        return f"{prog}: {SAID[signum]}." + (f" {said}" if said else ""), EXIT[signum]

    def exit_unless_stopped() -> None:
        if not stopped.wait(GRACE_S):
            line, code = told()
            print(line, file=sys.stderr, flush=True)
            os._exit(code)

    def noted(signum: int) -> None:
        with _lock:
            if stopped.is_set():  # the outcome is told and being returned: a signal now changes nothing
                return
            first = not _received
            _received.append(signum)
        if first:
            threading.Thread(target=exit_unless_stopped, daemon=True).start()

    def note(signum, frame):
        if not stopped.is_set():  # not in the middle of putting things back
            noted(signum)
            raise KeyboardInterrupt

    def hear(wakeup: int) -> None:
        """Signals written to the wakeup descriptor: a SIGTERM that Prefect's handler took is noted here."""
        while chunk := os.read(wakeup, 64):
            if signal.SIGTERM in chunk and signal.SIGTERM not in _received:
                noted(signal.SIGTERM)
            if 0 in chunk:
                heard.set()
        os.close(wakeup)

    def signalled() -> bool:
        """Whether a signal came, once the listener has read all written before (the exception of a SIGTERM
        that another handler took can get here first): a 0 byte, no signal's number, marks the place."""
        if not _received:
            heard.clear()
            os.write(woken, b"\0")
            heard.wait(1.0)
        return bool(_received)

    def deliver_again(unraisable) -> None:
        """Ctrl-C that lands while Python runs a destructor (`__del__`, e.g. of an asyncio transport) raises
        there, and Python prints and drops it: the run went on to the end, exit 0. Deliver it again, a moment
        later (delivered at once, it would raise inside this hook and be dropped again), to stop the run."""
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and _received:
            threading.Timer(0.05, lambda: stopped.is_set() or os.kill(os.getpid(), signal.SIGINT)).start()
        else:
            hook(unraisable)

    previous, hook = {signum: signal.signal(signum, note) for signum in EXIT}, sys.unraisablehook
    sys.unraisablehook = deliver_again
    wakeup, woken = os.pipe()
    os.set_blocking(woken, False)
    heard = threading.Event()
    previous_fd = signal.set_wakeup_fd(woken, warn_on_full_buffer=False)
    listener = threading.Thread(target=hear, args=(wakeup,), daemon=True)
    listener.start()
    try:
        code = run()
        if not signalled():
            return code
        line, code = told()  # what the signal raised was dropped, and the work ended anyway
        print(line, file=sys.stderr)
        return code
    except BaseException as exc:
        if not signalled():
            raise
        while exc is not None:  # frames kept by Prefect's states would hold DuckDB objects until exit
            traceback.clear_frames(exc.__traceback__)
            exc = exc.__context__
        line, code = told()
        print(line, file=sys.stderr)
        return code
    finally:
        with _lock:
            stopped.set()  # from here on neither handler nor listener notes a signal
        signal.set_wakeup_fd(previous_fd)
        os.close(woken)  # the listener reads the end of the pipe and stops
        listener.join(1.0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = hook
        _received.clear()

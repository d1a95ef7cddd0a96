"""Prefect's local API for `journey run` and the backfill: the ephemeral server, in a session of its own.

Prefect starts its ephemeral server as a child in the terminal's process group, so Ctrl-C stops the
server as well as the run: the run then spent minutes retrying the dead API (up to the start-up
timeout when the server was still starting) and ended with a traceback. Started here with
`start_new_session`, the server outlives the interrupt, the run stops within seconds with its
rollback, and the server is stopped at exit. A server whose parent is killed outright (`kill -9`)
stops itself instead of lingering. An API the operator configured (PREFECT_API_URL) is used as is, once it
answers: one that does not is a configuration problem, told in a line (Prefect retried it, then printed a
page of tracebacks).

    python -m pipelines.local_api PORT PARENT_PID     the server process itself
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_server: tuple[subprocess.Popen, str] | None = None  # one per process, as Prefect's own


@contextmanager
def local_api() -> Iterator[None]:
    """Runs the enclosed flow runs against the local server (started on first use, stopped at exit), or against
    the configured one (PREFECT_API_URL); ConfigError when that does not answer."""
    from journey_analytics.config import ConfigError
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    if get_current_settings().api.url:
        if why := unreachable():
            raise ConfigError(f"{why}; unset, a run starts a server of its own.")
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: _start()}):
        yield


def unreachable() -> str:
    """Why the configured Prefect server (PREFECT_API_URL) cannot be used, or "" when its health check answers.
    Asked through Prefect's own client, so its TLS, header and API key settings apply (≈ 1.5 s when refused)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    with get_client(sync_client=True) as client:
        failed = client.api_healthcheck()
    if failed is None:
        return ""
    return (f"cannot use the Prefect server at PREFECT_API_URL={get_current_settings().api.url} "
            f"({type(failed).__name__}: {failed}). Start it (`uv run prefect server start`) or fix PREFECT_API_URL")


def _start() -> str:
    """The API URL of this process's server, started and healthy."""
    global _server
    if _server is not None and _server[0].poll() is None:
        return _server[1]
    from prefect.settings import get_current_settings

    from journey_analytics.config import ConfigError

    settings = get_current_settings()
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **settings.to_environment_variables(exclude_unset=True),
           "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    # its messages go to a file: one that cannot start printed some 200 lines of uvicorn and SQLAlchemy
    log = Path(settings.home) / "local-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "pipelines.local_api", str(port), str(os.getpid())],
                                   env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT)
    atexit.register(_stop_at_exit, process)
    url = f"http://127.0.0.1:{port}/api"
    wait = settings.server.ephemeral.startup_timeout_seconds
    deadline = time.monotonic() + wait
    while process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5):
                _server = (process, url)
                return url
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                _stop(process)
                raise ConfigError(f"Prefect's local server did not answer within {wait} s; raise "
                                  f"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (its messages: {log})") from None
            time.sleep(0.2)
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"[\w.]+(Error|Exception): ", line)]  # the cause, not the log's end
    raise ConfigError(
        f"Prefect's local server stopped while starting (exit code {process.returncode}: "
        f"{(errors or lines or ['no message'])[-1]}; all its messages are in {log}). If Prefect's database "
        f"is damaged, delete {Path(settings.home) / 'prefect.db'}: it holds only the run records Prefect's UI shows "
        "(the warehouse keeps every run's numbers).")


def _stop_at_exit(process: subprocess.Popen) -> None:
    """`_stop` when the command exits, its outcome told: Ctrl-C meanwhile would only print a traceback and
    leave the server running, so it is ignored."""
    from journey_analytics.interrupts import finished

    finished()
    _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Uvicorn's graceful shutdown, or a kill after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exit_when_orphaned(parent: int) -> None:
    """Stop this server once its parent is gone (the parent's own exit stops it otherwise)."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own graceful shutdown


def serve(port: int, parent: int) -> None:
    import uvicorn

    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    uvicorn.run("prefect.server.api.server:create_app", factory=True, host="127.0.0.1", port=port,
                log_level="error", lifespan="on")


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))

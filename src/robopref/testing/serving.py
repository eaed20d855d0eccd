"""A real `robopref serve` process for browser tests and benchmarks, and the browser to drive it.

Typical use::

    with serve_process(db_url, pool, secret="…", log=tmp / "serve.log") as base_url:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium (the Makefile installs it; never `playwright install`)."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
"""Flags for headless chromium on a machine without a sandbox, GPU or network."""
START_S = 60.0
"""How long a server may take to answer its first request."""


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes], log: Path, *, timeout_s: float = START_S
) -> None:
    """Return once `url` answers (401 from `GET /api/session`: up, nobody signed in).

    Raises:
        RuntimeError: The process exited, or did not answer within `timeout_s` (with its log).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"robopref serve exited {process.returncode}:\n{log.read_text()}")
        try:
            urllib.request.urlopen(f"{url}/api/session", timeout=1)
        except urllib.error.HTTPError as error:
            if error.code == 401:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"robopref serve did not answer in {timeout_s:g} s:\n{log.read_text()}")


@contextmanager
def serve_process(
    db_url: str, pool: Path, *, secret: str, log: Path, extra_args: Sequence[str] = ()
) -> Iterator[str]:
    """A `robopref serve` subprocess on a free loopback port; yields its base URL.

    Output goes to `log`; the process is terminated (killed after 10 s) on exit.
    """
    port = free_port()
    command = [sys.executable, "-m", "robopref", "serve", "--db", db_url, "--pool", str(pool),
               "--host", "127.0.0.1", "--port", str(port), *extra_args]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={**os.environ, "ROBOPREF_SECRET": secret},
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

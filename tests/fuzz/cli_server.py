"""A warm `robopref` CLI for the fuzz suite: each request runs in a fresh forked child process.

Started once per test process (`harness.run_cli`). It imports the CLI and the heavy stacks
the verbs load (torch, the reward, validation and release stages) and then does nothing but
fork: every request — `{"args": [...], "cwd": ..., "env": {...}, "timeout_s": ...}` on one
line of stdin — runs `robopref.cli.main()` in a new child with that working folder,
environment and argv, its stdout and stderr in files, and answers
`{"returncode": ..., "stdout": ..., "stderr": ...}` on one line of stdout.

The child is a real process running the real CLI as `python -m robopref` would, so exit
codes, output and file-system effects are the same; only the import time (0.4–4 s a case)
is paid once. The parent never runs a case, so no state leaks from one case to the next.
Set ROBOPREF_FUZZ_FORK=0 to run every case as a plain `python -m robopref` instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import time
import traceback
from typing import Any

PRELOAD = (
    "robopref.cli",
    "torch",
    "robopref.reward.run",
    "robopref.reward.checkpoint",
    "robopref.validate.run",
    "robopref.release.package",
    "robopref.quality.qa",
    "robopref.pairs",
    "robopref.store",
    "robopref.pool.ingest",
    "robopref.pool.summary",
)
"""Imported before the first fork; nothing here starts threads or opens devices."""


def _child(request: dict[str, Any], out_path: str, err_path: str) -> None:
    """Run one CLI invocation and leave the process with its exit code (never returns)."""
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path, flags in (
            (0, os.devnull, os.O_RDONLY),
            (1, out_path, os.O_WRONLY | os.O_TRUNC),
            (2, err_path, os.O_WRONLY | os.O_TRUNC),
        ):
            handle = os.open(path, flags)
            os.dup2(handle, fd)
            os.close(handle)
        sys.argv = ["robopref", *request["args"]]
        import robopref.cli

        try:
            robopref.cli.main()
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
    except BaseException:  # what `python -m robopref` would print for a crash
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _wait(pid: int, timeout_s: float) -> int:
    """The child's exit code (negative signal number if killed), killing it at the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.002)


def serve() -> None:
    """Answer requests on stdin until it closes."""
    for module in PRELOAD:
        __import__(module)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        with tempfile.TemporaryDirectory() as tmp:
            out_path, err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
            for path in (out_path, err_path):
                open(path, "w").close()
            pid = os.fork()
            if pid == 0:
                _child(request, out_path, err_path)
            returncode = _wait(pid, float(request["timeout_s"]))
            with open(out_path, errors="replace") as out, open(err_path, errors="replace") as err:
                answer = {"returncode": returncode, "stdout": out.read(), "stderr": err.read()}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    serve()

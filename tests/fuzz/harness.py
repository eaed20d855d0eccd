"""The fuzz suite's harness: run a verb in a subprocess and check what it promised on bad input.

A case is a verb run on one malformed input inside its own temporary folder. `run_case` runs
it as a user would (`python -m robopref ...` in a subprocess, cwd = the case folder) and
checks the promises of docs/robustness.md:

- exit code 2 (never 1, never a traceback), with one `error:` line on stderr that names the
  file (its name, or the record id) and the field at fault;
- nothing outside the case folder changed (a sentinel folder beside it is compared byte for
  byte), and inside it nothing changed except what the case lists as the output;
- no half-written output: an output path that was absent before is absent after, or an
  existing one is exactly as before; no temporary or staging leftovers anywhere.

Mutators make the malformed variants from a valid input: truncations, wrong types per field,
NaN/inf, empty, huge values, duplicate and hostile names, control characters.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLI_TIMEOUT_S = 180

LEFTOVER_MARKS = (".tmp", ".old", ".staging", ".partial")
"""Name fragments of temporary files and folders that a refused run must not leave behind."""


@dataclass(frozen=True)
class Case:
    """One malformed input and how the verb must refuse it."""

    name: str
    """Short id shown by pytest (`truncated@100`, `fps=str`)."""
    args: tuple[str, ...]
    """Command-line arguments after `robopref`, relative to the case folder."""
    file: str
    """A fragment the error line must contain to name the file (or record) at fault."""
    field: str
    """A fragment the error line must contain to name the field at fault."""
    outputs: tuple[str, ...] = ()
    """Paths (relative to the case folder) the verb would write; each must be untouched."""


@dataclass
class Outcome:
    """What a run did."""

    returncode: int
    stdout: str
    stderr: str
    changed: list[str] = field(default_factory=list)
    """Paths inside the case folder (or the sentinel) that differ from before."""


def run_cli(args: Sequence[str], *, cwd: Path, timeout_s: float = CLI_TIMEOUT_S) -> Outcome:
    """Run `robopref ARGS` in `cwd` in a new process and return its exit code and output.

    The process is forked from a warm CLI server (`cli_server.py`: the same CLI in a fresh
    child, without 0.4–4 s of imports per case); with ROBOPREF_FUZZ_FORK=0 it is a plain
    `python -m robopref` subprocess.
    """
    env = cli_env()
    if os.environ.get("ROBOPREF_FUZZ_FORK", "1") == "0":
        done = subprocess.run(
            [sys.executable, "-m", "robopref", *args],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False,
        )  # fmt: skip
        return Outcome(done.returncode, done.stdout, done.stderr)
    answer = _server().run({"args": list(args), "cwd": str(cwd), "env": env,
                            "timeout_s": timeout_s})  # fmt: skip
    return Outcome(answer["returncode"], answer["stdout"], answer["stderr"])


def cli_env() -> dict[str, str]:
    """The environment every case runs in (wide, colourless output; EGL for MuJoCo)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200", "NO_COLOR": "1"}
    env.setdefault("MUJOCO_GL", "egl")
    return env


class _CliServer:
    """The client side of `cli_server.py`: one server process per test process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("cli_server.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=cli_env(),
            text=True,
        )
        assert json.loads(self._line()) == {"ready": True}

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fuzz CLI server exited ({self.process.wait()})")
        return line

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._line())
        return answer


_SERVERS: dict[int, _CliServer] = {}


def _server() -> _CliServer:
    """This process's server, started on first use (and again if it died)."""
    server = _SERVERS.get(os.getpid())
    if server is None or server.process.poll() is not None:
        server = _SERVERS[os.getpid()] = _CliServer()
    return server


def snapshot(root: Path) -> dict[str, str]:
    """Relative path → content digest (files), `dir` (folders) or `link:<target>` (links)."""
    state: dict[str, str] = {}
    if not root.exists():
        return state
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in dirnames + filenames:
            path = base / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[rel] = f"link:{os.readlink(path)}"
            elif path.is_dir():
                state[rel] = "dir"
            else:
                state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def changed_paths(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Paths added, removed or modified between two snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def run_case(case: Case, case_dir: Path) -> Outcome:
    """Run `case` in `case_dir`; record what changed anywhere in its parent folder.

    The parent holds the case folder and the `sentinel` folder of the `fuzz_dir` fixture, so
    a write that escapes the case folder shows up, as does one at an absolute hostile path.
    """
    root = case_dir.parent
    before = snapshot(root)
    outcome = run_cli(case.args, cwd=case_dir)
    outcome.changed = changed_paths(before, snapshot(root))
    outcome.changed += [str(p) for p in Path(ABSOLUTE_HOSTILE).parent.glob("robopref-fuzz-*")]
    return outcome


def assert_refused(case: Case, outcome: Outcome) -> None:
    """The promises on bad input (module docstring), with a message that shows the run."""
    shown = f"robopref {' '.join(case.args)}\nexit {outcome.returncode}\n{outcome.stderr[-3000:]}"
    assert "Traceback" not in outcome.stderr, f"traceback instead of a clear error:\n{shown}"
    assert outcome.returncode == 2, f"expected exit 2:\n{shown}"
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
    assert errors, f"no 'error:' line:\n{shown}"
    message = errors[-1]
    assert case.file in message, f"error does not name the file {case.file!r}:\n{shown}"
    assert case.field in message, f"error does not name the field {case.field!r}:\n{shown}"
    assert not outcome.changed, f"changed {outcome.changed[:10]}:\n{shown}"


def leftovers(root: Path) -> list[str]:
    """Temporary or staging files and non-empty folders anywhere under `root`."""
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if any(mark in path.name for mark in LEFTOVER_MARKS)
        and not (path.is_dir() and not any(path.iterdir()))
    )


# --- mutators ---------------------------------------------------------------------------------


def truncations(data: bytes, count: int = 4) -> Iterator[tuple[str, bytes]]:
    """`data` cut at `count` offsets spread over its length (never the full length), and empty."""
    yield "empty", b""
    for i in range(1, count + 1):
        offset = len(data) * i // (count + 1)
        if 0 < offset < len(data):
            yield f"truncated@{offset}", data[:offset]


ABSOLUTE_HOSTILE = "/tmp/robopref-fuzz-escaped"
"""An absolute path used as a hostile name; nothing may ever be written there."""

HOSTILE_NAMES: tuple[tuple[str, str], ...] = (
    ("traversal", "../../escaped"),
    ("absolute", ABSOLUTE_HOSTILE),
    ("dotdot", ".."),
    ("empty", ""),
    ("control", "cam\x00era\x1b[31m"),
    ("newline", "a\nb"),
    ("long", "x" * 300),
    ("unicode", "caméra\u202e"),
    ("slash", "a/b"),
)
"""(label, name) pairs for every field that might become part of a path."""


def wrong_values(value: Any) -> Iterator[tuple[str, Any]]:
    """Values of the wrong type or out of range for a field whose valid value is `value`."""
    yield "null", None
    if not isinstance(value, str):
        yield "str", "ten"
    if not isinstance(value, list):
        yield "list", [1, 2]
    if not isinstance(value, dict):
        yield "dict", {"a": 1}
    if isinstance(value, bool):
        yield "int", 7
        return
    if isinstance(value, int | float):
        yield "zero", 0
        yield "negative", -1
        yield "nan", math.nan
        yield "inf", math.inf
        yield "huge", 10**30
    if isinstance(value, str):
        yield "int", 3
        yield "empty", ""
        yield "control", "bad\x00value"
        yield "huge", "y" * 100_000

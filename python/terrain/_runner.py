"""Runs the terrain program as a child process: its progress as a bar, its failure as a
`TerrainError`, Ctrl-C passed on as SIGINT so that it leaves a file the same call resumes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import List, Optional, Sequence

from ._program import find_program
from ._progress import ProgressDisplay, parse
from .errors import TerrainError

#: How long a stopped program may take to exit after SIGINT before it is killed. Every finished
#: point is already journaled, so a kill loses at most the points in flight.
_STOP_GRACE_SECONDS = 30.0


@dataclass
class Completed:
    """A finished run: its command line, standard output (the summary) and standard error."""
    command: List[str]
    stdout: str
    stderr: str


def error_message(stderr: str) -> str:
    """What the program said about its failure: its ``error: …`` line (a computation that
    failed), argument-parser's ``Error: …`` line (a refused option or request), or else the last
    lines that are not progress."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("error: ", "Error: "):
            if line.startswith(prefix):
                return line[len(prefix):].strip()
    rest = [line for line in lines if parse(line) is None]
    return "\n".join(rest[-3:]) if rest else "the terrain program failed without a message"


def run(arguments: Sequence[str], *, quiet: bool = False, program: Optional[str] = None,
        env: Optional[dict] = None) -> Completed:
    """Runs ``terrain ARGUMENTS…`` to the end.

    Standard error is read line by line as it comes: progress lines move the bar, other lines are
    shown as notes (both silenced by `quiet`). A non-zero exit raises `TerrainError` with the
    program's message. On KeyboardInterrupt the program gets SIGINT (as it would from Ctrl-C in a
    terminal; a Jupyter kernel's interrupt reaches only Python), is waited for, and the interrupt is
    raised again: the surface file and its journal then hold every finished point, and the same
    call resumes from them.
    """
    command = [program or find_program(), *map(str, arguments)]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, errors="replace",
                                   env={**os.environ, **(env or {})})
    except OSError as error:
        raise TerrainError(f"cannot run {command[0]}: {error}", command=command) from error

    # Standard output (the summary) is drained on a thread so that neither pipe can fill while
    # the other is read.
    stdout_parts: List[str] = []
    reader = threading.Thread(target=lambda: stdout_parts.append(process.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    display = ProgressDisplay(quiet=quiet)
    stderr_lines: List[str] = []
    failing = False
    try:
        assert process.stderr is not None
        for line in process.stderr:
            stderr_lines.append(line)
            # The failure and what follows it (argument-parser's usage lines) become the exception.
            failing = failing or _is_error_line(line)
            progress = parse(line)
            if progress is not None:
                display.update(progress)
            elif line.strip() and not failing:
                display.note(line.rstrip("\n"))
        returncode = process.wait()
    except KeyboardInterrupt:
        _stop(process)
        display.close()
        if not quiet:
            sys.stderr.write("terrain: stopped; a grid's finished points are kept, and the same call resumes from them\n")
        raise
    finally:
        display.close()
    reader.join()
    stdout = "".join(stdout_parts)
    stderr = "".join(stderr_lines)
    if returncode < 0:
        # Killed (the kernel's out-of-memory killer, a kill from outside): no message of its own.
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        raise TerrainError(f"the terrain program was killed by signal {name}", returncode=returncode, command=command,
                           stderr=stderr)
    if returncode != 0:
        raise TerrainError(error_message(stderr), returncode=returncode, command=command, stderr=stderr)
    return Completed(command=command, stdout=stdout, stderr=stderr)


def _is_error_line(line: str) -> bool:
    # The failure is raised as an exception; showing it as a note too would say it twice.
    return line.startswith("error: ") or line.startswith("Error: ")


def _stop(process: "subprocess.Popen[str]") -> None:
    """SIGINT, then a wait; SIGKILL if the program does not stop within the grace period."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=_STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except KeyboardInterrupt:
        # A second Ctrl-C while waiting: stop at once.
        process.kill()
        process.wait()

"""The exception every failure of the terrain program becomes."""
from __future__ import annotations

from typing import Optional, Sequence


class TerrainError(RuntimeError):
    """The terrain program failed, or could not be run.

    `message` is what the program said (its ``error: …`` line, or argument-parser's ``Error: …``
    for a refused option), `returncode` its exit status (1 for a failed computation, 64 for a
    usage error; None when it never ran), `command` the command line and `stderr` everything it
    wrote on standard error, progress lines included.
    """

    def __init__(self, message: str, *, returncode: Optional[int] = None,
                 command: Optional[Sequence[str]] = None, stderr: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.command = list(command) if command is not None else None
        self.stderr = stderr

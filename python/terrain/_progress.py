"""The program's progress lines shown as a progress bar: tqdm when it is installed, a plain line
otherwise.

When its standard error is not a terminal, the program prints a progress line every tenth of the
way (``ProgressBar`` in ``Sources/TerrainIO``)::

    surface 44/441  1520 img/s  eta 00:12

that is ``LABEL DONE/TOTAL  FIELDS  eta MM:SS``. `parse` reads such a line; every other line is a
note (which normalization was used, where a file went) or the error.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Optional

_LINE = re.compile(r"^(?P<label>.+?) (?P<done>\d+)/(?P<total>\d+)  (?P<fields>.*?)\s*eta (?P<eta>[-\d:]+)$")


# tqdm's bar without its own rate: the program's rate comes in the postfix.
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


@dataclass
class Progress:
    """One progress line of the program."""
    label: str
    done: int
    total: int
    fields: str
    eta: str


def parse(line: str) -> Optional[Progress]:
    """The progress a line reports, or None for any other line."""
    match = _LINE.match(line.rstrip("\n"))
    if not match:
        return None
    return Progress(match["label"], int(match["done"]), int(match["total"]), match["fields"].strip(), match["eta"])


class ProgressDisplay:
    """Shows progress lines: one bar per stage (a new label or total starts a new bar)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._bar: Any = None
        self._key: Optional[tuple] = None
        self._plain_open = False
        try:
            from tqdm.auto import tqdm  # type: ignore[import-not-found]
            self._tqdm: Any = tqdm
        except ImportError:
            self._tqdm = None

    def update(self, progress: Progress) -> None:
        if self.quiet:
            return
        key = (progress.label, progress.total)
        if key != self._key:
            self.close()
            self._key = key
            if self._tqdm is not None:
                # The program reports its own rate (points/s, HVP/s) in the postfix; tqdm's would
                # count the bursts in which the lines arrive, so it is left out of the bar.
                self._bar = self._tqdm(total=progress.total, desc=progress.label, leave=True,
                                       bar_format=BAR_FORMAT)
        if self._bar is not None:
            self._bar.n = progress.done
            self._bar.set_postfix_str(progress.fields, refresh=False)
            self._bar.refresh()
        else:
            self._plain(progress)

    def _plain(self, progress: Progress) -> None:
        percent = 100 * progress.done / max(progress.total, 1)
        text = f"{progress.label} {progress.done}/{progress.total} ({percent:.0f}%)  {progress.fields}  eta {progress.eta}"
        stream = sys.stderr
        if stream.isatty():
            # One line redrawn in place, as the program draws it on a terminal.
            stream.write("\r" + text + "\x1b[K")
            self._plain_open = True
        else:
            stream.write(text + "\n")
        stream.flush()

    def note(self, line: str) -> None:
        """A line of the program that is no progress (notes), shown as it is unless quiet."""
        if self.quiet:
            return
        self._end_plain_line()
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        else:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def _end_plain_line(self) -> None:
        if self._plain_open:
            sys.stderr.write("\n")
            self._plain_open = False

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._end_plain_line()
        self._key = None

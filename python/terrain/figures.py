"""Terrain's own figures (``terrain plot``) and its interactive viewer page (``terrain view``) as
objects a notebook shows."""
from __future__ import annotations

import base64
import numbers
import html
import os
import tempfile
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Union

from . import _runner
from ._typing import PathLike


class Figure:
    """One figure file written by ``terrain plot`` (PNG, SVG or PDF); Jupyter shows PNG and SVG."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".").lower()

    def _repr_png_(self) -> Optional[bytes]:
        return self.path.read_bytes() if self.format == "png" else None

    def _repr_svg_(self) -> Optional[str]:
        return self.path.read_text() if self.format == "svg" else None

    def _repr_html_(self) -> str:
        if self.format == "png":
            data = base64.b64encode(self.path.read_bytes()).decode("ascii")
            return f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.path.name)}"/>'
        if self.format == "svg":
            return self.path.read_text()
        return f"<code>{html.escape(str(self.path))}</code>"

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"Figure({str(self.path)!r})"


class Figures(List[Figure]):
    """The figures of one ``terrain plot`` call, shown one under the other in a notebook."""

    def _repr_html_(self) -> str:
        return "".join(f"<div><div><code>{html.escape(f.path.name)}</code></div>{f._repr_html_()}</div>" for f in self)

    @property
    def paths(self) -> List[Path]:
        return [f.path for f in self]


def plot(paths: Sequence[PathLike], *, kind: Union[str, Iterable[str], None] = None, format: Union[str, Iterable[str]] = "png",
         out: Optional[PathLike] = None, quantity: Optional[str] = None, quiet: bool = True, **options: object) -> Figures:
    """``terrain plot PATHS… --kind KIND --format FORMAT --out OUT`` and the figures it wrote.

    `paths`: surface or spectrum files, or run folders (a `Recorder`'s or ``terrain train``'s:
    the run's loss, accuracy and weight norm; ``compare=True`` overlays several runs).

    `kind`: 1d, contour, filled, heatmap, 3d, trajectory, eigen, spectrum or all (a list or a
    comma-separated string; None: every figure that fits). `quantity` keeps only the figures of one
    quantity (``train_loss``, ``test_acc``, …; the file names say which). Other keywords are
    ``terrain plot``'s options with ``_`` for ``-`` (``log="on"``, ``zmax=10``, ``compare=True``).
    """
    arguments: List[str] = ["plot", *map(str, paths)]
    if kind is not None:
        arguments += ["--kind", kind if isinstance(kind, str) else ",".join(kind)]
    arguments += ["--format", format if isinstance(format, str) else ",".join(format)]
    if out is not None:
        arguments += ["--out", str(out)]
    arguments += options_to_arguments(options)
    done = _runner.run(arguments, quiet=quiet)
    written = [line[len("written "):].strip() for line in done.stdout.splitlines() if line.startswith("written ")]
    figures = Figures(Figure(p) for p in written)
    if quantity is not None:
        figures = Figures(f for f in figures if f"_{quantity}_" in f.path.name or f.path.stem.endswith(f"_{quantity}"))
    return figures


def viewer_page(paths: Sequence[PathLike], *, quiet: bool = True, **options: object) -> str:
    """The self-contained page ``terrain view PATHS…`` writes (options: ``frames=True``,
    ``title=…``, ``labels=…``, ``quantity=…``, ``colormap=…``, ``log=…``), as text."""
    with tempfile.TemporaryDirectory(prefix="terrain-view-") as folder:
        page = os.path.join(folder, "view.html")
        _runner.run(["view", *map(str, paths), "--out", page, *options_to_arguments(options)], quiet=quiet)
        return Path(page).read_text(encoding="utf-8")


def inline_frame(page: str, height: int = 760) -> str:
    """The page in a sandboxed iframe (``srcdoc``): its scripts run, but it cannot reach the
    notebook, its cookies or the network beyond what the page itself allows (nothing)."""
    return (f'<iframe sandbox="allow-scripts" srcdoc="{html.escape(page, quote=True)}" '
            f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe>')


def options_to_arguments(options: "dict[str, object]") -> List[str]:
    """Keyword options as command-line options: ``max_iterations=50`` → ``--max-iterations 50``,
    ``trace=True`` → ``--trace``, False and None left out, lists joined by commas, ranges
    ``(min, max, num)`` → ``min:max:num`` (``(min, max)`` → ``min:max``)."""
    arguments: List[str] = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            arguments.append(flag)
        elif isinstance(value, tuple) and all(isinstance(v, numbers.Real) for v in value):
            arguments.append(f"{flag}={':'.join(_number(v) for v in value)}")
        elif isinstance(value, (list, tuple)):
            arguments += [flag, ",".join(str(v) for v in value)]
        else:
            # `--x=-1:1:5`: the = keeps a leading minus from reading as an option.
            arguments.append(f"{flag}={value}")
    return arguments


def _number(value: Union[int, float]) -> str:
    return str(int(value)) if isinstance(value, numbers.Integral) else repr(float(value))

"""Every file Terrain writes, read back as an object with NumPy arrays and the file's metadata.

`load(path)` picks the class from what the file holds:

- `Surface`: ``terrain surface`` (1D or 2D), ``interpolate``, ``plane``, ``trajectory`` and a
  ``hessian-map``'s convexity map (``max_eig``, ``min_eig``): ``.x``, ``.y`` (None in 1D),
  ``.train_loss``, ``.train_acc``, ``.test_loss``, ``.test_acc`` shaped ``(len(y), len(x))`` as in
  the file, the path of a trajectory (``.path_x``, ``.path_y``, …), a sampled surface's
  (``--data-tolerance``) ``.train_loss_stderr`` and ``.train_loss_samples`` (``test_*`` too);
  groups as nested dicts:
  ``terrain analyze``'s ``.analysis["train_loss"]``, an ensemble's (``--repeats``)
  ``.repeats["mean"]["train_loss"]``, ``.repeats["std"]…``, ``.repeats["1"]…`` (member 1) and
  ``.repeats["attrs"]`` (``kind``, ``members``, ``seeds``);
- `Stack`: ``terrain evolve``, every quantity shaped ``(frames, len(y), len(x))`` with the
  frames' checkpoints and numbers (``.frame_checkpoint``, ``.frame_epoch``, …);
- `Spectrum`: ``terrain hessian --out``: ``.eigenvalues``, ``.residuals``, ``.trace``,
  ``.density_x``, ``.density``;
- `Directions`: a direction file (``S.directions.h5``, ``hessian --eigenvectors``): ``.x`` and
  ``.y``, one array per parameter tensor in the model's order;
- `Projection`: ``trajectory``'s ``OUT.projection.h5`` (``.proj_xcoord``, ``.proj_ycoord``);
- `Sharpness`: the CSV of ``terrain sharpness --csv``: one row per checkpoint; `Table`: another
  CSV (a run's ``metrics.csv``, ``iterations.csv``);
- `Export`: ``terrain export``'s ``.npz`` and ``.csv`` (the grid and its quantities);
- `Checkpoint`: a ``.safetensors`` file (``.tensors`` by state_dict name, metadata);
- `Run`: a run folder (run.json, metrics, the checkpoints' paths).

Metadata are the file's ``terrain.*`` attributes without the prefix, dots made underscores
(``terrain.direction_cosine`` → ``.direction_cosine``, ``terrain.adaptive.levels`` →
``.adaptive_levels``); all of them, as stored, are in ``.attrs``. Unfinished points are NaN and
diverged ones +inf, as in the file (a NaN computed as NaN has its sign bit set: ``np.signbit``).
"""
from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from . import figures as _figures
from ._typing import PathLike


#: The quantities a grid may hold, in the order the program writes them.
QUANTITIES = ("train_loss", "train_acc", "test_loss", "test_acc", "train_perplexity", "test_perplexity",
              "max_eig", "min_eig")


def _plain(value: Any) -> Any:
    """An HDF5 attribute or scalar dataset as a plain Python value."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _plain(value[()])
    if isinstance(value, np.generic):
        return value.item()
    return value


def _metadata_name(attribute: str) -> str:
    name = attribute[len("terrain."):] if attribute.startswith("terrain.") else attribute
    return name.replace(".", "_")


class Result:
    """A file written by Terrain: its datasets as NumPy arrays (by name, as attributes), its
    metadata (``terrain.*`` attributes, by name without the prefix) and its path."""

    def __init__(self, path: PathLike, datasets: Dict[str, Any], attrs: Dict[str, Any]) -> None:
        self.path = Path(path)
        self.datasets = datasets
        self.attrs = attrs
        self.metadata = {_metadata_name(k): v for k, v in attrs.items()}
        self.log = ""
        self._page: Optional[str] = None

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not real attributes: datasets first, then metadata.
        if name.startswith("__") or name in ("datasets", "metadata", "attrs"):
            raise AttributeError(name)
        if name in self.datasets:
            return self.datasets[name]
        if name in self.metadata:
            return self.metadata[name]
        raise AttributeError(f"{type(self).__name__} of {self.path.name} has no dataset or metadata {name!r}")

    def __dir__(self) -> Iterable[str]:
        return sorted(set(super().__dir__()) | set(self.datasets) | set(self.metadata))

    def __repr__(self) -> str:
        arrays = ", ".join(f"{k}{list(np.shape(v))}" for k, v in self.datasets.items() if isinstance(v, np.ndarray))
        return f"{type(self).__name__}({str(self.path)!r}: {arrays})"

    # Figures and the viewer

    def figure(self, kind: Union[str, Sequence[str], None] = None, *, format: Union[str, Sequence[str]] = "png",
               out: Optional[PathLike] = None, quantity: Optional[str] = None, **options: Any) -> _figures.Figures:
        """Terrain's own figures of this file (``terrain plot``), written beside it or into `out`:
        `kind` is 1d, contour, filled, heatmap, 3d, trajectory, eigen, spectrum or all (None: every
        figure that fits), `format` png, svg or pdf (or several), `quantity` keeps one quantity's
        figures; other keywords are ``terrain plot``'s options (``log="on"``, ``zmax=10``,
        ``colormap="magma"``, ``azimuth=30``, ``vmin``/``vmax``/``vlevel``)."""
        return _figures.plot([self.path], kind=kind, format=format, out=out, quantity=quantity, **options)

    def viewer(self, **options: Any) -> str:
        """The interactive viewer page of this file (``terrain view``: one self-contained HTML
        file), as text; options as ``terrain view``'s (``quantity``, ``colormap``, ``log``)."""
        if options:
            return _figures.viewer_page([self.path], **options)
        if self._page is None:
            self._page = _figures.viewer_page([self.path])
        return self._page

    def save_viewer(self, out: PathLike, **options: Any) -> Path:
        """Writes the viewer page to `out` and returns its path."""
        Path(out).write_text(self.viewer(**options), encoding="utf-8")
        return Path(out)

    def _repr_html_(self) -> str:
        return _figures.inline_frame(self.viewer())


class _OnGrid(Result):
    """What every file of values on an α (and β) grid has: its x coordinates and losses."""

    @property
    def x(self) -> np.ndarray:
        """The x (α) coordinates."""
        return self.datasets["xcoordinates"]

    @property
    def train_loss(self) -> np.ndarray:
        return self.datasets["train_loss"]

    @property
    def test_loss(self) -> np.ndarray:
        return self.datasets["test_loss"]


class Surface(_OnGrid):
    """A loss surface on a 1D or 2D grid: ``surface``, ``interpolate``, ``plane``, ``trajectory``
    and convexity maps (``hessian-map``)."""

    @property
    def y(self) -> Optional[np.ndarray]:
        """The y (β) coordinates, None for a 1D surface or an interpolation."""
        return self.datasets.get("ycoordinates")

    @property
    def is_2d(self) -> bool:
        return self.y is not None

    @property
    def quantities(self) -> List[str]:
        """The quantities the file holds (``train_loss``, ``test_acc``, ``max_eig``, …)."""
        return [q for q in QUANTITIES if q in self.datasets]

    @property
    def kind(self) -> str:
        """What wrote the file: surface, interpolation, plane, trajectory, convexity, or for
        `terrain connect` connect (the curve and the line beside it, 1D) and connect-plane (the
        plane through both ends and the bend)."""
        a = self.metadata
        if a.get("kind") == "pca-trajectory":
            return "trajectory"
        if a.get("kind") == "connect":
            return "connect-plane" if self.is_2d else "connect"
        if "max_eig" in self.datasets:
            return "convexity"
        if "from" in a and "to" in a:
            return "interpolation"
        if "a" in a and "b" in a and "c" in a:
            return "plane"
        return "surface"

    @property
    def train_acc(self) -> np.ndarray:
        return self.datasets["train_acc"]

    @property
    def test_acc(self) -> np.ndarray:
        return self.datasets["test_acc"]

    @property
    def direction_file(self) -> Optional[Path]:
        """The direction file the surface names (``dir_file``), relative to the surface's folder
        when it was written relative to it; None when it names none."""
        name = self.datasets.get("dir_file")
        if not name:
            return None
        candidate = Path(name)
        if candidate.is_absolute() or candidate.exists():
            return candidate
        beside = self.path.parent / candidate.name
        return beside if beside.exists() else candidate

    @property
    def directions(self) -> "Directions":
        """The surface's direction file, read."""
        path = self.direction_file
        if path is None:
            raise ValueError(f"{self.path} names no direction file")
        result = load(path)
        assert isinstance(result, Directions)
        return result

    def plot(self, ax: Any = None, quantity: str = "train_loss", **options: Any) -> Any:
        """The surface drawn with matplotlib on `ax` (a new figure's axes by default): a curve in
        1D (with the test set's, dashed, when the file has one), filled contours on a log scale
        in 2D with the trajectory's path when the file holds one. Returns the axes."""
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        values = np.asarray(self.datasets[quantity], dtype=float)
        if not self.is_2d:
            ax.plot(self.x, values, label=quantity, **options)
            other = quantity.replace("train_", "test_") if quantity.startswith("train_") else None
            if other and other in self.datasets:
                ax.plot(self.x, self.datasets[other], "--", label=other)
            ax.set_xlabel("α")
            ax.set_ylabel(quantity)
            ax.legend()
            return ax
        finite = values[np.isfinite(values)]
        levels: Any = 20
        if quantity.endswith("loss") and finite.size and finite.min() > 0 and finite.max() > finite.min():
            levels = np.geomspace(finite.min(), finite.max(), 20)
            options.setdefault("norm", _log_norm())
        filled = ax.contourf(self.x, self.y, np.ma.masked_invalid(values), levels=levels, **options)
        ax.figure.colorbar(filled, ax=ax, label=quantity)
        if "path_x" in self.datasets:
            ax.plot(self.datasets["path_x"], self.datasets["path_y"], "w.-", markersize=3)
        ax.set_xlabel("α")
        ax.set_ylabel("β")
        return ax


class Stack(_OnGrid):
    """``terrain evolve``: a surface per checkpoint of a run, quantities shaped (frames, ny, nx)."""

    @property
    def y(self) -> np.ndarray:
        return self.datasets["ycoordinates"]

    @property
    def frames(self) -> int:
        return int(np.shape(self.datasets["train_loss"])[0])

    @property
    def mode(self) -> str:
        """riding or fixed-pca."""
        return str(self.attrs.get("terrain.evolve.mode", ""))

    def animate(self, out: PathLike, **options: Any) -> Path:
        """``terrain animate`` into `out` (GIF; MP4/WebM through ffmpeg): options as the command's
        (``view="3d"``, ``fps=2``)."""
        from . import _runner
        _runner.run(["animate", str(self.path), "--out", str(out), *_figures.options_to_arguments(options)], quiet=True)
        return Path(out)

    def plot(self, ax: Any = None, frame: int = -1, quantity: str = "train_loss", **options: Any) -> Any:
        """One frame's filled contours with matplotlib (the last by default)."""
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        values = np.ma.masked_invalid(np.asarray(self.datasets[quantity][frame], dtype=float))
        filled = ax.contourf(self.x, self.y, values, levels=20, **options)
        ax.figure.colorbar(filled, ax=ax, label=quantity)
        ax.set_title(f"frame {range(self.frames)[frame]}: epoch {self.datasets['frame_epoch'][frame]:g}")
        return ax


class Spectrum(Result):
    """``terrain hessian --out``: extreme eigenvalues (descending), residuals, trace and density."""

    @property
    def eigenvalues(self) -> np.ndarray:
        return self.datasets["eigenvalues"]

    @property
    def trace(self) -> Optional[float]:
        value = self.datasets.get("trace")
        return None if value is None else float(value)

    def _repr_html_(self) -> str:
        # No viewer for a spectrum: its numbers, and Terrain's density figure when it has one.
        rows = "".join(f"<tr><td>{v:.6g}</td><td>{r:.3g}</td></tr>"
                       for v, r in zip(self.eigenvalues, self.datasets.get("residuals", [float("nan")] * len(self.eigenvalues))))
        text = f"<table><tr><th>eigenvalue</th><th>residual</th></tr>{rows}</table>"
        if self.trace is not None:
            text += f"<p>trace {self.trace:.6g} ± {float(self.datasets.get('trace_standard_error', float('nan'))):.3g}</p>"
        if "density" in self.datasets:
            text += self.figure()._repr_html_()
        return text

    def plot(self, ax: Any = None, **options: Any) -> Any:
        """The spectral density (log scale) with the eigenvalues marked."""
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        if "density" in self.datasets:
            ax.semilogy(self.datasets["density_x"], np.maximum(self.datasets["density"], 1e-12), **options)
        for value in self.eigenvalues:
            ax.axvline(value, color="red", linewidth=0.5)
        ax.set_xlabel("eigenvalue")
        ax.set_ylabel("density")
        return ax


class Directions(Result):
    """A direction file: ``xdirection/0…`` and ``ydirection/0…``, one array per parameter tensor
    (the model's order; with ``dir_type`` states every state_dict entry)."""

    @property
    def x(self) -> List[np.ndarray]:
        return self.datasets["xdirection"]

    @property
    def y(self) -> List[np.ndarray]:
        return self.datasets.get("ydirection", [])

    def _repr_html_(self) -> str:
        return f"<pre>{repr(self)}</pre>"

    def __repr__(self) -> str:
        return f"Directions({str(self.path)!r}: {len(self.x)} tensors, {sum(a.size for a in self.x)} values)"


class Projection(Result):
    """``trajectory``'s ``OUT.projection.h5``: the path on the PCA plane."""

    def _repr_html_(self) -> str:
        return f"<pre>{repr(self)}</pre>"


class Table(Result):
    """A CSV file Terrain writes: a run's ``metrics.csv`` and ``iterations.csv``, or
    ``terrain sharpness --csv``. Columns as NumPy arrays (text columns as lists) by name, and
    ``.rows`` as dicts."""

    def __init__(self, path: PathLike, rows: List[Dict[str, Any]]) -> None:
        columns: Dict[str, Any] = {}
        for name in (rows[0].keys() if rows else []):
            values = [row[name] for row in rows]
            columns[name] = np.array(values, dtype=float) if all(isinstance(v, float) for v in values) else values
        super().__init__(path, columns, {})
        self.rows = rows

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<p>no rows</p>"
        head = "".join(f"<th>{k}</th>" for k in self.rows[0])
        body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row.values()) + "</tr>" for row in self.rows)
        return f"<table><tr>{head}</tr>{body}</table>"


class Sharpness(Table):
    """``terrain sharpness --csv``: a row per checkpoint (``.loss``, ``.epsilon_sharpness``,
    ``.loss_increase_mean``, ``.lambda_max``, …)."""


class Export(Surface):
    """A surface exported by ``terrain export`` as ``.npz`` or ``.csv``: its grid and quantities
    (no metadata, no direction file; the viewer and figures need the HDF5 file)."""

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


class Checkpoint(Result):
    """A checkpoint (safetensors): ``.tensors`` by state_dict name as NumPy arrays, and the
    metadata (``terrain.epoch`` → ``.epoch``, ``terrain.model``, …)."""

    def __init__(self, path: PathLike, tensors: Dict[str, np.ndarray], metadata: Dict[str, str]) -> None:
        super().__init__(path, {}, dict(metadata))
        self.tensors = tensors

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r}: {len(self.tensors)} tensors, {sum(t.size for t in self.tensors.values())} values)"


class Run:
    """A run folder (``terrain train``'s, or a `terrain.Recorder`'s): ``.record`` (run.json),
    ``.metrics`` and ``.iterations`` (the CSV files, as `Table`), ``.checkpoints`` (the paths
    run.json lists, in training order, final.safetensors last) and ``.path``."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.record: Dict[str, Any] = json.loads((self.path / "run.json").read_text())
        self.checkpoints = [self.path / entry["file"] for entry in self.record.get("checkpoints", [])]
        self.metrics = Table(self.path / "metrics.csv", _read_csv(self.path / "metrics.csv")) \
            if (self.path / "metrics.csv").exists() else None
        self.iterations = Table(self.path / "iterations.csv", _read_csv(self.path / "iterations.csv")) \
            if (self.path / "iterations.csv").exists() else None

    def checkpoint(self, index: int = -1) -> Checkpoint:
        """A checkpoint of the run, read (the last by default)."""
        result = load(self.checkpoints[index])
        assert isinstance(result, Checkpoint)
        return result

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}: {len(self.checkpoints)} checkpoints)"

    def _repr_html_(self) -> str:
        parts = [f"<p><code>{html.escape(str(self.path))}</code>: {len(self.checkpoints)} checkpoints</p>"]
        if self.metrics is not None:
            parts.append(self.metrics._repr_html_())
        return "".join(parts)


def _cell(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt  # type: ignore[import-not-found]
    except ImportError as error:
        raise ImportError("plot() draws with matplotlib, which is not installed; figure() draws Terrain's own figures") from error
    return plt


def _log_norm() -> Any:
    from matplotlib.colors import LogNorm  # type: ignore[import-not-found]
    return LogNorm()


def _read_hdf5(path: Path) -> "tuple[Dict[str, Any], Dict[str, Any]]":
    import h5py
    datasets: Dict[str, Any] = {}
    with h5py.File(path, "r") as file:
        attrs = {k: _plain(v) for k, v in file.attrs.items()}
        for name, item in file.items():
            datasets[name] = _read_item(item)
    return datasets, attrs


def _read_item(item: Any) -> Any:
    """A dataset as an array (a scalar as a number, strings as a list), a group of numbered
    datasets (xdirection/0, xdirection/1, …) as a list in index order, and any other group
    (``repeats/0/train_loss``, ``repeats/mean/…``, ``analysis/train_loss/…``) as a dict by name,
    its attributes under ``"attrs"`` unless a member has that name."""
    import h5py
    if isinstance(item, h5py.Group):
        if all(k.isdigit() and not isinstance(item[k], h5py.Group) for k in item.keys()):
            keys = sorted(item.keys(), key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
            return [np.asarray(item[k][()]) for k in keys]
        group = {k: _read_item(child) for k, child in item.items()}
        group.setdefault("attrs", {k: _plain(v) for k, v in item.attrs.items()})
        return group
    if item.shape == ():
        return _plain(item[()])
    if item.dtype.kind == "O" or item.dtype.kind == "S":
        return [_plain(v) for v in item[()]]
    return np.asarray(item[()])


def _read_csv(path: Path) -> List[Dict[str, Any]]:
    rows = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append({k: _number_or_text(v) for k, v in row.items()})
    return rows


def _number_or_text(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _export_csv(path: Path, rows: List[Dict[str, Any]]) -> Export:
    """``terrain export S.h5 S.csv``: a row per grid point, x fastest (then y), as the grid."""
    xs = sorted({row["x"] for row in rows})
    datasets: Dict[str, Any] = {"xcoordinates": np.array(xs, dtype=float)}
    shape: "tuple[int, ...]" = (len(xs),)
    if rows and "y" in rows[0]:
        ys = sorted({row["y"] for row in rows})
        datasets["ycoordinates"] = np.array(ys, dtype=float)
        shape = (len(ys), len(xs))
    for name in rows[0]:
        if name not in ("x", "y"):
            datasets[name] = np.array([row[name] for row in rows], dtype=float).reshape(shape)
    return Export(path, datasets, {})


def load(path: PathLike) -> Union[Result, Run]:
    """Reads any file Terrain writes (see the module's documentation for what each becomes);
    also ``terrain export``'s ``.npz`` and ``.csv``, checkpoints (``.safetensors``) and run
    folders (`Run`)."""
    path = Path(path)
    if path.is_dir():
        return Run(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv(path)
        columns = list(rows[0]) if rows else []
        if columns[:1] == ["x"]:
            return _export_csv(path, rows)
        return Sharpness(path, rows) if "epsilon_sharpness" in columns else Table(path, rows)
    if suffix == ".npz":
        with np.load(path) as archive:
            return Export(path, {k: archive[k] for k in archive.files}, {})
    if suffix == ".safetensors":
        from . import _safetensors
        tensors, metadata = _safetensors.read(path)
        return Checkpoint(path, tensors, metadata)
    datasets, attrs = _read_hdf5(path)
    if "eigenvalues" in datasets:
        return Spectrum(path, datasets, attrs)
    if "xdirection" in datasets:
        return Directions(path, datasets, attrs)
    if "proj_xcoord" in datasets:
        return Projection(path, datasets, attrs)
    if "frame_checkpoint" in datasets:
        return Stack(path, datasets, attrs)
    if "xcoordinates" in datasets:
        return Surface(path, datasets, attrs)
    raise ValueError(f"{path} is not a file Terrain writes (no xcoordinates, eigenvalues, xdirection or proj_xcoord)")

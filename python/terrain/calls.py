"""The landscape commands as Python calls. Each prepares the model and data files the program
reads, runs the command (progress shown unless ``quiet=True``), and returns its file, read.

Keyword names follow the command-line options with ``_`` for ``-``: ``batch_size=500`` is
``--batch-size 500``, ``orthogonalize=True`` is ``--orthogonalize``, a range ``(-1, 1, 51)`` is
``-1:1:51``. Options not named in a call's signature pass through the same way (``threads=2``,
``subset_seed=1``, ``spread="layers"``, ``cubic=True``, ``overwrite=True``), so every option of
the command is reachable.

Files: `out` is the command's output (its default name, as the program's, in the working folder
when not given); a ``torch.nn.Module`` is exported beside it as ``OUT.model.onnx`` and array or
PyTorch data are written as ``OUT.data.npz``, so that the same call after an interruption finds
the same files and resumes.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

from . import _data, _models, _runner, _safetensors
from .errors import TerrainError
from .figures import options_to_arguments
from .results import Result, Sharpness, Spectrum, Stack, Surface, load
from ._typing import PathLike, Range


def _stem(out: Path) -> Path:
    return out.with_suffix("") if out.suffix.lower() in (".h5", ".hdf5", ".csv") else out


def _prepare_data(data: Any, subset: Optional[int], out: Path) -> Tuple[_data.PreparedData, List[str]]:
    """The data's options, and ``--subset`` unless the data were already cut to it here."""
    prepared = _data.prepare(data, subset=subset, npz_path=Path(f"{_stem(out)}.data.npz"))
    subset_options = ["--subset", str(subset)] if subset is not None and not prepared.subset_applied else []
    return prepared, prepared.arguments + subset_options


def _prepare_model(model: Any, example: Any, out: Path, name: str = "model", *, architecture: Optional[str] = None,
                   opset: int = _models.DEFAULT_OPSET) -> _models.PreparedModel:
    stem = _stem(out)
    return _models.prepare(model, architecture=architecture, example=example, onnx_path=Path(f"{stem}.{name}.onnx"),
                           checkpoint_path=Path(f"{stem}.{name}.safetensors"), opset=opset)


def _finish(arguments: List[str], out: Path, quiet: bool) -> Result:
    try:
        done = _runner.run(arguments, quiet=quiet)
    except TerrainError as error:
        if "--overwrite" in error.message or "--out" in error.message:
            # The program names its options; a Python caller gives them as keywords.
            raise TerrainError(error.message + " (from Python: overwrite=True, or another out=)", returncode=error.returncode,
                               command=error.command, stderr=error.stderr) from None
        raise
    result = load(out)
    result.log = done.stdout
    return result


def _per_axis(name: str, shared: Optional[str], own: "dict[str, Optional[str]]", axes: Sequence[str]) -> List[str]:
    """``--xNAME``/``--yNAME`` for the grid's axes: each axis's own value, else the shared one
    (``norm=``, ``ignore=``)."""
    options: List[str] = []
    for axis in axes:
        chosen = own[axis] if own[axis] is not None else shared
        if chosen is not None:
            options += [f"--{axis}{name}", str(chosen)]
    return options


def surface(model: Any, data: Any = None, *, x: Range = (-1, 1, 51), y: Optional[Range] = (-1, 1, 51),
            xnorm: Optional[str] = None, ynorm: Optional[str] = None, norm: Optional[str] = "filter",
            xignore: Optional[str] = None, yignore: Optional[str] = None, ignore: Optional[str] = "biasbn",
            dir_type: str = "weights", seed: int = 123, directions: Optional[PathLike] = None, subset: Optional[int] = None,
            architecture: Optional[str] = None, sample: Any = None, out: PathLike = "surface.h5",
            opset: int = _models.DEFAULT_OPSET, quiet: bool = False, **options: Any) -> Surface:
    """``terrain surface``: the loss L(θ + αδ + βη) on the grid `x` × `y` (``y=None``: a 1D
    curve) around `model`, along seeded Gaussian directions normalized by `norm` (``filter``,
    ``layer``, ``weight``, ``dfilter``, ``dlayer``, ``none``; `xnorm`/`ynorm` per axis) with
    `ignore` (``biasbn``: zero on biases and BN; ``none``), or along the directions of a file.

    `model`: a ``torch.nn.Module`` (exported to ONNX, evaluation mode), a state_dict or its path
    with its zoo `architecture`, a Terrain checkpoint or an ONNX file. `data`: ``(x, y)``, a torch
    ``Dataset`` or ``DataLoader`` (its first `subset` samples), a data set name or path, or the
    sets of a checkpoint's own data (``"train,test"``). `sample`: an example input batch for the
    export when the data are not arrays. Returns the surface file, read (`Surface`).
    """
    out_path = Path(out)
    prepared_data, data_options = _prepare_data(data, subset, out_path)
    model_file = _prepare_model(model, sample if sample is not None else prepared_data.example, out_path,
                                architecture=architecture, opset=opset)
    arguments = ["surface", *model_file.options(), *data_options, *options_to_arguments({"x": tuple(x)})]
    if y is not None:
        arguments += options_to_arguments({"y": tuple(y)})
    axes = ("x", "y") if y is not None else ("x",)
    arguments += _per_axis("norm", norm, {"x": xnorm, "y": ynorm}, axes)
    arguments += _per_axis("ignore", ignore, {"x": xignore, "y": yignore}, axes)
    arguments += ["--dir-type", dir_type, "--seed", str(seed), "--out", str(out_path)]
    if directions is not None:
        arguments += ["--directions", str(directions)]
    arguments += options_to_arguments(options)
    result = _finish(arguments, out_path, quiet)
    assert isinstance(result, Surface)
    return result


def _model_list(models: Sequence[Any], example: Any, out: Path, architecture: Optional[str], opset: int,
                names: Sequence[str]) -> List[_models.PreparedModel]:
    prepared = [_prepare_model(m, example, out, name, architecture=architecture, opset=opset) for m, name in zip(models, names)]
    kinds = {p.is_onnx for p in prepared}
    if len(kinds) > 1:
        raise ValueError("the models must all be ONNX (torch.nn.Modules or .onnx files) or all checkpoints")
    return prepared


def interpolate(a: Any, b: Any, data: Any = None, *, steps: int = 101, range: Tuple[float, float] = (0, 1),
                dir_type: str = "states", subset: Optional[int] = None, architecture: Optional[str] = None, sample: Any = None,
                out: PathLike = "interpolation.h5", opset: int = _models.DEFAULT_OPSET, quiet: bool = False,
                **options: Any) -> Surface:
    """``terrain interpolate``: the loss along θ(α) = (1 − α)·θA + α·θB for α in `range`
    (`steps` points; extrapolation allowed), BN's running statistics too with ``dir_type="states"``.
    `a` and `b`: two models of one architecture (modules, checkpoints or ONNX files)."""
    out_path = Path(out)
    prepared_data, data_options = _prepare_data(data, subset, out_path)
    example = sample if sample is not None else prepared_data.example
    files = _model_list([a, b], example, out_path, architecture, opset, ["a", "b"])
    arguments = ["interpolate", files[0].path, files[1].path, *data_options,
                 *(["--model", architecture] if architecture and not files[0].is_onnx else []),
                 "--steps", str(steps), *options_to_arguments({"range": tuple(range)}), "--dir-type", dir_type,
                 "--out", str(out_path), *options_to_arguments(options)]
    result = _finish(arguments, out_path, quiet)
    assert isinstance(result, Surface)
    return result


def plane(a: Any, b: Any, c: Any, data: Any = None, *, x: Range = (-0.5, 1.5, 21), y: Range = (-0.5, 1.5, 21),
          dir_type: str = "states", subset: Optional[int] = None, architecture: Optional[str] = None, sample: Any = None,
          out: PathLike = "plane.h5", opset: int = _models.DEFAULT_OPSET, quiet: bool = False, **options: Any) -> Surface:
    """``terrain plane``: the loss on θ = θA + α·(θB − θA) + β·(θC − θA)."""
    out_path = Path(out)
    prepared_data, data_options = _prepare_data(data, subset, out_path)
    example = sample if sample is not None else prepared_data.example
    files = _model_list([a, b, c], example, out_path, architecture, opset, ["a", "b", "c"])
    arguments = ["plane", *(f.path for f in files), *data_options,
                 *(["--model", architecture] if architecture and not files[0].is_onnx else []),
                 *options_to_arguments({"x": tuple(x), "y": tuple(y)}), "--dir-type", dir_type,
                 "--out", str(out_path), *options_to_arguments(options)]
    result = _finish(arguments, out_path, quiet)
    assert isinstance(result, Surface)
    return result


def _run_folder(run_or_checkpoints: Any, out: Path, model: Any, example: Any, opset: int) -> Tuple[Path, Optional[str]]:
    """A run folder for `trajectory`/`evolve`, and the zoo architecture its run.json records.

    A folder is used as it is; with a ``torch.nn.Module`` `model` and no ONNX graph named in its
    run.json, the module is exported into it and named there. A list of checkpoints (paths,
    state_dicts or modules, in training order) becomes the folder ``OUT.run``: links to the files
    (or the state_dicts saved), the last one as final.safetensors.
    """
    if isinstance(run_or_checkpoints, (str, os.PathLike)):
        folder = Path(run_or_checkpoints)
    else:
        folder = Path(f"{_stem(out)}.run")
        checkpoints = folder / "checkpoints"
        if checkpoints.exists():
            shutil.rmtree(checkpoints)
        checkpoints.mkdir(parents=True)
        entries = []
        items = list(run_or_checkpoints)
        if len(items) < 2:
            raise ValueError("a trajectory needs at least two checkpoints")
        for index, item in enumerate(items):
            name = f"checkpoints/iter-{index:08d}.safetensors"
            if isinstance(item, (str, os.PathLike)):
                os.symlink(os.path.abspath(os.fspath(item)), folder / name)
            else:
                _safetensors.write(folder / name, _models.state_dict_of(item))
            entries.append({"epoch": index, "file": name, "iteration": index})
        final = folder / "final.safetensors"
        if final.exists() or final.is_symlink():
            final.unlink()
        os.symlink(os.path.abspath(folder / entries[-1]["file"]), final)
        record = {"checkpoints": entries, "learning_rate_changes": [], "config": {"recorder": "terrain (Python)"}}
        (folder / "run.json").write_text(json.dumps(record, indent=2))
        if model is None and _models.is_torch_module(items[-1]):
            model = items[-1]  # a list of modules: the last one is the network, at the final weights
    run_json = folder / "run.json"
    record = json.loads(run_json.read_text()) if run_json.exists() else {}
    if model is not None and _models.is_torch_module(model) and "onnx" not in record:
        if example is None:
            raise ValueError("exporting the model needs an example input: pass the data as arrays, a Dataset or a DataLoader")
        _models.export_onnx(model, example, folder / "model.onnx", opset)
        record["onnx"] = "model.onnx"
        run_json.write_text(json.dumps(record, indent=2, sort_keys=True))
    description = (record.get("model") or {}).get("description")
    return folder, description


def trajectory(run_or_checkpoints: Any, data: Any = None, *, steps: int = 21, margin: float = 0.15, dir_type: str = "weights",
               ignore: str = "biasbn", subset: Optional[int] = None, model: Any = None, architecture: Optional[str] = None,
               out: PathLike = "trajectory.h5", opset: int = _models.DEFAULT_OPSET, quiet: bool = False,
               **options: Any) -> Surface:
    """``terrain trajectory``: the PCA of a run's checkpoints, the path on the plane of the top
    two components and the loss surface there (`steps` points a side, `margin` around the path).

    `run_or_checkpoints`: a run folder (``terrain train``'s, or a `Recorder`'s) or a list of
    checkpoints in training order (paths, state_dicts or modules). The network: the run's ONNX
    graph (a Recorder with ``example=``), its zoo `architecture` (read from a Recorder's run.json
    when not given), or `model`, a ``torch.nn.Module`` exported into the run folder."""
    out_path = Path(out)
    prepared_data, data_options = _prepare_data(data, subset, out_path)
    folder, recorded = _run_folder(run_or_checkpoints, out_path, model, prepared_data.example, opset)
    architecture = architecture or recorded
    arguments = ["trajectory", "--run", str(folder), *data_options, *(["--model", architecture] if architecture else []),
                 "--steps", str(steps), "--margin", str(margin), "--dir-type", dir_type, "--ignore", ignore,
                 "--out", str(out_path), *options_to_arguments(options)]
    result = _finish(arguments, out_path, quiet)
    assert isinstance(result, Surface)
    return result


def evolve(run: Any, data: Any = None, *, mode: str = "riding", x: Optional[Range] = None, y: Optional[Range] = None,
           frames: str = "all", max_frames: int = 0, subset: Optional[int] = None, model: Any = None,
           architecture: Optional[str] = None, out: PathLike = "evolve.h5", opset: int = _models.DEFAULT_OPSET,
           quiet: bool = False, **options: Any) -> Stack:
    """``terrain evolve``: a surface per checkpoint of a run in one file (`Stack`), riding with
    the minimizer (``mode="riding"``, directions normalized to each checkpoint) or on one PCA
    plane (``mode="fixed-pca"``). Run and network as for `trajectory`; other options as the
    command's (``xnorm``, ``seed``, ``steps``, ``margin``, ``orthogonalize``, …)."""
    out_path = Path(out)
    prepared_data, data_options = _prepare_data(data, subset, out_path)
    folder, recorded = _run_folder(run, out_path, model, prepared_data.example, opset)
    architecture = architecture or recorded
    arguments = ["evolve", "--run", str(folder), *data_options, *(["--model", architecture] if architecture else []),
                 "--mode", mode, "--frames", frames, "--max-frames", str(max_frames), "--out", str(out_path)]
    if x is not None:
        arguments += options_to_arguments({"x": tuple(x)})
    if y is not None:
        arguments += options_to_arguments({"y": tuple(y)})
    arguments += options_to_arguments(options)
    result = _finish(arguments, out_path, quiet)
    assert isinstance(result, Stack)
    return result


def hessian(model: Any, data: Any = None, *, top: int = 5, bottom: int = 1, trace: bool = False, density: bool = False,
            parameters: str = "all", max_iterations: Optional[int] = None, seed: int = 0, subset: Optional[int] = None,
            eigenvectors: Optional[PathLike] = None, architecture: Optional[str] = None, sample: Any = None,
            out: PathLike = "hessian.h5", opset: int = _models.DEFAULT_OPSET, quiet: bool = False, **options: Any) -> Spectrum:
    """``terrain hessian``: the Hessian of the mean loss over the data, by exact Hessian-vector
    products: the `top` and `bottom` eigenvalues (Lanczos), with `trace` Hutchinson's trace, with
    `density` the spectral density (its figure ``OUT_density.png`` beside `out`); `eigenvectors`
    writes the top two as a direction file for `surface(directions=…)`. Returns `Spectrum`."""
    out_path = Path(out)
    prepared_data, data_options = _prepare_data(data, subset, out_path)
    model_file = _prepare_model(model, sample if sample is not None else prepared_data.example, out_path,
                                architecture=architecture, opset=opset)
    arguments = ["hessian", *model_file.options(), *data_options, "--top", str(top), "--bottom", str(bottom),
                 "--parameters", parameters, "--seed", str(seed), "--out", str(out_path)]
    arguments += options_to_arguments({"trace": trace, "density": density, "max_iterations": max_iterations,
                                       "eigenvectors": None if eigenvectors is None else str(eigenvectors)})
    arguments += options_to_arguments(options)
    result = _finish(arguments, out_path, quiet)
    assert isinstance(result, Spectrum)
    return result


def hessian_map(surface: Union[Surface, PathLike], model: Any = None, data: Any = None, *, parameters: str = "all",
                max_iterations: Optional[int] = None, subset: Optional[int] = None, architecture: Optional[str] = None,
                sample: Any = None, out: Optional[PathLike] = None, opset: int = _models.DEFAULT_OPSET, quiet: bool = False,
                **options: Any) -> Surface:
    """``terrain hessian-map``: λmax and λmin at every point of an existing surface (its grid and
    directions), into the surface file or a copy `out`. The model defaults to the one the surface
    names; for a surface this package computed from arrays or a PyTorch data set, the data default
    to the ``S.data.npz`` written beside it."""
    surface_path = Path(surface.path if isinstance(surface, Result) else surface)
    out_path = Path(out) if out is not None else surface_path
    if data is None and Path(f"{_stem(surface_path)}.data.npz").exists():
        data = str(Path(f"{_stem(surface_path)}.data.npz"))
    prepared_data, data_options = _prepare_data(data, subset, out_path)
    arguments = ["hessian-map", "--surface", str(surface_path), *data_options, "--parameters", parameters]
    if model is not None:
        model_file = _prepare_model(model, sample if sample is not None else prepared_data.example, out_path,
                                    architecture=architecture, opset=opset)
        arguments += model_file.options()
    elif architecture:
        arguments += ["--model", architecture]
    if out is not None:
        arguments += ["--out", str(out_path)]
    arguments += options_to_arguments({"max_iterations": max_iterations}) + options_to_arguments(options)
    result = _finish(arguments, out_path, quiet)
    assert isinstance(result, Surface)
    return result


def sharpness(models: Union[Any, Sequence[Any]], data: Any = None, *, epsilon: float = 1e-3, ascent_steps: int = 20,
              radius: float = 0.5, direction_count: Optional[int] = None, seed: int = 123, eigenvalue: bool = False,
              subset: Optional[int] = None, architecture: Optional[str] = None, sample: Any = None,
              out: PathLike = "sharpness.csv", opset: int = _models.DEFAULT_OPSET, quiet: bool = False,
              **options: Any) -> Sharpness:
    """``terrain sharpness``: for each model, ε-sharpness (Keskar et al.), the mean ± sd loss
    increase at `radius` along random filter-normalized directions and, with `eigenvalue`, λmax.
    Returns the CSV written to `out`, read (`Sharpness`, a row per model)."""
    listed = list(models) if isinstance(models, (list, tuple)) else [models]
    out_path = Path(out)
    prepared_data, data_options = _prepare_data(data, subset, out_path)
    example = sample if sample is not None else prepared_data.example
    files = _model_list(listed, example, out_path, architecture, opset, [f"model-{k}" for k in range(len(listed))])
    arguments = ["sharpness", *(f.path for f in files), *data_options,
                 *(["--model", architecture] if architecture and not files[0].is_onnx else []),
                 "--epsilon", str(epsilon), "--ascent-steps", str(ascent_steps), "--radius", str(radius), "--seed", str(seed),
                 "--csv", str(out_path)]
    arguments += options_to_arguments({"direction_count": direction_count, "eigenvalue": eigenvalue})
    arguments += options_to_arguments(options)
    result = _finish(arguments, out_path, quiet)
    assert isinstance(result, Sharpness)
    return result


__all__ = ["surface", "interpolate", "plane", "trajectory", "evolve", "hessian", "hessian_map", "sharpness"]

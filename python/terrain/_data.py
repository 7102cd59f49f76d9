"""Data as the program reads it: arrays and PyTorch data sets written to an NPZ (``x``, ``y``),
names and paths passed through.

The NPZ layout is the one ``--data FILE.npz`` reads (``Sources/TerrainData/ArrayDataset.swift``):
``x`` holds the inputs as float32 (token ids too: Terrain's data are floats; ids below 2^24 are
exact), ``y`` integer class labels (int64) or float32 regression targets. The whole file is
evaluated as one set, the train set. Inputs are written as float32 even when they are uint8, so the
program does not rescale them (it reads uint8 as bytes / 255): the model sees what PyTorch gave it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Tuple

import numpy as np

#: What ``--data`` takes besides a file: the sets of a checkpoint's own data set.
SET_NAMES = {"train", "test", "train,test", "test,train"}


@dataclass
class PreparedData:
    """The command-line options that name the data, and an example input for an ONNX export."""
    arguments: List[str] = field(default_factory=list)
    #: The first samples as the user gave them (their dtype: token ids stay integers), or None.
    example: Any = None
    #: The NPZ written for arrays or a PyTorch data set, or None.
    npz: Optional[Path] = None
    #: Whether the data were cut to `subset` samples here (then the program takes them all).
    subset_applied: bool = False


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch.Tensor, without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _is_torch_data(value: Any) -> bool:
    return type(value).__module__.startswith("torch.utils.data") or _subclass_of(value, "torch.utils.data.dataset", "Dataset")


def _subclass_of(value: Any, module: str, name: str) -> bool:
    return any(c.__module__ == module and c.__name__ == name for c in type(value).__mro__)


def _is_loader(value: Any) -> bool:
    return _subclass_of(value, "torch.utils.data.dataloader", "DataLoader")


def materialize(data: Any, subset: Optional[int]) -> Tuple[np.ndarray, np.ndarray, Any]:
    """A PyTorch `Dataset` (map-style or iterable) or `DataLoader` as arrays (x, y) and an example
    input, in its own order (a shuffling loader's order of this pass), cut to `subset` samples
    when given."""
    inputs: List[np.ndarray] = []
    targets: List[np.ndarray] = []
    count = 0
    first: Any = None
    if _is_loader(data):
        for batch in data:
            x, y = _pair(batch)
            if first is None:
                first = x[:2]
            inputs.append(_to_numpy(x))
            targets.append(_to_numpy(y))
            count += len(inputs[-1])
            if subset is not None and count >= subset:
                break
    else:
        # A map-style Dataset by index; an IterableDataset (no __getitem__ by index) in its order.
        if _subclass_of(data, "torch.utils.data.dataset", "IterableDataset"):
            samples = iter(data)
        else:
            total = len(data) if subset is None else min(len(data), subset)
            samples = (data[index] for index in range(total))
        for sample in samples:
            if subset is not None and len(inputs) >= subset:
                break
            x, y = _pair(sample)
            if first is None:
                first = x
            inputs.append(_to_numpy(x)[None])
            targets.append(_to_numpy(y).reshape(1, *np.shape(_to_numpy(y))))
        if first is not None:
            first = _stack_example(first)
    if not inputs:
        raise ValueError("the data set is empty")
    x_all, y_all = np.concatenate(inputs), np.concatenate(targets)
    if subset is not None:
        x_all, y_all = x_all[:subset], y_all[:subset]
    return x_all, y_all, first


def _stack_example(sample: Any) -> Any:
    # One sample of a Dataset: a batch of one, in the sample's own type (a tensor stays a tensor).
    if hasattr(sample, "unsqueeze"):
        return sample.unsqueeze(0)
    return np.asarray(sample)[None]


def _pair(item: Any) -> Tuple[Any, Any]:
    if isinstance(item, (tuple, list)) and len(item) >= 2:
        return item[0], item[1]
    if isinstance(item, dict) and "x" in item and "y" in item:
        return item["x"], item["y"]
    raise ValueError("each sample of the data set must be an (input, target) pair")


def write_npz(path: Path, x: Any, y: Any) -> None:
    """`x` as float32 and `y` as int64 labels (integers, booleans) or float32 values, in the
    layout ``--data FILE.npz`` reads. Written to a temporary name and renamed, so a reader never
    sees half a file."""
    x_array, y_array = _to_numpy(x), _to_numpy(y)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial.npz")
    if _are_token_sequences(x_array, y_array):
        np.savez(temporary, tokens=next_token_sequences(x_array, y_array))
    else:
        if y_array.dtype.kind in "iub":
            y_array = y_array.astype(np.int64)
        else:
            y_array = y_array.astype(np.float32)
        np.savez(temporary, x=x_array.astype(np.float32), y=y_array)
    os.replace(temporary, path)


def _are_token_sequences(x: np.ndarray, y: np.ndarray) -> bool:
    """Integer inputs and targets of one shape [N, T], T > 1: a language model's token ids and
    the targets at every position."""
    return x.ndim == 2 and x.shape == y.shape and x.shape[1] > 1 and x.dtype.kind in "iu" and y.dtype.kind in "iu"


def next_token_sequences(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Inputs [N, T] and next-token targets [N, T] (y[:, t] = x[:, t + 1] for t < T − 1) as the
    [N, T + 1] sequences of the ``tokens`` array the program reads (its inputs the first T ids,
    its targets the last T). Other per-position targets have no such layout and are refused."""
    if not np.array_equal(y[:, :-1], x[:, 1:]):
        raise ValueError("token targets y [N, T] must be the next tokens of x (y[:, t] == x[:, t + 1]): "
                         "Terrain's loss for token sequences is the next-token cross-entropy at every position")
    return np.concatenate([x, y[:, -1:]], axis=1).astype(np.int64)


def prepare(data: Any, *, subset: Optional[int], npz_path: Path) -> PreparedData:
    """The options naming `data`:

    - None: the checkpoint's own data set (nothing passed);
    - ``"train"``, ``"test"``, ``"train,test"``: those sets of it (``--data``);
    - a path that exists: a data file or folder (``--data``; an NPZ, IDX or CIFAR folder, a CSV);
    - any other string: a data set's name (``--dataset``: ``fashion-mnist``, ``digits``, …);
    - ``(x, y)``: arrays or tensors, written to `npz_path`;
    - a ``torch.utils.data.Dataset`` or ``DataLoader``: its first `subset` samples (all without
      one), in order, written to `npz_path`.
    """
    if data is None:
        return PreparedData()
    if isinstance(data, (str, os.PathLike)):
        text = os.fspath(data)
        if text in SET_NAMES:
            return PreparedData(["--data", text])
        if os.path.exists(text):
            return PreparedData(["--data", text])
        return PreparedData(["--dataset", text])
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(f"data as a tuple must be (x, y), got {len(data)} items")
        x, y = data
        write_npz(npz_path, x, y)
        return PreparedData(["--data", str(npz_path)], example=x[:2], npz=npz_path)
    if _is_loader(data) or _is_torch_data(data):
        x, y, example = materialize(data, subset)
        write_npz(npz_path, x, y)
        return PreparedData(["--data", str(npz_path)], example=example, npz=npz_path, subset_applied=subset is not None)
    raise TypeError(f"data must be (x, y), a torch Dataset or DataLoader, a data set name or a path; got {type(data).__name__}")

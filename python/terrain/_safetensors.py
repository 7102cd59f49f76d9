"""A safetensors writer of a few lines, so that checkpoints need neither the safetensors package
nor torch's serialization: an 8-byte little-endian header length, a JSON header of names, dtypes,
shapes and byte offsets (and ``__metadata__``, strings only), then the raw little-endian bytes."""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import numpy as np

_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64",
           np.dtype(np.int32): "I32", np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL"}


def _array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if str(value.dtype) in ("torch.bfloat16", "torch.float16"):
            value = value.float()
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind == "f":
        # Terrain's checkpoints are float32, as PyTorch's state_dicts usually are.
        array = array.astype(np.float32)
    elif array.dtype.kind in "iu" and array.dtype not in _DTYPES:
        array = array.astype(np.int64)
    return np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<")))


def write(path: "os.PathLike[str] | str", tensors: Mapping[str, Any], metadata: Optional[Dict[str, str]] = None) -> None:
    """Writes `tensors` (a state_dict: names to tensors or arrays, in its order) with `metadata`,
    atomically (a temporary file renamed), so a run stopped mid-write never leaves half a file."""
    header: Dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        array = _array(value)
        data = array.tobytes()
        header[name] = {"dtype": _DTYPES[array.dtype.newbyteorder("=")], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    target = Path(path)
    temporary = target.with_name(target.name + ".partial")
    with open(temporary, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)))
        handle.write(text)
        for blob in blobs:
            handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def read(path: "os.PathLike[str] | str") -> "tuple[Dict[str, np.ndarray], Dict[str, str]]":
    """The tensors (as NumPy arrays, in file order) and metadata of a safetensors file."""
    kinds = {v: k for k, v in _DTYPES.items()}
    kinds["F16"] = np.dtype(np.float16)
    raw = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    metadata = header.pop("__metadata__", {})
    tensors: Dict[str, np.ndarray] = {}
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        start, end = entry["data_offsets"]
        data = raw[8 + size + start:8 + size + end]
        if entry["dtype"] == "BF16":
            # bfloat16 is float32's upper half: widened exactly.
            values = (np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif entry["dtype"] in kinds:
            values = np.frombuffer(data, dtype=kinds[entry["dtype"]].newbyteorder("<"))
        else:
            raise ValueError(f"{path}: tensor {name} has the dtype {entry['dtype']}, which this reader does not read")
        tensors[name] = values.reshape(entry["shape"]).copy()
    return tensors, metadata

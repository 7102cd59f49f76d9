"""Models as the program reads them: a ``torch.nn.Module`` exported to ONNX (or, with a zoo
architecture, saved as a state_dict), a state_dict in memory or on disk, a Terrain checkpoint, an
ONNX file. torch and onnx are imported only when a module or a ``.pt`` file is given."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Mapping, Optional

import numpy as np

from . import _safetensors

#: The operator set of exports: within the 7 to 23 that Terrain's ONNX import reads, and one that
#: torch's TorchScript exporter writes for every layer Terrain supports (LayerNormalization needs 17).
DEFAULT_OPSET = 17


@dataclass
class PreparedModel:
    """A model file and how to name it on the command line."""
    path: str
    is_onnx: bool
    #: The zoo architecture of a state_dict without Terrain's metadata (``--model``), or None.
    architecture: Optional[str] = None

    def options(self) -> List[str]:
        """``--onnx P``, or ``--checkpoint P`` (with ``--model ARCH`` for a state_dict)."""
        if self.is_onnx:
            return ["--onnx", self.path]
        return ["--checkpoint", self.path] + (["--model", self.architecture] if self.architecture else [])


def is_torch_module(value: Any) -> bool:
    return any(c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module" for c in type(value).__mro__)


def export_onnx(module: Any, example: Any, path: Path, opset: int = DEFAULT_OPSET) -> Path:
    """Exports `module` as Terrain's ONNX import reads it: in evaluation mode (BN's running
    statistics, no dropout) with BN kept as its own operator (``training=PRESERVE`` on an
    evaluation-mode module), by the TorchScript exporter (``dynamo=False``: initializers keep their
    state_dict names), input ``input`` and output ``output`` with a dynamic batch axis.

    Constants are not folded: folding turns a Linear layer on sequences into MatMul with a new,
    transposed initializer (``onnx::MatMul_…``), which no state_dict names. Unfolded, every
    parameter is its state_dict entry in PyTorch's layout (the Transpose is a node of the graph),
    so a direction file's tensors, a recorded run's checkpoints and the graph name the same
    tensors, and filter normalization goes by PyTorch's rows as the reference's does.

    `example` is a batch of inputs (token ids stay integers; floating inputs are cast to the
    module's dtype). The module's training mode is restored afterwards."""
    import torch

    parameter = next(iter(module.parameters()), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = parameter.dtype if parameter is not None else torch.float32
    x = example if torch.is_tensor(example) else torch.as_tensor(np.asarray(example))
    x = x.to(device=device, dtype=dtype) if x.is_floating_point() else x.to(device)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial.onnx")
    was_training = module.training
    module.eval()
    try:
        # Not under torch.no_grad(): without autograd, nn.TransformerEncoderLayer takes its fused
        # fast path (aten::_transformer_encoder_layer_fwd), which has no ONNX export.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (x,), str(temporary), dynamo=False, opset_version=opset,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                              do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    finally:
        module.train(was_training)
    os.replace(temporary, path)
    return path


def state_dict_of(value: Any) -> Mapping[str, Any]:
    """A module's state_dict, or the mapping itself."""
    return value.state_dict() if is_torch_module(value) else value


def prepare(model: Any, *, architecture: Optional[str], example: Any, onnx_path: Path, checkpoint_path: Path,
            opset: int = DEFAULT_OPSET) -> PreparedModel:
    """The file the program reads for `model`:

    - a ``torch.nn.Module``: exported to `onnx_path` (needs `example`, which the data give), or,
      with a zoo `architecture` (``mlp,hidden=64x64``, ``resnet20``, …), its state_dict saved to
      `checkpoint_path` as safetensors;
    - a state_dict (a mapping of names to tensors): saved to `checkpoint_path`; needs `architecture`;
    - a path: ``.onnx`` as it is; ``.pt``/``.pth`` (a state_dict saved by ``torch.save``) saved
      again as safetensors; anything else (a Terrain checkpoint, a safetensors state_dict) as it is.
    """
    if is_torch_module(model):
        if architecture:
            _safetensors.write(checkpoint_path, model.state_dict())
            return PreparedModel(str(checkpoint_path), False, architecture)
        if example is None:
            raise ValueError("exporting a torch.nn.Module to ONNX needs an example input: pass the data as (x, y), "
                             "a Dataset or a DataLoader, or give sample=")
        return PreparedModel(str(export_onnx(model, example, onnx_path, opset)), True)
    if isinstance(model, Mapping):
        if not architecture:
            raise ValueError("a state_dict needs its zoo architecture: pass architecture= (e.g. 'mlp,hidden=64x64'); "
                             "or pass the torch.nn.Module itself")
        _safetensors.write(checkpoint_path, model)
        return PreparedModel(str(checkpoint_path), False, architecture)
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if path.lower().endswith(".onnx"):
            return PreparedModel(path, True)
        if path.lower().endswith((".pt", ".pth")):
            import torch
            state = torch.load(path, map_location="cpu", weights_only=True)
            _safetensors.write(checkpoint_path, state)
            return PreparedModel(str(checkpoint_path), False, architecture)
        return PreparedModel(path, False, architecture)
    raise TypeError(f"model must be a torch.nn.Module, a state_dict, or the path of a checkpoint or ONNX file; "
                    f"got {type(model).__name__}")

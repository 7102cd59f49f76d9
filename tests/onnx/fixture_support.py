"""What the ONNX fixture writers share (make_fixtures.py, make_transformer_fixtures.py, cnn_twins.py):
their seeding, the TorchScript export, the files they write (NAME.npz, NAME.reference.json), the
float32 weights carried into a float64 twin, Hessian-vector products by double backward, and
their command line `SCRIPT [OUT [NAME ...]]`.

Each writer draws its random numbers in the same order as before this module existed, so the
fixtures it writes are the same bits.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

# The committed fixtures, where a writer puts its files when no OUT is given.
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TerrainONNXTests", "Fixtures")


def seeded(base_name):
    """Seeds torch's global generator, which the model's own initialization draws from, with the sum
    of the characters of `base_name`, and returns a generator seeded one above it for everything
    else (data, directions): so a fixture's numbers depend on its name only."""
    seed = sum(map(ord, base_name))
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed + 1)


def randomize_batch_norm(model, generator):
    """Running statistics and affine parameters away from their initial 0/1 (which the exporter
    would also share between tensors of equal values)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.weight.copy_(1 + 0.2 * torch.randn(m.num_features, generator=generator))
                m.bias.copy_(0.2 * torch.randn(m.num_features, generator=generator))


def export_torchscript(model, x, path, opset, **options):
    """torch.onnx.export's TorchScript exporter (dynamo=False: initializers keep their state_dict
    names) on the example batch x: input "input", output "output", the batch axis dynamic,
    constants folded; `options` go to torch.onnx.export as they are (training=...)."""
    torch.onnx.export(model, (x,), path, dynamo=False, opset_version=opset, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True, **options)


def save_data(out, name, x, y):
    """NAME.npz: x as float32 (token ids too: Terrain's data are floats), y as int64."""
    np.savez(os.path.join(out, name + ".npz"), x=x.numpy().astype(np.float32), y=y.numpy().astype(np.int64))


def save_reference_json(out, name, values):
    """NAME.reference.json: a few numbers again, for checks without NumPy."""
    with open(os.path.join(out, name + ".reference.json"), "w") as f:
        json.dump(values, f, indent=1)
        f.write("\n")


def in_double(model64, state):
    """model64 (a fresh float64 copy of the model) holding the float32 weights of `state`, so that
    PyTorch's references are the fixture's own weights evaluated in double precision."""
    model64.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in state.items()})
    return model64


def hessian_vector_products(loss, params, directions):
    """H·v of `loss` over `params` along `directions` (a tensor per parameter) by double backward:
    the gradient with create_graph=True, then the gradient of Σ g·v."""
    gradients = torch.autograd.grad(loss, params, create_graph=True)
    return torch.autograd.grad(sum((g * v).sum() for g, v in zip(gradients, directions)), params)


def laid_out(array, transposed):
    """A parameter's array laid out as its ONNX initializer is: transposed where the exporter folded
    a Linear's weight into a MatMul operand."""
    return np.ascontiguousarray(array.T if transposed else array)


def main(write, models, default_out=FIXTURES):
    """The writers' command line: SCRIPT [OUT [NAME ...]] calls write(name, OUT) for each NAME
    (default: every model); without OUT, the files go to `default_out` (None: OUT is required)."""
    if len(sys.argv) > 1:
        out = sys.argv[1]
    elif default_out is not None:
        out = default_out
    else:
        raise SystemExit(f"usage: {os.path.basename(sys.argv[0])} OUT [NAME ...]")
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[2:] or models:
        write(name, out)

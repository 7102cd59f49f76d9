"""Small PyTorch models exported to ONNX, with data and PyTorch's own losses, for Terrain's tests.

Writes into OUT (default: Tests/TerrainONNXTests/Fixtures):
  NAME.onnx            the model, exported by torch.onnx.export's TorchScript exporter
                       (dynamo=False: torch 2.13 still has it; it keeps state_dict names as
                       initializer names and BatchNormalization nodes as they are when
                       training=PRESERVE on an evaluation-mode model), batch axis dynamic
  NAME.npz             the data: x (float32 inputs), y (int64 labels)
  NAME.reference.npz   PyTorch's numbers in float64 (the model's float32 weights evaluated in
                       double precision): loss_center, logits_center, and for θ + 0.1·d,
                       loss_perturbed, logits_perturbed, with d as 'direction.<state_dict name>'
                       (zero on BatchNorm running statistics); the exporter keeps state_dict
                       names as initializer names, so Terrain finds each d by its parameter name
  NAME.reference.json  the two losses again, for checks without NumPy

torch.onnx.export needs the `onnx` package (PyPI) besides torch.

Seeds are fixed, so the same torch version writes the same numbers. What the fixture writers
share is fixture_support.py. Usage:
  python tests/onnx/make_fixtures.py [OUT [NAME ...]]   (NAMEs: only those models)
"""
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_support import (export_torchscript, in_double, main, randomize_batch_norm, save_data,
                             save_reference_json, seeded)


class Mixer(nn.Module):
    """MatMul with a raw parameter, Concat, Sub, Div, Softmax, Reshape, Transpose, GELU as Erf (opset 11), Gemm."""

    def __init__(self):
        super().__init__()
        self.W1 = nn.Parameter(torch.randn(6, 8) * 0.5)
        self.head = nn.Linear(14, 3)

    def forward(self, x):
        a = x @ self.W1
        b = torch.cat([a, x * 2 - 1], dim=1)
        c = b / 3.0
        d = torch.softmax(c, dim=1) * c
        e = d.reshape(d.size(0), 2, 7).transpose(1, 2).reshape(d.size(0), 14)
        return self.head(F.gelu(e))


class SmallCNN(nn.Module):
    """Conv-BN-ReLU-MaxPool, a dilated grouped Conv-BN-LeakyReLU-AvgPool, view(N, -1), FC."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=2, dilation=2, groups=2)
        self.bn2 = nn.BatchNorm2d(8)
        self.fc1 = nn.Linear(8 * 2 * 2, 12)
        self.fc2 = nn.Linear(12, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.avg_pool2d(F.leaky_relu(self.bn2(self.conv2(x)), 0.1), 2)
        x = x.view(x.size(0), -1)
        return self.fc2(torch.sigmoid(self.fc1(x)))


class BasicBlock(nn.Module):
    """A ResNet basic block with a projection shortcut (Terrain's zoo block, PyTorch's names)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8, 16, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(16, 5)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool(self.layer1(x))
        return self.linear(torch.flatten(x, 1))


def mlp():
    """Gemm, exact GELU, Tanh, Dropout, LogSoftmax."""
    return nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(20, 32)), ("act1", nn.GELU()),
        ("fc2", nn.Linear(32, 16)), ("act2", nn.Tanh()), ("drop", nn.Dropout(0.3)),
        ("fc3", nn.Linear(16, 4)), ("out", nn.LogSoftmax(dim=1)),
    ]))


# name: (model factory, sample shape, classes, opset)
MODELS = {
    "mlp": (mlp, (20,), 4, 20),
    "cnn": (SmallCNN, (1, 8, 8), 4, 13),
    "resnet_block": (ResNetBlock, (3, 8, 8), 5, 17),
    "mixer": (Mixer, (6,), 3, 11),
}
SAMPLES = 48


def write(name, out):
    factory, sample_shape, classes, opset = MODELS[name]
    generator = seeded(name)
    model = factory()
    randomize_batch_norm(model, generator)
    model.eval()
    x = torch.randn((SAMPLES,) + sample_shape, generator=generator)
    y = torch.randint(0, classes, (SAMPLES,), generator=generator)
    path = os.path.join(out, name + ".onnx")
    export_torchscript(model, x[:2], path, opset, training=torch.onnx.TrainingMode.PRESERVE)
    save_data(out, name, x, y)

    state = model.state_dict()
    buffers = {n for n, _ in model.named_buffers()}
    directions = {}
    for key, value in state.items():
        if not value.is_floating_point():
            continue
        d = torch.zeros(value.shape, dtype=torch.float64) if key in buffers else \
            torch.randn(value.shape, generator=generator, dtype=torch.float64)
        directions["direction." + key] = d.numpy()

    def evaluate(model64):
        with torch.no_grad():
            logits = model64(x.double())
            return F.cross_entropy(logits, y).item(), logits.numpy()

    center = in_double(factory().double().eval(), state)
    loss_center, logits_center = evaluate(center)
    perturbed = factory().double().eval()
    moved = {}
    for k, v in state.items():
        key = "direction." + k
        moved[k] = v.double() + 0.1 * torch.from_numpy(directions[key]) if key in directions else v
    perturbed.load_state_dict(moved)
    loss_perturbed, logits_perturbed = evaluate(perturbed)
    np.savez(os.path.join(out, name + ".reference.npz"), loss_center=np.float64(loss_center), logits_center=logits_center,
             loss_perturbed=np.float64(loss_perturbed), logits_perturbed=logits_perturbed, **directions)
    save_reference_json(out, name, {"loss_center": loss_center, "loss_perturbed": loss_perturbed, "samples": SAMPLES, "opset": opset})
    print(f"{name}: opset {opset}, {len(directions)} initializers, loss {loss_center:.6f} at the centre, "
          f"{loss_perturbed:.6f} at θ + 0.1·d  ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main(write, MODELS)

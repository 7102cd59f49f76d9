"""PyTorch's side of the weights check: Terrain checkpoints are PyTorch state_dicts.

The zoo models rebuilt as PyTorch modules with the same tensor names (mlp, cnn, vgg9, resnetN,
densenet), and a
safetensors reader and writer of a few lines (the format: an 8-byte little-endian header length,
a JSON header of names, dtypes, shapes and byte offsets, then the raw bytes), so that the check
needs torch and numpy only.

  torch_weights.py data DIR
      writes DIR/vectors.npz ([N, 10] inputs) and DIR/images.npz ([N, 1, 8, 8]), each with
      x_train, y_train, x_test, y_test (4 classes)
  torch_weights.py export DIR SPEC DATA NAME
      a PyTorch model of the zoo SPEC (JSON of Terrain's ModelSpec), seeded, with non-trivial
      BatchNorm statistics: its state_dict as DIR/NAME.safetensors (no Terrain metadata) and its
      test loss on DATA printed
  torch_weights.py load CHECKPOINT DATA
      loads a checkpoint written by Terrain into the PyTorch module its metadata describes with
      load_state_dict(strict=True) and prints the test loss on DATA
"""
import json
import math
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
NAMES = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    metadata = header.pop("__metadata__", {})
    tensors = OrderedDict()
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        start, end = entry["data_offsets"]
        array = np.frombuffer(raw[8 + size + start:8 + size + end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata


def write_safetensors(path, state):
    header, blobs, offset = OrderedDict(), [], 0
    for name, tensor in state.items():
        array = np.ascontiguousarray(tensor.detach().cpu().numpy())
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": NAMES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def scaled(channels, width):
    """Terrain's ModelSpec.scaled: round half away from zero, at least 1."""
    return max(1, int(math.floor(channels * width + 0.5)))


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "leaky-relu": nn.LeakyReLU}


def mlp(spec):
    layers, size = [], math.prod(spec["inputShape"])
    if len(spec["inputShape"]) > 1:
        layers.append(("flatten", nn.Flatten()))
    hidden = spec.get("hiddenSizes") or [64, 64, 64]
    for i, h in enumerate(hidden):
        out = scaled(h, spec["width"])
        layers += [(f"fc{i + 1}", nn.Linear(size, out)), (f"act{i + 1}", ACTIVATIONS[spec.get("activation") or "relu"]())]
        size = out
    layers.append((f"fc{len(hidden) + 1}", nn.Linear(size, spec["outputs"])))
    return nn.Sequential(OrderedDict(layers))


def cnn(spec):
    c, h, w = spec["inputShape"]
    c1, c2, hidden = (scaled(n, spec["width"]) for n in (16, 32, 64))
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(c, c1, 3, padding=1, bias=False)), ("bn1", nn.BatchNorm2d(c1)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(c1, c2, 3, padding=1, bias=False)), ("bn2", nn.BatchNorm2d(c2)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)), ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(c2 * (h // 4) * (w // 4), hidden)), ("relu3", nn.ReLU()), ("fc2", nn.Linear(hidden, spec["outputs"])),
    ]))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)) \
            if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


def resnet(spec):
    depth = int(spec["architecture"][len("resnet"):])
    blocks = (depth - 2) // 6
    widths = [scaled(n, spec["width"]) for n in (16, 32, 64)]
    layers = [("conv1", nn.Conv2d(spec["inputShape"][0], widths[0], 3, padding=1, bias=False)),
              ("bn1", nn.BatchNorm2d(widths[0])), ("relu", nn.ReLU())]
    cin = widths[0]
    for stage, out in enumerate(widths):
        stage_blocks = []
        for b in range(blocks):
            stage_blocks.append(BasicBlock(cin, out, 2 if stage > 0 and b == 0 else 1))
            cin = out
        layers.append((f"layer{stage + 1}", nn.Sequential(*stage_blocks)))
    layers += [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("linear", nn.Linear(cin, spec["outputs"]))]
    return nn.Sequential(OrderedDict(layers))


def vgg9(spec):
    channels, h, w = spec["inputShape"]
    features = []
    for item in (64, 64, 0, 128, 128, 0, 256, 256, 256, 0):
        if item == 0:
            features.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        else:
            out = scaled(item, spec["width"])
            features += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
            channels = out
    hidden = scaled(512, spec["width"])
    return nn.Sequential(OrderedDict([
        ("features", nn.Sequential(*features)), ("flatten", nn.Flatten()),
        ("classifier", nn.Sequential(nn.Linear(channels * h * w, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                     nn.Linear(hidden, spec["outputs"]))),
    ]))


class DenseLayer(nn.Module):
    """Terrain's DenseConcat: the bottleneck's layers sit directly under the layer's index."""

    def __init__(self, channels, growth):
        super().__init__()
        self.bn1, self.relu1 = nn.BatchNorm2d(channels), nn.ReLU()
        self.conv1 = nn.Conv2d(channels, 4 * growth, 1, bias=False)
        self.bn2, self.relu2 = nn.BatchNorm2d(4 * growth), nn.ReLU()
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv2(self.relu2(self.bn2(self.conv1(self.relu1(self.bn1(x))))))
        return torch.cat([x, y], 1)


def densenet(spec):
    growth = scaled(12, spec["width"])
    channels = 2 * growth
    layers = [("conv1", nn.Conv2d(spec["inputShape"][0], channels, 3, padding=1, bias=False))]
    for block in (1, 2, 3):
        dense = []
        for _ in range(4):
            dense.append(DenseLayer(channels, growth))
            channels += growth
        layers.append((f"dense{block}", nn.Sequential(*dense)))
        if block < 3:
            out = channels // 2
            layers.append((f"trans{block}", nn.Sequential(OrderedDict([
                ("bn", nn.BatchNorm2d(channels)), ("relu", nn.ReLU()), ("conv", nn.Conv2d(channels, out, 1, bias=False)),
                ("pool", nn.AvgPool2d(2))]))))
            channels = out
    layers += [("bn", nn.BatchNorm2d(channels)), ("relu", nn.ReLU()), ("pool", nn.AdaptiveAvgPool2d(1)),
               ("flatten", nn.Flatten()), ("linear", nn.Linear(channels, spec["outputs"]))]
    return nn.Sequential(OrderedDict(layers))


def build(spec):
    arch = spec["architecture"]
    if arch == "mlp":
        return mlp(spec)
    if arch == "cnn":
        return cnn(spec)
    if arch == "vgg9":
        return vgg9(spec)
    if arch == "densenet":
        return densenet(spec)
    if arch.startswith("resnet"):
        return resnet(spec)
    raise SystemExit(f"no PyTorch twin for {arch}")


def test_loss(model, data):
    arrays = np.load(data)
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(arrays["x_test"]).double()
        return F.cross_entropy(model.double()(x), torch.from_numpy(arrays["y_test"])).item()


def make_data(folder):
    g = np.random.default_rng(7)
    for name, shape in (("vectors", (10,)), ("images", (1, 8, 8))):
        arrays = {}
        for part, n in (("train", 96), ("test", 40)):
            arrays["x_" + part] = g.standard_normal((n,) + shape).astype(np.float32)
            arrays["y_" + part] = g.integers(0, 4, n).astype(np.int64)
        np.savez(f"{folder}/{name}.npz", **arrays)


def main():
    command = sys.argv[1]
    if command == "data":
        make_data(sys.argv[2])
    elif command == "export":
        folder, spec, data, name = sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
        torch.manual_seed(11)
        model = build(spec)
        g = torch.Generator().manual_seed(12)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                with torch.no_grad():
                    m.running_mean.copy_(0.2 * torch.randn(m.num_features, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
                    m.weight.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g))
                    m.bias.copy_(0.2 * torch.randn(m.num_features, generator=g))
                    m.num_batches_tracked.fill_(3)
        write_safetensors(f"{folder}/{name}.safetensors", model.state_dict())
        print(f"{test_loss(model, data):.8f}")
    elif command == "load":
        tensors, metadata = read_safetensors(sys.argv[2])
        model = build(json.loads(metadata["terrain.model"]))
        state = {k: v for k, v in tensors.items()}
        model.load_state_dict(state, strict=True)
        print(f"{test_loss(model, sys.argv[3]):.8f}")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

"""Small plain-PyTorch twins of today's torchvision classification families, exported to ONNX with
PyTorch's own loss and Hessian-vector product, for Terrain's import tests.

torchvision's PyPI wheel does not load with the CPU torch of the test venv (its operator
torchvision::nms is missing), so each family is written again here at a small width, with the
layers and forward code of torchvision's model (weights=None: randomly initialized, nothing is
downloaded):

  mobilenet_v2         inverted residuals: 1x1 expansion, depthwise 3x3, ReLU6 (Clip), linear
                       bottleneck, residual; adaptive average pooling (opset 13: Clip's bounds as inputs)
  mobilenet_v2_opset10 the same model at opset 10, where Clip's bounds are attributes
  mobilenet_v3         Hardswish, depthwise 5x5, squeeze-excitation with Hardsigmoid (opset 17:
                       HardSwish and HardSigmoid nodes), Hardswish in the classifier
  efficientnet         MBConv: SiLU (Sigmoid·Mul), squeeze-excitation over x.mean((2, 3), keepdim)
                       (opset 18: ReduceMean's axes as an input), zero padding before a stride-2
                       depthwise convolution (Pad, as TensorFlow's "same" ports write it)
  efficientnet_opset10 the same at opset 10 (ReduceMean's axes and Pad's pads as attributes)
  regnet               grouped 3x3 convolutions with squeeze-excitation, reflection padding in the
                       stem (Pad reflect), Mish written out (Softplus, Tanh, Mul) and a head that
                       pools by a sum over the image (opset 13: ReduceSum's axes as an input,
                       ReduceMean's as an attribute)
  regnet_opset10       the same at opset 10 (Pad's pads and ReduceSum's axes as attributes)
  convnext             depthwise 7x7, LayerNorm over channels (permute, layer_norm, permute),
                       pointwise Linear on NHWC (MatMul), exact GELU, layer scale, residual
                       (opset 17: LayerNormalization)
  instance_norm        a model with an operator Terrain lacks (InstanceNormalization), for the
                       check that such a file is refused, naming the operator

For NAME in the list (default: all), writes into OUT:
  NAME.onnx            exported by torch.onnx.export's TorchScript exporter (dynamo=False, so
                       initializers keep their state_dict names; batch axis dynamic)
  NAME.npz             x (float32 [N, 3, 32, 32]), y (int64 labels of 10 classes)
  NAME.reference.npz   in float64 (the float32 weights evaluated in double precision):
                       loss (mean cross-entropy over the N samples), and for a random direction v
                       over the trainable parameters ('direction.<initializer name>'), the product
                       H·v of the loss's Hessian by double backward ('hvp.<initializer name>');
                       an initializer the exporter folded from a parameter (a Linear's weight
                       transposed for MatMul) gets the parameter's entries transposed
  NAME.reference.json  the loss again (as loss_center), for checks without NumPy
What the fixture writers share is fixture_support.py. Usage: python tests/onnx/cnn_twins.py OUT [NAME ...]
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_support import (export_torchscript, hessian_vector_products, in_double, laid_out, main,  # noqa: E402
                             randomize_batch_norm, save_data, save_reference_json, seeded)

CLASSES = 10
SAMPLES = 16


def conv_bn(cin, cout, kernel, stride=1, groups=1, activation=None, padding=None):
    """torchvision's Conv2dNormActivation: Conv (no bias), BatchNorm, then the activation."""
    layers = [nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2 if padding is None else padding, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: pool, 1x1 fc1, activation, 1x1 fc2, gate, scale the input.
    `pool` picks how the image is averaged: adaptive pooling (GlobalAveragePool) or a mean (ReduceMean)."""

    def __init__(self, channels, squeezed, activation=nn.ReLU, gate=nn.Sigmoid, pool="adaptive"):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.activation = activation()
        self.scale_activation = gate()
        self.pool = pool

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1) if self.pool == "adaptive" else x.mean((2, 3), keepdim=True)
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(s))))


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expansion (unless 1), depthwise 3x3, linear projection; residual when shapes allow."""

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = [] if expand == 1 else [conv_bn(cin, hidden, 1, activation=nn.ReLU6)]
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden, activation=nn.ReLU6), conv_bn(hidden, cout, 1)]
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8, 3, 2, activation=nn.ReLU6), InvertedResidual(8, 8, 1, 1),
                                      InvertedResidual(8, 12, 2, 4), InvertedResidual(12, 12, 1, 4),
                                      conv_bn(12, 32, 1, activation=nn.ReLU6))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, CLASSES))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


class MobileNetV3Block(nn.Module):
    """MobileNetV3's InvertedResidual: expansion, depthwise k x k, squeeze-excitation with Hardsigmoid, projection."""

    def __init__(self, cin, hidden, cout, kernel, stride, activation, squeeze):
        super().__init__()
        layers = [conv_bn(cin, hidden, 1, activation=activation),
                  conv_bn(hidden, hidden, kernel, stride, groups=hidden, activation=activation)]
        if squeeze:
            layers.append(SqueezeExcitation(hidden, squeeze, gate=nn.Hardsigmoid))
        layers.append(conv_bn(hidden, cout, 1))
        self.block = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.use_res_connect else self.block(x)


class MobileNetV3(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8, 3, 2, activation=nn.Hardswish),
                                      MobileNetV3Block(8, 16, 8, 3, 1, nn.ReLU, 8),
                                      MobileNetV3Block(8, 24, 12, 5, 2, nn.Hardswish, 8),
                                      MobileNetV3Block(12, 36, 12, 5, 1, nn.Hardswish, 12),
                                      conv_bn(12, 48, 1, activation=nn.Hardswish))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(48, 32), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(32, CLASSES))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class MBConv(nn.Module):
    """EfficientNet's MBConv with SiLU; `same` pads a stride-2 depthwise convolution as TensorFlow does (right and bottom)."""

    def __init__(self, cin, cout, kernel, stride, expand, same=False):
        super().__init__()
        hidden = cin * expand
        self.pad = nn.ZeroPad2d((0, 1, 0, 1)) if same else nn.Identity()
        self.block = nn.Sequential(conv_bn(cin, hidden, 1, activation=nn.SiLU),
                                   conv_bn(hidden, hidden, kernel, stride, groups=hidden, activation=nn.SiLU,
                                           padding=0 if same else None),
                                   SqueezeExcitation(hidden, max(1, cin // 4), activation=nn.SiLU, pool="mean"),
                                   conv_bn(hidden, cout, 1))
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x):
        y = self.block[3](self.block[2](self.block[1](self.pad(self.block[0](x)))))
        return x + y if self.use_res_connect else y


class EfficientNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8, 3, 2, activation=nn.SiLU), MBConv(8, 8, 3, 1, 1),
                                      MBConv(8, 12, 3, 2, 4, same=True), MBConv(12, 12, 5, 1, 4),
                                      conv_bn(12, 40, 1, activation=nn.SiLU))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(40, CLASSES))

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


class Mish(nn.Module):
    """x·tanh(softplus(x)), written out (so the export has Softplus whatever the operator set)."""

    def forward(self, x):
        return x * torch.tanh(F.softplus(x))


class RegNetBlock(nn.Module):
    """RegNet's ResBottleneckBlock: 1x1, grouped 3x3 (group width 4), squeeze-excitation, 1x1; projection shortcut."""

    def __init__(self, cin, cout, stride, group_width=4):
        super().__init__()
        self.proj = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None
        self.f = nn.Sequential(conv_bn(cin, cout, 1, activation=Mish),
                               conv_bn(cout, cout, 3, stride, groups=cout // group_width, activation=Mish),
                               SqueezeExcitation(cout, max(1, cin // 4)), conv_bn(cout, cout, 1))

    def forward(self, x):
        return F.relu((x if self.proj is None else self.proj(x)) + self.f(x))


class RegNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.ReflectionPad2d(1), conv_bn(3, 8, 3, 2, activation=nn.ReLU, padding=0))
        self.trunk_output = nn.Sequential(RegNetBlock(8, 16, 2), RegNetBlock(16, 16, 1))
        self.fc = nn.Linear(16, CLASSES)

    def forward(self, x):
        x = self.trunk_output(self.stem(x))
        return self.fc(x.sum((2, 3)) / (x.shape[2] * x.shape[3]))


class LayerNorm2d(nn.LayerNorm):
    """torchvision's LayerNorm2d: layer norm over the channels of NCHW, by permuting to NHWC and back."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """ConvNeXt's block: depthwise 7x7, permute to NHWC, LayerNorm, Linear, GELU, Linear, permute back,
    layer scale, residual (stochastic depth is the identity in evaluation)."""

    def __init__(self, dim, layer_scale=0.5):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim, 7, padding=3, groups=dim), Permute([0, 2, 3, 1]), nn.LayerNorm(dim, eps=1e-6),
                                   nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)

    def forward(self, x):
        return x + self.layer_scale * self.block(x)


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class ConvNeXt(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 4, 4), LayerNorm2d(8, eps=1e-6)), CNBlock(8),
                                      nn.Sequential(LayerNorm2d(8, eps=1e-6), nn.Conv2d(8, 16, 2, 2)), CNBlock(16))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(LayerNorm2d(16, eps=1e-6), nn.Flatten(1), nn.Linear(16, CLASSES))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


class InstanceNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.norm = nn.InstanceNorm2d(4, affine=True)
        self.fc = nn.Linear(4, CLASSES)

    def forward(self, x):
        return self.fc(self.norm(self.conv(x)).mean((2, 3)))


# name: (model factory, opset)
MODELS = {
    "mobilenet_v2": (MobileNetV2, 13),
    "mobilenet_v2_opset10": (MobileNetV2, 10),
    "mobilenet_v3": (MobileNetV3, 17),
    "efficientnet": (EfficientNet, 18),
    "efficientnet_opset10": (EfficientNet, 10),
    "regnet": (RegNet, 13),
    "regnet_opset10": (RegNet, 10),
    "convnext": (ConvNeXt, 17),
    "instance_norm": (InstanceNorm, 13),
}


def randomize_parameters(model, generator):
    """Biases and layer scales away from their initial zeros and constants (which the exporter would
    share between equal tensors, and which would hide a term of the Hessian)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or name.endswith("layer_scale"):
                p.add_(0.1 * torch.randn(p.shape, generator=generator))
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=generator))


class HardsigmoidFormula(nn.Module):
    """relu6(x + 3)/6: Hardsigmoid in a form PyTorch differentiates twice (its own hardsigmoid_backward
    has no derivative; the second derivative is zero away from the kinks either way)."""

    def forward(self, x):
        return torch.clamp(x + 3, 0, 6) / 6


class HardswishFormula(nn.Module):
    """x·relu6(x + 3)/6, Hardswish in a form PyTorch differentiates twice."""

    def forward(self, x):
        return x * torch.clamp(x + 3, 0, 6) / 6


def twice_differentiable(model):
    """The model with Hardsigmoid and Hardswish replaced by their formulas (same values, same parameters)."""
    for parent in list(model.modules()):
        for key, child in parent.named_children():
            if isinstance(child, nn.Hardsigmoid):
                setattr(parent, key, HardsigmoidFormula())
            elif isinstance(child, nn.Hardswish):
                setattr(parent, key, HardswishFormula())
    return model


def folded_initializers(path, model):
    """Parameters the exporter stored under another name: {state_dict name: (initializer name, transposed)}.
    Constant folding turns a Linear applied to NHWC activations into MatMul by its transposed weight,
    an initializer of its own ('onnx::MatMul_85'); it is found by its values."""
    import onnx
    from onnx import numpy_helper
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    result = {}
    for t in onnx.load(path).graph.initializer:
        if t.name in state:
            continue
        value = numpy_helper.to_array(t)
        for key, p in state.items():
            if p.ndim == 2 and p.T.shape == value.shape and np.array_equal(p.T, value):
                result[key] = (t.name, True)
    return result


def write(name, out):
    factory, opset = MODELS[name]
    generator = seeded(name.split("_opset")[0])
    model = factory()
    randomize_batch_norm(model, generator)
    randomize_parameters(model, generator)
    model.eval()
    x = torch.randn(SAMPLES, 3, 32, 32, generator=generator)
    y = torch.randint(0, CLASSES, (SAMPLES,), generator=generator)
    path = os.path.join(out, name + ".onnx")
    export_torchscript(model, x[:2], path, opset, training=torch.onnx.TrainingMode.PRESERVE)
    save_data(out, name, x, y)

    # The float32 weights in float64, and the loss's Hessian along v by double backward.
    model64 = in_double(twice_differentiable(factory()).double().eval(), model.state_dict())
    names = [n for n, _ in model64.named_parameters()]
    params = [p for _, p in model64.named_parameters()]
    directions = [torch.randn(p.shape, generator=generator, dtype=torch.float64) for p in params]
    loss = F.cross_entropy(model64(x.double()), y)
    products = hessian_vector_products(loss, params, directions)
    arrays = {"loss": np.float64(loss.item())}
    folded = folded_initializers(path, model)
    for n, v, hv in zip(names, directions, products):
        onnx_name, transposed = folded.get(n, (n, False))
        arrays["direction." + onnx_name] = laid_out(v.numpy(), transposed)
        arrays["hvp." + onnx_name] = laid_out(hv.numpy(), transposed)
    np.savez(os.path.join(out, name + ".reference.npz"), **arrays)
    save_reference_json(out, name, {"loss_center": loss.item(), "samples": SAMPLES, "opset": opset})
    print(f"{name}: opset {opset}, {len(names)} parameters, loss {loss.item():.6f} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main(write, MODELS, default_out=None)

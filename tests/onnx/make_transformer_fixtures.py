"""Small transformers exported to ONNX, with data and PyTorch's own numbers, for Terrain's tests.

Writes into OUT (default: Tests/TerrainONNXTests/Fixtures), for each model NAME:
  NAME.onnx            the model, batch axis dynamic. Exported by torch.onnx.export's TorchScript
                       exporter (dynamo=False), except the *_dynamo models, which the default
                       exporter (torch.export, opset 20) writes, as it does by default with the
                       weights in NAME.onnx.data beside it; that exporter needs the `onnxscript`
                       package, and those models are skipped where it is missing.
  NAME.npz             the data: x (float32: token ids, or images), y (int64: the next token at
                       every position, [N, T], or a class per image, [N])
  NAME.reference.npz   PyTorch's numbers in float64 (the float32 weights evaluated in double):
                       logits_center, loss_center (cross-entropy averaged over every position:
                       logits [N, T, V] seen as [N*T, V]), loss_perturbed at θ + 0.1·d, and for
                       each ONNX initializer that holds a parameter, 'direction.<initializer>'
                       (d) and 'hvp.<initializer>' (H·d by double backward), laid out as the
                       initializer is (the exporters store a Linear's weight transposed for MatMul),
                       and for each parameter of two or more dimensions 'filter.<initializer>':
                       d filter-normalized as the reference code does it to the PyTorch tensor
                       (each slice along dim 0, d ← d·‖w‖/(‖d‖ + 1e-10)), laid out the same way

Every parameter is drawn away from its initial value (LayerNorm's γ = 1, β = 0 included), so
no two initializers are equal and the exporter shares none; each initializer is matched to its
parameter by value (or by the transpose's value). Seeds are fixed. What the fixture writers share
is fixture_support.py. Usage:
  python tests/onnx/make_transformer_fixtures.py [OUT [NAME ...]]   (NAMEs: only those models)
"""
import math
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_support import export_torchscript, hessian_vector_products, in_double, laid_out, main, save_data, seeded

VOCABULARY, CONTEXT, EMBED, HEADS = 11, 8, 16, 4
SAMPLES = 6


class Block(nn.Module):
    """GPT-2's block: pre-LayerNorm, causal attention through scaled_dot_product_attention, GELU MLP."""

    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(EMBED)
        self.attn = nn.Linear(EMBED, 3 * EMBED)
        self.proj = nn.Linear(EMBED, EMBED)
        self.ln2 = nn.LayerNorm(EMBED)
        self.fc = nn.Linear(EMBED, 4 * EMBED)
        self.fc2 = nn.Linear(4 * EMBED, EMBED)

    def forward(self, x):
        B, T, E = x.shape
        q, k, v = self.attn(self.ln1(x)).split(E, dim=2)
        q, k, v = (t.view(B, T, HEADS, E // HEADS).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, E)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    """Token and learned position embeddings, two blocks, a final LayerNorm, an LM head."""

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCABULARY, EMBED)
        self.wpe = nn.Embedding(CONTEXT, EMBED)
        self.h = nn.ModuleList([Block(), Block()])
        self.ln_f = nn.LayerNorm(EMBED)
        self.head = nn.Linear(EMBED, VOCABULARY, bias=False)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        return self.head(self.ln_f(x))


class ManualLayerNorm(nn.Module):
    """LayerNorm written out: ReduceMean, Sub, Pow, Sqrt, Div in the export."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(EMBED))
        self.bias = nn.Parameter(torch.zeros(EMBED))

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        variance = (x - mean).pow(2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(variance + 1e-5) * self.weight + self.bias


class NanoGPT(nn.Module):
    """nanoGPT's way: a causal mask buffer with masked_fill, an explicit softmax, tanh-GELU, and
    a written-out LayerNorm."""

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCABULARY, EMBED)
        self.wpe = nn.Embedding(CONTEXT, EMBED)
        self.ln1 = ManualLayerNorm()
        self.attn = nn.Linear(EMBED, 3 * EMBED)
        self.proj = nn.Linear(EMBED, EMBED)
        self.ln2 = nn.LayerNorm(EMBED)
        self.fc = nn.Linear(EMBED, 4 * EMBED)
        self.fc2 = nn.Linear(4 * EMBED, EMBED)
        self.head = nn.Linear(EMBED, VOCABULARY)
        self.register_buffer("mask", torch.tril(torch.ones(CONTEXT, CONTEXT)).view(1, 1, CONTEXT, CONTEXT))

    def forward(self, idx):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        q, k, v = self.attn(self.ln1(x)).split(EMBED, dim=2)
        q, k, v = (t.view(B, T, HEADS, EMBED // HEADS).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(EMBED // HEADS))
        att = F.softmax(att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf")), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).contiguous().view(B, T, EMBED))
        x = x + self.fc2(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))
        return self.head(x)


class ViT(nn.Module):
    """Patch embedding by a strided Conv, a class token, learned positions, one pre-norm
    nn.TransformerEncoderLayer (nn.MultiheadAttention inside), a head on the class token."""

    def __init__(self, classes=5):
        super().__init__()
        self.patch = nn.Conv2d(3, EMBED, 4, stride=4)
        self.cls = nn.Parameter(torch.randn(1, 1, EMBED))
        self.pos = nn.Parameter(torch.randn(1, 5, EMBED))
        self.encoder = nn.TransformerEncoderLayer(EMBED, HEADS, 32, dropout=0.0, batch_first=True, norm_first=True,
                                                  activation="gelu")
        self.ln = nn.LayerNorm(EMBED)
        self.head = nn.Linear(EMBED, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.ln(self.encoder(x))[:, 0])


class Encoder(nn.Module):
    """nn.TransformerEncoderLayer(batch_first=True) as it comes (post-norm, ReLU), on embedded tokens."""

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCABULARY, EMBED)
        self.layer = nn.TransformerEncoderLayer(EMBED, HEADS, 32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(EMBED, VOCABULARY)

    def forward(self, idx):
        return self.head(self.layer(self.wte(idx)))


class TanhMLP(nn.Module):
    """GPT-2's MLP on embedded tokens, nn.GELU(approximate="tanh") between two Linear layers on
    [B, T, E] (torch.export writes each as MatMul with the transposed weight folded into an
    initializer, and the GELU as opset 20's Gelu with approximate="tanh"), and a head on the
    positions flattened to [B·T, E] (a Gemm, its weight as PyTorch holds it)."""

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCABULARY, EMBED)
        self.fc = nn.Linear(EMBED, 4 * EMBED)
        self.gelu = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(4 * EMBED, EMBED)
        self.head = nn.Linear(EMBED, VOCABULARY)

    def forward(self, idx):
        x = self.wte(idx)
        x = x + self.fc2(self.gelu(self.fc(x)))
        return self.head(x.reshape(-1, EMBED)).reshape(idx.shape[0], idx.shape[1], VOCABULARY)


# name: (factory, tokens (else images), exporter)
MODELS = {
    "gpt": (GPT, True, "torchscript"),
    "nanogpt": (NanoGPT, True, "torchscript"),
    "vit": (ViT, False, "torchscript"),
    "gpt_dynamo": (GPT, True, "dynamo"),
    "encoder_dynamo": (Encoder, True, "dynamo"),
    "gelu_tanh_dynamo": (TanhMLP, True, "dynamo"),
}


def filter_normalized(d, w):
    """The reference's filter normalization of direction d against weights w (float64 arrays of
    PyTorch's layout): each slice along dim 0 rescaled to the norm of w's."""
    out = d.copy()
    for f in range(d.shape[0]):
        out[f] = d[f] * (np.linalg.norm(w[f]) / (np.linalg.norm(d[f]) + 1e-10))
    return out


def export(model, x, path, exporter):
    if exporter == "dynamo":
        torch.onnx.export(model, (x,), path, dynamo=True, input_names=["input"], output_names=["output"],
                          dynamic_shapes=({0: torch.export.Dim("batch")},))
    else:
        export_torchscript(model, x, path, 17)


def initializer_map(path, model):
    """For each parameter name, (the ONNX initializer holding it, whether transposed there)."""
    graph = onnx.load(path).graph
    arrays = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer if t.data_type == onnx.TensorProto.FLOAT}
    for node in graph.node:   # copies the TorchScript exporter passes on through Identity
        if node.op_type == "Identity" and node.input[0] in arrays:
            arrays[node.output[0]] = arrays[node.input[0]]
    found = {}
    for name, p in model.named_parameters():
        value = p.detach().numpy()
        matches = [(k, False) for k, a in arrays.items() if a.shape == value.shape and np.array_equal(a, value)]
        if value.ndim == 2:
            matches += [(k, True) for k, a in arrays.items() if a.shape == value.T.shape and np.array_equal(a, value.T)]
        if len(matches) != 1:
            raise SystemExit(f"{path}: parameter {name} matches initializers {matches}")
        found[name] = matches[0]
    return found


def write(name, out):
    factory, tokens, exporter = MODELS[name]
    if exporter == "dynamo":
        try:
            import onnxscript  # noqa: F401
        except ImportError:
            print(f"{name}: skipped (the dynamo exporter needs the onnxscript package)")
            return
    generator = seeded(name.replace("_dynamo", ""))
    model = factory().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=generator))
    if tokens:
        x = x64 = torch.randint(0, VOCABULARY, (SAMPLES, CONTEXT), generator=generator)
        y = torch.randint(0, VOCABULARY, (SAMPLES, CONTEXT), generator=generator)
    else:
        x = torch.randn(SAMPLES, 3, 8, 8, generator=generator)
        x64 = x.double()
        y = torch.randint(0, 5, (SAMPLES,), generator=generator)
    path = os.path.join(out, name + ".onnx")
    export(model, x[:2], path, exporter)
    save_data(out, name, x, y)

    where = initializer_map(path, model)
    model64 = in_double(factory().double().eval(), model.state_dict())
    params = dict(model64.named_parameters())
    directions = {k: torch.randn(p.shape, generator=generator, dtype=torch.float64) for k, p in params.items()}

    def loss_of(logits):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    # The math kernel of scaled_dot_product_attention: the fused CPU kernel has no double backward.
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
        logits = model64(x64)
        loss = loss_of(logits)
        hvp = dict(zip(params, hessian_vector_products(loss, list(params.values()), [directions[k] for k in params])))
        with torch.no_grad():
            for k, p in params.items():
                p.add_(0.1 * directions[k])
            loss_perturbed = loss_of(model64(x64)).item()

    reference = {"logits_center": logits.detach().numpy(), "loss_center": np.float64(loss.item()),
                 "loss_perturbed": np.float64(loss_perturbed)}
    for k in params:
        initializer, transposed = where[k]
        d, h = directions[k].numpy(), hvp[k].numpy()
        reference["direction." + initializer] = laid_out(d, transposed)
        reference["hvp." + initializer] = laid_out(h, transposed)
        if d.ndim >= 2:
            # The centre's weights (params has moved to θ + 0.1·d by now).
            f = filter_normalized(d, dict(model.named_parameters())[k].detach().double().numpy())
            reference["filter." + initializer] = laid_out(f, transposed)
    np.savez(os.path.join(out, name + ".reference.npz"), **reference)
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{name} ({exporter}): loss {loss.item():.6f}, {len(params)} parameters, "
          f"{os.path.getsize(path)} bytes, operators {' '.join(ops)}")


if __name__ == "__main__":
    main(write, MODELS)

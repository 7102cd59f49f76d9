"""A small next-token model in PyTorch, exported to ONNX, with PyTorch's numbers on a text corpus.

Usage: token_model.py FOLDER

Writes FOLDER/story.txt (UTF-8 prose, some of it not ASCII), FOLDER/tokens.onnx (token ids
[batch, 16] as floats -> logits [batch, 16, 256], elementwise operators only) and
FOLDER/tokens.reference.json: the mean next-token cross-entropy over every position of the
corpus's windows of 17 bytes (consecutive, sharing no byte: what `terrain --context 16` cuts),
computed as F.cross_entropy over [windows * 16, 256], its token accuracy and perplexity.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

T, V = 16, 256


class TokenModel(nn.Module):
    """logits[b, t, v] = tanh(x[b, t] * w[v] + b[v]) * s[v] + c[v]: every position scored (c is
    set to a unigram prior of the corpus)."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        # w and s are [1, V] matrices (one row, a filter): random directions move them.
        self.w = nn.Parameter(torch.randn(1, V, generator=g) * 0.02)
        self.b = nn.Parameter(torch.randn(V, generator=g) * 0.5)
        self.s = nn.Parameter(torch.randn(1, V, generator=g) * 2)
        self.c = nn.Parameter(torch.randn(V, generator=g))

    def forward(self, x):
        return torch.tanh(x.unsqueeze(-1) * self.w + self.b) * self.s + self.c


def main(folder):
    os.makedirs(folder, exist_ok=True)
    sentences = ["The quick brown fox jumps over the lazy dog.", "A café in Zürich serves crème brûlée.",
                 "Loss landscapes of language models are rarely drawn.", "Every position predicts the next byte."]
    text = " ".join(sentences[(i * 7) % 4] for i in range(60)) + "\n"
    data = text.encode("utf-8")
    with open(os.path.join(folder, "story.txt"), "wb") as f:
        f.write(data)
    windows = torch.tensor(list(data[: (len(data) // (T + 1)) * (T + 1)]), dtype=torch.long).reshape(-1, T + 1)
    x, y = windows[:, :T].double(), windows[:, 1:]
    model = TokenModel().double()
    with torch.no_grad():
        # A unigram prior on the bias, so the model gets some tokens right (token accuracy > 0).
        model.c.copy_(torch.bincount(torch.tensor(list(data)), minlength=V).double().add(1).log() * 2)
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)).item()
        accuracy = (logits.argmax(-1) == y).double().mean().item() * 100
    model = model.float()
    torch.onnx.export(model, (x[:2].float(),), os.path.join(folder, "tokens.onnx"), dynamo=False, opset_version=17,
                      input_names=["tokens"], output_names=["logits"],
                      dynamic_axes={"tokens": {0: "batch"}, "logits": {0: "batch"}})
    with open(os.path.join(folder, "tokens.reference.json"), "w") as f:
        json.dump({"loss": loss, "accuracy": accuracy, "perplexity": float(torch.tensor(loss).exp()),
                   "windows": windows.shape[0]}, f)


if __name__ == "__main__":
    main(sys.argv[1])

"""PyTorch twins of Terrain's zoo transformers (gpt, vit), written in plain torch.

Each twin's state_dict has exactly the names and shapes of the Terrain model, so a Terrain
checkpoint (safetensors) loads with strict=True. The tests (Tests/TerrainTrainingTests) run

    python transformer_twins.py CHECKPOINT INPUTS.json ARCH_JSON [--gradients]

which prints the logits (one per line, repr) and the mean cross-entropy against the targets
("loss V"), and with --gradients the loss's gradient for every parameter ("grad NAME v v …",
in named_parameters order), for Terrain to compare with its own. A gpt takes sequences of any
length T up to its context (wpe's first T rows).
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    """fc2(GELU(fc1(x))), GELU exact (erf), hidden width 4E."""

    def __init__(self, embed):
        super().__init__()
        self.fc1 = nn.Linear(embed, 4 * embed)
        self.gelu = nn.GELU()
        self.fc2 = nn.Linear(4 * embed, embed)

    def forward(self, x):
        return self.fc2(self.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-LayerNorm block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, embed, heads, causal):
        super().__init__()
        self.causal = causal
        self.ln_1 = nn.LayerNorm(embed)
        self.attn = nn.MultiheadAttention(embed, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(embed)
        self.mlp = MLP(embed)

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1) if self.causal else None
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocabulary, context, embed, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(vocabulary, embed)
        self.wpe = nn.Embedding(context, embed)
        self.h = nn.ModuleList([Block(embed, heads, causal=True) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(embed)
        self.head = nn.Linear(embed, vocabulary)

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.h:
            x = block(x)
        return self.head(self.ln_f(x))


class PatchEmbed(nn.Module):
    def __init__(self, channels, embed, patch):
        super().__init__()
        self.proj = nn.Conv2d(channels, embed, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class ViT(nn.Module):
    """Patch embedding, learned positions, bidirectional blocks, mean pooling (no class token)."""

    def __init__(self, channels, height, width, classes, patch, embed, heads, layers):
        super().__init__()
        self.patch_embed = PatchEmbed(channels, embed, patch)
        self.pos_embed = nn.Embedding((height // patch) * (width // patch), embed)
        self.blocks = nn.ModuleList([Block(embed, heads, causal=False) for _ in range(layers)])
        self.norm = nn.LayerNorm(embed)
        self.head = nn.Linear(embed, classes)

    def forward(self, images):
        x = self.patch_embed(images)
        x = x + self.pos_embed(torch.arange(x.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x).mean(dim=1))


def twin(spec):
    """The twin of a Terrain ModelSpec (its JSON, with the zoo's defaults filled in)."""
    layers, heads, embed = spec.get("layers", 2), spec.get("heads", 4), spec.get("embed", 64)
    if spec["architecture"] == "gpt":
        return GPT(spec["outputs"], spec["inputShape"][0], embed, heads, layers)
    c, h, w = spec["inputShape"]
    return ViT(c, h, w, spec["outputs"], spec.get("patch", 4), embed, heads, layers)


def main():
    from safetensors.torch import load_file

    checkpoint, inputs_path, spec_json = sys.argv[1:4]
    gradients = "--gradients" in sys.argv[4:]
    spec = json.loads(spec_json)
    model = twin(spec)
    model.load_state_dict(load_file(checkpoint), strict=True)
    model.eval()
    with open(inputs_path) as f:
        data = json.load(f)
    with torch.set_grad_enabled(gradients):
        if spec["architecture"] == "gpt":
            ids = torch.tensor(data["inputs"], dtype=torch.long)
            logits = model(ids)
            targets = torch.tensor(data["targets"], dtype=torch.long)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        else:
            images = torch.tensor(data["inputs"], dtype=torch.float32).reshape([-1] + spec["inputShape"])
            logits = model(images)
            loss = F.cross_entropy(logits, torch.tensor(data["targets"], dtype=torch.long))
    for v in logits.reshape(-1).tolist():
        print(repr(v))
    print("loss", repr(loss.item()))
    if gradients:
        loss.backward()
        for name, p in model.named_parameters():
            print("grad", name, " ".join(repr(v) for v in p.grad.reshape(-1).tolist()))


if __name__ == "__main__":
    main()

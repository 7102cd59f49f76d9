"""A small transformer (token embedding, nn.TransformerEncoderLayer, a head over the vocabulary)
from PyTorch: its surface on next-token data against PyTorch's loop, point by point."""
import numpy as np
import pytest

import terrain
from conftest import require

VOCABULARY, EMBED, CONTEXT = 11, 16, 6


def make_model(torch):
    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = torch.nn.Embedding(VOCABULARY, EMBED)
            self.layer = torch.nn.TransformerEncoderLayer(EMBED, 2, 32, dropout=0.0, batch_first=True)
            self.head = torch.nn.Linear(EMBED, VOCABULARY)

        def forward(self, idx):
            return self.head(self.layer(self.wte(idx)))

    torch.manual_seed(4)
    model = Encoder().eval()
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        # Away from LayerNorm's ones and zeros, which the exporter would share between tensors.
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=generator))
    return model


def test_a_transformer_surface_equals_pytorch_at_every_point(torch):
    onnx = require("onnx")
    from onnx import numpy_helper
    model = make_model(torch)
    sequences = torch.randint(0, VOCABULARY, (24, CONTEXT + 1), generator=torch.Generator().manual_seed(6))
    x, y = sequences[:, :-1], sequences[:, 1:]
    surface = terrain.surface(model, (x, y), x=(-1, 1, 3), y=(-1, 1, 3), out="encoder.h5", quiet=True)
    np.testing.assert_array_equal(np.load("encoder.data.npz")["tokens"], sequences.numpy())
    np.testing.assert_allclose(surface.train_perplexity, np.exp(surface.train_loss), rtol=1e-12)

    # Each direction belongs to an initializer of the export, in the graph's order: a parameter
    # under its state_dict name, or a Linear's weight the exporter folded, transposed, into MatMul.
    initializers = [numpy_helper.to_array(i) for i in onnx.load("encoder.model.onnx").graph.initializer]
    directions = surface.directions
    assert [d.shape for d in directions.x] == [i.shape for i in initializers]
    named = dict(model.named_parameters())
    placed = {}
    for k, value in enumerate(initializers):
        for name, p in named.items():
            array = p.detach().numpy()
            if array.shape == value.shape and np.array_equal(array, value):
                placed[name] = (k, False)
            elif array.ndim == 2 and array.T.shape == value.shape and np.array_equal(array.T, value):
                placed[name] = (k, True)
    assert sorted(placed) == sorted(named)

    def loss_at(alpha, beta):
        twin = make_model(torch).double()
        with torch.no_grad():
            for name, p in twin.named_parameters():
                k, transposed = placed[name]
                step = alpha * directions.x[k] + beta * directions.y[k]
                p.add_(torch.from_numpy(step.T if transposed else step))
            logits = twin(x)
            return torch.nn.functional.cross_entropy(logits.reshape(-1, VOCABULARY), y.reshape(-1)).item()

    for j, beta in enumerate(surface.y):
        for i, alpha in enumerate(surface.x):
            assert surface.train_loss[j, i] == pytest.approx(loss_at(alpha, beta), rel=1e-5), (alpha, beta)


def test_per_position_targets_that_are_not_next_tokens_are_refused(torch):
    model = make_model(torch)
    x = torch.randint(0, VOCABULARY, (4, CONTEXT))
    with pytest.raises(ValueError, match="next tokens"):
        terrain.surface(model, (x, (x + 1) % VOCABULARY), x=(-1, 1, 3), y=None, out="bad.h5", quiet=True)

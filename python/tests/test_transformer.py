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

    # The export keeps every parameter as its state_dict entry, in PyTorch's layout (Linear
    # layers on sequences are MatMul with a Transpose node, not a folded transposed copy), so the
    # direction file's tensors are the module's parameters, in order.
    graph = onnx.load("encoder.model.onnx").graph
    names = [name for name, _ in model.named_parameters()]
    assert [i.name for i in graph.initializer] == names
    directions = surface.directions
    assert [d.shape for d in directions.x] == [tuple(p.shape) for p in model.parameters()]
    for initializer, p in zip(graph.initializer, model.parameters()):
        np.testing.assert_array_equal(numpy_helper.to_array(initializer), p.detach().numpy())
    # Filter normalization by PyTorch's rows (the reference's rule): each row of a matrix's
    # direction has that row's norm in θ; vectors (biases, LayerNorm) do not move under biasbn.
    for d, (name, p) in zip(directions.x, model.named_parameters()):
        if d.ndim == 2:
            np.testing.assert_allclose(np.linalg.norm(d, axis=1), np.linalg.norm(p.detach().numpy(), axis=1), rtol=1e-5)
        else:
            assert not d.any(), name
    placed = {name: k for k, name in enumerate(names)}

    def loss_at(alpha, beta):
        twin = make_model(torch).double()
        with torch.no_grad():
            for name, p in twin.named_parameters():
                k = placed[name]
                p.add_(torch.from_numpy(alpha * directions.x[k] + beta * directions.y[k]))
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


def test_a_recorded_transformer_run_and_its_trajectory(torch):
    model = make_model(torch)
    sequences = torch.randint(0, VOCABULARY, (24, CONTEXT + 1), generator=torch.Generator().manual_seed(7))
    x, y = sequences[:, :-1], sequences[:, 1:]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    with terrain.Recorder(model, out="runs/encoder", every=2, example=x[:2]) as recorder:
        for _ in range(6):
            model.train()
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, VOCABULARY), y.reshape(-1))
            loss.backward()
            optimizer.step()
            recorder.step(loss=loss, lr=1e-2)
        recorder.epoch(train_loss=loss)
    model.eval()
    path = terrain.trajectory("runs/encoder", (x, y), steps=3, out="encoder-path.h5", quiet=True)
    assert path.path_iteration.tolist() == [0, 2, 4, 6]
    assert (path.path_x[-1], path.path_y[-1]) == (0, 0)
    with torch.no_grad():
        final = torch.nn.functional.cross_entropy(model(x).reshape(-1, VOCABULARY), y.reshape(-1)).item()
    stack = terrain.evolve("runs/encoder", (x, y), x=(-1, 1, 3), y=(-1, 1, 3), frames="epochs", out="encoder-evolve.h5",
                           quiet=True)
    assert stack.frame_train_loss[-1] == pytest.approx(final, rel=1e-5)
    assert stack.train_perplexity.shape == (2, 3, 3)

"""Shared fixtures of the Python package's tests.

The tests run the real terrain program (``$TERRAIN``, the PATH, or the repository's release
build) on small PyTorch models. Without torch a test is skipped, unless
``TERRAIN_REQUIRE_CROSSCHECKS=1`` (as ``make test`` sets), under which it fails instead.
"""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def require(module_name):
    """The module, or a skip (a failure under TERRAIN_REQUIRE_CROSSCHECKS=1) when it is missing."""
    try:
        return __import__(module_name)
    except ImportError:
        if os.environ.get("TERRAIN_REQUIRE_CROSSCHECKS") == "1":
            pytest.fail(f"{module_name} is required (TERRAIN_REQUIRE_CROSSCHECKS=1) but missing")
        pytest.skip(f"{module_name} is not installed")


@pytest.fixture
def torch():
    return require("torch")


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    # Every test writes into its own folder; two threads keep the shared machine usable.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TERRAIN_THREADS", os.environ.get("TERRAIN_THREADS", "2"))


def small_mlp(torch, inputs=6, hidden=16, classes=3, seed=0):
    """A Linear-BN-ReLU-Linear classifier with BN statistics away from 0 and 1 (so that
    evaluation mode matters)."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.BatchNorm1d(hidden), torch.nn.ReLU(),
                                torch.nn.Linear(hidden, classes))
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        bn = model[1]
        bn.running_mean.copy_(torch.randn(hidden, generator=generator) * 0.3)
        bn.running_var.copy_(torch.rand(hidden, generator=generator) + 0.5)
        bn.weight.copy_(1 + 0.2 * torch.randn(hidden, generator=generator))
        bn.bias.copy_(0.2 * torch.randn(hidden, generator=generator))
    return model


def classification_data(torch, count=64, inputs=6, classes=3, seed=2):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(count, inputs, generator=generator)
    y = torch.randint(0, classes, (count,), generator=generator)
    return x, y


def loss_at(torch, model, params, x, y):
    """PyTorch's mean cross-entropy and accuracy (%) of `model` in evaluation mode with its
    parameters replaced by `params` (a list in `model.parameters()` order), in float64."""
    import copy
    twin = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for p, value in zip(twin.parameters(), params):
            p.copy_(torch.as_tensor(value, dtype=torch.float64))
        logits = twin(x.double())
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        accuracy = 100.0 * (logits.argmax(1) == y).double().mean().item()
    return loss, accuracy


@pytest.fixture
def helpers():
    class Helpers:
        pass
    h = Helpers()
    h.small_mlp = small_mlp
    h.classification_data = classification_data
    h.loss_at = loss_at
    h.np = np
    return h

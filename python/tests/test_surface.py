"""A torch model's surface, computed by the program, against PyTorch's own loop of θ + αδ + βη
with the directions read back from the direction file."""
import numpy as np
import pytest

import terrain


def test_surface_of_a_torch_module_equals_pytorch_at_every_point(torch, helpers):
    model = helpers.small_mlp(torch)
    model.train()  # the export must use evaluation mode and give the module back as it was
    x, y = helpers.classification_data(torch)
    surface = terrain.surface(model, (x, y), x=(-1, 1, 5), y=(-0.5, 1, 4), norm="filter", ignore="biasbn",
                              out="mlp.h5", quiet=True)
    assert model.training
    assert surface.train_loss.shape == (4, 5)
    assert surface.kind == "surface" and surface.xnorm == "filter" and surface.xignore == "biasbn"
    np.testing.assert_allclose(surface.x, np.linspace(-1, 1, 5))
    np.testing.assert_allclose(surface.y, np.linspace(-0.5, 1, 4))

    directions = surface.directions
    theta = [p.detach().double() for p in model.parameters()]
    assert [d.shape for d in directions.x] == [tuple(t.shape) for t in theta]
    # biasbn: no movement along biases and BN's scale and shift.
    for d, (name, _) in zip(directions.x, model.named_parameters()):
        if d.ndim <= 1:
            assert not d.any(), name
    for j, beta in enumerate(surface.y):
        for i, alpha in enumerate(surface.x):
            params = [t + alpha * torch.from_numpy(dx) + beta * torch.from_numpy(dy)
                      for t, dx, dy in zip(theta, directions.x, directions.y)]
            loss, accuracy = helpers.loss_at(torch, model, params, x, y)
            assert abs(surface.train_loss[j, i] - loss) <= 1e-5 * max(1.0, abs(loss)), (alpha, beta)
            assert surface.train_acc[j, i] == pytest.approx(accuracy, abs=1e-9)


def test_a_1d_surface_and_its_metadata(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    curve = terrain.surface(model, (x.numpy(), y.numpy()), x=(-1, 1, 7), y=None, seed=7, out="curve.h5", quiet=True)
    assert curve.y is None and not curve.is_2d
    assert curve.train_loss.shape == (7,)
    assert curve.seed == "7"
    assert curve.path.name == "curve.h5"
    assert "written to curve.h5" in curve.log
    # The centre is the model itself.
    loss, _ = helpers.loss_at(torch, model, [p.detach().double() for p in model.parameters()], x, y)
    assert curve.train_loss[3] == pytest.approx(loss, rel=1e-5)


def test_a_state_dict_with_its_zoo_architecture(torch, helpers):
    # A Terrain zoo MLP has PyTorch's names fc1, fc2: the same module in PyTorch.
    torch.manual_seed(3)
    module = torch.nn.Module()
    module.fc1 = torch.nn.Linear(6, 8)
    module.fc2 = torch.nn.Linear(8, 3)
    x, y = helpers.classification_data(torch)
    curve = terrain.surface(module.state_dict(), (x, y), x=(-1, 1, 3), y=None, architecture="mlp,hidden=8",
                            out="zoo.h5", quiet=True)
    with torch.no_grad():
        logits = module.fc2(torch.relu(module.fc1(x)))
        loss = torch.nn.functional.cross_entropy(logits, y).item()
    assert curve.train_loss[1] == pytest.approx(loss, rel=1e-5)


def test_an_ensemble_of_surfaces_reads_as_nested_dicts(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    plain = terrain.surface(model, (x.numpy(), y.numpy()), x=(-1, 1, 5), y=None, seed=9, out="plain.h5", quiet=True)
    ensemble = terrain.surface(model, (x.numpy(), y.numpy()), x=(-1, 1, 5), y=None, seed=7, repeats=3, out="ensemble.h5",
                               quiet=True)
    repeats = ensemble.repeats
    assert repeats["attrs"]["kind"] == "directions" and repeats["attrs"]["seeds"] == "7,9,11"
    # Member 1 is the plain run with --seed 9; the file's own datasets are member 0.
    np.testing.assert_array_equal(repeats["1"]["train_loss"], plain.train_loss)
    np.testing.assert_array_equal(repeats["0"]["train_loss"], ensemble.train_loss)
    members = np.stack([repeats[k]["train_loss"] for k in "012"])
    np.testing.assert_allclose(repeats["mean"]["train_loss"], members.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(repeats["std"]["train_loss"], members.std(axis=0, ddof=1), rtol=1e-9, atol=1e-15)
    assert isinstance(ensemble.directions.x, list)

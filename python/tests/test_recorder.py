"""A PyTorch training loop recorded by terrain.Recorder, then its trajectory and evolution."""
import csv
import json
import subprocess

import numpy as np
import pytest

import terrain
from terrain import _safetensors


def train_and_record(torch, helpers, out, every=4, epochs=2, example=True):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch, count=48)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)
    recorder = terrain.Recorder(model, out=out, every=every, example=x[:2] if example else None)
    for epoch in range(epochs):
        model.train()
        for start in range(0, 48, 8):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[start:start + 8]), y[start:start + 8])
            loss.backward()
            optimizer.step()
            recorder.step(loss=loss, lr=optimizer.param_groups[0]["lr"])
        scheduler.step()
        model.eval()
        with torch.no_grad():
            logits = model(x)
            train_loss = torch.nn.functional.cross_entropy(logits, y).item()
            train_acc = 100 * (logits.argmax(1) == y).float().mean().item()
        recorder.epoch(train_loss=train_loss, train_acc=train_acc, samples=48)
    recorder.close()
    return model, x, y


def test_the_recorder_writes_terrains_run_folder(torch, helpers, tmp_path):
    model, x, y = train_and_record(torch, helpers, "runs/mlp")
    run = tmp_path / "runs" / "mlp"
    record = json.loads((run / "run.json").read_text())
    files = [c["file"] for c in record["checkpoints"]]
    # 6 steps an epoch, a checkpoint every 4: iterations 4, 8, 12, with the epochs' ends at 6 and 12.
    assert files == ["checkpoints/epoch-0000.safetensors", "checkpoints/iter-00000004.safetensors",
                     "checkpoints/epoch-0001.safetensors", "checkpoints/iter-00000008.safetensors",
                     "checkpoints/iter-00000012.safetensors", "checkpoints/epoch-0002.safetensors", "final.safetensors"]
    assert [c["iteration"] for c in record["checkpoints"]] == [0, 4, 6, 8, 12, 12, 12]
    assert record["onnx"] == "model.onnx" and (run / "model.onnx").exists()
    assert "finished" in record and record["final_train"]["loss"] > 0
    # StepLR's drop from 0.2 to 0.02 after the first epoch, as terrain train records one: the epoch
    # in progress (from 0) and the 6 steps done before the first step at the new rate.
    assert record["learning_rate_changes"] == [{"epoch": 1, "iteration": 6, "from": 0.2, "to": pytest.approx(0.02)}]
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["epoch", "iteration", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "weight_norm",
                             "seconds", "images_per_s"]
    assert [r["iteration"] for r in rows] == ["6", "12"] and rows[0]["test_loss"] == ""
    with open(run / "iterations.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 12
    tensors, metadata = _safetensors.read(run / "final.safetensors")
    assert metadata["terrain.iteration"] == "12" and metadata["terrain.epoch"] == "2"
    assert tensors["1.num_batches_tracked"].dtype == np.int64
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(tensors[name], value.numpy())
    # PyTorch loads the checkpoints as they are.
    state = {k: torch.from_numpy(v) for k, v in _safetensors.read(run / "checkpoints/epoch-0001.safetensors")[0].items()}
    helpers.small_mlp(torch).load_state_dict(state, strict=True)


def test_trajectory_and_evolve_of_a_recorded_pytorch_run(torch, helpers, tmp_path):
    model, x, y = train_and_record(torch, helpers, "runs/mlp")
    path = terrain.trajectory("runs/mlp", (x, y), steps=4, out="trajectory.h5", quiet=True)
    assert path.kind == "trajectory"
    assert len(path.path_x) == 5  # iterations 0, 4, 6, 8, 12: one checkpoint per iteration, final aside
    assert path.path_x[-1] == pytest.approx(0, abs=1e-9) and path.path_y[-1] == pytest.approx(0, abs=1e-9)
    assert 0 < path.pc1_explained <= 1
    # The drop is marked at the first checkpoint from iteration 6 on: epoch 1's end.
    assert path.path_iteration.tolist() == [0, 4, 6, 8, 12] and path.path_lr_drop.tolist() == [0, 0, 1, 0, 0]
    # A grid point is θ_final + α·d1 + β·d2 with the plane's directions, as PyTorch evaluates it.
    directions = path.directions
    theta = [p.detach().double() for p in model.parameters()]
    j, i = 1, 2
    alpha, beta = path.x[i], path.y[j]
    params = [t + alpha * torch.from_numpy(a) + beta * torch.from_numpy(b) for t, a, b in zip(theta, directions.x, directions.y)]
    loss, _ = helpers.loss_at(torch, model, params, x, y)
    assert path.train_loss[j, i] == pytest.approx(loss, rel=1e-5)

    stack = terrain.evolve("runs/mlp", (x, y), x=(-1, 1, 3), y=(-1, 1, 3), frames="epochs", out="evolve.h5", quiet=True)
    assert stack.frames == 3 and stack.train_loss.shape == (3, 3, 3)
    assert stack.mode == "riding"
    # Frame k's centre is checkpoint k's loss; the epochs' logged losses come from the checkpoints' metadata.
    assert np.isnan(stack.frame_logged_train_loss[0])
    np.testing.assert_allclose(stack.train_loss[:, 1, 1], stack.frame_train_loss, rtol=1e-12)
    final_loss, _ = helpers.loss_at(torch, model, [p.detach().double() for p in model.parameters()], x, y)
    assert stack.frame_train_loss[-1] == pytest.approx(final_loss, rel=1e-5)
    assert stack.frame_logged_train_loss[-1] == pytest.approx(final_loss, rel=1e-5)

    # One PCA plane for the run: the same plane as the trajectory's, the final weights at its origin.
    fixed = terrain.evolve("runs/mlp", (x, y), mode="fixed-pca", steps=3, frames="epochs", out="fixed.h5", quiet=True)
    assert fixed.mode == "fixed-pca" and fixed.pc1_explained == pytest.approx(path.pc1_explained, rel=1e-12)
    assert (fixed.frame_x[-1], fixed.frame_y[-1]) == (pytest.approx(0, abs=1e-9), pytest.approx(0, abs=1e-9))
    np.testing.assert_allclose(fixed.path_x, path.path_x, rtol=1e-12, atol=1e-12)


def test_the_command_line_reads_a_recorded_run_alone(torch, helpers, tmp_path):
    train_and_record(torch, helpers, "runs/mlp")
    x, y = helpers.classification_data(torch, count=48)
    np.savez("data.npz", x=x.numpy(), y=y.numpy())
    done = subprocess.run([terrain.find_program(), "trajectory", "--run", "runs/mlp", "--data", "data.npz", "--steps", "0",
                           "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert terrain.load("trajectory.projection.h5").proj_xcoord.shape == (5,)


def test_a_list_of_checkpoints_and_a_module_given_later(torch, helpers):
    model, x, y = train_and_record(torch, helpers, "runs/plain", example=False)
    assert "onnx" not in json.loads(open("runs/plain/run.json").read())
    checkpoints = ["runs/plain/checkpoints/epoch-0000.safetensors", "runs/plain/checkpoints/epoch-0001.safetensors",
                   "runs/plain/final.safetensors"]
    path = terrain.trajectory(checkpoints, (x, y), model=model, steps=3, out="listed.h5", quiet=True)
    # The list is the path, in its order; the last checkpoint is the plane's origin.
    assert len(path.path_x) == 3 and path.path_iteration.tolist() == [0, 1, 2]
    assert (path.path_x[-1], path.path_y[-1]) == (0, 0) and path.path_x[0] != 0
    assert json.loads(open("listed.run/run.json").read())["onnx"] == "model.onnx"


def test_a_list_of_modules_is_its_own_network(torch, helpers):
    import copy
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    snapshots = []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(3):
        snapshots.append(copy.deepcopy(model))
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    snapshots.append(copy.deepcopy(model))
    path = terrain.trajectory(snapshots, (x, y), steps=3, out="snapshots.h5", quiet=True)
    assert len(path.path_x) == 4 and (path.path_x[-1], path.path_y[-1]) == (0, 0)


def test_a_zoo_network_recorded_with_its_architecture(torch, helpers):
    # Terrain's zoo MLP has PyTorch's names fc1, fc2: the same network written in PyTorch.
    torch.manual_seed(3)
    model = torch.nn.Module()
    model.fc1 = torch.nn.Linear(6, 8)
    model.fc2 = torch.nn.Linear(8, 3)
    model.forward = lambda inputs: model.fc2(torch.relu(model.fc1(inputs)))
    x, y = helpers.classification_data(torch)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    with terrain.Recorder(model, out="runs/zoo", every=2, architecture="mlp,hidden=8") as recorder:
        for _ in range(6):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            recorder.step(loss=loss, lr=0.3)
        recorder.epoch(train_loss=loss)
    record = json.loads(open("runs/zoo/run.json").read())
    assert record["model"] == {"architecture": "mlp", "description": "mlp,hidden=8"} and "onnx" not in record
    # The architecture comes from run.json: the program reads the state_dicts as the zoo's MLP.
    path = terrain.trajectory("runs/zoo", (x, y), steps=3, out="zoo.h5", quiet=True)
    assert path.path_iteration.tolist() == [0, 2, 4, 6]
    with torch.no_grad():
        final_loss = torch.nn.functional.cross_entropy(model(x), y).item()
    frames = terrain.evolve("runs/zoo", (x, y), x=(-1, 1, 3), y=(-1, 1, 3), frames="epochs", out="zoo-evolve.h5", quiet=True)
    assert frames.frame_train_loss[-1] == pytest.approx(final_loss, rel=1e-5)


def test_a_recorded_run_draws_its_own_figures(torch, helpers, tmp_path):
    # `terrain plot RUN`: loss, accuracy and weight norm per epoch, and the weight norm at the
    # recorder's checkpoint steps; no test metrics were given, which the program notes.
    train_and_record(torch, helpers, "runs/mlp", example=False)
    figures = terrain.figures.plot(["runs/mlp"], out="figures")
    assert [f.path.name for f in figures] == ["mlp_loss.png", "mlp_accuracy.png", "mlp_weight_norm.png",
                                             "mlp_weight_norm_iterations.png"]
    assert all(f.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in figures)

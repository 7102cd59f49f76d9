"""Files of `terrain connect` (a curve between two trained models), read back by load()."""
import subprocess

import numpy as np

import terrain
from terrain import _program


def test_connect_files_read_as_a_curve_and_its_plane(tmp_path):
    program = _program.find_program()
    digits = tmp_path / "digits.csv"
    rng = np.random.default_rng(0)
    # Two well separated classes in 4 features: both trainings converge in a couple of epochs.
    labels = np.arange(120) % 2
    features = rng.normal(size=(120, 4)) + 2.0 * labels[:, None]
    np.savetxt(digits, np.column_stack([features, labels]), delimiter=",", fmt="%.6f",
               header="a,b,c,d,label", comments="")
    ends = []
    for seed in (1, 2):
        out = tmp_path / f"mode{seed}"
        subprocess.run([program, "train", "--quiet", "--model", "mlp", "--hidden", "8", "--dataset", str(digits),
                        "--epochs", "2", "--seed", str(seed), "--model-seed", str(seed), "--out", str(out)],
                       check=True, stdout=subprocess.DEVNULL)
        ends.append(str(out / "final.safetensors"))
    subprocess.run([program, "connect", "--quiet", *ends, "--epochs", "1", "--points", "5", "--plane-grid", "3",
                    "--out", str(tmp_path / "connect")], check=True, stdout=subprocess.DEVNULL)
    curve = terrain.load(tmp_path / "connect" / "curve.h5")
    plane = terrain.load(tmp_path / "connect" / "plane.h5")
    assert curve.kind == "connect" and curve.train_loss.shape == (5,)
    assert "line_train_loss" in curve.datasets
    # The curve and the line share their ends: A at t = 0, B at t = 1.
    assert curve.train_loss[0] == curve.line_train_loss[0] and curve.train_loss[-1] == curve.line_train_loss[-1]
    assert plane.kind == "connect-plane" and plane.train_loss.shape == (3, 3)

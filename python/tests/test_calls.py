"""The other calls (interpolate, plane, hessian, hessian_map, sharpness), load() of their files,
Terrain's figures and the viewer page shown inline."""
import html
import subprocess
from pathlib import Path
import re

import numpy as np
import pytest

import terrain
from conftest import require


@pytest.fixture
def two_models(torch, helpers):
    first = helpers.small_mlp(torch, seed=0)
    second = helpers.small_mlp(torch, seed=10)
    x, y = helpers.classification_data(torch)
    return first, second, x, y


def test_interpolate_between_two_modules_equals_pytorch(torch, helpers, two_models):
    first, second, x, y = two_models
    line = terrain.interpolate(first, second, (x, y), steps=5, range=(-0.5, 1.5), out="line.h5", quiet=True)
    assert line.kind == "interpolation" and line.train_loss.shape == (5,)
    np.testing.assert_allclose(line.x, np.linspace(-0.5, 1.5, 5))
    # dir_type states: BN's running statistics move along the line too.
    state_a, state_b = first.state_dict(), second.state_dict()
    for k, alpha in enumerate(line.x):
        twin = helpers.small_mlp(torch).double().eval()
        twin.load_state_dict({n: ((1 - alpha) * state_a[n].double() + alpha * state_b[n].double())
                              if state_a[n].is_floating_point() else state_a[n] for n in state_a})
        with torch.no_grad():
            loss = torch.nn.functional.cross_entropy(twin(x.double()), y).item()
        assert line.train_loss[k] == pytest.approx(loss, rel=1e-5)


def test_plane_and_its_figures(two_models, helpers, torch):
    first, second, x, y = two_models
    third = helpers.small_mlp(torch, seed=20)
    plane = terrain.plane(first, second, third, (x, y), x=(0, 1, 3), y=(0, 1, 3), out="plane.h5", quiet=True)
    assert plane.kind == "plane" and plane.train_loss.shape == (3, 3)
    figures = plane.figure(kind="contour", format=["png", "svg"])
    assert sorted(f.path.name for f in figures) == ["plane_train_loss_2dcontour.png", "plane_train_loss_2dcontour.svg"]
    assert all(f.path.exists() for f in figures)
    assert figures[0]._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<img" in figures._repr_html_() and "<svg" in figures._repr_html_()
    heat = plane.figure(kind="heatmap", quantity="train_acc", out="figures")
    assert [f.path.name for f in heat] == ["plane_train_acc_2dheat.png"] and heat[0].path.parent.name == "figures"


def test_the_viewer_page_inline_in_a_sandboxed_frame(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    surface = terrain.surface(model, (x, y), x=(-1, 1, 3), y=(-1, 1, 3), out="view.h5", quiet=True)
    frame = surface._repr_html_()
    assert frame.startswith('<iframe sandbox="allow-scripts" srcdoc="')
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "terrain-selfcheck" in page or "<script" in page
    assert 'src="http' not in page  # self-contained: nothing loaded from anywhere
    assert surface.save_viewer("view.html").read_text() == page


def test_hessian_hessian_map_and_sharpness(torch, helpers, two_models):
    first, second, x, y = two_models
    spectrum = terrain.hessian(first, (x, y), top=2, bottom=1, trace=True, density=True, max_iterations=30,
                               eigenvectors="eig.h5", out="hessian.h5", quiet=True)
    assert isinstance(spectrum, terrain.Spectrum)
    assert spectrum.eigenvalues.shape == (3,) and spectrum.eigenvalues[0] >= spectrum.eigenvalues[1]
    assert spectrum.trace is not None and spectrum.density.shape == spectrum.density_x.shape
    assert spectrum.samples == 64
    shown = spectrum._repr_html_()
    assert "<table>" in shown and "<img" in shown  # the eigenvalues and Terrain's density figure
    eigenvectors = terrain.load("eig.h5")
    assert isinstance(eigenvectors, terrain.Directions)
    top = np.concatenate([d.ravel() for d in eigenvectors.x])
    assert np.linalg.norm(top) == pytest.approx(1, rel=1e-6)
    # The Hessian's top eigenvector by PyTorch's double backward: H·v = λ·v.
    params = [p for p in first.parameters()]
    first.eval()
    loss = torch.nn.functional.cross_entropy(first(x), y)
    gradients = torch.autograd.grad(loss, params, create_graph=True)
    vector = [torch.from_numpy(d).float() for d in eigenvectors.x]
    products = torch.autograd.grad(sum((g * v).sum() for g, v in zip(gradients, vector)), params)
    hv = torch.cat([p.reshape(-1) for p in products]).double().numpy()
    np.testing.assert_allclose(hv, spectrum.eigenvalues[0] * top, atol=1e-3 * abs(spectrum.eigenvalues[0]))

    surface = terrain.surface(first, (x, y), x=(-0.5, 0.5, 2), y=(-0.5, 0.5, 2), out="map.h5", quiet=True)
    convexity = terrain.hessian_map(surface, max_iterations=10, out="convexity.h5", quiet=True)
    assert convexity.kind == "convexity" and convexity.max_eig.shape == (2, 2)
    assert (convexity.max_eig >= convexity.min_eig).all()

    table = terrain.sharpness([first, second], (x, y), direction_count=2, ascent_steps=2, out="sharpness.csv", quiet=True)
    assert len(table.rows) == 2 and table.loss.shape == (2,)
    assert (table.epsilon_sharpness >= 0).all()
    assert "<table>" in table._repr_html_()


def test_load_reads_what_it_is_given(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    terrain.surface(model, (x, y), x=(-1, 1, 3), y=(-1, 1, 3), out="s.h5", quiet=True)
    surface = terrain.load("s.h5")
    assert isinstance(surface, terrain.Surface) and surface.quantities == ["train_loss", "train_acc"]
    assert surface.dir_type == "weights" and isinstance(surface.direction_cosine, float)
    assert "train_loss" in dir(surface) and "direction_cosine" in dir(surface)
    assert isinstance(terrain.load("s.directions.h5"), terrain.Directions)
    with pytest.raises(AttributeError):
        surface.no_such_thing
    with pytest.raises(ValueError):
        np.savez("other.npz", a=1)
        import h5py
        with h5py.File("other.h5", "w") as f:
            f["a"] = 1
        terrain.load("other.h5")


def test_plot_draws_with_matplotlib_when_it_is_installed(torch, helpers):
    matplotlib = require("matplotlib")  # optional for users (figure() needs none); installed for the tests
    matplotlib.use("Agg")
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    surface = terrain.surface(model, (x, y), x=(-1, 1, 3), y=(-1, 1, 3), out="p.h5", quiet=True)
    axes = surface.plot()
    assert axes.get_xlabel() == "α"
    curve = terrain.surface(model, (x, y), x=(-1, 1, 3), y=None, out="c.h5", quiet=True)
    assert len(curve.plot().get_lines()) == 1


def test_exports_checkpoints_and_run_folders_load_too(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    surface = terrain.surface(model, (x, y), x=(-1, 1, 3), y=(-0.5, 0.5, 2), out="e.h5", quiet=True)
    subprocess.run([terrain.find_program(), "export", "e.h5", "e.npz", "e.csv"], check=True, capture_output=True)
    for name in ("e.npz", "e.csv"):
        exported = terrain.load(name)
        assert isinstance(exported, terrain.Export)
        np.testing.assert_array_equal(exported.x, surface.x)
        np.testing.assert_array_equal(exported.y, surface.y)
        np.testing.assert_allclose(exported.train_loss, surface.train_loss, rtol=1e-15)

    recorder = terrain.Recorder(model, out="run", every=0)
    recorder.epoch(train_loss=1.5)
    recorder.close()
    run = terrain.load("run")
    assert isinstance(run, terrain.Run) and [p.name for p in run.checkpoints] == \
        ["epoch-0000.safetensors", "epoch-0001.safetensors", "final.safetensors"]
    assert run.metrics.train_loss.tolist() == [1.5]
    final = run.checkpoint()
    assert isinstance(final, terrain.Checkpoint) and final.epoch == "1" and final.train_loss == "1.5"
    np.testing.assert_array_equal(final.tensors["0.weight"], model[0].weight.detach().numpy())


def test_the_inline_viewer_draws_in_a_browser(torch, helpers, tmp_path):
    """The sandboxed frame as a notebook shows it, screenshot by headless Chromium (software
    WebGL, as tests/browser.sh runs it): its 3D view holds a picture, not a blank."""
    import os
    import shutil
    import sys
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        if os.environ.get("TERRAIN_REQUIRE_CROSSCHECKS") == "1":
            pytest.fail("Chromium is required (TERRAIN_REQUIRE_CROSSCHECKS=1) but missing")
        pytest.skip("no Chromium")
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    surface = terrain.surface(model, (x, y), x=(-1, 1, 9), y=(-1, 1, 9), out="drawn.h5", quiet=True)
    page = tmp_path / "cell.html"
    page.write_text('<!doctype html><html><body style="margin:0"><h3>a notebook cell</h3>'
                    + surface._repr_html_() + "</body></html>")
    checker = Path(__file__).resolve().parent.parent.parent / "tests" / "png_colours.py"

    shot = tmp_path / "cell.png"
    # Chromium draws a sandboxed frame in a process of its own (IsolateSandboxedIframes), whose
    # picture a headless screenshot takes only some of the time; in the page's process it always
    # does. What is drawn is the same.
    subprocess.run([browser, "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                    "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                    "--hide-scrollbars", "--disable-features=IsolateSandboxedIframes", f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=1200,900", "--virtual-time-budget=6000", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=90)
    # The frame's 3D view, below its controls and colour bar.
    done = subprocess.run([sys.executable, str(checker), f"{shot}:60:380:600:740:40"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

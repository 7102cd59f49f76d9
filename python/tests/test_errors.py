"""Failures raise TerrainError with the program's message; Ctrl-C leaves a resumable file."""
import os
import signal
import threading

import numpy as np
import pytest

import terrain
from terrain import _runner
from conftest import require


def test_an_unsupported_onnx_operator_is_named(torch, helpers):
    class Sine(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(6, 3)

        def forward(self, x):
            return torch.sin(self.linear(x))

    x, y = helpers.classification_data(torch)
    with pytest.raises(terrain.TerrainError) as caught:
        terrain.surface(Sine(), (x, y), x=(-1, 1, 3), y=None, out="sine.h5", quiet=True)
    assert "Sin" in caught.value.message
    assert caught.value.returncode not in (0, None)
    assert caught.value.command[1] == "surface"
    assert "Sin" in str(caught.value)


def test_data_of_the_wrong_shape(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    with pytest.raises(terrain.TerrainError) as caught:
        terrain.surface(model, (x, y[:50]), x=(-1, 1, 3), y=None, out="counts.h5", quiet=True)
    assert "64 samples" in caught.value.message and "50" in caught.value.message
    # Eight features where the exported model takes six: refused before any work, and said so.
    terrain.surface(model, (x, y), x=(-1, 1, 3), y=None, out="six.h5", quiet=True)
    wide = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    with pytest.raises(terrain.TerrainError) as caught:
        terrain.surface("six.model.onnx", (wide, y.numpy()), x=(-1, 1, 3), y=None, out="eight.h5", quiet=True)
    assert "shape" in caught.value.message or "8" in caught.value.message, caught.value.message


def test_a_refused_option_carries_argument_parsers_message(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    with pytest.raises(terrain.TerrainError) as caught:
        terrain.surface(model, (x, y), x=(1, -1, 3), y=None, out="bad.h5", quiet=True)
    assert caught.value.returncode == 64
    assert caught.value.message and "Usage" not in caught.value.message


def test_the_error_line_is_found_among_progress_and_notes():
    stderr = "surface 1/4  10 points/s  eta 00:01\nnote: data as stored\nerror: the file is damaged\n"
    assert _runner.error_message(stderr) == "the file is damaged"
    assert _runner.error_message("Error: --x must be increasing\nUsage: terrain surface\n") == "--x must be increasing"


def test_progress_lines_are_parsed():
    from terrain._progress import parse
    progress = parse("hessian: Lanczos HVP 30/100  2.1 HVPs/s  eta 00:33\n")
    assert (progress.label, progress.done, progress.total, progress.eta) == ("hessian: Lanczos HVP", 30, 100, "00:33")
    assert parse("surface: 441 points (21x21) on data") is None


def test_a_missing_program_is_a_terrain_error(monkeypatch):
    monkeypatch.setenv("TERRAIN", "/nonexistent/terrain")
    with pytest.raises(terrain.TerrainError, match="TERRAIN"):
        terrain.find_program()


def test_ctrl_c_stops_the_program_and_the_same_call_resumes(torch, helpers, monkeypatch):
    monkeypatch.setenv("TERRAIN_THREADS", "1")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(32, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(4000, 32, generator=generator)
    y = torch.randint(0, 10, (4000,), generator=generator)

    def compute():
        return terrain.surface(model, (x, y), x=(-1, 1, 21), y=(-1, 1, 21), out="long.h5", quiet=True)

    # Ctrl-C as a Jupyter kernel's interrupt: SIGINT to Python alone, at the program's first
    # progress line (so some points are done and others not).
    from terrain import _progress
    original_update = _progress.ProgressDisplay.update
    started = threading.Event()

    def update_then_interrupt(self, progress):
        if not started.is_set():
            started.set()
            os.kill(os.getpid(), signal.SIGINT)
        return original_update(self, progress)

    monkeypatch.setattr(_progress.ProgressDisplay, "update", update_then_interrupt)
    # Python's own Ctrl-C handler, as in a terminal or a Jupyter kernel: a process started in the
    # background by a non-interactive shell (`make test &`) inherits SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            compute()
    finally:
        signal.signal(signal.SIGINT, previous)
    monkeypatch.setattr(_progress.ProgressDisplay, "update", original_update)
    assert started.is_set()
    resumed = compute()
    total = 21 * 21
    assert 0 < resumed.resumed_points < total, "the interrupted run kept some points, not all"
    assert np.isfinite(resumed.train_loss).all()


def test_the_program_is_found_through_terrain_then_the_path(tmp_path, monkeypatch):
    # A stand-in `terrain` on the PATH (as `make install PREFIX=…` puts the program in PREFIX/bin).
    bin_folder = tmp_path / "prefix" / "bin"
    bin_folder.mkdir(parents=True)
    stand_in = bin_folder / "terrain"
    stand_in.write_text("#!/bin/sh\necho 'error: the stand-in was run' >&2\nexit 3\n")
    stand_in.chmod(0o755)
    monkeypatch.delenv("TERRAIN", raising=False)
    monkeypatch.setenv("PATH", f"{bin_folder}:{os.environ['PATH']}")
    assert terrain.find_program() == str(stand_in)
    with pytest.raises(terrain.TerrainError) as caught:
        _runner.run(["info"], quiet=True)
    assert caught.value.message == "the stand-in was run" and caught.value.returncode == 3
    # $TERRAIN comes first, before the PATH.
    other = tmp_path / "other-terrain"
    other.write_text("#!/bin/sh\nexit 0\n")
    other.chmod(0o755)
    monkeypatch.setenv("TERRAIN", str(other))
    assert terrain.find_program() == str(other)


def test_another_request_into_the_same_file_says_how_to_replace_it(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    terrain.surface(model, (x, y), x=(-1, 1, 3), y=None, out="same.h5", quiet=True)
    with pytest.raises(terrain.TerrainError, match="overwrite=True"):
        terrain.surface(model, (x, y), x=(-1, 1, 5), y=None, out="same.h5", quiet=True)
    assert terrain.surface(model, (x, y), x=(-1, 1, 5), y=None, out="same.h5", overwrite=True, quiet=True).train_loss.shape == (5,)


def test_progress_goes_to_tqdm_when_it_is_installed(monkeypatch, capsys):
    """The bar's calls, through a stand-in with tqdm's interface (tqdm itself is optional)."""
    import sys
    import types
    from terrain._progress import ProgressDisplay, parse
    calls = []

    class StandIn:
        def __init__(self, total, desc, leave, bar_format):
            calls.append(("new", desc, total))
            self.n = 0

        def set_postfix_str(self, text, refresh):
            calls.append(("postfix", text))

        def refresh(self):
            calls.append(("n", self.n))

        def write(self, line, file):
            calls.append(("note", line))

        def close(self):
            calls.append(("close",))

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = StandIn
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    display = ProgressDisplay()
    display.update(parse("surface 10/100  5 points/s  eta 00:18"))
    display.update(parse("surface 20/100  6 points/s  eta 00:13"))
    display.note("written to s.h5")
    display.update(parse("hessian: lanczos HVP 3/30  2 HVP/s  eta 00:13"))
    display.close()
    assert calls == [("new", "surface", 100), ("postfix", "5 points/s"), ("n", 10), ("postfix", "6 points/s"), ("n", 20),
                     ("note", "written to s.h5"), ("close",), ("new", "hessian: lanczos HVP", 30), ("postfix", "2 HVP/s"),
                     ("n", 3), ("close",)]
    quiet = ProgressDisplay(quiet=True)
    quiet.update(parse("surface 10/100  5 points/s  eta 00:18"))
    quiet.note("nothing")
    assert len(calls) == 11 and capsys.readouterr().err == ""


def test_a_real_tqdm_bar_follows_the_program(torch, helpers, capsys):
    """With tqdm installed, a real call's progress lines become its bar on standard error."""
    require("tqdm")
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch)
    terrain.surface(model, (x, y), x=(-1, 1, 11), y=(-1, 1, 11), out="bar.h5")
    err = capsys.readouterr().err
    assert "surface" in err and "121/121" in err and "100%" in err


def test_without_tqdm_progress_is_a_plain_line(monkeypatch, capsys):
    import sys
    from terrain._progress import ProgressDisplay, parse
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails as if not installed
    display = ProgressDisplay()
    display.update(parse("surface 25/100  5 points/s  eta 00:15"))
    display.close()
    assert capsys.readouterr().err == "surface 25/100 (25%)  5 points/s  eta 00:15\n"


def test_a_killed_program_says_so(tmp_path, monkeypatch):
    stand_in = tmp_path / "terrain"
    stand_in.write_text("#!/bin/sh\nkill -9 $$\n")
    stand_in.chmod(0o755)
    monkeypatch.setenv("TERRAIN", str(stand_in))
    with pytest.raises(terrain.TerrainError, match="killed by signal SIGKILL"):
        _runner.run(["surface"], quiet=True)

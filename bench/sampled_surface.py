#!/usr/bin/env python3
"""Terrain's side of the sampled-surface benchmark of `make bench` (issue: doing less work than
the exact grid): a ResNet-56 surface on Fashion-MNIST's training images, run through the
`terrain` program as a user would type it, one JSON object per line like terrain-bench.

1. Train a ResNet-56 on Fashion-MNIST (`--train-subset`, a few epochs: the surface is measured
   around a real minimizer, not a random network).
2. The exact path: `terrain surface` on a 3x3 grid over the same [-1, 1]^2 (the corners, the edges'
   midpoints and the centre are points of the 51x51 grid), every training image at every point;
   its seconds per point times side x side is the exact grid's time (extrapolated). Those nine
   can be points of the sampled runs' pilot lattice (computed exactly there too: at 17x17 they
   are), so four more exact points off the lattice (its stride read from the sampled files), a
   quarter of the way in from the edges, are held to as well.
3. The sampled paths, each run whole: `--data-tolerance` (a fraction of the contour spacing), then
   with `--adaptive`, then with `--precision bf16` as well (where the CPU has bf16).
For each: seconds, the saving against the exact grid's extrapolated time, the largest difference
from the exact values at the nine reference points (absolute and in contour spacings of the exact
values' levels, as the figures draw them), and the samples evaluated.

At the issue's scale the paths run for hours, longer than a machine may stay up: with --resume a
killed run goes on where it stopped (see Ledger), its seconds so far counted.
"""
import argparse
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np

from sampled_paths import ALL_PATHS, PATH_OPTIONS, paths_problem


def report(name, value, unit, **extra):
    print(json.dumps({"name": name, "value": value, "unit": unit, **extra}), flush=True)


class Ledger:
    """The seconds each step of the benchmark (a `terrain surface` run) has taken, in WORK/ledger.json,
    rewritten every HEARTBEAT seconds while a step runs. A step is timed whole, however many times it
    was started: with --resume a finished step is not run again (its seconds are the ledger's), an
    unfinished one is started again on its own file, which `terrain surface` resumes from its journal,
    and its seconds add to those already spent. What a killed run had computed but not yet saved is
    computed again, and both counts stay in its time: a resumed step's seconds can only overstate it.
    A step the ledger does not know starts afresh (a file without its seconds cannot be timed)."""

    HEARTBEAT = 10.0

    def __init__(self, work, config, program, resume):
        self.path = os.path.join(work, "ledger.json")
        self.config = config
        self.program = program  # the terrain program's digest: a step is timed with one program
        self.steps = {}
        if resume and os.path.exists(self.path):
            with open(self.path) as f:
                saved = json.load(f)
            if saved.get("config") != config:
                sys.exit(f"sampled_surface: {self.path} was written for {saved.get('config')}, not {config}: "
                         "run without --resume to start afresh")
            self.steps = saved["steps"]
        self.save()

    def save(self):
        temporary = self.path + ".tmp"
        with open(temporary, "w") as f:
            json.dump({"config": self.config, "steps": self.steps}, f, indent=1)
        os.replace(temporary, self.path)

    def run(self, step, command, out):
        """The seconds `command` (a run writing `out`) takes, or took before, over all its starts."""
        entry = self.steps.get(step)
        if entry and entry["done"]:
            if not os.path.exists(out):
                sys.exit(f"sampled_surface: {out} is gone but {self.path} says it was finished: "
                         "run without --resume to start afresh")
            return entry["seconds"]
        if entry is None:
            entry = self.steps[step] = {"seconds": 0.0, "done": False, "starts": 0, "terrain": self.program}
            # The pilot's journal too: a fresh step read back from it would be timed without its pilot.
            for stale in (out, out + ".journal", out + ".pilot.journal"):
                if os.path.exists(stale):
                    os.remove(stale)
        elif entry["terrain"] != self.program:
            sys.exit(f"sampled_surface: step {step} in {self.path} was started by another terrain program "
                     f"(sha256 {entry['terrain']}): resume it with that one, or run without --resume")
        before = entry["seconds"]
        entry["starts"] += 1
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        while True:
            try:
                status = process.wait(timeout=self.HEARTBEAT)
                break
            except subprocess.TimeoutExpired:
                entry["seconds"] = before + time.perf_counter() - start
                self.save()
        entry["seconds"] = before + time.perf_counter() - start
        entry["done"] = status == 0
        self.save()
        if status != 0:
            raise subprocess.CalledProcessError(status, command)
        return entry["seconds"]


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def log_spacing(values, levels=14):
    """The local spacing of the figures' automatic log-spaced levels at each value: levels + 2
    points in geometric progression from the lowest to the highest value (ContourLevels.automatic),
    over the exact reference values."""
    low, high = float(np.min(values)), float(np.max(values))
    ratio = (high / low) ** (1 / (levels + 1))
    return np.asarray(values) * (ratio - 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--terrain", required=True, help="the terrain program")
    ap.add_argument("--work", default="bench-sampled", help="folder for the run and the surfaces (reused)")
    ap.add_argument("--side", type=int, default=51)
    ap.add_argument("--images", type=int, default=60000, help="training images the surface is evaluated on")
    ap.add_argument("--tolerance", default="1%", help="--data-tolerance of the sampled paths")
    ap.add_argument("--train-subset", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--paths", default=ALL_PATHS,
                    help="the sampled paths to run, in this order (adaptive_bf16 needs a CPU with bf16)")
    ap.add_argument("--resume", action="store_true",
                    help="go on with the run in --work that was stopped (same options and program): "
                         "finished steps are kept, an unfinished surface resumes, seconds add up")
    args = ap.parse_args()
    problem = paths_problem(args.paths, "--paths")
    if problem:
        ap.error(problem)
    os.makedirs(args.work, exist_ok=True)
    # One run of the benchmark in a folder at a time: two would time each other's load and
    # overwrite each other's ledger. The lock goes with the process, however it ends.
    lock = open(os.path.join(args.work, "benchmark.lock"), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        sys.exit(f"sampled_surface: another run of this benchmark is using {args.work} now "
                 f"({lock.read().strip() or 'a process'}): stop it (its whole process group) before resuming")
    lock.truncate(0)
    lock.write(f"process {os.getpid()}\n")
    lock.flush()
    terrain = args.terrain
    run_folder = os.path.join(args.work, "resnet56")
    checkpoint = os.path.join(run_folder, "final.safetensors")
    if not os.path.exists(checkpoint):
        seconds = run([terrain, "train", "--quiet", "--model", "resnet56", "--dataset", "fashion-mnist",
                       "--train-subset", str(args.train_subset), "--test-subset", "1000", "--epochs", str(args.epochs),
                       "--batch-size", "128", "--lr", "0.1", "--schedule", "cosine", "--out", run_folder])
        report("sampled_surface_training_s", seconds, "s (ResNet-56, not part of any figure below)")
    # The same options, or a resumed run would mix two benchmarks; each step is timed with one
    # program (a finished step may have been run by an earlier one: the ledger names it).
    ledger = Ledger(args.work, {"side": args.side, "images": args.images, "tolerance": args.tolerance,
                                "checkpoint": file_digest(checkpoint)}, file_digest(terrain), args.resume)
    common = [terrain, "surface", "--quiet", "--checkpoint", checkpoint, "--dataset", "fashion-mnist", "--data", "train",
              "--seed", "1"] + (["--subset", str(args.images)] if args.images < 60000 else [])
    side = args.side
    grid = ["--x=-1:1:%d" % side, "--y=-1:1:%d" % side]

    exact_file = os.path.join(args.work, "exact-3x3.h5")
    seconds = ledger.run("exact", common + ["--x=-1:1:3", "--y=-1:1:3", "--out", exact_file], exact_file)
    exact_total = seconds / 9 * side * side
    with h5py.File(exact_file) as f:
        exact = np.array(f["train_loss"])
    report("sampled_surface_exact_s", exact_total, f"s (extrapolated from 9 points, {side}x{side}, {args.images} images)")
    # The sampled paths, each timed whole; their values are held to the exact ones afterwards.
    runs = []
    for name in args.paths.split(","):
        out = os.path.join(args.work, name + ".h5")
        seconds = ledger.run(name, common + grid + ["--data-tolerance", args.tolerance, "--out", out] + PATH_OPTIONS[name], out)
        # At the scale a path runs for hours: say when each ends (the table comes last).
        print(f"sampled path {name}: {seconds:.0f} s ({exact_total / seconds:.2f}x the exact grid's extrapolated "
              f"{exact_total:.0f} s)", file=sys.stderr, flush=True)
        with h5py.File(out) as f:
            strides = {int(f.attrs["terrain.sampling.pilot_stride"]), int(f.attrs["terrain.sampling.pilot_stride_y"])}
            runs.append((name, seconds, np.array(f["train_loss"]),
                         np.array(f["train_loss_samples"]) if "train_loss_samples" in f else None, strides))

    # Four exact points off the pilot lattice (rows and columns 0, s, 2s, ... and the last, s the
    # stride the sampled files store), grid indices i and side - 1 - i near a quarter of the side.
    strides = set().union(*(r[4] for r in runs))
    inner = (side - 1) // 4
    while any(i % s == 0 for s in strides for i in (inner, side - 1 - inner)):
        inner += 1
    step = 2 / (side - 1)
    inner_file = os.path.join(args.work, "exact-inner.h5")
    low, high = -1 + inner * step, 1 - inner * step
    ledger.run("exact-inner", common + [f"--x={low}:{high}:2", f"--y={low}:{high}:2", "--out", inner_file], inner_file)
    with h5py.File(inner_file) as f:
        exact_inner = np.array(f["train_loss"])
    reference = np.concatenate([exact.ravel(), exact_inner.ravel()])
    spacing = log_spacing(reference)
    half = (side - 1) // 2
    for name, seconds, values, samples, _ in runs:
        at_reference = np.concatenate([values[::half, ::half].ravel(),
                                       values[np.ix_([inner, side - 1 - inner], [inner, side - 1 - inner])].ravel()])
        difference = np.abs(at_reference - reference)
        report(f"sampled_surface_{name}_s", seconds, "s (measured whole)",
               saving=exact_total / seconds, max_difference=float(difference.max()),
               max_difference_spacings=float((difference / spacing).max()),
               samples=float(np.nansum(samples)) if samples is not None else None,
               exact_samples=float(side * side * args.images))


if __name__ == "__main__":
    sys.exit(main())

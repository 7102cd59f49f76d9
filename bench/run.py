#!/usr/bin/env python3
"""`make bench`: runs Terrain's and PyTorch's benchmarks in turn on the same threads and prints
each figure side by side with the ratio Terrain/PyTorch, plus GEMM throughput against the cores'
FMA peak. Both programs print one JSON object per line: {"name", "value", "unit"}."""
import argparse
import json
import os
import subprocess
import sys

from sampled_paths import ALL_PATHS, paths_problem

# Where the MLP's surface finds MNIST (the first that exists); Fashion-MNIST (Debian's
# dataset-fashion-mnist, same shapes) stands in on a machine without MNIST.
MNIST_FOLDERS = ["../shared/datasets/mnist", "/usr/share/datasets/mnist", "/usr/share/datasets/fashion-mnist"]


GPT_PARTS = ["gptsurface", "gpthvp"]
# The sampled ResNet-56 surface on Fashion-MNIST (bench/sampled_surface.py drives the terrain
# program; PyTorch's side is pytorch_bench.py --only fashion56). At the scale (51x51 on
# all 60,000 training images) its sampled paths run for hours on two cores; `make bench` runs a
# 17x17 grid on 10,000 images (about 40 minutes) unless told otherwise; --sampled-resume goes on
# with a run that was stopped.
SAMPLED_PART = "sampled"


# Every figure as it was measured, one JSON object per line, appended (the tables below are made
# from them; an hour of measurements is not lost to a failed table).
RAW_LOG = "bench-raw.jsonl"


def measure(command, env):
    # Standard error passes through: the benchmarks' warnings (a failed sanity check) show.
    program = os.path.basename(next((c for c in command if c.endswith(".py")), command[0]))
    try:
        out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    except subprocess.CalledProcessError as error:
        sys.exit(f"bench: {program} exited with status {error.returncode} (its message is above); "
                 f"the figures measured before it are in {RAW_LOG}")
    except OSError as error:
        sys.exit(f"bench: cannot run {command[0]}: {error.strerror}")
    rows = list(map(json.loads, filter(None, out.splitlines())))
    with open(RAW_LOG, "a") as log:
        for row in rows:
            log.write(json.dumps({"program": program, **row}) + "\n")
    return {row["name"]: row for row in rows}


def figure(value):
    """One decimal, or three for figures below 10 (grid points per second)."""
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


def percent(value, peak):
    return f"{100 * value / peak:.0f}%" if value and peak else "-"


def print_sampled(terrain, torch):
    """The sampled surface's table: each path's seconds, its saving against Terrain's exact grid,
    and its largest difference from the exact values at the nine reference points."""
    exact = terrain.get("sampled_surface_exact_s")
    if not exact:
        return
    print(f"\nResNet-56 surface on Fashion-MNIST's training images ({exact['unit']})")
    print(f"{'path':44} {'seconds':>10} {'saving':>8} {'max |diff|':>11} {'spacings':>9}  samples")
    for name in ["fashion56_reference_loop_exact_surface_s", "fashion56_careful_loop_exact_surface_s"]:
        if name in torch:
            row = torch[name]
            print(f"{'PyTorch ' + name[10:-10].replace('_', ' '):44} {row['value']:>10.0f} {exact['value'] / row['value']:>7.2f}x"
                  f" {'exact':>11} {'':>9}  (extrapolated)")
    print(f"{'Terrain exact':44} {exact['value']:>10.0f} {'1.00x':>8} {'exact':>11} {'':>9}  (extrapolated)")
    for name, row in terrain.items():
        if name.startswith("sampled_surface_") and "saving" in row:
            used = f"{row['samples'] / row['exact_samples']:.1%} of the exact grid's" if row.get("samples") else "-"
            print(f"{'Terrain ' + name[16:-2].replace('_', ' + '):44} {row['value']:>10.0f} {row['saving']:>7.2f}x"
                  f" {row['max_difference']:>11.3g} {row['max_difference_spacings']:>9.3f}  {used}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--terrain", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="a subset: gemm,forward,train,surface,hessian,plot,adaptive,gptsurface,gpthvp,sampled"
                                   " (surface: mlp,resnet20,vgg9)")
    ap.add_argument("--mnist", help="folder of MNIST's gzipped IDX files for the MLP's surface")
    ap.add_argument("--program", help="the terrain program, for the sampled surface (default: beside --terrain)")
    ap.add_argument("--sampled-side", type=int, help="grid side of the sampled surface (default 17, --quick 9; the issue's: 51)")
    ap.add_argument("--sampled-images", type=int,
                    help="training images of the sampled surface (default 10000, --quick 2000; the issue's: 60000)")
    ap.add_argument("--sampled-paths", help=f"the sampled surface's paths, in order (default: {ALL_PATHS};"
                                            " see bench/sampled_surface.py --paths)")
    ap.add_argument("--sampled-resume", action="store_true",
                    help="go on with a sampled surface run that was stopped (bench-sampled/ledger.json): finished"
                         " paths are kept, an unfinished one resumes, and each path's seconds add up over its starts")
    ap.add_argument("--peak", type=float, help="the cores' fp32 FMA peak in GFLOP/s (default: measured by terrain-bench)")
    args = ap.parse_args()
    problem = args.sampled_paths and paths_problem(args.sampled_paths, "--sampled-paths")
    if problem:
        ap.error(problem)
    env = dict(os.environ)
    env.setdefault("TERRAIN_THREADS", str(os.cpu_count()))
    mnist = args.mnist or next((f for f in MNIST_FOLDERS if os.path.isdir(f)), None)
    if mnist is None:
        sys.exit("no MNIST folder found for the MLP's surface (pass --mnist DIR); looked in " + ", ".join(MNIST_FOLDERS))
    # The GPT's benchmarks run one by one, each in a process of its own on both sides, so that
    # the peak RSS each reports (the process's high-water mark) is that benchmark's alone.
    parts = args.only.split(",") if args.only else None
    gpt_parts = [p for p in GPT_PARTS if parts is None or p in parts]
    sampled = parts is None or SAMPLED_PART in parts
    args.sampled_side = args.sampled_side or (9 if args.quick else 17)
    args.sampled_images = args.sampled_images or (2000 if args.quick else 10000)
    rest = None if parts is None else [p for p in parts if p not in GPT_PARTS + [SAMPLED_PART]] or ["peak"]
    common = (["--quick"] if args.quick else []) + ["--mnist", mnist]
    extra = common + (["--only", ",".join(rest)] if rest else [])
    here = os.path.dirname(os.path.abspath(__file__))
    print(f"threads: {env['TERRAIN_THREADS']} (Terrain and PyTorch alike); MLP data: {mnist}", flush=True)
    terrain = measure([args.terrain] + extra, env)
    for part in gpt_parts:
        terrain.update(measure([args.terrain, "--only", part] + common, env))
    measured = terrain.pop("fma_peak_gflops", None)
    peak = args.peak or (measured["value"] if measured else None)
    if peak:
        how = "given (--peak)" if args.peak else f"measured: {env['TERRAIN_THREADS']} threads of independent {measured['isa']} FMAs"
        print(f"fp32 FMA peak: {peak:.0f} GFLOP/s ({how})", flush=True)
    torch = measure([args.python, os.path.join(here, "pytorch_bench.py")] + extra, env)
    for part in gpt_parts:
        torch.update(measure([args.python, os.path.join(here, "pytorch_bench.py"), "--only", part] + common, env))
    if sampled:
        program = args.program or os.path.join(os.path.dirname(args.terrain), "terrain")
        terrain.update(measure([args.python, os.path.join(here, "sampled_surface.py"), "--terrain", program,
                                "--side", str(args.sampled_side), "--images", str(args.sampled_images)]
                               + (["--paths", args.sampled_paths] if args.sampled_paths else [])
                               + (["--resume"] if args.sampled_resume else []), env))
        torch.update(measure([args.python, os.path.join(here, "pytorch_bench.py"), "--only", "fashion56",
                              "--fashion-side", str(args.sampled_side), "--fashion-images", str(args.sampled_images)] + common, env))
    print(f"(every figure also in {RAW_LOG})")
    print(f"{'benchmark':44} {'Terrain':>12} {'PyTorch':>12} {'ratio':>7}  unit")
    for name, row in terrain.items():
        if (name.endswith("_gflops") and name != "sgemm_2048_gflops") or "max_difference" in row or name.startswith("sampled_"):
            continue  # in the tables below
        # A variant of a benchmark (another way to share threads) is set against the same figure.
        ref = torch.get(row.get("against", name))
        ratio = f"{row['value'] / ref['value']:.2f}x" if ref else "-"
        ref_text = figure(ref['value']) if ref else "-"
        print(f"{name:44} {figure(row['value']):>12} {ref_text:>12} {ratio:>7}  {row['unit']}")
    adaptive = [(n, r) for n, r in terrain.items() if "max_difference" in r and not n.startswith("sampled_")]
    if adaptive:
        print("\nadaptive refinement (points computed of the full grid, largest difference to the full grid)")
    for name, row in adaptive:
        print(f"{name}: {row['grid']} grid, levels {row['levels']}, tolerance {row['tolerance']}, computed {row['computed']} "
              f"of {row['total']} points ({row['value']:.0f}% saved), max |difference| {row['max_difference']:.3g} "
              f"({row['max_difference_percent_of_range']:.2f}% of the range)")
    if sampled:
        print_sampled(terrain, torch)
    rows = [n for n in terrain if n.endswith("_surface_gflops")] + [n for n in ["gpt_hvp_gflops", "sgemm_2048_gflops"] if n in terrain]
    if rows:
        print("\nGFLOP/s (surfaces: images/s x 2 flops per multiply-add of the whole forward pass's convolutions and"
              " linear layers" + (f"; % of the {peak:.0f} GFLOP/s fp32 peak" if peak else "") + "). Work Terrain skips"
              " (an MLP's first layer, computed once per plane) still counts, so its figure can pass the peak. The GPT:"
              " tokens/s x 2 flops per multiply-add of its projections, MLPs, whole T x T scores and head; its"
              " Hessian-vector product counts 8 forward passes.")
        print(f"{'figure':44} {'Terrain':>12} {'%peak':>6} {'PyTorch':>12} {'%peak':>6}")
        for name in rows:
            t, p = terrain[name]["value"], torch.get(name, {}).get("value")
            print(f"{name:44} {t:>12.1f} {percent(t, peak):>6} {figure(p) if p else '-':>12} {percent(p, peak):>6}")


if __name__ == "__main__":
    sys.exit(main())

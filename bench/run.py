#!/usr/bin/env python3
"""`make bench`: runs Terrain's and PyTorch's benchmarks in turn on the same threads and prints
each figure side by side with the ratio Terrain/PyTorch, plus GEMM throughput against the cores'
FMA peak. Both programs print one JSON object per line: {"name", "value", "unit"}."""
import argparse
import json
import os
import subprocess
import sys

PEAK_GFLOPS = 195.0  # fp32 FMA peak of the 2 AVX2 cores of the reference machine
# Where the MLP's surface finds MNIST (the first that exists); Fashion-MNIST (Debian's
# dataset-fashion-mnist, same shapes) stands in on a machine without MNIST.
MNIST_FOLDERS = ["../shared/datasets/mnist", "/usr/share/datasets/mnist", "/usr/share/datasets/fashion-mnist"]


def measure(command, env):
    # Standard error passes through: the benchmarks' warnings (a failed sanity check) show.
    out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return {row["name"]: row for row in map(json.loads, filter(None, out.splitlines()))}


def figure(value):
    """One decimal, or three for figures below 10 (grid points per second)."""
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--terrain", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="a subset: gemm,forward,train,surface,hessian,plot (surface: mlp,resnet20,vgg9)")
    ap.add_argument("--mnist", help="folder of MNIST's gzipped IDX files for the MLP's surface")
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("TERRAIN_THREADS", str(os.cpu_count()))
    mnist = args.mnist or next((f for f in MNIST_FOLDERS if os.path.isdir(f)), None)
    if mnist is None:
        sys.exit("no MNIST folder found for the MLP's surface (pass --mnist DIR); looked in " + ", ".join(MNIST_FOLDERS))
    extra = (["--quick"] if args.quick else []) + (["--only", args.only] if args.only else []) + ["--mnist", mnist]
    here = os.path.dirname(os.path.abspath(__file__))
    print(f"threads: {env['TERRAIN_THREADS']} (Terrain and PyTorch alike); MLP data: {mnist}", flush=True)
    terrain = measure([args.terrain] + extra, env)
    torch = measure([args.python, os.path.join(here, "pytorch_bench.py")] + extra, env)
    print(f"{'benchmark':44} {'Terrain':>12} {'PyTorch':>12} {'ratio':>7}  unit")
    for name, row in terrain.items():
        if name.endswith("_gflops") and name != "sgemm_2048_gflops":
            continue  # in the throughput table below
        # A variant of a benchmark (another way to share threads) is set against the same figure.
        ref = torch.get(row.get("against", name))
        ratio = f"{row['value'] / ref['value']:.2f}x" if ref else "-"
        ref_text = figure(ref['value']) if ref else "-"
        print(f"{name:44} {figure(row['value']):>12} {ref_text:>12} {ratio:>7}  {row['unit']}")
    surfaces = [n for n in terrain if n.endswith("_surface_gflops")]
    if surfaces:
        print(f"\nuseful GFLOP/s of the surfaces (2 per multiply-add of convolutions and linear layers), "
              f"% of the {PEAK_GFLOPS:.0f} GFLOP/s fp32 peak")
        print(f"{'surface':44} {'Terrain':>12} {'%peak':>6} {'PyTorch':>12} {'%peak':>6}")
        for name in surfaces:
            t, p = terrain[name]["value"], torch.get(name, {}).get("value")
            p_text = f"{p:>12.1f} {100 * p / PEAK_GFLOPS:>5.0f}%" if p else f"{'-':>12} {'-':>6}"
            print(f"{name:44} {t:>12.1f} {100 * t / PEAK_GFLOPS:>5.0f}% {p_text}")
    gemm = terrain.get("sgemm_2048_gflops")
    if gemm:
        print(f"GEMM reached {gemm['value']:.0f} GFLOP/s = {100 * gemm['value'] / PEAK_GFLOPS:.0f}% of the {PEAK_GFLOPS:.0f} GFLOP/s fp32 peak")


if __name__ == "__main__":
    sys.exit(main())

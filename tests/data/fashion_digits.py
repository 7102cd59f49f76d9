"""Writes a small real image dataset in scikit-learn's digits CSV layout, for the tests.

A user's clone has nothing beside it, so the shell tests cannot read a shared copy of the
digits. They make this stand-in instead, from Debian's `dataset-fashion-mnist` (which
`make deps` installs): the first N images of Fashion-MNIST's test set, the 2-pixel border
cropped (24x24) and averaged over 3x3 blocks (8x8), scaled to the digits' 0..16 integer
range, one row per image: 64 pixel values, then the label; no header; gzipped.

Usage: fashion_digits.py OUT.csv.gz [--rows N] [--source FOLDER]
"""
from __future__ import annotations

import argparse
import gzip
import os
import struct
import sys

import numpy as np

DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"


def read_idx(path: str) -> np.ndarray:
    """An IDX file (gzipped or not) as an array of its stated shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    shape = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=1797)
    parser.add_argument("--source", default=os.environ.get("TERRAIN_FASHION_MNIST", DEFAULT_SOURCE))
    args = parser.parse_args()
    images_path = os.path.join(args.source, "t10k-images-idx3-ubyte.gz")
    labels_path = os.path.join(args.source, "t10k-labels-idx1-ubyte.gz")
    for path in (images_path, labels_path):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: install Debian's dataset-fashion-mnist (make deps does)")
    images = read_idx(images_path)[: args.rows].astype(np.float64)
    labels = read_idx(labels_path)[: args.rows]
    blocks = images[:, 2:26, 2:26].reshape(len(images), 8, 3, 8, 3).mean(axis=(2, 4))
    pixels = np.rint(blocks * 16.0 / 255.0).astype(np.int64).reshape(len(images), 64)
    rows = np.concatenate([pixels, labels.astype(np.int64)[:, None]], axis=1)
    text = "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
    temporary = args.out + ".partial"
    with gzip.open(temporary, "wt") as f:
        f.write(text)
    os.replace(temporary, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Regenerates Sources/TerrainONNX/Generated/onnx.pb.swift, the Swift message types of ONNX's
# protobuf schema. The generated file is committed: neither the build nor CI runs this script.
#
# How the committed file was made (2026-11-23):
#   - onnx.proto (proto2 syntax, package onnx) from the `onnx` 1.23.2 wheel on PyPI
#     (site-packages/onnx/onnx.proto; sha256 547214dd049486a4d5ecbae593e9c72d90b5e8d603944b722eff469e0b5a9cc9),
#   - protoc 3.21.12 from Debian's protobuf-compiler,
#   - protoc-gen-swift built from apple/swift-protobuf 1.39.0 (the version Package.swift pins),
#   - internal visibility (the default): only TerrainONNX sees the message types.
#
# Usage: scripts/generate-onnx-swift.sh [ONNX_VERSION]   (needs python3 with venv, git, network
# access to PyPI and to the swift-protobuf repository; works in a scratch folder outside the repo)
set -euo pipefail
onnx_version="${1:-1.23.2}"
protobuf_version="1.39.0"
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

# onnx.proto ships inside the onnx wheel.
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install -q "onnx==$onnx_version"
proto="$("$scratch/venv/bin/python" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "onnx.proto"))')"
cp "$proto" "$scratch/onnx.proto"

# The plugin, built once from the same swift-protobuf release the package depends on.
git clone -q --depth 1 --branch "$protobuf_version" https://github.com/apple/swift-protobuf "$scratch/swift-protobuf"
(cd "$scratch/swift-protobuf" && swift build -c release --product protoc-gen-swift)

mkdir -p "$scratch/out"
(cd "$scratch" && protoc --plugin=protoc-gen-swift="$scratch/swift-protobuf/.build/release/protoc-gen-swift" \
    --swift_out=out onnx.proto)
cp "$scratch/out/onnx.pb.swift" "$repo/Sources/TerrainONNX/Generated/onnx.pb.swift"
echo "wrote Sources/TerrainONNX/Generated/onnx.pb.swift from onnx $onnx_version's onnx.proto"

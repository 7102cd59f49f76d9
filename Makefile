# Terrain: the two commands are `make demo` and `make test`; each installs what it needs.
SHELL := /bin/bash
SWIFT ?= swift
RELEASE := .build/release
TERRAIN := $(RELEASE)/terrain
# The distributed build (package trait MPI) lives in its own scratch path.
MPI_BUILD := .build-mpi
TERRAIN_MPI := $(MPI_BUILD)/release/terrain

# Debian packages the build, the tests and the demo need.
# OpenMPI is for the optional distributed build (`make mpi`, trait MPI) and its test; Chromium
# and curl for the viewer's and the server's tests in a real browser (tests/browser.sh); ffmpeg
# for `terrain animate` to MP4/WebM (GIF needs nothing).
DEB_PACKAGES := pkg-config libopenblas-dev libdnnl-dev zlib1g-dev libhdf5-dev dataset-fashion-mnist python3 python3-venv python3-numpy python3-h5py \
                openmpi-bin libopenmpi-dev libcairo2-dev fonts-dejavu-core chromium curl ffmpeg
# PyTorch for the side-by-side benchmark (CPU wheel); tests/onnx.sh uses it too (onnx: for torch.onnx.export).
TORCH := torch==2.13.0+cpu
BENCH_VENV := .venv-bench

.PHONY: all deps build mpi demo test test-mpi bench accuracy clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "error: no Swift toolchain on PATH (Swift 6.1 or newer is needed: https://swift.org/install)"; exit 1; }

build: deps
	$(SWIFT) build -c release --product terrain

# `mpirun -n N $(TERRAIN_MPI) surface …` splits a surface's grid over N ranks.
mpi: deps
	$(SWIFT) build -c release --traits MPI --scratch-path $(MPI_BUILD) --product terrain

demo: build
	$(TERRAIN) demo --out demo-output

# Release mode with testability, so that the test binaries and the program share one build.
TEST_FLAGS := -c release -Xswiftc -enable-testing

# The python the tests check files with: the first of python3 on the PATH and Debian's own that
# has numpy and h5py (make deps installs them for Debian's). Expanded when the recipe runs, after deps.
TEST_PYTHON = $(shell for p in python3 /usr/bin/python3; do $$p -c "import numpy, h5py" 2>/dev/null && { command -v $$p; break; }; done)

test: export TERRAIN_TEST_PYTHON = $(TEST_PYTHON)
test: deps
	$(SWIFT) build $(TEST_FLAGS) --product terrain
	$(SWIFT) build $(TEST_FLAGS) --product terrain-example-closure
	$(SWIFT) test $(TEST_FLAGS)
	bash tests/cli.sh $(TERRAIN)
	bash tests/hdf5.sh $(TERRAIN)
	bash tests/browser.sh $(TERRAIN)
	bash tests/onnx.sh $(TERRAIN)
	@d=$$(mktemp -d); $(RELEASE)/terrain-example-closure $$d/out && test -s $$d/out/logistic.h5 \
	  && test -s $$d/out/logistic_train_loss_2dcontourf.png && echo "example: 1 passed, 0 failed"; rc=$$?; rm -rf $$d; exit $$rc
	@if command -v mpirun >/dev/null; then bash tests/mpi.sh; else echo "mpi: skipped (no mpirun)"; fi

# Distributed surfaces under `mpirun -n 2`, against one process.
test-mpi: mpi
	bash tests/mpi.sh $(TERRAIN_MPI)

$(BENCH_VENV)/.ok:
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q $(TORCH) numpy onnx
	touch $@

bench: deps $(BENCH_VENV)/.ok
	$(SWIFT) build -c release --product terrain-bench
	python3 bench/run.py --terrain $(RELEASE)/terrain-bench --python $(BENCH_VENV)/bin/python

# The accuracy figures quoted in the README (tens of minutes on 2 cores).
accuracy: build
	bash bench/accuracy.sh $(TERRAIN)

clean:
	rm -rf .build $(MPI_BUILD) demo-output runs

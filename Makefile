# Terrain: the two commands are `make demo` and `make test`; each installs what it needs.
SHELL := /bin/bash
SWIFT ?= swift
RELEASE := .build/release
TERRAIN := $(RELEASE)/terrain

# Debian packages the build, the tests and the demo need.
# Open MPI's mpirun (and the library `terrain` loads under it) for distributed surfaces; Chromium
# and curl for the viewer's and the server's tests in a real browser (tests/browser.sh); ffmpeg
# for `terrain animate` to MP4/WebM (GIF needs nothing).
DEB_PACKAGES := pkg-config libopenblas-dev libdnnl-dev zlib1g-dev libhdf5-dev dataset-fashion-mnist fortunes python3 python3-venv python3-numpy python3-h5py \
                openmpi-bin libcairo2-dev fonts-dejavu-core chromium curl ffmpeg
# The Python environment the tests compare against and the benchmark runs PyTorch in: PyTorch 2.13
# (CPU wheel), onnx (for torch.onnx.export), safetensors (the reference reader), numpy and h5py.
# Where the pinned CPU wheel cannot be had, PyPI's plain `torch` is installed instead, or the one
# named by `make test TORCH=...`; the recipe says which, and `$(PY_VENV)/torch-used` records it.
TORCH ?= torch==2.13.0+cpu
PY_VENV := .venv-torch
PY_VENV_PYTHON := $(abspath $(PY_VENV))/bin/python

.PHONY: all deps check-imports venv python build install demo findings test test-mpi fuzz fuzz-smoke bench accuracy clean

# `make install PREFIX=~/.local` puts the program in PREFIX/bin, where the Python package finds it
# on the PATH (it also finds $TERRAIN, or this repository's release build).
PREFIX ?= /usr/local

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

# Every target names the modules it imports as its dependencies (Package.swift). SwiftPM's check
# stops a build whose target imports a module of the package outside its dependencies and theirs;
# `check-imports` holds the stricter rule: exactly the direct dependencies, each one imported.
IMPORT_CHECK := --explicit-target-dependency-import-check error

check-imports:
	python3 scripts/check-target-imports.py

build: deps check-imports
	$(SWIFT) build -c release $(IMPORT_CHECK) --product terrain

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(TERRAIN) $(DESTDIR)$(PREFIX)/bin/terrain

demo: build
	$(TERRAIN) demo --out demo-output

# Release mode with testability, so that the test binaries and the program share one build.
TEST_FLAGS := -c release -Xswiftc -enable-testing $(IMPORT_CHECK)

# The tests check files and compare numbers with the venv's python, and every such check must run:
# TERRAIN_REQUIRE_CROSSCHECKS turns a check that would be skipped for want of a tool (torch, h5py,
# safetensors, Chromium, mpirun) into a failure.
test: export TERRAIN_TEST_PYTHON = $(PY_VENV_PYTHON)
test: export TERRAIN_TORCH_PYTHON = $(PY_VENV_PYTHON)
test: export TERRAIN_REQUIRE_CROSSCHECKS = 1
test: deps check-imports $(PY_VENV)/.ok
	python3 scripts/draw-architecture.py --check
	$(SWIFT) build $(TEST_FLAGS) --product terrain
	$(SWIFT) build $(TEST_FLAGS) --product terrain-example-closure
	$(SWIFT) build $(TEST_FLAGS) --product terrain-example-requests
	$(SWIFT) test $(TEST_FLAGS)
	bash tests/cli.sh $(TERRAIN)
	bash tests/hdf5.sh $(TERRAIN)
	bash tests/browser.sh $(TERRAIN)
	bash tests/serve.sh $(TERRAIN)
	bash tests/onnx.sh $(TERRAIN)
	bash tests/golden.sh $(TERRAIN)
	$(MAKE) python
	cd python && TERRAIN=$(abspath $(TERRAIN)) $(PY_VENV_PYTHON) -m pytest -q tests
	@d=$$(mktemp -d); $(RELEASE)/terrain-example-closure $$d/out && test -s $$d/out/logistic.h5 \
	  && test -s $$d/out/logistic_train_loss_2dcontourf.png && test -s $$d/out/logistic.directions.h5 \
	  && echo "example: 1 passed, 0 failed"; rc=$$?; rm -rf $$d; exit $$rc
	@d=$$(mktemp -d); ok=1; $(RELEASE)/terrain-example-requests $$d/out >/dev/null || ok=0; \
	for f in surface.h5 surface.directions.h5 plane.h5 interpolation.h5 trajectory.h5 trajectory.projection.h5 evolve.h5 \
	  hessian.h5 eigenvectors.h5 surface-curvature.h5 sharpness.csv aligned.safetensors connect/curve.h5 connect/plane.h5; do test -s $$d/out/$$f || { echo "example-requests: no $$f"; ok=0; }; done; \
	rm -rf $$d; test $$ok = 1 && echo "example-requests: 1 passed, 0 failed"
	bash tests/mpi.sh $(TERRAIN)
	$(MAKE) fuzz-smoke

# Fuzzing the file readers (Fuzz/README.md). `make fuzz`: libFuzzer with AddressSanitizer, in its
# own scratch path, FUZZ_SECONDS per reader (FUZZ_TARGETS picks some); findings go to fuzz-artifacts/.
# `make fuzz-smoke` (part of `make test`): the same readers on the seed corpus and FUZZ_RUNS seeded
# mutations each, in the test build.
FUZZ_BUILD := .build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= 2000
# lld: gold stops with an internal error linking the sanitized program.
FUZZ_FLAGS := -c release $(IMPORT_CHECK) --scratch-path $(FUZZ_BUILD) -Xswiftc -sanitize=fuzzer,address -Xswiftc -DTERRAIN_LIBFUZZER -Xswiftc -use-ld=lld

fuzz: deps check-imports
	$(SWIFT) build $(FUZZ_FLAGS) --product terrain-fuzz
	bash tests/fuzz.sh libfuzzer $(FUZZ_BUILD)/release/terrain-fuzz $(FUZZ_SECONDS)

fuzz-smoke: deps check-imports
	$(SWIFT) build $(TEST_FLAGS) --product terrain-fuzz
	bash tests/fuzz.sh smoke $(RELEASE)/terrain-fuzz $(FUZZ_RUNS)

# Distributed surfaces under `mpirun -n 2` (the same binary: Open MPI is loaded at run time),
# against one process.
# Li et al.'s findings reproduced at a small scale (about half an hour on two cores): figures and
# findings/findings.md (README "The paper's findings, reproduced").
findings: build
	bash scripts/findings.sh $(TERRAIN) findings

test-mpi: build
	bash tests/mpi.sh $(TERRAIN)

venv: $(PY_VENV)/.ok

# pip prints its own reasons when the pinned wheel is not there; they are kept in pip-torch.log.
$(PY_VENV)/.ok:
	rm -rf $(PY_VENV)
	python3 -m venv $(PY_VENV)
	@if $(PY_VENV)/bin/pip install -q "$(TORCH)" >$(PY_VENV)/pip-torch.log 2>&1; then \
	  echo "$(TORCH)" > $(PY_VENV)/torch-used; \
	else \
	  echo "note: $(TORCH) cannot be installed here (see $(PY_VENV)/pip-torch.log); installing PyPI's torch instead"; \
	  $(PY_VENV)/bin/pip install -q torch && echo "torch (PyPI)" > $(PY_VENV)/torch-used; \
	fi
	$(PY_VENV)/bin/pip install -q numpy h5py safetensors onnx pytest nbclient nbformat ipykernel matplotlib tqdm
	@$(PY_VENV)/bin/python -c "import torch, numpy, h5py, safetensors, onnx; print('PyTorch', torch.__version__, 'in $(PY_VENV), from', open('$(PY_VENV)/torch-used').read().strip())"
	touch $@

# The Python package (python/, `import terrain`) installed into the venv as `pip install ./python`
# does, and pytest for its tests (`make test` runs them against the program it built), with
# nbclient and ipykernel to run the example notebook in a real kernel, matplotlib and tqdm for
# the calls that use them when a user has them.
python: $(PY_VENV)/.ok
	@$(PY_VENV)/bin/python -c "import pytest, nbclient, nbformat, ipykernel, matplotlib, tqdm" 2>/dev/null \
	  || $(PY_VENV)/bin/pip install -q pytest nbclient nbformat ipykernel matplotlib tqdm
	$(PY_VENV)/bin/pip install -q ./python

bench: deps check-imports $(PY_VENV)/.ok
	$(SWIFT) build -c release $(IMPORT_CHECK) --product terrain-bench
	$(SWIFT) build -c release $(IMPORT_CHECK) --product terrain
	python3 bench/run.py --terrain $(RELEASE)/terrain-bench --python $(PY_VENV_PYTHON) $(BENCH_ARGS)

# The accuracy figures quoted in the README (tens of minutes on 2 cores).
accuracy: build
	bash bench/accuracy.sh $(TERRAIN)

clean:
	rm -rf .build $(FUZZ_BUILD) demo-output runs fuzz-artifacts

# The two commands of the README: `make demo` (set up, build, run the main job) and
# `make test` (every test). Everything else here is a step of those two.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
BUILD_DIR := build/py
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export ORT_DISABLE_TELEMETRY := 1

APT_PACKAGES := g++ cmake ninja-build pkg-config patchelf \
  libfreetype-dev libfontconfig-dev libx11-dev libxext-dev libxrandr-dev libxinerama-dev \
  libxcursor-dev libpng-dev libjpeg-dev zlib1g-dev libasound2-dev libjack-jackd2-dev \
  libflac-dev libvorbis-dev libogg-dev lv2-dev catch2 nlohmann-json3-dev \
  fluidsynth fluid-soundfont-gm sox libsndfile1 jackd2 jalv xvfb xauth \
  x42-plugins lilv-utils timgm6mb-soundfont musescore-general-soundfont-small espeak-ng flite \
  festival festvox-italp16k festvox-ca-ona-hts festvox-czech-krb \
  festvox-suopuhe-lj festvox-kdlpc16k ardour

.PHONY: setup build demo test test-cpp test-py bench lint clean
.DEFAULT_GOAL := demo

setup: .stamps/apt .stamps/venv

.stamps/apt: Makefile scripts/install-system-deps.sh
	@mkdir -p .stamps
	scripts/install-system-deps.sh $(APT_PACKAGES)
	@touch $@

.stamps/venv: pyproject.toml .stamps/apt
	@mkdir -p .stamps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# Build tools for --no-build-isolation: ours (scikit-build-core) and those of the
	# sdist-only dependencies (aubio needs setuptools, wheel and numpy at build time;
	# cppyy's CPyCppyy asks cppyy-backend for its compiler flags while it builds).
	$(PY) -m pip install -q "scikit-build-core>=0.10" ninja wheel "setuptools<81" "numpy>=1.24" \
	  "cppyy-backend==1.15.3"
	@touch $@

# Incremental: CMake's tree lives in build/py and is reused.
build: setup
	$(PY) -m pip install -q --no-build-isolation -e '.[dev]'
	# basic-pitch's metadata pulls TensorFlow; we only need its ONNX model and note code.
	$(PY) -m pip show -q basic-pitch >/dev/null 2>&1 || $(PY) -m pip install -q --no-deps basic-pitch==0.4.0
	# Cling's precompiled JUCE headers for vocalmidi.hosts.juce, into build/py/cling (once).
	$(PY) -c "from vocalmidi.hosts import juce; juce.load()"

demo: build
	$(VENV)/bin/vocalmidi demo --out demo.mid

test: build test-cpp test-py

test-cpp:
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2

test-py:
	$(PY) -m pytest

bench: build
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-autosave --benchmark-json=build/bench.json

lint:
	$(VENV)/bin/ruff check pycontrol tests benchmarks

clean:
	rm -rf build .stamps

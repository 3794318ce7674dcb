# serdevice: two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins espeak-ng sox \
	alsa-utils mosquitto postgresql openssl chromium chromium-driver \
	qemu-user-static mmdebstrap arch-test systemd
SAMPLE := device/data/sample.wav
VOICE := device/data/real_voice.flac
# Real corpora for `make model` (one folder per corpus: ravdess, tess, savee, urdu, emovo).
CORPORA ?= ../shared/corpora

.PHONY: setup apt run test lint format bench model fuzz soak screenshot pi clean help

help:
	@echo "make run    - set up, then run the recognizer on the bundled model and real voice"
	@echo "make test   - set up, then lint, type-check, the whole test suite and quick benchmarks"
	@echo "make bench  - full benchmarks (features, loop, latency, invoke, memory)"
	@echo "make model  - rebuild the bundled models from real corpora (CORPORA=DIR, default ../shared/corpora)"
	@echo "make lint   - ruff (lint + format check) and mypy"
	@echo "make pi     - install and run on arm64 (Raspberry Pi) under qemu, compared with x86"
	@echo "make screenshot - regenerate docs/report.png and docs/live.png from the bundled sample"

setup: apt $(VENV)/.installed

# Debian packages, installed only when missing (idempotent).
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[device,train,export,dev,server]'
	@touch $@

# The recognizer on the bundled model and the bundled real voice (RAVDESS actor 24, whom no
# bundled model was trained on: neutral, happy, sad, angry), adapting to her from nothing heard
# (a fresh state each run), as fast as the machine goes. For a microphone:
#   .venv/bin/serdevice listen --model dae_metric_act.tflite
run: setup
	@echo "serdevice listen on $(VOICE) -- a real voice (RAVDESS actor 24, CC BY-NC-SA 4.0): neutral, happy, sad, angry; adaptation on"
	@mkdir -p out && rm -f out/make-run.state.json
	$(BIN)/serdevice listen --model dae_metric_act.tflite --source $(VOICE) --format text --fast --state out/make-run.state.json

lint: setup
	$(BIN)/ruff check device train export tests benchmarks
	$(BIN)/ruff format --check device train export tests benchmarks
	$(BIN)/mypy device train export

format: setup
	$(BIN)/ruff format device train export tests benchmarks
	$(BIN)/ruff check --fix device train export tests benchmarks

test: setup lint
	$(BIN)/python -m pytest tests -q
	SERDEVICE_BENCH_QUICK=1 $(BIN)/python -m pytest benchmarks -q
	$(PI_CHECK)

bench: setup
	$(BIN)/python -m pytest benchmarks -q

# Rebuild device/models/ from real corpora: features -> child-like copies -> train -> export
# (int8 weights, int16 activations: int16x8)
# (deterministic: a rerun writes byte-identical files).
model: setup
	$(BIN)/python -m serdevice.export.bundle --corpora $(CORPORA)

# Hypothesis fuzzing of the PCM reader, sidecar and calibration validators: 10,000 examples each.
fuzz: setup
	SERDEVICE_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest tests/test_fuzz.py -q --hypothesis-show-statistics

# One hour of audio through listen --fast: RSS, threads, fds and event counts (make test runs 10 min).
soak: setup
	SERDEVICE_SOAK_MINUTES=60 $(BIN)/python -m pytest tests/test_soak.py -q -s

# docs/report.png (serdevice report on the sample's events) and docs/live.png (listen --serve),
# both taken by headless Chromium; inputs and the browser profile go to out/screenshots/.
screenshot: setup
	rm -rf out/screenshots
	$(BIN)/python tests/screenshots.py

# The Raspberry Pi companion's arm64: a Debian bookworm arm64 root under qemu-user (built once a
# week into ${XDG_CACHE_HOME:-~/.cache}/serdevice/arm64/, outside the checkout), .[device] and the
# tflite-runtime fallback installed there, its answers compared with this venv's. make test runs
# it last. Skips (one line, exit 0) where emulation is unavailable; deploy/README.md has what it
# proves and its times.
PI_CHECK = SERDEVICE_ARM64=1 $(BIN)/python -m pytest tests/test_arm64.py -q -rs
pi: setup
	$(PI_CHECK)

clean:
	rm -rf out runs reports cache .pytest_cache .mypy_cache .ruff_cache .benchmarks

# Unboxing Stable Diffusion: build, serve, test and regenerate figures.
# Run `make help` for the list of targets.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is installed on its own, pinned: on these build machines pip finds the
# CPU wheel of this version on disk; on a Linux GPU machine it fetches PyPI's
# CUDA build of the same version.
TORCH ?= torch==2.13.0
# Everything else `make install` installs is pinned, with hashes, in this lock
# file (torch and torch's CUDA-only packages are left out of it). `make lock`
# writes it with uv, from pyproject.toml.
LOCK ?= requirements.lock
UV_VERSION ?= 0.13.8
UV_VENV ?= .venv-uv
SITE_DIR ?= site
export NO_MKDOCS_2_WARNING := 1

.PHONY: help venv install lock site serve figures list notebook bench gpu-wheels test clean distclean mini-model mini-quality play-deps play-model play-bench

help:
	@echo "make serve      install, build the site with --strict, serve it on http://127.0.0.1:8000"
	@echo "make test       install, then run the test suite (offline, CPU only)"
	@echo "make site       build the site into $(SITE_DIR)/ (mkdocs build --strict)"
	@echo "make figures    regenerate the figures with SD 1.4 (GPU; downloads the weights once)"
	@echo "make list       list every figure, what it needs and whether it is up to date"
	@echo "make weight     build the site and print how much each page downloads on a first visit"
	@echo "make browser    install Debian's Chromium for the browser tests, if it is missing"
	@echo "make mini-model retrain mini-sd from scratch into models/mini-sd, then measure it (CPU: about an hour)"
	@echo "make mini-quality measure how often mini-sd draws the colours and shape asked for"
	@echo "make play-model export mini-sd to ONNX for the Play page (docs/play/model/)"
	@echo "make play-bench time a guided generation on the Play page in headless Chromium"
	@echo "make notebook   run the notebooks (try-it, build-tiny-sd) from top to bottom and store their outputs"
	@echo "make bench      print capture overhead, UNet it/s, memory, render times (BENCH_ARGS=--model PATH)"
	@echo "make gpu-wheels download the wheels scripts/gpu-check.sh installs on an offline GPU machine"
	@echo "make install    create $(VENV) and install figgen with the site and test tools"
	@echo "make lock       rewrite $(LOCK), the pinned versions make install installs (LOCK_ARGS=--upgrade to move them)"
	@echo "make clean      remove the built site and the capture cache"
	@echo "make distclean  clean, and remove $(VENV) and $(UV_VENV) too"

venv: $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's dependencies or their pins change.
# torch goes first, without its dependencies, so that every other package comes
# from the lock with its hash checked; the second torch line then adds only what
# torch needs that the lock leaves out (on a GPU machine, its CUDA packages).
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --no-deps "$(TORCH)"
	$(BIN)/pip install --require-hashes -r $(LOCK)
	$(BIN)/pip install "$(TORCH)"
	$(BIN)/pip install --no-deps -e .
	touch $@

install: $(VENV)/.installed play-deps

# The Play page's JavaScript (docs/play/): onnxruntime-web and tokenizers.js, pinned in
# package-lock.json, installed by npm ci; scripts/play-vendor.mjs copies what the page loads
# into $(PLAY_VENDOR) (ignored by git), so that the site serves them itself.
PLAY_VENDOR := docs/play/vendor
play-deps: $(PLAY_VENDOR)/VERSIONS.txt

$(PLAY_VENDOR)/VERSIONS.txt: package.json package-lock.json scripts/play-vendor.mjs
	npm ci --ignore-scripts --no-audit --no-fund
	node scripts/play-vendor.mjs

# mini-sd exported to ONNX for the Play page (docs/play/model/, committed), with the page's preview picture.
play-model: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m figgen.minisd.play export

# How fast the Play page generates in headless Chromium (prints numbers; PLAY_BENCH_ARGS=--runs 3).
play-bench: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m figgen.minisd.play_bench $(PLAY_BENCH_ARGS)

# The lock is resolved with uv, for every platform and for the Python versions
# its pins allow (3.11.5 and newer), with torch pinned to $(TORCH) so that the
# packages torch shares with the rest are pinned to versions it accepts; torch,
# triton and the nvidia-*/cuda-* packages are then dropped from the file.
# Pins already in $(LOCK) are kept unless LOCK_ARGS says otherwise
# (--upgrade, or --upgrade-package NAME).
$(UV_VENV)/bin/uv:
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install "uv==$(UV_VERSION)"

lock: $(UV_VENV)/bin/uv
	echo "$(TORCH)" | $(UV_VENV)/bin/uv pip compile pyproject.toml - --extra site --extra test \
	    --universal --python-version 3.11.5 --no-python-downloads --generate-hashes \
	    --custom-compile-command "make lock" --quiet $(LOCK_ARGS) --output-file $(LOCK)
	awk 'BEGIN { print "# torch and its CUDA-only packages (triton, nvidia-*, cuda-*) are left out: make install installs torch itself." } \
	    /^[a-z0-9]/ { drop = /^(torch|triton)[ =]|^(nvidia|cuda)-/ } !drop' $(LOCK) > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)

site: install
	$(BIN)/mkdocs build --strict --site-dir $(SITE_DIR)

serve: site
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

figures: install
	$(BIN)/figgen render --model sd14

list: install
	$(BIN)/figgen list

# mini-sd, the project's own miniature Stable Diffusion (models/mini-sd, committed).
mini-model: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m figgen.minisd.train --out models/mini-sd
	HF_HUB_OFFLINE=1 $(BIN)/python -m figgen.minisd.quality --model models/mini-sd --write

mini-quality: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m figgen.minisd.quality --model models/mini-sd --write

notebook: install
	HF_HUB_OFFLINE=1 $(BIN)/jupyter nbconvert --to notebook --execute --inplace docs/try-it.ipynb docs/build-tiny-sd.ipynb

bench: install
	$(BIN)/figgen-bench $(BENCH_ARGS)

# Everything figgen needs but torch, as wheels, for scripts/gpu-check.sh on a machine with no network.
gpu-wheels: install
	rm -rf wheels && $(BIN)/pip download --dest wheels --only-binary=:all: diffusers transformers \
	    safetensors huggingface-hub accelerate pillow numpy tqdm scikit-image tokenizers regex
	find wheels -name 'torch-*' -o -name 'nvidia_*' -o -name 'triton-*' | xargs rm -f

# Headless Chromium for the browser tests and `make weight`: Debian's package, since
# Playwright's own browser download needs a host these machines cannot reach.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: browser weight
browser: $(CHROMIUM)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium; \
	else \
	    echo "Chromium is missing at $(CHROMIUM): install it (Debian/Ubuntu: sudo apt-get install chromium)," \
	         "or name another Chromium binary with CHROMIUM=/path/to/chromium"; exit 1; \
	fi

# How much each page downloads on a first visit, scrolled to its end (chapters: 1.5 MB at most).
weight: site browser
	$(BIN)/python -m figgen.sitecheck $(SITE_DIR)

test: install browser
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

clean:
	rm -rf $(SITE_DIR) .figgen-cache .pytest_cache

distclean: clean
	rm -rf $(VENV) $(UV_VENV)

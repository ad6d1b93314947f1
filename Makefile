# Unboxing Stable Diffusion: build, serve, test and regenerate figures.
# Run `make help` for the list of targets.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is installed on its own, pinned: on these build machines pip finds the
# CPU wheel of this version on disk; on a Linux GPU machine it fetches PyPI's
# CUDA build of the same version.
TORCH ?= torch==2.13.0
SITE_DIR ?= site
export NO_MKDOCS_2_WARNING := 1

.PHONY: help venv install site serve figures list notebook bench gpu-wheels test clean distclean mini-model mini-quality

help:
	@echo "make serve      install, build the site with --strict, serve it on http://127.0.0.1:8000"
	@echo "make test       install, then run the test suite (offline, CPU only)"
	@echo "make site       build the site into $(SITE_DIR)/ (mkdocs build --strict)"
	@echo "make figures    regenerate the figures with SD 1.4 (GPU; downloads the weights once)"
	@echo "make list       list every figure, what it needs and whether it is up to date"
	@echo "make mini-model retrain mini-sd from scratch into models/mini-sd, then measure it (CPU: about an hour)"
	@echo "make mini-quality measure how often mini-sd draws the colours and shape asked for"
	@echo "make notebook   run the notebooks (try-it, build-tiny-sd) from top to bottom and store their outputs"
	@echo "make bench      print capture overhead, UNet it/s, memory, render times (BENCH_ARGS=--model PATH)"
	@echo "make gpu-wheels download the wheels scripts/gpu-check.sh installs on an offline GPU machine"
	@echo "make install    create $(VENV) and install figgen with the site and test tools"
	@echo "make clean      remove the built site and the capture cache"
	@echo "make distclean  clean, and remove $(VENV) too"

venv: $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install "$(TORCH)"
	$(BIN)/pip install -e ".[site,test]"
	touch $@

install: $(VENV)/.installed

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

test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

clean:
	rm -rf $(SITE_DIR) .figgen-cache .pytest_cache

distclean: clean
	rm -rf $(VENV)

# divnet-nb: the two commands of the README's quick start are `make demo` and `make test`.
# Everything runs in a virtual environment at .venv, created on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Core tests also run once with the JIT off, so that coverage sees the bodies of the
# Numba kernels (and they are checked as plain Python).
CORE_TESTS := tests/test_kernel.py tests/test_dpp.py tests/test_sample.py tests/test_fuse.py \
              tests/test_core_edges.py

# Lanes: every test over about 10 s carries one of these markers (tests/conftest.py);
# `make test-fast` runs the others, `make test` everything.
LANES     := slow or reproduction or notebooks or docs or assignments or cluster
# Two worker processes (pytest-xdist), each with its share of the cores; tests that share a
# module's fixture stay on one worker (tests/conftest.py).
XDIST     := -n 2 --dist loadgroup

# The notebook series: nbval runs it in fast mode in `make test`; `make notebooks` runs it
# in full mode in place (the committed outputs) and normalises the outputs.
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
NBVAL     := --nbval-lax --nbval-current-env --nbval-cell-timeout=900
# Notebooks are independent: two at a time, each kept whole on one worker, one thread each.
NB_XDIST  := -n 2 --dist loadfile
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: help install demo test test-fast bench lint lab notebooks readme reference assignments docs clean

help:
	@echo "make demo   - reproduce the paper's experiments on scikit-learn's digits (offline, ~1 min)"
	@echo "make test   - create .venv if needed, install the package with [dev,bench,docs,cluster], run all tests"
	@echo "make test-fast - the tests without a lane marker: core, registry, command-line errors, small runs on digits (a few minutes)"
	@echo "make bench  - benchmarks: core vs BLAS floors and DPPy, pruning vs training time (ratios, one run)"
	@echo "make lint   - ruff"
	@echo "make lab    - JupyterLab on notebooks/"
	@echo "make notebooks - execute the notebook series in full mode, in place (slow: about an hour)"
	@echo "make reference - full reproductions and leaderboards of MNIST, MNIST_ROT, CIFAR-10 into reference/ (slow: hours)"
	@echo "make readme - regenerate the README's result tables from reference/*.json"
	@echo "make assignments - build the student notebooks and autograders into assignments/dist/"
	@echo "make docs   - the website (notebooks, handouts, API) into docs/_build/html, warnings as errors"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,bench,docs,cluster]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/divnet-nb reproduce --dataset digits

test: $(STAMP)
	$(PY) -m coverage erase
	$(PY) -m coverage run -m pytest -m serial
	$(PY) -m coverage run -m pytest $(XDIST) -m "not serial"
	NUMBA_DISABLE_JIT=1 $(PY) -m coverage run -m pytest $(XDIST) -p no:cacheprovider -m "not slow" $(CORE_TESTS)
	$(PY) -m coverage combine --quiet
	$(PY) -m coverage report
	DIVNET_FAST=1 $(ONE_THREAD) $(PY) -m pytest $(NBVAL) $(NB_XDIST) -p no:cacheprovider notebooks/

test-fast: $(STAMP)
	$(PY) -m pytest $(XDIST) -p no:cacheprovider -m "not ($(LANES))"

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_pipeline.py
	$(PY) benchmarks/bench_edges.py
	$(PY) benchmarks/bench_online.py
	$(PY) benchmarks/bench_gates.py
	$(PY) benchmarks/bench_tasks.py
	$(PY) benchmarks/bench_cnn.py

lint: $(STAMP)
	$(PY) -m ruff check divnet_nb tests benchmarks assignments docs
	$(PY) -m ruff format --check divnet_nb tests benchmarks assignments docs

lab: $(STAMP)
	$(PY) -m jupyter lab notebooks/

notebooks: $(STAMP)
	@for nb in $(NOTEBOOKS); do \
	  echo "== $$nb"; \
	  DIVNET_FAST=0 $(PY) -m jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=-1 --ExecutePreprocessor.kernel_name=python3 $$nb || exit 1; \
	done
	$(PY) notebooks/normalize.py $(NOTEBOOKS)

assignments: $(STAMP)
	$(PY) assignments/build.py

# The same command as tests/test_docs.py's (which then reads every page in headless Chromium).
docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -q -b html -d docs/_build/doctrees docs docs/_build/html
	@echo "open docs/_build/html/index.html"

readme: $(STAMP)
	$(PY) -m divnet_nb.report.readme

reference: $(STAMP)
	@for ds in mnist mnist_rot cifar10; do \
	  $(VENV)/bin/divnet-nb reproduce --dataset $$ds --full --out results/reference-$$ds || exit 1; \
	  $(PY) -m divnet_nb.experiments.reference results/reference-$$ds/results.json || exit 1; \
	  $(VENV)/bin/divnet-nb leaderboard --dataset $$ds --full --out results/leaderboard-$$ds || exit 1; \
	  $(PY) -m divnet_nb.experiments.reference results/leaderboard-$$ds/leaderboard.json || exit 1; \
	done
	$(PY) -m divnet_nb.report.readme

clean:
	rm -rf .coverage .coverage.* .pytest_cache .ruff_cache build *.egg-info docs/_build docs/notebooks docs/assignments docs/api.md docs/index.md docs/reference
	find . -name __pycache__ -not -path "./$(VENV)/*" -exec rm -rf {} +

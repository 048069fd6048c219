# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help install demo test test-all soak mutants lint format bench clean

help:
	@echo "make demo      set up .venv, train NS-GAN on ring8 (4 seeds), print where results are"
	@echo "make test      set up .venv and run the fast test suite"
	@echo "make test-all  also the slow tests (real training runs of minutes)"
	@echo "make soak      kill -9 training SOAK_KILLS times (default 10), resume, compare bit for bit"
	@echo "make mutants   mutation testing (cosmic-ray) of the core, quality and report modules"
	@echo "make lint      ruff check and format check"
	@echo "make bench     throughput figures (seed-steps/s, compile time, memory)"

# Re-install only when the dependencies change; a failed install leaves no stamp.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gancli train --config experiments/demo_nsgan_ring8.toml --out runs/demo --force
	@echo "demo results: runs/demo (summary.json, samples/final_seed*.png, metrics.jsonl)"

# Tests run on every core (at most 4 workers), a file's tests in one worker so that its
# module fixtures (a trained comparison, a classifier) are built once, not once per worker.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

test-all: $(STAMP)
	$(BIN)/python -m pytest -m "" -n auto --maxprocesses 4 --dist loadfile

# Kill training at random moments (SOAK_KILLS, SOAK_SEED), resume each time, and compare
# with an uninterrupted run bit for bit; a few minutes.
soak: $(STAMP)
	$(BIN)/python -m pytest -m slow -s tests/run/faults/test_soak.py

# Mutation testing (docs/mutants.md): each module's mutants against its own tests
# (mutants/map.toml), in a scratch copy of the checkout; an hour or more on 2 cores.
# MODULES=gancli/core/losses.py narrows it; WORK=DIR keeps the sessions there (RESUME=1
# continues them, SURVIVORS=1 reruns their survivors); the extra is installed here, not by `install`.
mutants: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutants]'
	$(BIN)/python mutants/run.py $(if $(WORK),--work $(WORK)) $(if $(RESUME),--resume) $(if $(SURVIVORS),--survivors) $(if $(SAMPLE),--sample $(SAMPLE)) $(if $(SAMPLE_FROM),--sample-from $(SAMPLE_FROM)) $(if $(SINCE),--since $(SINCE)) $(MODULES)

lint: $(STAMP)
	$(BIN)/ruff check gancli tests
	$(BIN)/ruff format --check gancli tests

format: $(STAMP)
	$(BIN)/ruff format gancli tests

bench: $(STAMP)
	$(BIN)/gancli bench

clean:
	rm -rf $(VENV) runs .pytest_cache

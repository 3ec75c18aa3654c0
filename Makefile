# make demo: the main job on the embedded DuckDB default.  make test: the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint fmt-check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[lsp,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/modelc check examples/retail/retail.dm examples/vault/vault.dm
	$(BIN)/modelc fmt --check examples/*/*.dm

test: $(STAMP)
	$(BIN)/python -m ruff check src tests
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .hypothesis

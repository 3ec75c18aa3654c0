# make demo: the main job on the embedded DuckDB default.  make test: the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[lsp,test]'
	touch $(STAMP)

RETAIL := examples/retail/retail.dm
VAULT := examples/vault/vault.dm
MODELC := $(BIN)/modelc

demo: $(STAMP)
	$(MODELC) check $(RETAIL) examples/vault/vault.dm
	$(MODELC) fmt --check examples/*/*.dm
	rm -f examples/retail/retail.duckdb
	$(MODELC) run $(RETAIL) --var batch=1 --load-ts 2024-01-10
	$(MODELC) run $(RETAIL) --var batch=2 --load-ts 2024-02-10
	$(MODELC) run $(RETAIL) --var batch=3 --load-ts 2024-03-10
	@echo "# the same batch again: nothing changes"
	$(MODELC) run $(RETAIL) --var batch=3 --load-ts 2024-03-11
	$(MODELC) test $(RETAIL)
	$(MODELC) show $(RETAIL) customer product order_line
	@echo "# the data vault: hubs, links, satellites, PIT and bridge"
	rm -f examples/vault/vault.duckdb
	$(MODELC) run $(VAULT) --var batch=1 --load-ts 2024-01-10
	$(MODELC) run $(VAULT) --var batch=2 --load-ts 2024-02-10
	@echo "# the same batch again: nothing changes"
	$(MODELC) run $(VAULT) --var batch=2 --load-ts 2024-02-10
	$(MODELC) test $(VAULT)
	$(MODELC) show $(VAULT) customer_hub order_details customer_order_eff

test: $(STAMP)
	$(BIN)/python -m ruff check src tests
	$(BIN)/python -m pytest

# Benchmarks (not part of `make test`): start-up, compile scale, editor latency, loads on DuckDB
# against hand-written SQL (and dbt / SQLMesh when /tmp/benchvenv has them); writes bench/results.md.
# dbt and SQLMesh, the peers the load benchmark runs beside modelc, live in their own venv (bench/peers.py);
# installed once when the package registry has them, skipped (and said so in results.md) when not.
PEERS_VENV ?= /tmp/benchvenv

bench: $(STAMP)
	test -x $(PEERS_VENV)/bin/dbt || ($(PY) -m venv $(PEERS_VENV) && \
	  $(PEERS_VENV)/bin/pip install -q dbt-duckdb 'dbt-core<1.12' sqlmesh) || \
	  echo "bench: dbt/SQLMesh not installable here; the load benchmark runs without them"
	PEERS_VENV=$(PEERS_VENV) $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .hypothesis

# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Install, then build a demo jurisdiction and a year of cases in ./hazardflow.db (SQLite).
demo: $(STAMP)
	rm -f hazardflow.db hazardflow.db-shm hazardflow.db-wal
	$(BIN)/hazardflow demo --cases 500

## Install, type-check (mypy, configured in pyproject.toml), make sure PostgreSQL is up, and
## run the whole suite on SQLite and PostgreSQL.
test: $(STAMP)
	$(BIN)/mypy
	bash scripts/ensure-postgres.sh
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	bash scripts/ensure-postgres.sh
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) hazardflow.db hazardflow.db-shm hazardflow.db-wal

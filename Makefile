# Two commands on a fresh machine: `make demo` and `make test`.
# The venv is (re)built only when pyproject.toml changes (stamp file).
PYTHON ?= python3
# test processes (pytest-xdist); the machine has two cores
JOBS   ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BSTAMP := $(VENV)/.installed-bench

.PHONY: demo test lint bench clean venv browser fonts postgres

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,services,live,dist]'
	@touch $@

$(BSTAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,services,live,dist,bench]'
	@touch $@

demo: $(STAMP) fonts
	$(BIN)/ccsim demo

lint: $(STAMP)
	$(BIN)/ruff check ccsim tests benchmarks notebooks experiments docs
	$(BIN)/mypy

test: lint browser fonts postgres
	$(BIN)/python -m pytest -q -n $(JOBS)
	@echo "== services tests again on a throwaway PostgreSQL cluster (pg_virtualenv)"
	pg_virtualenv -- env CCSIM_TEST_POSTGRES=postgresql+psycopg:// $(BIN)/python -m pytest -q -n $(JOBS) tests/services

# The services tests also run on PostgreSQL: Debian's postgresql brings pg_virtualenv,
# which starts a throwaway cluster for one command and removes it afterwards.
postgres:
	@command -v pg_virtualenv >/dev/null 2>&1 || { \
	  echo "installing Debian postgresql for the services tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	}

# Report figures show Chinese service names: a small CJK font (WenQuanYi Micro Hei).
fonts:
	@fc-list 2>/dev/null | grep -qi -e "WenQuanYi" -e "CJK" || { \
	  echo "installing a CJK font for report figures"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; }; \
	} || echo "warning: no CJK font; Chinese names in figures render as boxes"

# The report's browser test needs Debian's chromium; install it when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the report's browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	} || echo "warning: chromium could not be installed; the browser test is skipped outside CI"

bench: $(BSTAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

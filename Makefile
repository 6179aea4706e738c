# Two commands on a fresh machine: `make demo` and `make test`.
# The venv is (re)built only when pyproject.toml changes (stamp file).
PYTHON ?= python3
# test processes (pytest-xdist); the machine has two cores
JOBS   ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BSTAMP := $(VENV)/.installed-bench
# mypyc build of the hot modules (listed in ccsim/_compiled.py), next to their sources
CSTAMP := $(VENV)/.compiled
CSOURCES := setup.py ccsim/_compiled.py ccsim/agents/states.py ccsim/acd.py \
            ccsim/pbx/records.py ccsim/pbx/model.py

.PHONY: demo test lint bench clean venv browser fonts postgres compiled pure

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev,services,live,dist]'
	@touch $@

$(BSTAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,services,live,dist,bench]'
	@touch $@

# The ACD and the simulation driver compiled with mypyc (about 2x; ccsim/_compiled.py).
# A failed build leaves pure Python; an edited source is never shadowed by its old build.
compiled: $(CSTAMP)

$(CSTAMP): $(STAMP) $(CSOURCES)
	@echo "== compiling the ACD and the simulation driver with mypyc (a few minutes)"
	CCSIM_COMPILE=1 $(BIN)/python setup.py --quiet build_ext --inplace
	@touch $@

# back to pure Python (the sources run as they are)
pure:
	$(BIN)/python -c "from ccsim._compiled import extensions as e; [p.unlink() for p in e()]"
	rm -f ccsim/_compiled_build.json $(CSTAMP)

demo: $(STAMP) $(CSTAMP) fonts
	$(BIN)/ccsim demo

lint: $(STAMP)
	$(BIN)/ruff check ccsim tests benchmarks notebooks experiments docs
	$(BIN)/mypy

test: lint browser fonts postgres $(CSTAMP)
	$(BIN)/python -c "import ccsim.acd as m, ccsim._compiled as c; print('== tests on the', 'compiled' if c.is_compiled(m) else 'pure Python', 'build')"
	$(BIN)/python -m pytest -q -n $(JOBS)
	@echo "== the ACD, agent, routing and simulation tests again as pure Python (CCSIM_PURE=1)"
	CCSIM_PURE=1 $(BIN)/python -m pytest -q -n $(JOBS) tests/acd tests/agents tests/routing tests/pbx tests/test_events.py tests/test_purity.py
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

bench: $(BSTAMP) $(CSTAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

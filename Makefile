# The two commands of the README: `make demo` and `make test`. Both start from a bare
# machine: a private uv (in .tools/) installs the locked environment into .venv/.
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/.demo-home
DEMO_MONTHS ?= 3
FEED_PORT ?= 8701

.PHONY: install test demo bench lint clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra test --extra dev
	touch $@

install: $(VENV)/.installed

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python -m bench

demo: install
	EGOVSAD_HOME=$(DEMO_HOME) DEMO_MONTHS=$(DEMO_MONTHS) FEED_PORT=$(FEED_PORT) bash scripts/demo.sh

clean:
	rm -rf .tools $(VENV) .demo-home .pytest_cache

# The two commands of the README: `make demo` and `make test`. Both start from a bare
# machine: a private uv (in .tools/) installs the locked environment into .venv/.
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/.demo-home
DEMO_MONTHS ?= 12
FEED_PORT ?= 8701

CHROMIUM := /usr/bin/chromium

.PHONY: install test demo bench lint clean browser

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra test --extra dev
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's Chromium with Playwright (never a browser download).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Chromium at $(CHROMIUM): run 'sudo apt-get install chromium' (Debian/Ubuntu)."; \
	    exit 1; \
	  fi; \
	fi

test: install browser
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

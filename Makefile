# presstrack: `make demo` runs the whole system locally, `make test` checks everything.
VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup demo local test unit integration e2e lint docs clean screenshots

setup: $(STAMP) system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

# Mosquitto is the broker of the local stack; socat gives the tests a virtual serial line;
# Chromium (with a Chinese font) drives the customer page in the browser tests. All come from
# the distribution when missing.
.PHONY: system-packages
system-packages:
	@{ command -v mosquitto || test -x /usr/sbin/mosquitto; } >/dev/null 2>&1 && \
	  command -v socat >/dev/null 2>&1 && test -x /usr/bin/chromium && \
	  test -d /usr/share/fonts/truetype/wqy || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    mosquitto socat chromium fonts-wqy-microhei >/dev/null; }

demo: setup
	$(BIN)/presstrack demo

local: setup
	$(BIN)/presstrack local

test: setup lint
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: setup
	$(BIN)/pytest -q tests/integration

e2e: setup
	$(BIN)/pytest -q tests/e2e

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

# Regenerate the committed contract documents (a unit test fails when they drift).
docs: $(STAMP)
	$(BIN)/presstrack schema > docs/wire.schema.json
	$(BIN)/presstrack schema --openapi > docs/openapi.json

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis

# `sam build` calls these (Metadata: BuildMethod: makefile): only the cloud code, the wire
# contract and the libraries the functions import go into the package.
LAMBDA_PLATFORM ?= manylinux2014_aarch64
build-IngestFunction build-ApiFunction build-DetectorFunction build-NotifierFunction:
	mkdir -p "$(ARTIFACTS_DIR)/presstrack"
	cp -r cloud "$(ARTIFACTS_DIR)/"
	cp presstrack/__init__.py presstrack/wire.py "$(ARTIFACTS_DIR)/presstrack/"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
	python3 -m pip install -q --no-warn-conflicts --target "$(ARTIFACTS_DIR)" --platform $(LAMBDA_PLATFORM) \
	  --implementation cp --python-version 3.11 --only-binary=:all: -r cloud/requirements.txt

# The customer page's screenshots in docs/screenshots/, taken by the browser tests.
screenshots: setup
	PRESSTRACK_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/e2e/test_customer_page.py

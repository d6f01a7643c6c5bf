# Connect Guard: `make run` (sandbox), `make local` (chalice local), `make test`, `make docs`, `make bench`.
# Everything installs itself into .venv with Python 3.13 (Chalice takes the Lambda runtime from it).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-sandbox.txt requirements-dev.txt | cksum | cut -d' ' -f1)
# `make run` installs only what the sandbox needs (no test tools, no browser driver): ready sooner on a fresh clone.
RUN_STAMP := $(VENV)/.run-installed-$(shell cat requirements.txt requirements-sandbox.txt | cksum | cut -d' ' -f1)

# A working Python 3.13: pyenv shims fail unless the version is selected, so try the explicit forms too.
PYTHON313 ?= $(shell for c in "python3.13" "PYENV_VERSION=3.13.0 python3.13" \
	"$$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3.13" /usr/bin/python3.13 /usr/local/bin/python3.13; do \
	if env $$c -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then echo "env $$c"; break; fi; done)

.PHONY: venv lint test run bench clean docs chaos

venv: $(STAMP)

$(STAMP): requirements.txt requirements-sandbox.txt requirements-dev.txt
	@if [ -z "$(PYTHON313)" ]; then echo "Python 3.13 not found: install it (pyenv install 3.13.0) or set PYTHON313=/path/to/python3.13" >&2; exit 1; fi
	@if [ ! -x $(BIN)/python ]; then $(PYTHON313) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# ruff (lint + format check), mypy and the import contracts: settings in pyproject.toml. `make test` runs it first.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: venv chromium clamav lint
	$(BIN)/python -m pytest

# The whole product on this machine (sandbox/): the page at http://127.0.0.1:8000/sandbox/. Ctrl-C stops it.
run: $(RUN_STAMP) clamav
	$(BIN)/python -m sandbox --port 8000

# Webhook testing by hand: `chalice local --stage local` on http://127.0.0.1:8000 wired to the embedded emulators
# (no page). In another terminal: .venv/bin/python -m tools.messenger_send "my card is 4111 1111 1111 1111"
.PHONY: local
local: $(RUN_STAMP) clamav
	$(BIN)/python -m sandbox --local --port 8000

$(RUN_STAMP): requirements.txt requirements-sandbox.txt
	@if [ -z "$(PYTHON313)" ]; then echo "Python 3.13 not found: install it (pyenv install 3.13.0) or set PYTHON313=/path/to/python3.13" >&2; exit 1; fi
	@if [ ! -x $(BIN)/python ]; then $(PYTHON313) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet -r requirements-sandbox.txt
	@rm -f $(VENV)/.run-installed-*
	@touch $@

# The browser tests drive Debian's Chromium (never a downloaded browser): install it when missing.
.PHONY: chromium
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=none; fi; \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$SUDO" != none ]; then \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	  else echo "chromium missing and cannot apt-get install it: the browser tests will be skipped" >&2; fi; \
	fi

# The documentation site (docs/, mkdocs.yml) into site/; strict: a broken link or a page left out of the nav fails.
# tests/test_docs.py runs the same build, so `make test` fails on it too.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

# The sandbox under injected faults with 50 concurrent customers (sandbox/chaos.py): exits 1 on any lost or
# duplicated message or card digits shown to an agent. `make chaos CHAOS_ARGS='--conversations 10 --no-faults'`.
chaos: venv clamav
	$(BIN)/python -m sandbox.chaos $(CHAOS_ARGS)

# The scanner's antivirus tests, benchmarks and the sandbox run Debian's clamd with the repository's own test
# signatures (sandbox/clamd.py; the real database cannot be downloaded here): install it when missing.
.PHONY: clamav
clamav:
	@if [ ! -x /usr/sbin/clamd ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=none; fi; \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$SUDO" != none ]; then \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends clamav-daemon; \
	  else echo "clamd missing and cannot apt-get install it: the antivirus tests will be skipped" >&2; fi; \
	fi

bench: venv clamav
	@# Bench-only peers (presidio-analyzer): installed here, never by `make test` or into a Lambda.
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt || echo "requirements-bench.txt could not be installed: benches run without their peers" >&2
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis site .mypy_cache .ruff_cache .import_linter_cache

# Deployment to AWS (docs/deploy.md): `make deploy STAGE=prod`, `make destroy STAGE=prod`.
# DRY_RUN=1 prints every AWS call and command without credentials. Parameters: infra/params-$(STAGE).json.
DEPLOY_ARGS = --stage $(STAGE) $(if $(DRY_RUN),--dry-run) $(if $(PARAMS),--params $(PARAMS))

.PHONY: deploy destroy

deploy: venv
	@if [ -z "$(STAGE)" ]; then echo "STAGE is required: make deploy STAGE=prod" >&2; exit 2; fi
	$(BIN)/python -m infra.deploy deploy $(DEPLOY_ARGS)

destroy: venv
	@if [ -z "$(STAGE)" ]; then echo "STAGE is required: make destroy STAGE=prod" >&2; exit 2; fi
	$(BIN)/python -m infra.deploy destroy $(DEPLOY_ARGS)

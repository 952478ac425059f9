# The two commands of the README's quick start:
#   make run    install everything into .venv and start JupyterLab with ChatMore
#               on notebooks/workbench.ipynb (PORT=8899 for another port)
#   make test   install everything (test tools and Chromium too) and run the whole suite
# Both work on a fresh machine with Python 3.11+, Node.js and npm.

VENV   ?= .venv
# The first interpreter that runs and is 3.11+: a pyenv shim can exist for a version
# that is not active, so `command -v` alone is not enough.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; \
	done)
PY     := $(VENV)/bin/python
# Two workers: one runs the tests that drive Chromium (JupyterLab, Voila), one after another,
# since two at once time out on two busy cores; the other takes the rest a module at a time
# (tests/conftest.py sets the groups). The Chromium group, the longest, starts first (collection
# order, not xdist's largest-group-first). `PYTEST_ARGS=` runs it all in one process.
PYTEST_ARGS ?= -n 2 --dist loadgroup --no-loadscope-reorder
PIP    := $(PY) -m pip --disable-pip-version-check
DEPS   := pyproject.toml $(wildcard widgets/package.json widgets/package-lock.json)

.PHONY: run test test-stress install install-test lint browser clean

# `make run PORT=8899` serves on that port; without it, Jupyter's default (8888, or the
# next free one).
run: $(VENV)/.installed
	$(VENV)/bin/chatmore --config jupyter_config.py lab $(if $(PORT),--port=$(PORT))

test: $(VENV)/.installed-test browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

# The whole suite while CPU hogs keep both cores busy: no test may depend on a quiet machine.
test-stress: $(VENV)/.installed-test browser
	scripts/with-busy-cores $(MAKE) test

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "ChatMore needs Python 3.11 or newer (python3 on PATH)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ChatMore needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python $(DEPS)
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/bin/python $(DEPS)
	$(PIP) install -e ".[test]"
	@touch $@ $(VENV)/.installed

browser:
	@scripts/ensure-chromium

clean:
	rm -rf $(VENV) widgets/node_modules widgets/static test-output

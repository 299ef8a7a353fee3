# The two commands a newcomer needs: `make run` and `make test`.
#
# Each sets up what it needs first, and only what it needs: `make run` the
# Python virtual environment with Snorky and the npm packages of the example
# page; `make test` also the test and documentation tools and, if missing,
# Debian's chromium and redis-server for the browser and cluster tests.
# Every setup step leaves a stamp
# file and runs again only when its inputs (setup.py, package-lock.json)
# change, so a second `make run` needs no network and starts at once. A step
# that fails (offline, say) leaves a working environment as it was.

VENV ?= .venv
# The React Players page's bundle, rebuilt when its sources change (npm ci
# builds it too, but a stamped npm ci does not run again for a new source).
REACT_BUNDLE := examples/players/static/build/players-react.js
PYTHON ?= python3
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Snorky is installed in editable "compat" mode: the source tree goes on the
# venv's path, so changes need no reinstall and twistd finds the plugin in
# twisted/plugins/ (the default editable mode hides it). Setuptools calls
# that mode transitional, and the license classifier the issue tracker asked
# for deprecated; their warnings are silenced here, said once.
PIP_INSTALL := PYTHONWARNINGS="ignore:Compat editable installs,ignore:License classifiers" $(PY) -m pip install --quiet --config-settings editable_mode=compat -e
KEPT_PYTHON := make: could not update the Python packages (offline?); keeping those installed

.PHONY: run test setup check chromium redis test-python test-js docs typecheck

run: check $(VENV)/.run-installed node_modules/.installed $(REACT_BUNDLE)
	$(PY) -m examples.players

test: check setup chromium redis typecheck test-python test-js docs

setup: check $(VENV)/.test-installed node_modules/.installed $(REACT_BUNDLE)

# The prerequisites: one line for each that is missing.
check:
	@ok=1; \
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "make: Python >= 3.11 is needed as $(PYTHON) (found: $$($(PYTHON) --version 2>/dev/null || echo none))"; ok=0; }; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
	  { echo "make: '$(PYTHON) -m venv' is needed (on Debian and Ubuntu: apt-get install python3-venv)"; ok=0; }; \
	node=$$(node --version 2>/dev/null); major=$${node#v}; major=$${major%%.*}; \
	[ "$$major" -ge 20 ] 2>/dev/null || \
	  { echo "make: Node.js >= 20 is needed as node (found: $${node:-none})"; ok=0; }; \
	command -v npm >/dev/null || \
	  { echo "make: npm is needed (it comes with Node.js; on Debian: apt-get install npm)"; ok=0; }; \
	[ $$ok = 1 ]

$(VENV)/bin/python: | check
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(PY) -m pip install --quiet --upgrade pip

# What running needs: Snorky and its dependencies.
$(VENV)/.run-installed: setup.py | $(VENV)/bin/python
	@if $(PIP_INSTALL) .; then touch $@; \
	elif [ -e $@ ]; then echo "$(KEPT_PYTHON)"; else exit 1; fi

# What the tests and the documentation need: the test and doc extras.
$(VENV)/.test-installed: setup.py | $(VENV)/bin/python
	@if $(PIP_INSTALL) '.[test,doc]'; then touch $@ $(VENV)/.run-installed; \
	elif [ -e $@ ]; then echo "$(KEPT_PYTHON)"; else exit 1; fi

# npm ci empties node_modules before installing: the old one is kept aside
# and put back if the install fails.
node_modules/.installed: package.json package-lock.json | check
	@rm -rf node_modules.old; [ ! -d node_modules ] || mv node_modules node_modules.old
	@if npm ci --prefer-offline --no-audit --no-fund --loglevel=error; then \
	  rm -rf node_modules.old; touch $@; \
	elif [ -d node_modules.old ]; then \
	  rm -rf node_modules; mv node_modules.old node_modules; \
	  echo "make: could not update the npm packages (offline?); keeping those installed"; \
	else exit 1; fi

chromium:
	@command -v chromium >/dev/null || { \
	  echo "make: installing Debian's chromium (--no-install-recommends): the browser tests drive it headless"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

# Only the tests need Redis: the cluster tests start their own redis-server
# (on a free loopback port, persistence off); `make run` never needs it.
redis:
	@command -v redis-server >/dev/null || { \
	  echo "make: installing Debian's redis-server (--no-install-recommends): the cluster tests start it"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }

test-python:
	$(PY) -m twisted.trial test

test-js:
	node --test test/js/

docs:
	$(PY) -m sphinx -W --keep-going -q -b html doc doc/_build/html

typecheck:
	$(VENV)/bin/mypy

$(REACT_BUNDLE): examples/players/react/players.jsx examples/players/react/build.mjs $(wildcard js/src/*.js) | node_modules/.installed
	npm run --silent build:examples

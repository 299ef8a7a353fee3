# The two commands a newcomer needs: `make run` and `make test`.
# Both set up everything first (Python venv, npm packages, Chromium).

VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup system-deps python-deps node-deps test-python test-js docs

run: setup
	$(PY) -m examples.players

test: setup test-python test-js docs

setup: system-deps python-deps node-deps

system-deps:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

python-deps:
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet '.[test,doc]'

node-deps:
	npm ci --no-audit --no-fund --loglevel=error

test-python:
	$(PY) -m twisted.trial test

test-js:
	node --test test/js/

docs:
	$(PY) -m sphinx -W --keep-going -q -b html doc doc/_build/html

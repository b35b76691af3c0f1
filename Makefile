# make run  -> sets itself up and runs the bot (the offline demo without a token)
# make test -> sets itself up, then lint, types and every test
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp

.PHONY: setup run test lint types unit browser bench bench-all docker clean

$(STAMP): pyproject.toml botapi_emulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ./botapi_emulator -e '.[dev,demo]'
	touch $(STAMP)

setup: $(STAMP)

# Without a token bot.py explains how to get one and exits 2; then the offline demo plays
# Arvidsjaur 2015 through the real bot against the built-in emulator.
run: setup
	@$(PY) bot.py; rc=$$?; \
	if [ $$rc -eq 2 ]; then $(PY) -m medlofte_bot demo; else exit $$rc; fi

lint: setup
	$(VENV)/bin/ruff check .

types: setup
	$(VENV)/bin/mypy

# the web view's tests drive Debian's chromium with its chromedriver; CI (a fresh machine,
# root) gets them here, anyone else is told what to install
browser:
	@if [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; \
	  else \
	    echo "The browser tests need /usr/bin/chromium and /usr/bin/chromedriver:" >&2; \
	    echo "  sudo apt-get install chromium chromium-driver" >&2; \
	    exit 1; \
	  fi; \
	fi

test: lint types browser
	$(PY) -m pytest -q

unit: setup
	$(PY) -m pytest -q tests/unit

bench: setup
	$(PY) bench/plan_national.py

# every benchmark at a tenth of its size (the full ones take about 20 minutes in all)
bench-all: bench
	$(PY) bench/reminder_burst.py --small
	$(PY) bench/completions.py --small
	$(PY) bench/summaries.py --small
	$(PY) bench/idle.py
	$(PY) bench/webhook.py --small
	$(PY) bench/web_area.py --municipalities 29 --requests 50

docker:
	docker build -t medlofte-bot .

clean:
	rm -rf $(VENV) data/*.db .pytest_cache .mypy_cache .ruff_cache

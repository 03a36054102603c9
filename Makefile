# Two commands: `make run` (set up everything and serve the demo) and `make test` (the whole suite).
VENV    := .venv
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app outreach
STAMP   := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
VENDOR  := static/vendor/.installed
PO      := $(wildcard outreach/translations/*/LC_MESSAGES/messages.po)
MO      := $(PO:.po=.mo)
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: run test fuzz lint typecheck bench setup vendor db translations extract-messages clean

setup: $(STAMP) $(MO) vendor

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

# The maps' browser libraries (no CDN at run time): the npm packages pinned in package-lock.json, and
# folium's own files, copied into static/vendor/ by outreach/maps/assets.py. Needs Node.js and npm.
vendor: $(VENDOR)

$(VENDOR): package-lock.json outreach/maps/assets.py $(STAMP)
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(PY) -c 'from outreach.maps.assets import install; print(len(install()), "files in static/vendor/")'
	touch $@

%.mo: %.po $(STAMP)
	$(VENV)/bin/pybabel compile -i $< -o $@ --statistics

translations: $(MO)

db: setup
	$(FLASK) db upgrade
	$(FLASK) demo seed --if-empty

# The scheduler (SMS outbox, reminders, summaries) runs beside the web server and stops with it.
run: db
	@echo "Outreach on http://$(HOST):$(PORT)  (demo logins: see README.md; password demo-2026)"
	$(FLASK) scheduler & SCHEDULER=$$!; trap 'kill $$SCHEDULER 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: setup
	$(VENV)/bin/ruff check .

# Static types of the package (settings in pyproject.toml).
typecheck: setup
	$(VENV)/bin/mypy

test: lint typecheck
	$(PY) -m pytest

# Schemathesis against the API's description (tests/test_api_fuzz.py, marker "fuzz", left out of
# `make test`): bounded to a few minutes, and run once in CI rather than once per database.
fuzz: setup
	$(PY) -m pytest -m fuzz tests/test_api_fuzz.py

bench: setup
	$(PY) -m bench

# After adding or changing user-facing strings: extract, then translate the new entries in messages.po.
extract-messages: setup
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o outreach/translations/messages.pot .
	$(VENV)/bin/pybabel update -i outreach/translations/messages.pot -d outreach/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance/*.db outreach/translations/*/LC_MESSAGES/*.mo node_modules static/vendor

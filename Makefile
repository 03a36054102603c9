# Two commands: `make run` (set up everything and serve the demo) and `make test` (the whole suite).
# `make setup` installs requirements-dev.txt (the runtime set plus tests and tools); a server installs
# requirements.txt alone (deploy/release.sh). Both are pinned, hashed locks made by `make lock`.
# `make run HOST=0.0.0.0 PORT=5101` serves elsewhere; PUBLIC_BASE_URL follows (see below).
VENV    := .venv
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app outreach
STAMP   := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
VENDOR  := static/vendor/.installed
PO      := $(wildcard outreach/translations/*/LC_MESSAGES/messages.po)
MO      := $(PO:.po=.mo)
HOST    ?= 127.0.0.1
PORT    ?= 5000
# Where SMS links, QR codes and webhooks point: where `make run` listens (on all interfaces, this
# machine's first address on the network), unless PUBLIC_BASE_URL is set.
PUBLIC_HOST = $(if $(filter 0.0.0.0 ::,$(HOST)),$(or $(firstword $(shell hostname -I 2>/dev/null)),127.0.0.1),$(HOST))
PUBLIC_BASE_URL ?= http://$(PUBLIC_HOST):$(PORT)

.PHONY: run test fuzz lint typecheck bench load setup vendor db translations extract-messages clean lock deploy-test

setup: $(STAMP) $(MO) vendor

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-dev.txt
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
	@echo "Outreach on http://$(HOST):$(PORT)  (links in SMS and QR codes: $(PUBLIC_BASE_URL); demo logins: see README.md; password demo-2026)"
	export PUBLIC_BASE_URL='$(PUBLIC_BASE_URL)'; \
	$(FLASK) scheduler & SCHEDULER=$$!; trap 'kill $$SCHEDULER 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: setup
	$(VENV)/bin/ruff check .

# Static types of the package (settings in pyproject.toml).
typecheck: setup
	$(VENV)/bin/mypy

test: lint typecheck
	$(PY) -m pytest

# A real deployment on this machine (nginx from Debian's packages, two gunicorn servers, two schedulers,
# PostgreSQL and Redis on loopback): deploy/tests/. Not part of `make test`; CI runs it once.
deploy-test: setup
	$(PY) -m pytest -p no:cacheprovider deploy/tests

# After editing requirements.in or requirements-dev.in: rewrite the pinned, hashed locks.
lock: setup
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links -o requirements.txt requirements.in
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links --constraint requirements.txt -o requirements-dev.txt requirements-dev.in

# Schemathesis against the API's description (tests/test_api_fuzz.py, marker "fuzz", left out of
# `make test`): bounded to a few minutes, and run once in CI rather than once per database.
fuzz: setup
	$(PY) -m pytest -m fuzz tests/test_api_fuzz.py

bench: setup
	$(PY) -m bench

# The busy hour under load (bench/load.py; not part of `make test`): 200 members syncing and 20 leaders and
# staff reading, with locust for 3 minutes against 4 gunicorn workers on PostgreSQL with 1,000,000 households
# (database outreach_load, built once by bulk SQL and reused). Prints p95s, errors, memory; OK or FAIL each.
load: setup
	$(PY) -m bench.load

# After adding or changing user-facing strings: extract, then translate the new entries in messages.po.
extract-messages: setup
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o outreach/translations/messages.pot .
	$(VENV)/bin/pybabel update -i outreach/translations/messages.pot -d outreach/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance/*.db outreach/translations/*/LC_MESSAGES/*.mo node_modules static/vendor

# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app backend
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test test-sqlite test-postgres test-js bench lint chromium vendor clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Doorstep is at http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/docs)"
	@# Check-in jobs (identity checks, window close, reminders) on Huey with SQLite under
	@# instance/: the worker stops with the server.
	$(FLASK) checkins worker & trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn, workers sized to the CPU (WEB_CONCURRENCY overrides), on
# DATABASE_URL, PHOTO_S3_* and REDIS_URL from the environment; see docs/deploy.md. The
# check-in job consumer (Huey; RedisHuey when REDIS_URL is set) runs beside it and stops
# with it: when gunicorn exits, or on Ctrl-C / TERM. Hosts that run the two apart use the
# systemd units in docs/deploy.md instead.
serve: $(STAMP)
	$(FLASK) db upgrade
	export LOG_FORMAT=$${LOG_FORMAT:-json}; \
	  $(FLASK) checkins worker & worker=$$!; \
	  $(VENV)/bin/gunicorn --config deploy/gunicorn.conf.py & web=$$!; \
	  trap 'kill -TERM $$web $$worker 2>/dev/null' INT TERM; \
	  wait $$web; status=$$?; \
	  kill -TERM $$worker 2>/dev/null; wait; exit $$status

chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

# The whole suite on SQLite, then again on PostgreSQL when it is reachable, then the JS units.
test: $(STAMP) chromium
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
	$(MAKE) test-js

# Spread over the cores; files sharing outside state keep to one worker (tests/conftest.py).
XDIST ?= -n 2 --dist loadgroup
test-sqlite: $(STAMP)
	env -u DATABASE_URL $(PY) -m pytest $(XDIST)

TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
test-postgres: $(STAMP)
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest $(XDIST) -m "not e2e"

test-js:
	node --test tests/unit/js/

# Benches drop and re-create the schema of BENCH_DATABASE_URL (a scratch
# PostgreSQL database, e.g. postgresql://postgres@127.0.0.1:5432/bench); unset: SQLite.
bench: $(STAMP) chromium
	$(PY) bench/bench_sync.py
	$(PY) bench/bench_photos.py
	$(PY) bench/bench_pwa.py
	$(PY) bench/bench_2g.py
	$(PY) bench/bench_review_queue.py
	$(PY) bench/bench_review_export.py
	$(PY) bench/bench_workflow.py
	$(PY) bench/bench_checkin_push.py
	test -z "$${BENCH_DATABASE_URL:-}" || $(PY) bench/bench_checkins.py

lint: $(STAMP)
	$(VENV)/bin/ruff check backend tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Re-copy the pinned third-party browser files (pwa/package.json) from the npm registry.
vendor:
	node pwa/vendor.mjs

clean:
	rm -rf $(VENV) instance .pytest_cache

# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app backend
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
# What every goal needs installed first. A test reading a recipe (`make -n serve INSTALLED=`)
# empties it: naming a real file instead (STAMP=Makefile) made that file a target, which make
# rebuilds, installing, even under -n, whenever pyproject.toml is the newer of the two (a
# fresh clone), beside another pass using the same virtualenv.
INSTALLED ?= $(STAMP)
HOST ?= 127.0.0.1
PORT ?= 5000
# Python caches no bytecode where PYTHONDONTWRITEBYTECODE is set (this machine's image sets
# it). Then every process compiles the app from source again: each xdist worker, each flask
# or gunicorn a test starts (0.4 s each), and pytest rewrites every test module's asserts in
# every worker (collecting the suite: 32 s, 18 s with the caches). The caches (__pycache__,
# gitignored) are written once and shared; concurrent writers are safe (atomic renames).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run serve test test-sqlite test-postgres test-js bench lint chromium vendor clean flake-hunt

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(INSTALLED)
	$(PY) -m backend.encryption.keytool dev instance
	$(FLASK) db upgrade
	DOORSTEP_BASE_URL=http://$(HOST):$(PORT) $(FLASK) seed-demo
	@echo "Doorstep is at http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/docs)"
	@# The one job worker of every package (check-in identity checks and windows, the
	@# nightly periodic reviews, the outbox relay) on Huey with SQLite under instance/: it
	@# stops with the server.
	$(FLASK) worker & trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn, workers sized to the CPU (WEB_CONCURRENCY overrides), on
# DATABASE_URL, PHOTO_S3_* and REDIS_URL from the environment; see docs/deploy.md. The
# job worker of every package (Huey; RedisHuey when REDIS_URL is set) runs beside it and stops
# with it: when gunicorn exits, or on Ctrl-C / TERM. Hosts that run the two apart use the
# systemd units in docs/deploy.md instead.
serve: $(INSTALLED)
	$(FLASK) db upgrade
	export LOG_FORMAT=$${LOG_FORMAT:-json}; \
	  $(FLASK) worker & worker=$$!; \
	  $(VENV)/bin/gunicorn --config deploy/gunicorn.conf.py & web=$$!; \
	  trap 'kill -TERM $$web $$worker 2>/dev/null' INT TERM; \
	  wait $$web; status=$$?; \
	  kill -TERM $$worker 2>/dev/null; wait; exit $$status

# Chromium for the e2e tests; Noto CJK, the face every printed document embeds (ADR 0015).
NOTO_CJK := /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc
chromium:
	@test -x /usr/bin/chromium -a -f $(NOTO_CJK) || (apt-get update -qq \
	  && apt-get install -y -qq chromium fonts-noto-cjk)

# The whole suite on SQLite and, side by side, again on PostgreSQL; then the JS units. The
# passes leave a core idle about half the time (browsers wait on pages), so together they end
# sooner; each pass's output is printed whole when it ends (--output-sync). The pure unit
# tests (tests/unit: no database) run once, in the PostgreSQL pass; `make test-sqlite` alone
# runs them too. The browser tests always serve SQLite (tests/e2e/conftest.py), so where they
# run changes nothing they check: the desk's run in the PostgreSQL pass, which otherwise
# ended 4-5 minutes before the SQLite pass and left a core idle (issue 23: test time).
E2E_BESIDE_POSTGRES := $(addprefix tests/e2e/,test_review_flow.py test_desk_walk.py \
  test_case_workflow.py test_forms_desk.py test_periodic_review_desk.py \
  test_retention_desk.py test_privacy_desk.py)
E2E_ALL := $(wildcard tests/e2e/test_*.py)
test: $(INSTALLED) chromium
	$(MAKE) --jobs=2 --output-sync=target test-sqlite test-postgres \
	  SQLITE_ONLY="--ignore=tests/unit $(addprefix --ignore=,$(E2E_BESIDE_POSTGRES))" \
	  POSTGRES_SELECT="$(addprefix --ignore=,$(filter-out $(E2E_BESIDE_POSTGRES),$(E2E_ALL)))"
	$(MAKE) test-js

# Spread over the cores; files sharing outside state keep to one worker (tests/conftest.py).
XDIST ?= -n 2 --dist loadgroup
SQLITE_ONLY ?=
test-sqlite: $(INSTALLED)
	env -u DATABASE_URL $(PY) -m pytest $(XDIST) $(SQLITE_ONLY)

TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Alone, the PostgreSQL pass leaves the browser tests out (they serve SQLite in any pass).
POSTGRES_SELECT ?= -m "not e2e"
# Its own Redis databases and no shared pytest cache: it may run beside test-sqlite.
test-postgres: $(INSTALLED)
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=redis://127.0.0.1:6379/4 \
	  TEST_JOBS_REDIS_URL=redis://127.0.0.1:6379/12 \
	  $(PY) -m pytest $(XDIST) $(POSTGRES_SELECT) -p no:cacheprovider

test-js:
	node --test tests/unit/js/

# Not part of `test`: every e2e file FLAKE_ROUNDS times in a row, in a new random order each
# round; prints passes per file. A smaller hunt: FLAKE_ROUNDS=3 FLAKE_FILES="tests/e2e/test_x.py";
# FLAKE_JOBS=2 runs two files side by side (a busier machine, a shorter hunt).
FLAKE_ROUNDS ?= 5
FLAKE_JOBS ?= 1
FLAKE_FILES ?=
flake-hunt: $(INSTALLED) chromium
	env -u DATABASE_URL $(PY) tests/e2e/flake_hunt.py --rounds $(FLAKE_ROUNDS) --jobs $(FLAKE_JOBS) $(FLAKE_FILES)

# Benches drop and re-create the schema of BENCH_DATABASE_URL (a scratch
# PostgreSQL database, e.g. postgresql://postgres@127.0.0.1:5432/bench); unset: SQLite.
# Scratch databases get throwaway data keys (ADR 0020) unless the environment has keys.
RANDOM_KEY = $(shell $(PYTHON) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
bench: export DOORSTEP_DATA_KEY ?= bench:$(RANDOM_KEY)
bench: export DOORSTEP_INDEX_KEY ?= $(RANDOM_KEY)
bench: $(INSTALLED) chromium
	$(PY) bench/bench_sync.py
	$(PY) bench/bench_photos.py
	$(PY) bench/bench_pwa.py
	$(PY) bench/bench_2g.py
	$(PY) bench/bench_review_queue.py
	$(PY) bench/bench_review_export.py
	$(PY) bench/bench_workflow.py
	$(PY) bench/bench_xlsform.py
	$(PY) bench/bench_dossier.py
	$(PY) bench/bench_checkin_push.py
	$(PY) bench/bench_outbox.py
	$(PY) bench/bench_webhooks.py
	$(PY) bench/bench_growth.py
	$(PY) bench/bench_memory.py
	$(PY) bench/bench_table.py
	test -z "$${BENCH_DATABASE_URL:-}" || $(PY) bench/bench_checkins.py

lint: $(INSTALLED)
	$(VENV)/bin/ruff check backend tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Re-copy the pinned third-party browser files (pwa/package.json) from the npm registry.
vendor:
	node pwa/vendor.mjs

clean:
	rm -rf $(VENV) instance .pytest_cache

# The calculation core must keep 100% branch coverage (enforced by its own pytest run below:
# coverage's tracer and SQLAlchemy 2.1's compiled cache-key code fail together, with
# "'InternalTraversal' object is not callable", so the database suites run untraced).
# Two commands do all set-up on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# PostgreSQL for the tests: the machine's local server, trust authentication.
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/claims_portal_test
REDIS_START := redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
  --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
PG_START := pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n 1) main start

.PHONY: run worker scheduler test install install-test assets libmagic postgres redis chromium clamav lint typecheck pytest clean bench wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed assets
install-test: $(VENV)/.installed-test assets

# nhsuk-frontend from npm, pinned in package-lock.json; served at /assets.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.package-lock.json

# Evidence files are checked by content with libmagic (Debian: libmagic1).
libmagic: install
	@$(BIN)/python -c "import magic" 2>/dev/null || { \
	  echo "libmagic is missing: evidence files are checked by their content with it."; \
	  echo "Install it with: apt-get install -y libmagic1 (macOS: brew install libmagic)"; exit 1; }

# HOST and PORT choose where it listens (make run PORT=8000); emailed links use the same address.
run: install libmagic
	@mkdir -p uploads
	HOST=$(HOST) PORT=$(PORT) CLAIMS_PORTAL_ENV=development $(BIN)/claims-portal demo
	@echo
	@echo "The claims portal is at http://$(HOST):$(PORT)/ (sign in with a login above; Ctrl+C stops it)"
	HOST=$(HOST) PORT=$(PORT) CLAIMS_PORTAL_ENV=development $(BIN)/claims-portal run --host $(HOST) --port $(PORT)

# The jobs as production runs them (docs/operations.md), each in a terminal of its own, with
# the portal started as `JOBS_RUN_IN_PROCESS=false REDIS_URL=$(JOBS_REDIS_URL) make run`.
JOBS_REDIS_URL ?= redis://127.0.0.1:6379/0
worker: install redis
	CLAIMS_PORTAL_ENV=development JOBS_RUN_IN_PROCESS=false REDIS_URL=$(JOBS_REDIS_URL) \
	  $(BIN)/claims-portal worker

scheduler: install redis
	CLAIMS_PORTAL_ENV=development JOBS_RUN_IN_PROCESS=false REDIS_URL=$(JOBS_REDIS_URL) \
	  $(BIN)/claims-portal scheduler

# PostgreSQL must answer on 127.0.0.1:5432; start the machine's cluster if it is down.
postgres:
	@if pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi; \
	echo "PostgreSQL is down; starting it with: $(PG_START)"; \
	$(PG_START) || true; \
	for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
	echo "PostgreSQL is not reachable on 127.0.0.1:5432 and could not be started."; \
	echo "Start it with: $(PG_START)"; exit 1

# Redis must answer on 127.0.0.1:6379 (rate limits shared by workers); start it if it is down.
redis:
	@if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then exit 0; fi; \
	echo "Redis is down; starting it with: $(REDIS_START)"; \
	$(REDIS_START) || true; \
	for i in $$(seq 1 15); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0; sleep 1; done; \
	echo "Redis is not reachable on 127.0.0.1:6379 and could not be started."; \
	echo "Start it with: $(REDIS_START)"; exit 1

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium).
chromium:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	echo "Installing Debian's chromium for the browser tests..."; \
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "Could not install chromium (apt-get install -y chromium)."; exit 1; }

# ClamAV's daemon (Debian's clamav-daemon) for the virus-check tests, which start a clamd of
# their own with a signature database made in the test (tests/claims/evidence/clamav.py).
clamav:
	@if command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ]; then exit 0; fi; \
	echo "Installing Debian's clamav-daemon for the virus-check tests..."; \
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clamav-daemon >/dev/null) \
	  || { echo "Could not install clamav-daemon (apt-get install -y clamav-daemon)."; exit 1; }

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install-test
	$(BIN)/mypy
	$(BIN)/mypy --strict --follow-imports=silent claims_portal/calculation
	$(BIN)/mypy --strict --follow-imports=silent claims_portal/payments/_cells.py \
		claims_portal/payments/files.py claims_portal/payments/responses.py \
		claims_portal/payments/working_days.py

# The whole suite as of now, and the date-sensitive suites again as of awkward moments
# (month ends, 31 March / 1 April, 29 February, both clock changes:
# scripts/awkward_moments.py --list shows them), two runs at a time, the whole suite first.
pytest: install-test postgres redis chromium clamav wrk
	$(BIN)/pytest tests/calculation -q --cov=claims_portal.calculation --cov-report=term \
	  --cov-fail-under=100
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python scripts/awkward_moments.py --with-main-suite

test: lint typecheck pytest

# Benchmarks (not part of `make test`): the calculation core, then the claims pages under
# gunicorn against PostgreSQL with wrk, then real use at the scale of a large ICB (many
# signed-in people browsing and writing at once; docs/benchmarks.md). Results in bench/results/.
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "Could not install wrk (apt-get install -y wrk)."; exit 1; }

bench: install-test postgres redis wrk clamav
	$(BIN)/python bench/national_run.py
	$(BIN)/python bench/claims_http.py
	$(BIN)/python bench/load.py

# The payment run over 50,000 approved claims across 42 ICBs, answers and statements for
# 6,500 practices (about an hour on 2 cores; docs/benchmarks.md, "Payments").
.PHONY: bench-payments
bench-payments: install-test postgres redis
	$(BIN)/python bench/payments.py

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .mypy_cache .ruff_cache .coverage

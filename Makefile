# Rapport: `make run` and `make test` set up everything they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run dev test check bench format migrate demo browser-deps clean train-detector

$(STAMP): requirements/dev.lock
	@python=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV); fi
	@# The machine's pip configuration may name local indexes that are absent; their warnings are noise.
	set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements/dev.lock 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	@touch $(STAMP)

# Debian's Chromium is the browser for the Playwright tests; Playwright's own download
# is never used.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

migrate: $(STAMP)
	$(PY) manage.py migrate --no-input

demo: migrate
	$(PY) manage.py load_demo

# gunicorn (threads) serves the web UI and API, static files through whitenoise; the
# supervisor restarts any child that dies.
run: demo
	PORT=$(PORT) RAPPORT_ENV=$${RAPPORT_ENV:-development} $(PY) manage.py runstack --port $(PORT)

# The same stack with Django's development server, which reloads on code changes.
dev: demo
	PORT=$(PORT) RAPPORT_ENV=$${RAPPORT_ENV:-development} $(PY) manage.py runstack --dev --port $(PORT)

test: $(STAMP) browser-deps
	$(PY) -m pytest -n auto -p no:cacheprovider

check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench

# Re-create rapport/detection/model.json.gz from the shared training data (same bytes
# every run), then `$(PY) -m rapport.detection.evaluate` refreshes docs/detection.md.
train-detector: $(STAMP)
	$(PY) -m rapport.detection.train

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

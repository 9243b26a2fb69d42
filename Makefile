# The targets the README and CI run. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HAZM   := .venv-hazm/.installed

.PHONY: demo test chromium messages lint bench bench-trust bench-text bench-federation bench-postgres clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# hazm (compared with in tests/unit/test_text_hazm.py) pins numpy and pulls gensim: its own venv.
$(HAZM): tests/peers/hazm-requirements.txt
	$(PYTHON) -m venv .venv-hazm
	.venv-hazm/bin/pip install --quiet -r tests/peers/hazm-requirements.txt
	touch $(HAZM)

demo: $(STAMP)  ## install, create the demo community (SQLite) and serve it
	$(BIN)/tabadol demo --data demo-data

test: $(STAMP) $(HAZM) chromium  ## install and run the whole test suite (what CI runs)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python -m pytest -q

# The browser tests (tests/browser) drive Debian's Chromium through Playwright: no browser
# download, ever (never `playwright install`).
chromium:
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

LOCALES := src/tabadol/web/locales
messages: $(STAMP)  ## extract the interface strings into the catalogues (then translate the new ones)
	$(BIN)/pybabel extract -F babel.cfg -o $(LOCALES)/tabadol.pot --no-location --sort-output --omit-header src
	$(BIN)/pybabel update -i $(LOCALES)/tabadol.pot -d $(LOCALES) -D tabadol --no-fuzzy-matching --ignore-pot-creation-date

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)  ## the foundation benchmark (see bench/README.md)
	$(BIN)/python bench/run.py

bench-people: $(STAMP)  ## what a sign-in and a session cost (bench/README.md)
	$(BIN)/python bench/people.py

bench-trust: $(STAMP)  ## what signatures, sealing and the audit log cost (bench/README.md)
	$(BIN)/python bench/trust.py

bench-text: $(STAMP) $(HAZM)  ## search normalization vs hazm, extraction vs iocextract and iocsearcher
	$(BIN)/python bench/text_bench.py

bench-federation: $(STAMP)  ## sync throughput, publish-to-readable latency, a no-change round at 1M
	$(BIN)/python bench/federation.py

bench-postgres: $(STAMP)  ## the 1M node on PostgreSQL: migrate, 1 and 2 workers, ingest
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/postgres.py

clean:
	rm -rf $(VENV) .venv-hazm demo-data .pytest_cache

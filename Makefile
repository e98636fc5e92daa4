# Oprit: `make run` starts the bot (the demo without a token), `make test` runs lint and the whole test suite.
# Both create .venv and install everything they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format catalogs extract bench clean triage-model triage-speed lock

# The exact, hash-checked versions that were tested (`make lock` writes them), then Oprit
# itself from the checkout.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Refresh the lock files after changing dependencies in pyproject.toml: keeps every other
# pin as it is; `make lock UPGRADE=1` moves everything to the newest allowed versions.
# requirements.lock is what a server or the container installs, requirements-dev.lock
# (the same versions plus the tools) what `make` installs.
LOCK_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'uv>=0.9,<1'
	$(LOCK_COMPILE) --output-file requirements.lock
	$(LOCK_COMPILE) --extra dev --constraint requirements.lock --output-file requirements-dev.lock

catalogs: $(STAMP)
	$(BIN)/pybabel compile --domain=messages --directory=locales >/dev/null

run: $(STAMP) catalogs
	$(BIN)/oprit run --demo-without-token

lint: $(STAMP)
	$(BIN)/ruff check bot handlers db tests benchmarks
	$(BIN)/ruff format --check bot handlers db tests benchmarks
	$(BIN)/mypy bot handlers db
	$(BIN)/lint-imports

# One test process per CPU: most tests wait on I/O (HTTP, databases, subprocesses).
test: lint catalogs
	$(BIN)/pytest -n auto --dist worksteal

format: $(STAMP)
	$(BIN)/ruff format bot handlers db tests benchmarks
	$(BIN)/ruff check --fix bot handlers db tests benchmarks

# Re-extract messages.pot from the code and merge it into every catalog.
extract: $(STAMP)
	$(BIN)/pybabel extract --mapping-file=babel.cfg --keywords=_ --keywords=ngettext:1,2 \
		--add-comments=Translators: --sort-by-file --omit-header --no-location \
		--output-file=locales/messages.pot bot handlers
	$(BIN)/pybabel update --domain=messages --input-file=locales/messages.pot \
		--output-dir=locales --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

bench: $(STAMP) catalogs
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Retrain the triage model from tests/triage/corpus/, crisis thresholds chosen on tests/triage/dev/
# (writes bot/triage/model.json: commit it
# together with the corpus and dev split; a test checks that the file matches both).
triage-model: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,triage-train]'
	$(BIN)/python -m bot.triage.train

# Start-up, lines per second and latency of triage (prints numbers, asserts nothing).
triage-speed: $(STAMP)
	$(BIN)/python -m tests.triage.speed

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

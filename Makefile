# One entry point for set-up, play and checks. `make play` and `make test` do all set-up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: play test check lint typecheck pytest stockfish setup clean

# In a checkout the database stays in replays/ (an installed arena uses ~/.local/share/arena/).
play: setup stockfish
	ARENA_DB="$${ARENA_DB:-replays/arena.db}" $(BIN)/arena play

test: setup stockfish check

check: lint typecheck pytest

lint:
	$(BIN)/ruff check arena tests
	$(BIN)/ruff format --check arena tests
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy --strict arena

pytest:
	$(BIN)/pytest -q

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Stockfish: use one that is already there, else install the Debian package where apt exists.
stockfish:
	@if [ -n "$$ARENA_STOCKFISH" ] && [ -x "$$ARENA_STOCKFISH" ]; then exit 0; fi; \
	if command -v stockfish >/dev/null 2>&1 || [ -x /usr/games/stockfish ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq stockfish >/dev/null; \
	else \
		echo "Stockfish is missing: install it (e.g. 'brew install stockfish') or set ARENA_STOCKFISH=/path/to/stockfish" >&2; \
		exit 2; \
	fi

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

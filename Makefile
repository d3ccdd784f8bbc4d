# Bot-Auction: `make run` to try it, `make test` to check it. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=

.PHONY: setup run test lint bench translations clean

setup: $(VENV)/.installed .env translations/ru/LC_MESSAGES/messages.mo
	@mkdir -p instance
	@out=$$($(FLASK) db upgrade 2>&1) || { echo "$$out"; exit 1; }

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@out=$$($(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1) || { echo "$$out"; exit 1; }
	@touch $@

.env:
	@sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')|" \
	     -e "s|^DEV_LOGIN=.*|DEV_LOGIN=1|" .env.example > .env
	@echo "Wrote .env (random SECRET_KEY, DEV_LOGIN=1). Edit it to add your bot token."

translations/ru/LC_MESSAGES/messages.mo: translations/ru/LC_MESSAGES/messages.po translations/en/LC_MESSAGES/messages.po $(VENV)/.installed
	@out=$$($(BIN)/pybabel compile --use-fuzzy -d translations 2>&1) || { echo "$$out"; exit 1; }

run: setup
	@$(FLASK) seed-demo --if-empty
	@$(BIN)/python wsgi.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/sse_fanout.py --watchers 2000 --events 100 --rate 2
	$(BIN)/python bench/sse_fanout.py --watchers 10000 --events 10 --rate 1 --no-baseline
	$(BIN)/python bench/bids.py --bidders 32
	$(BIN)/python bench/search.py

translations: $(VENV)/.installed
	# --ignore-dirs replaces Babel's legacy rule that silently skips _partials/.
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs='.* ._' -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The two commands of the README:
#   make demo   set up, build the index on the built-in demo corpus, serve it (and the demo pages at
#               /demo) on 127.0.0.1:8000; `make demo DEMO_LANGUAGES=1 DATA_DIR=var/demo-languages`
#               adds the corpus's editions in Arabic, Chinese, German and Spanish
#   make test   set up, then run lint, type checks and every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
DATA_DIR ?= var/demo
PORT ?= 8000
DEMO_LANGUAGES ?=

.PHONY: setup demo test lint pytest clean

# torch first, pinned: it is a local CPU build here, and any other spec lets pip pull a CUDA build of
# several GB as a dependency of sentence-transformers.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,distributed]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/recsys build --data-dir $(DATA_DIR) $(if $(DEMO_LANGUAGES),--demo-languages)
	@echo "open: http://127.0.0.1:$(PORT)/demo  (an article page: http://127.0.0.1:$(PORT)/demo/articles/demo-0018)"
	@echo "try:  curl 'http://127.0.0.1:$(PORT)/articles/demo-0018/related?limit=5'"
	@$(if $(DEMO_LANGUAGES),echo "in Arabic: http://127.0.0.1:$(PORT)/demo/articles/demo-ar-03  (in Chinese: demo-zh-03)",true)
	RECSYS_DEMO_PAGES=true $(BIN)/recsys serve --data-dir $(DATA_DIR) --port $(PORT)

# lint-imports checks the import rules of pyproject.toml ([tool.importlinter]); without its cache,
# which would be one more folder in the checkout, it takes half a second.
lint: setup
	$(BIN)/ruff check recsys index service cli tests benchmarks
	$(BIN)/ruff format --check recsys index service cli tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

pytest: setup
	$(BIN)/python -m pytest

test: lint pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

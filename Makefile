# Every target sets up its own environment: .venv from uv.lock, nothing by hand.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
# Byte-compile on install: kernels then import scipy and scikit-learn 3x faster
# (and this machine may forbid writing .pyc files at run time).
export UV_COMPILE_BYTECODE := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup build submissions demo test test-data browser sandbox postgres lint lab hub bench mutants clean

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Files of the kit installed outside its package (pyproject.toml, shared-data): the
# package is reinstalled when one changes.
SHARED_DATA := $(wildcard kit/templates/nbconvert/*.j2)

$(VENV)/.synced: uv.lock pyproject.toml $(SHARED_DATA) | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --reinstall-package ml-course-kit
	touch $@

## build: regenerate source notebooks, release/ and solutions/ from source/
build: setup
	python -m kit build

## submissions: rewrite the demo submissions in submitted/ from variants/
submissions: setup
	python -m kit submissions

## demo: the main job: build, autograde submitted/, feedback, grades, report, summary
demo: setup sandbox
	python -m kit grade --build

## test: the whole suite, lint included (what CI runs)
test: setup lint test-data browser sandbox postgres proxy
	python -m pytest

## test-data: Debian's Fashion-MNIST idx files for the parser tests, where the
## platform allows (root with apt); without them those tests skip and say why
FASHION_MNIST := /usr/share/datasets/fashion-mnist
test-data:
	@if [ -d $(FASHION_MNIST) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  { apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 \
	    || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }; } \
	  >/dev/null 2>&1 || echo "note: could not install dataset-fashion-mnist"; \
	else echo "note: not root: dataset-fashion-mnist not installed"; fi

## browser: Debian's Chromium for the browser tests (Playwright drives it; it never
## downloads a browser), where the platform allows (root with apt); without it those
## tests skip and say why
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  { apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
	    || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }; } \
	  >/dev/null 2>&1 || echo "note: could not install chromium"; \
	else echo "note: not root: chromium not installed"; fi

## sandbox: Debian's bubblewrap, which confines each grading kernel (root with apt)
sandbox:
	@if command -v bwrap >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  { apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
	    || { apt-get update -qq && apt-get install -y -qq bubblewrap; }; } \
	  >/dev/null 2>&1 || echo "note: could not install bubblewrap"; \
	else echo "note: bubblewrap is missing: install it, or grade with --insecure"; fi

## postgres: Debian's PostgreSQL server programs, for the tests that grade into a
## PostgreSQL gradebook (each starts its own server on loopback), where the platform
## allows (root with apt); without them those tests skip and say why
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  || command -v initdb >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  { apt-get install -y -qq postgresql >/dev/null 2>&1 \
	    || { apt-get update -qq && apt-get install -y -qq postgresql; }; } \
	  >/dev/null 2>&1 || echo "note: could not install postgresql"; \
	else echo "note: not root: postgresql not installed"; fi

lint: setup
	ruff check .
	lint-imports

## proxy: JupyterHub's configurable-http-proxy, from hub/package-lock.json with the
## machine's Node.js and npm (Debian's, installed as root with apt where missing)
PROXY := hub/node_modules/.bin/configurable-http-proxy
proxy: $(PROXY)
$(PROXY): hub/package.json hub/package-lock.json
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] \
	  && command -v apt-get >/dev/null; then \
	  { apt-get install -y -qq nodejs npm >/dev/null 2>&1 \
	    || { apt-get update -qq && apt-get install -y -qq nodejs npm; }; } \
	  >/dev/null 2>&1 || echo "note: could not install nodejs and npm"; fi
	@if command -v npm >/dev/null; then \
	  npm ci --prefix hub --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "note: npm is missing: JupyterHub's proxy not installed"; fi

## hub: the course on a JupyterHub on 127.0.0.1:8000, an instructor (formgrader) and
## students (Assignment List) sharing nbgrader's exchange; see the README.
## Options: make hub HUB_ARGS="--port 8010 --student ada --student alan"
HUB_ARGS ?=
hub: setup proxy
	python -m kit hub $(HUB_ARGS)

## lab: JupyterLab with nbgrader's extension on lab/, a working copy of release/
## (each folder copied once: delete lab/<folder> to get it fresh from release/);
## kernels import the student library release/library, as students' kernels will.
## Extra server options: make lab LAB_ARGS="--no-browser --port=8899"
LAB_DIR := lab
LAB_ARGS ?=
lab: setup
	@mkdir -p $(LAB_DIR)
	@for d in release/*/; do \
	  [ -e "$(LAB_DIR)/$$(basename $$d)" ] || cp -R "$$d" "$(LAB_DIR)/"; done
	PYTHONPATH=$(CURDIR)/release/library jupyter lab --ServerApp.root_dir=$(LAB_DIR) \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

## bench: time the notebooks, the main job, the softmax/MLP epochs and the kit's
## parallel secure grading against plain nbgrader
bench: setup
	python -m benchmarks notebooks
	python -m benchmarks softmax
	python -m benchmarks grading
	python -m benchmarks breakdown
	python -m benchmarks calls

## mutants: grade small automatic changes to every graded reference and print how
## many the hidden tests catch (slow: not part of `make test`; see the README)
mutants: setup sandbox
	python -m kit mutants

clean:
	rm -rf autograded feedback reports gradebook.db .nbgrader.log .kit

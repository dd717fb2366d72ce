# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Fonts: the typefaces of ocrmp/corpus/fonts.py (the generated pages are printed in them).
FONT_PACKAGES := fonts-courier-prime fonts-dejavu-core fonts-dejavu-extra fonts-freefont-ttf \
                 fonts-gnutypewriter fonts-liberation2 fonts-urw-base35
# qpdf: the tests encrypt a PDF with it, and check the searchable PDFs; poppler-utils: its
# pdftotext reads their text layer back. chromium and its driver: the web console's
# acceptance test drives a real browser.
APT_PACKAGES := tesseract-ocr tesseract-ocr-fra redis-server gcc qpdf poppler-utils chromium \
                chromium-driver \
                $(FONT_PACKAGES)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-fast lint bench system-deps clean

demo: $(STAMP)
	$(BIN)/ocrmp demo

# The whole suite against the C atomics (required: a missing build fails), then the tests of
# a pool at work again against the pure-Python ones (test_pool.py and the unit tests of the
# atomics and the slot table run both implementations themselves).
test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/mypy ocrmp
	OCRMP_ATOMICS=native $(BIN)/pytest -n 2 --dist loadgroup
	OCRMP_ATOMICS=pure $(BIN)/pytest -n 2 --dist loadgroup -m pool

test-fast: $(STAMP) system-deps
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow" tests/unit

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/mypy ocrmp

bench: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/pool.py
	$(BIN)/python bench/ocr.py
	$(BIN)/python bench/engines.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/e2e.py
	$(BIN)/python bench/review.py
	$(BIN)/python bench/outputs.py

# System packages, installed only where missing (root, or sudo).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml setup.py setup.cfg native/atomics.c
	$(MAKE) system-deps
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[dev,fast,embedded,web]'
	$(BIN)/python -c "import ocrmp.atomics as a; print('ocrmp atomics:', a.IMPLEMENTATION)"
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info ocrmp/*.so

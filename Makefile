# Every target creates .venv on first use; only python3 is needed on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install demo test test-all bench lint docs clean ablation finetune-experiment adaptive-experiment evidence precision-experiment lecam-experiment stylegan2-experiment

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[gan,jax,test,docs]'
	touch $(STAMP)

install: $(STAMP)

# A short real training run on the shipped emoji faces; outputs in runs/demo.
demo: $(STAMP)
	$(BIN)/python train.py --preset=demo --run_dir=runs/demo --overwrite

# Lint first: CI runs exactly this target (.ci/run), and a lint failure is a failure.
# Two pytest workers (one per core of a small CI machine); `slow` tests only in test-all.
test: lint
	$(BIN)/python -m pytest -q -m "not slow" --timeout=900 -n 2 --dist worksteal

test-all: $(STAMP)
	$(BIN)/python -m pytest -q --timeout=3600 -n 2 --dist worksteal

bench: $(STAMP)
	for b in benchmarks/*_bench.py; do $(BIN)/python $$b || exit 1; done

# The docs site builds in strict mode: a broken link or anchor, a missing page or a
# docstring griffe cannot parse fails lint (and so `make test`). Not with --quiet, which
# silences the warnings that --strict turns into errors.
lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy tf_diffaug \
		&& $(BIN)/mkdocs build --strict --site-dir site

# The docs site (mkdocs.yml; the API reference from the docstrings) into site/.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) runs site *.egg-info

# DiffAugment vs baseline and the paper's ablation at CPU scale (about 40 minutes on 2 cores).
ablation: $(STAMP)
	$(BIN)/python benchmarks/ablation.py

# Scratch vs fine-tuned vs FreezeD on 100 emoji faces (about 20 minutes on 2 cores; npm once).
finetune-experiment: $(STAMP)
	$(BIN)/python benchmarks/finetune_experiment.py

# Adaptive DiffAugment vs p = 1 vs none on 100 / 300 / 1,511 emoji, 3 seeds: 27 runs of
# about 4 minutes on 2 cores (npm once). Resumable: each finished run is kept as a record.
adaptive-experiment: $(STAMP)
	$(BIN)/python benchmarks/adaptive_experiment.py

# DiffAugment where the baseline's D memorises 100 emoji faces, 3 seeds, and the data-amount
# curve (about 60 CPU minutes on 2 cores; npm once; `--long` for more sizes and seeds).
evidence: $(STAMP)
	$(BIN)/python benchmarks/regime_experiment.py

# mixed_bfloat16 vs float32 on the regime experiment's setting, 3 seeds (about 25
# minutes on 2 cores): is --mixed_precision=auto's bfloat16 on such CPUs as good?
precision-experiment: $(STAMP)
	$(BIN)/python benchmarks/precision_experiment.py

# DiffAugment + LeCam (weight 0.3, from step 1000 and from step 100) vs DiffAugment alone
# on the regime experiment's 100 faces, 3 seeds: 9 runs, about 55 minutes on 2 cores.
lecam-experiment: $(STAMP)
	$(BIN)/python benchmarks/lecam_experiment.py

# StyleGAN2's few-shot recipe scaled down (32 px, fmap_base 256) on 100 faces, none vs
# DiffAugment, 3 seeds: 6 runs of about 6 minutes on 2 cores. Resumable like the above.
stylegan2-experiment: $(STAMP)
	$(BIN)/python benchmarks/stylegan2_experiment.py

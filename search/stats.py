"""`oncosearch stats`: the configuration in force and what the current generation holds."""

from __future__ import annotations

import os
from dataclasses import asdict

from index.storage import Filters
from search.engine import Searcher


def index_stats(searcher: Searcher) -> dict:
    storage = searcher.storage
    m = storage.manifest
    held = storage.describe()
    years = held["years"]
    return {
        "index_dir": str(storage.root),
        "generation": storage.name,
        "built_at": m.built_at,
        "model_id": m.model_id,
        "model_path": m.model_path,
        "dimension": m.dim,
        "records": m.records,
        "records_zh": held["records_zh"],
        "records_en": held["records_en"],
        "records_bilingual": held["records_bilingual"],
        "records_without_abstract": len(storage.allowed(Filters(has_abstract=False))),  # title-only
        "years": f"{years[0]}–{years[1]}" if years else None,
        "doc_vectors": m.docs,
        "sentence_vectors": m.sentences,
        "index_types": held["index_types"],
        "english_model": m.settings.get("english_model"),
        "english_passages": held["english_passages"],
        "size_mb": round(held["size_bytes"] / 1e6, 1),
        "doc_weight": searcher.dense.doc_weight,
        "fusion": asdict(searcher.weights),
        "threads": int(os.environ.get("ONCOSEARCH_THREADS") or os.cpu_count() or 1),
    }

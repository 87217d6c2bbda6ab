"""`oncosearch stats`: the configuration in force and what the current generation holds."""

from __future__ import annotations

import os
from dataclasses import asdict

from index import vectors
from index.english import EN_FILE
from search.engine import DOC_WEIGHT, Searcher


def index_stats(searcher: Searcher) -> dict:
    m = searcher.manifest
    conn = searcher.store.conn
    zh = conn.execute("SELECT count(*) FROM records WHERE title_zh IS NOT NULL OR abstract_zh IS NOT NULL").fetchone()[0]
    en = conn.execute("SELECT count(*) FROM records WHERE title_en IS NOT NULL OR abstract_en IS NOT NULL").fetchone()[0]
    both = conn.execute(
        "SELECT count(*) FROM records WHERE (title_zh IS NOT NULL OR abstract_zh IS NOT NULL) "
        "AND (title_en IS NOT NULL OR abstract_en IS NOT NULL)"
    ).fetchone()[0]
    years = conn.execute("SELECT min(year), max(year) FROM records").fetchone()
    size = sum(f.stat().st_size for f in searcher.generation.iterdir() if f.is_file())
    return {
        "index_dir": str(searcher.layout.root),
        "generation": searcher.generation.name,
        "built_at": m.built_at,
        "model_id": m.model_id,
        "model_path": m.model_path,
        "dimension": m.dim,
        "records": m.records,
        "records_zh": zh,
        "records_en": en,
        "records_bilingual": both,
        "years": f"{years[0]}–{years[1]}" if years[0] else None,
        "doc_vectors": m.docs,
        "sentence_vectors": m.sentences,
        "index_types": {**m.index_types, **({EN_FILE: vectors.kind_of(searcher.english.index)}
                                            if searcher.english is not None else {})},
        "english_model": m.settings.get("english_model"),
        "english_passages": searcher.english.index.ntotal if searcher.english is not None else None,
        "size_mb": round(size / 1e6, 1),
        "doc_weight": DOC_WEIGHT,
        "fusion": asdict(searcher.weights),
        "threads": int(os.environ.get("ONCOSEARCH_THREADS") or os.cpu_count() or 1),
    }

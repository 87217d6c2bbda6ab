"""What every leg offers the engine: prepare a query, propose candidates, score any records."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from search.query import Query


@dataclass
class LegResult:
    """One leg's evidence on one query's candidates.

    scores: rowid -> the leg's score, for every candidate the leg can score (a leg may lack
      some, e.g. the English leg has nothing for a record without English text);
    coverage: how much of the query the leg could read (0..1; the lexical leg's vocabulary
      coverage, 1 for the dense legs), which fusion uses to trust it less;
    views (property): rowid -> the parts the score is made of (e.g. whole-abstract and
      best-sentence cosines), for tuning and diagnosis; built only when asked for.
    """

    scores: dict[int, float]
    coverage: float = 1.0
    parts: tuple[np.ndarray, ...] = ()  # rowids, then each view's values (parallel arrays)

    @classmethod
    def of(cls, rows: np.ndarray, scores: np.ndarray, *views: np.ndarray) -> LegResult:
        """From parallel arrays: rowids, their scores, and each view's values."""
        return cls(dict(zip(rows.tolist(), scores.tolist(), strict=True)), parts=(rows, *views))

    @property
    def views(self) -> dict[int, tuple[float, ...]]:
        if not self.parts:
            return {}
        rows, *views = self.parts
        return dict(zip(rows.tolist(), zip(*(v.tolist() for v in views), strict=True), strict=True))


class Leg(ABC):
    """A ranking leg over one opened index (`index.storage.Storage`)."""

    name: ClassVar[str]  # its --mode and its --explain key
    background: ClassVar[bool] = False  # `prepare` is slow and thread-safe: run it beside the other legs' work

    @abstractmethod
    def prepare(self, query: Query, allowed: np.ndarray | None) -> Any | None:
        """The leg's reading of `query` (an encoded vector, BM25 scores...), or None when the leg
        takes no part in this query. `allowed`: rowids that pass the filters (None: all)."""

    @abstractmethod
    def candidates(self, state: Any, k: int, allowed: np.ndarray | None) -> set[int]:
        """Rowids this leg proposes for a page of `k` results, among the `allowed` ones."""

    @abstractmethod
    def scores(self, state: Any, rows: set[int]) -> LegResult:
        """Exact scores of `rows` (every leg's candidates, so no record is ranked on half its evidence)."""

    def model_key(self) -> tuple | None:
        """What identifies the model this leg encodes queries with (None: it has none)."""
        return None

    def adopt_model(self, other: Leg) -> None:
        """Take `other`'s loaded query model when both read queries with the same one: a server
        opening the next generation of the same index need not load (and hold twice) its models."""
        if self.model_key() is not None and self.model_key() == other.model_key():
            self._encoder = getattr(other, "_encoder", None) or getattr(self, "_encoder", None)


def row_array(rows: set[int]) -> np.ndarray:
    return np.fromiter(rows, dtype=np.int64, count=len(rows))

"""The index a long-running server answers from: the current generation, followed across switches.

Cron's `index update` writes a new generation and switches CURRENT to it (`index.storage.layout`).
A server must answer from the new one without a restart, finish the requests already reading the
old one on the old one, and then let the old one's files go, for months of nightly switches.

Every request takes a *lease* on the generation that is live when it starts. Before that, CURRENT
is read (one small file): when it names another generation, that generation is opened, verified
and warmed on a background thread while requests keep being answered from the live one; then it
becomes live in one step. A retired generation is closed when its last lease ends. A generation
that fails to open leaves the live one answering, and is reported by `status()` (the health check)
until CURRENT changes again or a retry succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import OncosearchError
from index.errors import NoIndex
from index.storage.layout import IndexLayout
from search.engine import Searcher

log = logging.getLogger("oncosearch.server")

RETRY_SECONDS = 30.0  # a generation that failed to open is tried again after this long
WARM_QUERIES = ("CAR-T 细胞治疗", "checkpoint blockade in melanoma")  # load models, jieba, the lexical index


@dataclass
class _Live:
    searcher: Searcher
    leases: int = 0
    retired: bool = False

    @property
    def name(self) -> str:
        return self.searcher.storage.name


class LiveIndex:
    """The current generation of the index at `root`, as a `Searcher` lent to one request at a time
    (many at once: a searcher is read-only)."""

    def __init__(self, root: Path, opener: Callable[[Path], Searcher] = Searcher, warm: bool = True):
        self.layout = IndexLayout(Path(root))
        self._opener, self._warm = opener, warm
        self._lock = threading.Lock()  # guards the fields below
        self._first = threading.Lock()  # one request opens the first generation
        self._live: _Live | None = None
        self._opening: threading.Thread | None = None
        self._failed: tuple[str | None, float, OncosearchError] | None = None  # (generation, when, why)
        self.switches = 0  # generations made live since start (for the health check and tests)

    # --- requests ----------------------------------------------------------------------------
    @contextmanager
    def lease(self) -> Iterator[Searcher]:
        """The live searcher, held for one request: a switch meanwhile does not close it under us.

        Raises `NoIndex` while nothing has been built, or the error that keeps the current
        generation from opening when no earlier one is live."""
        self.follow()
        with self._lock:
            live = self._live
            if live is not None:
                live.leases += 1
        if live is None:
            live = self._first_open()
        try:
            yield live.searcher
        finally:
            with self._lock:
                live.leases -= 1
                done = live.retired and live.leases == 0
            if done:
                self._close(live)

    def _first_open(self) -> _Live:
        """Nothing live yet (the server started before the first build): open the current
        generation now, on this request (one request opens; the others wait for it), and lease it."""
        with self._first:
            opening = self._opening
            if opening is not None:
                opening.join()
            elif self._live is None and not self._failed_recently(self.layout.current_name()):
                self._open(self.layout.current_name())
        with self._lock:
            live = self._live
            if live is None:
                raise self._failed[2] if self._failed else NoIndex(self.layout.root)
            live.leases += 1
            return live

    def _failed_recently(self, name: str | None) -> bool:
        failed = self._failed
        return failed is not None and failed[0] == name and time.monotonic() - failed[1] < RETRY_SECONDS

    def follow(self) -> None:
        """Start opening the generation CURRENT names, if it is not the live one (no waiting)."""
        name = self.layout.current_name()
        with self._lock:
            if name is None or (self._live is not None and self._live.name == name) or self._opening is not None:
                return
            if self._failed_recently(name):
                return
            if self._live is None and self._failed is None:
                return  # the first open happens on a request (`_first_open`) or at start
            self._opening = threading.Thread(target=self._open, args=(name,), name="oncosearch-open", daemon=True)
            self._opening.start()

    # --- opening and closing ------------------------------------------------------------------
    def start(self) -> None:
        """Open the current generation now (at server start); a missing or damaged index is
        recorded for the health check, not raised: the server waits for cron to build one."""
        self._open(self.layout.current_name())

    def _open(self, name: str | None) -> None:
        try:
            try:
                searcher = self._opener(self.layout.root)
            except OncosearchError as e:
                with self._lock:
                    self._failed = (name, time.monotonic(), e)
                if not isinstance(e, NoIndex):
                    log.error("cannot open generation %s of %s: %s", name, self.layout.root, e)
                return
            previous = self._live
            if previous is not None:
                searcher.adopt_models(previous.searcher)
            if self._warm:
                for text in WARM_QUERIES:
                    searcher.search(text, k=1)
            with self._lock:
                old, self._live, self._failed = self._live, _Live(searcher), None
                self.switches += 1
                retire = old is not None and old.leases == 0
                if old is not None:
                    old.retired = True
            log.info("answering from generation %s (%d records)", searcher.storage.name, searcher.manifest.records)
            if retire:
                self._close(old)
        finally:
            with self._lock:
                if self._opening is threading.current_thread():
                    self._opening = None

    def _close(self, live: _Live) -> None:
        log.info("released generation %s", live.name)
        live.searcher.close()

    def close(self) -> None:
        """Release the live generation (server shutdown)."""
        opening = self._opening
        if opening is not None:
            opening.join()
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            self._close(live)

    # --- health --------------------------------------------------------------------------------
    def status(self) -> dict:
        """What the health check reports: the generation answering, the current one on disk, and
        why the current one cannot be opened (None when all is well)."""
        self.follow()
        with self._lock:
            live, failed, opening = self._live, self._failed, self._opening is not None
        current = self.layout.current_name()
        problem = None
        if failed is not None and failed[0] == current:
            problem = failed[2]
        elif current is None:
            problem = NoIndex(self.layout.root)
        return {"generation": live.name if live else None, "current": current, "opening": opening,
                "records": live.searcher.manifest.records if live else None, "problem": problem,
                "switches": self.switches}

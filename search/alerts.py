"""Saved searches that report what is new: the state store and `run_alerts`.

An alert is a query (as typed to `oncosearch search`, query syntax included), its filters and a
depth N. Running it reports the records that are **new to it**: records that rank in its top N of
the current index and were first seen in the index after the alert's last completed run (or, for
an alert that has never run, after it was added: what existed when it was added is not news).

How "first seen" is known. The state (``INDEX_DIR/alerts.sqlite``, beside ``CURRENT``; builds,
updates, ``--prune`` and generation clean-up never touch it) holds:

- ``first_seen(id, seq)``: every record id ever seen in a current generation, with the sequence
  number of the run (or add) that first saw it. Each run and each add takes the next sequence
  number and inserts the ids of the generation it reads (``INSERT OR IGNORE``: a known id keeps
  its number). A generation already recorded is not read again.
- ``alerts(name, ..., seq)``: each alert's sequence number of its last completed run (or its add).

A hit of alert A is news when ``first_seen[id] > A.seq``. Consequences, by design: a record updated
in place (same id) is not news again; nor is a record removed (``--prune``) and added back later;
a record that entered the index but ranked below N when A ran is not news at a later run either
(raise ``--top`` to cast a wider net). Ids are record ids (PMID, else DOI, else a title hash).

Atomicity and concurrency. A run is one SQLite write transaction (``BEGIN IMMEDIATE``, WAL, full
sync), held from before it reads the state until after its report is delivered: the caller's
`deliver` writes the report (the CLI flushes stdout or renames the ``-o`` file into place) and only
then is the alerts' new sequence number committed. So a run killed at any point (kill -9 included)
commits nothing and the next run reports the same records; a run that finished never reports them
again; a second run waits for the first (``wait`` seconds, then `AlertsBusy`, exit 75) and then
sees its commit, so two runs never report the same records twice.

Speed: the current generation's ids are read once per new generation, one `Searcher` ranks every
alert, and an alert for which nothing was first seen since its last run is not ranked at all
(a run with nothing new never loads a model).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.errors import OncosearchError
from index.errors import WriterBusy
from index.storage.base import Filters, Storage
from index.storage.crashpoints import crash_point
from search.errors import QueryError

if TYPE_CHECKING:
    from search.engine import Hit, Searcher

STATE_FILE = "alerts.sqlite"  # in the index root, beside CURRENT
DEFAULT_TOP = 20
MAX_TOP = 1000  # the engine ranks to this depth at most (search.engine.MAX_DEPTH)
_NAME = re.compile(r"[^\W_][\w-]{0,39}")  # letters (any script) or digits first; then also _ and -
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS first_seen (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    name TEXT PRIMARY KEY, query TEXT NOT NULL, filters TEXT NOT NULL, top INTEGER NOT NULL,
    created TEXT NOT NULL, seq INTEGER NOT NULL, last_run TEXT
);
"""


class AlertError(OncosearchError):
    """An alert that does not exist, a name taken, or a state file that cannot be read (exit 1)."""


class InvalidAlert(QueryError):
    """An alert that cannot be saved as given: a bad name, an empty query, a depth out of range (exit 2)."""


class AlertsBusy(WriterBusy):
    """Another `alert run` (or add/remove) holds the alert state (exit 75: try again later)."""


@dataclass(frozen=True)
class Alert:
    name: str
    query: str
    filters: Filters
    top: int
    created: str  # ISO 8601 UTC
    seq: int  # sequence number of the last completed run, or of the add
    last_run: str | None = None  # ISO 8601 UTC of the last completed run

    def to_dict(self) -> dict:
        return {"name": self.name, "query": self.query, "filters": filters_to_dict(self.filters), "top": self.top,
                "created": self.created, "last_run": self.last_run}


@dataclass(frozen=True)
class AlertResult:
    """One alert's part of a run: its new records in rank order, or why it could not run."""

    alert: Alert
    new: tuple[Hit, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class AlertRun:
    """What one run found, delivered before the state is committed."""

    index: Path
    generation: str
    started: str  # ISO 8601 UTC
    results: tuple[AlertResult, ...]

    @property
    def news(self) -> tuple[AlertResult, ...]:
        """The alerts with new records (a report holds only these)."""
        return tuple(r for r in self.results if r.new)

    @property
    def failed(self) -> tuple[AlertResult, ...]:
        return tuple(r for r in self.results if r.error is not None)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_name(name: str) -> str:
    """`name` when it is a short safe identifier (shell-, file- and heading-safe), else `InvalidAlert`."""
    if not _NAME.fullmatch(name):
        raise InvalidAlert(f"alert name {name!r}: use 1-40 letters (any script), digits, '-' or '_', "
                           "starting with a letter or digit, e.g. car-t-crs or 肺癌免疫")
    return name


# --- filters as JSON (the non-default fields of index.storage.base.Filters) -----------------------------------

_FIELDS = {f.name: f for f in dataclasses.fields(Filters)}


def filters_to_dict(filters: Filters) -> dict:
    default = Filters()
    return {name: list(value) if isinstance(value, tuple) else value
            for name in _FIELDS if (value := getattr(filters, name)) != getattr(default, name)}


def filters_from_dict(data: dict, where: str = "") -> Filters:
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise AlertError(f"{where}stored filter {', '.join(unknown)} is not known to this version of oncosearch; "
                         "remove the alert and add it again")
    return Filters(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def filters_as_options(filters: Filters) -> str:
    """The filters as `oncosearch search` options (what a person would type to see the same list)."""
    parts = []
    for name, value in filters_to_dict(filters).items():
        flag = "--" + name.replace("_", "-")
        if name == "has_abstract":
            parts.append("--has-abstract" if value else "--no-abstract")
        elif isinstance(value, list):
            parts += [f"{flag} {shlex.quote(v)}" for v in value]
        else:
            parts.append(f"{flag} {shlex.quote(str(value))}")
    return " ".join(parts)


# --- the state store -----------------------------------------------------------------------------------------


class AlertState:
    """The alert state of one index (``INDEX_DIR/alerts.sqlite``): alerts and first-seen sequence numbers.

    Every change runs in `transaction()`; `wait` is how long to wait for another writer of the state.
    """

    def __init__(self, root: Path, wait: float = 0.0):
        self.path = Path(root) / STATE_FILE
        self.wait = wait
        self._conn: sqlite3.Connection | None = None

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = sqlite3.connect(self.path, timeout=self.wait, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")  # readers (alert list) never wait for a run
                conn.execute("PRAGMA synchronous=FULL")  # a committed run survives a power cut too
            except sqlite3.Error as e:
                raise self._error(e) from None
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> AlertState:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _error(self, e: sqlite3.Error) -> OncosearchError:
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            return AlertsBusy(f"the alerts of {self.path.parent} are in use by another oncosearch alert command; "
                              f"gave up after waiting {self.wait:g}s (use --wait SECONDS to wait longer)")
        if isinstance(e, sqlite3.OperationalError):  # the disk's or the folder's fault: full, read-only
            return AlertError(f"alert state {self.path}: {e}; nothing was changed")
        return AlertError(f"alert state {self.path} cannot be read ({type(e).__name__}: {e}); move it aside "
                          "and add the alerts again")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back when it raises (or the process dies)."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock first: concurrent runs take turns
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
        except sqlite3.Error as e:
            raise self._error(e) from None
        try:
            yield conn
        except sqlite3.Error as e:  # the disk's or the file's fault (full, read-only, damaged)
            conn.execute("ROLLBACK")
            raise self._error(e) from None
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            conn.execute("ROLLBACK")
            raise self._error(e) from None

    # reads (inside or outside a transaction)

    def alerts(self, names: Sequence[str] | None = None) -> list[Alert]:
        """All alerts by name, or the named ones in the order given (an unknown name is an `AlertError`)."""
        if not self.exists:
            rows = []
        else:
            try:
                has_table = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'alerts'").fetchone()
                rows = self.conn.execute(
                    "SELECT name, query, filters, top, created, seq, last_run FROM alerts ORDER BY name"
                ).fetchall() if has_table else []
            except sqlite3.Error as e:
                raise self._error(e) from None
        alerts = {row[0]: _alert(row) for row in rows}
        if names is None:
            return list(alerts.values())
        unknown = [n for n in names if n not in alerts]
        if unknown:
            raise AlertError(f"no alert named {', '.join(unknown)} in {self.path.parent}"
                             + (f"; alerts: {', '.join(alerts)}" if alerts else "; there are no alerts yet"))
        return [alerts[n] for n in dict.fromkeys(names)]

    # writes (inside a transaction)

    def next_seq(self, conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        seq = int(row[0]) + 1 if row else 1
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (str(seq),))
        return seq

    def see(self, conn: sqlite3.Connection, storage: Storage, seq: int) -> None:
        """Record the ids of `storage`'s generation, first seen at `seq` unless seen before."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        if row and row[0] == storage.name:
            return  # generations are immutable: its ids are all there
        conn.executemany("INSERT OR IGNORE INTO first_seen VALUES (?, ?)",
                         ((stored.record.id, seq) for stored in storage.iter_records()))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (storage.name,))

    def latest_seq(self, conn: sqlite3.Connection) -> int:
        """The sequence number at which the newest record was first seen (0: none yet)."""
        return conn.execute("SELECT coalesce(max(seq), 0) FROM first_seen").fetchone()[0]

    def seqs(self, conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, int]:
        marks = ",".join("?" * len(ids))
        return dict(conn.execute(f"SELECT id, seq FROM first_seen WHERE id IN ({marks})", list(ids)).fetchall())


def _alert(row: tuple) -> Alert:
    name, query, filters, top, created, seq, last_run = row
    try:
        data = json.loads(filters)
    except ValueError as e:
        raise AlertError(f"alert {name}: its stored filters are not JSON ({e})") from None
    return Alert(name, query, filters_from_dict(data, f"alert {name}: "), top, created, seq, last_run)


# --- the operations ------------------------------------------------------------------------------------------


def add_alert(root: Path, name: str, query: str, filters: Filters | None = None, top: int = DEFAULT_TOP, *,
              replace: bool = False, wait: float = 0.0) -> tuple[Alert, int]:
    """Save an alert over the current generation of the index at `root`; returns it and the number of
    records in that generation (none of which will ever be news to it).

    An existing name is an `AlertError` unless `replace`; a replaced alert starts afresh (what the
    index holds now is not news to it).
    """
    from index.storage import open_generation
    from search.query import Query

    check_name(name)
    parsed = Query.parse(query)  # a syntax error is a QueryError (exit 2), before anything is saved
    if not parsed.text and not parsed.restricted:
        raise InvalidAlert("empty query: type some words, e.g. \"CAR-T cytokine release syndrome\"")
    if not 1 <= top <= MAX_TOP:
        raise InvalidAlert(f"--top {top}: choose 1 to {MAX_TOP}")
    filters = filters or Filters()
    storage = open_generation(Path(root))  # NoIndex / DamagedIndex: an alert needs an index to start from
    try:
        with AlertState(root, wait) as state, state.transaction() as conn:
            exists = conn.execute("SELECT 1 FROM alerts WHERE name = ?", (name,)).fetchone()
            if exists and not replace:
                raise AlertError(f"an alert named {name} exists already (use --replace to replace it)")
            seq = state.next_seq(conn)
            state.see(conn, storage, seq)
            alert = Alert(name, query, filters, top, _now(), seq)
            conn.execute("INSERT OR REPLACE INTO alerts VALUES (?, ?, ?, ?, ?, ?, NULL)",
                         (name, query, json.dumps(filters_to_dict(filters), ensure_ascii=False), top,
                          alert.created, seq))
        return alert, storage.records
    finally:
        storage.close()


def list_alerts(root: Path) -> list[Alert]:
    """Every alert of the index at `root`, by name (none when no alert was ever added)."""
    with AlertState(root) as state:
        return state.alerts()


def remove_alert(root: Path, name: str, wait: float = 0.0) -> None:
    """Delete an alert (an unknown name is an `AlertError`)."""
    with AlertState(root, wait) as state:
        if not state.exists:
            state.alerts([name])  # raises: no alerts yet
        with state.transaction() as conn:
            state.alerts([name])
            conn.execute("DELETE FROM alerts WHERE name = ?", (name,))


def run_alerts(index: Path | Searcher, names: Sequence[str] | None = None, *,
               deliver: Callable[[AlertRun], None] | None = None, wait: float = 0.0,
               dry_run: bool = False) -> AlertRun:
    """Rank every alert (or the named ones) and report their new records.

    `index` is an index directory (its current generation is opened once the state is locked) or an
    open `Searcher` (a server's). `deliver(run)` writes the report; the alerts' state is committed
    only after it returns, so when it raises (or the process dies) the next run reports the same
    records again. `dry_run` reports without committing anything. An alert whose query cannot run
    (a `QueryError`) is reported in `AlertRun.failed` and keeps its news for a later run.
    """
    root = Path(index) if isinstance(index, Path | str) else index.storage.root
    started = _now()
    with AlertState(root, wait) as state:
        if names is not None and not state.exists:
            state.alerts(names)  # raises: no such alert (and creates no state file)
        if not state.exists:
            return AlertRun(root, "", started, ())
        try:
            with state.transaction() as conn:
                run = _run(index, root, state, conn, names, started, deliver)
                if dry_run:
                    raise _Discard  # rolls the transaction back: nothing of this run is kept
        except _Discard:
            pass
        return run


class _Discard(Exception):
    """Raised inside a dry run's transaction to roll it back."""


def _run(index: Path | Searcher, root: Path, state: AlertState, conn: sqlite3.Connection,
         names: Sequence[str] | None, started: str, deliver: Callable[[AlertRun], None] | None) -> AlertRun:
    """The body of `run_alerts`, inside its transaction."""
    from search.engine import Searcher

    alerts = state.alerts(names)
    if not alerts:
        return AlertRun(root, "", started, ())
    if isinstance(index, Searcher):
        return _rank_all(index, state, conn, alerts, started, deliver)
    searcher = Searcher(root)  # opened under the state's lock: the newest generation
    try:
        return _rank_all(searcher, state, conn, alerts, started, deliver)
    finally:
        searcher.storage.close()


def _rank_all(searcher: Searcher, state: AlertState, conn: sqlite3.Connection, alerts: list[Alert], started: str,
              deliver: Callable[[AlertRun], None] | None) -> AlertRun:
    storage = searcher.storage
    seq = state.next_seq(conn)
    state.see(conn, storage, seq)
    latest = state.latest_seq(conn)
    results = tuple(_rank(searcher, state, conn, alert) if latest > alert.seq else AlertResult(alert)
                    for alert in alerts)
    run = AlertRun(storage.root, storage.name, started, results)
    crash_point("alert-ranked")
    if deliver is not None:
        deliver(run)
    crash_point("alert-delivered")
    done = [r.alert.name for r in results if r.error is None]
    conn.executemany("UPDATE alerts SET seq = ?, last_run = ? WHERE name = ?", ((seq, started, n) for n in done))
    return run


def _rank(searcher: Searcher, state: AlertState, conn: sqlite3.Connection, alert: Alert) -> AlertResult:
    """The alert's top N, keeping the hits first seen after its last completed run."""
    try:
        hits = searcher.search(alert.query, k=alert.top, filters=alert.filters)
    except QueryError as e:
        return AlertResult(alert, error=str(e))
    seqs = state.seqs(conn, [h.record.id for h in hits]) if hits else {}
    return AlertResult(alert, tuple(h for h in hits if seqs.get(h.record.id, 0) > alert.seq))

"""A milvus-lite database left behind by a killed process: the index files it was writing.

milvus-lite builds an index file (a "sidecar") for each sealed segment, written in place
(``collections/<name>/partitions/<p>/indexes/<segment>.<field>.<type>.sidx`` or ``.idx``), and on
the next open loads any sidecar that exists. A kill -9 while one was being written leaves it empty
or truncated, and every later `load_collection` of that collection fails ("File is too small: 0"):
the index would stay unsearchable although no data was lost. Sidecars are derived from the segment
files, and milvus-lite builds one again when it is missing, so `repair` removes the damaged ones
before the database is opened.

It runs only while no process has the database open (milvus-lite's own ``LOCK`` flock, taken here
without waiting): a sidecar being written by a live process is never touched. Damaged means empty,
or, for a scalar sidecar (an Arrow IPC file), without Arrow's magic at both ends; a vector sidecar
truncated past its first bytes is not detected.
"""

from __future__ import annotations

import logging
from pathlib import Path

LOCK_FILE = "LOCK"  # milvus_lite.db.LOCK_FILENAME: flock'd while a process has the database open
SIDECARS = (".sidx", ".idx")
ARROW_MAGIC = b"ARROW1"

log = logging.getLogger("oncosearch")


def damaged(path: Path) -> bool:
    """Whether an index sidecar is empty or (a scalar one) not a whole Arrow file."""
    size = path.stat().st_size
    if size == 0:
        return True
    if path.suffix != ".sidx":
        return False
    if size < 2 * len(ARROW_MAGIC):
        return True
    with open(path, "rb") as f:
        head = f.read(len(ARROW_MAGIC))
        f.seek(-len(ARROW_MAGIC), 2)
        tail = f.read()
    return head != ARROW_MAGIC or tail != ARROW_MAGIC


def repair(database: Path) -> list[Path]:
    """Remove the damaged index sidecars of the milvus-lite database at `database` (a folder), if no
    process has it open; returns those removed (milvus-lite rebuilds them when it loads the segment)."""
    import fcntl

    database = Path(database)
    lock = database / LOCK_FILE
    if not database.is_dir() or not lock.exists():
        return []
    with open(lock, "a+") as fd:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return []  # open in another process: its files may be half-written right now
        try:
            removed = [p for p in database.glob("collections/*/partitions/*/indexes/*")
                       if p.suffix in SIDECARS and p.is_file() and damaged(p)]
            for path in removed:
                path.unlink()
                log.warning("milvus-lite %s: removed %s, an index file a killed process left half-written "
                            "(it is built again from its segment)", database, path.relative_to(database))
            return removed
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

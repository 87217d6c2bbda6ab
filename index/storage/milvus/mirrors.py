"""The mirrors an index folder writes into Milvus: each complete before it is current, none left behind.

A write with a Milvus backend (``index build/update --backend milvus``, or any write of an index
that reads Milvus) mirrors its new generation after the generation's folder is finished and
*before* CURRENT is switched to it (`mirror_before_switch`, the builder's ``before_switch`` hook).
Until the switch, readers read the previous generation's complete mirror; a Milvus that does not
answer, or a kill at any point, leaves the index as it was, and the next run starts over.

Each mirror is entered in ``INDEX_DIR/milvus-mirrors.json`` once Milvus answers and before its
first collection is created, so the collections of a run killed halfway are known. `prune` (after every write) drops
each entered mirror whose local generation is gone (`index.builder.clean_stale` keeps the current
and the previous one, for readers that opened it just before a switch) or that lies at a URI the
index no longer reads, and takes it off the list; then it deletes the pool rows no kept mirror sees
(`writer.tidy_pools`). Only what this index entered, and its own pools, are ever dropped, so
several indexes can share one Milvus.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from index.errors import DamagedIndex, MilvusUnavailable, NoIndex
from index.storage.crashpoints import crash_point
from index.storage.layout import TMP_PREFIX, IndexLayout
from index.storage.milvus.connect import normalise_uri, retrying
from index.storage.milvus.remember import LEDGER_FILE, index_key, remember, remembered
from index.storage.milvus.sources import DeltaSource
from index.storage.milvus.writer import MirrorReport, drop_generation, mirror_generation, tidy_pools

log = logging.getLogger("oncosearch")


@dataclass(frozen=True)
class Entry:
    """One generation's mirror that this index began to write."""

    uri: str
    generation: str


def entries(root: Path) -> list[Entry]:
    path = Path(root) / LEDGER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Entry(str(e["uri"]), str(e["generation"])) for e in data["mirrors"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DamagedIndex(f"{path}: unreadable ({e}); delete it (mirrors it listed are then left in Milvus)") from None


def _save(root: Path, listed: list[Entry]) -> None:
    from index.storage.atomic import atomic_write_text

    atomic_write_text(Path(root) / LEDGER_FILE,
                      json.dumps({"mirrors": [asdict(e) for e in listed]}, indent=1) + "\n")


def enter(root: Path, uri: str, generation: str) -> None:
    """List `generation`'s mirror at `uri` (before anything of it is written)."""
    listed = entries(root)
    entry = Entry(normalise_uri(uri), generation)
    if entry not in listed:
        _save(root, [*listed, entry])


def mirror_before_switch(root: Path, generation_dir: Path, uri: str, wait: float = 0.0,
                         token: str | None = None, source: DeltaSource | None = None) -> MirrorReport:
    """Mirror the finished (not yet current) generation at `generation_dir` of the index at `root`
    (`source`: the records of a generation that lives only in Milvus, direct.py).

    A Milvus that does not answer, is restarting, or whose milvus-lite file another process holds is
    tried again with growing pauses while `wait` seconds allow; then its MilvusUnavailable is raised
    and the caller does not switch.
    """
    def listed() -> None:
        enter(root, uri, Path(generation_dir).name)

    report = retrying(lambda: mirror_generation(Path(generation_dir), uri, token, before_write=listed, source=source),
                      wait, told)
    crash_point("mirrored")
    return report


def told(error: MilvusUnavailable, pause: float) -> None:
    """The log line before a pause of `retrying` (a Milvus that did not answer, tried again within --wait)."""
    log.warning("%s; trying again in %.0f s (--wait)", error, pause)


def prune(root: Path, token: str | None = None) -> list[Entry]:
    """Drop the listed mirrors the index no longer reads; returns those dropped.

    A Milvus that does not answer keeps its entries for the next run (a warning, not an error:
    no search reads them). Call while holding the writer lock.
    """
    layout = IndexLayout(Path(root))
    listed = entries(root)
    if not listed:
        return []
    live_uri = remembered(root)
    present = {p.name for p in layout.generations.iterdir()
               if p.is_dir() and not p.name.startswith(TMP_PREFIX)} if layout.generations.is_dir() else set()
    kept, dropped = [], []
    for entry in listed:
        if entry.uri == live_uri and entry.generation in present:
            kept.append(entry)
            continue
        try:
            drop_generation(entry.uri, entry.generation, token)
        except MilvusUnavailable as e:
            log.warning("%s; its mirror of %s stays listed for the next run", e, entry.generation)
            kept.append(entry)
            continue
        dropped.append(entry)
        crash_point("prune")
    if dropped:
        _save(root, kept)
    key = index_key(root)
    for uri in dict.fromkeys(e.uri for e in listed):
        try:
            tidy_pools(uri, key, [e.generation for e in kept if e.uri == uri], token)
        except MilvusUnavailable as e:
            log.warning("%s; its vector pools are tidied on the next run", e)
    return dropped


def mirror_index(root: Path, uri: str, token: str | None = None, wait: float = 0.0) -> MirrorReport:
    """Mirror the current generation of the index at `root` into Milvus at `uri`, remember that URI
    (from then on its readers read Milvus) and drop the mirrors it no longer reads, under the writer
    lock (`wait`: seconds to wait for a writer, and for Milvus to answer)."""
    from index.storage.lock import WriterLock

    layout = IndexLayout(Path(root))
    with WriterLock(layout.lock_file, wait=wait):
        current = layout.current()
        if current is None:
            raise NoIndex(layout.root)
        report = mirror_before_switch(layout.root, current, uri, wait, token)
        remember(layout.root, uri)
        prune(layout.root, token)
    return report

"""Reading many files into one merged list of records, with an account of every record.

This is what `oncosearch ingest` prints and what `index build`/`update` index: files read,
records stored (of which title-only: no abstract), merged (and why), skipped (file, record
number or line, reason).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.merge import Merge, merge_records
from corpus.readers import FileResult, Skip, expand_paths, read_file
from corpus.record import Record


class StrictStop(Exception):
    """--strict: the first problem ends the run."""

    def __init__(self, skip: Skip):
        self.skip = skip
        super().__init__(str(skip))


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)

    @property
    def skipped(self) -> list[Skip]:
        return [s for f in self.files for s in f.skipped]

    @property
    def failed_files(self) -> list[str]:
        return [f.file for f in self.files if f.failed]

    @property
    def without_abstract(self) -> int:
        """Title-only records among `records`: indexed on title and keywords, counted apart."""
        return sum(not r.has_abstract() for r in self.records)

    def summary(self) -> dict:
        return {
            "files": len(self.files),
            "records": len(self.records),
            "records_without_abstract": self.without_abstract,
            "merged": len(self.merges),
            "skipped": [s.to_dict() for s in self.skipped],
        }


def ingest(paths: Iterable[str | Path], fmt: str | None = None, strict: bool = False,
           on_file=None) -> IngestResult:
    """Read every file under `paths`, merge duplicates across them, keep going past bad input."""
    result = IngestResult()
    read: list[Record] = []
    for path in expand_paths(paths):
        fr = read_file(path, fmt)
        result.files.append(fr)
        if on_file:
            on_file(fr)
        if strict and fr.skipped:
            raise StrictStop(fr.skipped[0])
        read.extend(fr.records)
    merged = merge_records(read)
    result.records = merged.records
    result.merges = merged.merges
    return result

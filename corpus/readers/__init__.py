"""Format readers and the one entry point that picks among them.

Each reader is a module with ``NAME``, ``sniff(path, head) -> bool`` and
``parse(path) -> Iterator[Record | Skip]``. A reader yields a `Skip` for each record it
cannot use and keeps going; it raises `InputFileError` only when the whole file is unusable.
`read_file` turns every failure into data, so no traceback ever reaches the user.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from corpus.record import Record
from corpus.sources import InputFileError


@dataclass(frozen=True)
class Skip:
    """A record (or a whole file, record=None) that was not stored, and why."""

    file: str
    record: int | None
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.record is not None:
            where += f" record {self.record}"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict:
        return {"file": self.file, "record": self.record, "line": self.line, "reason": self.reason}


@dataclass
class FileResult:
    """What one input file gave: its records and everything that was skipped."""

    file: str
    format: str | None
    records: list[Record] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(s.record is None for s in self.skipped)


def _readers() -> tuple[ModuleType, ...]:
    # Imported here so that `import corpus` stays cheap for the query path.
    from corpus.readers import (
        bibtex,
        cnki,
        csl_json,
        endnote_xml,
        journal_page,
        medline,
        noteexpress,
        pubmed_xml,
        refer,
        refworks,
        ris,
        scopus_csv,
        tabular,
        wos,
    )

    # Most specific first: sniffers of looser formats come last. XML by root element; the tagged
    # formats by their record-start tags (RIS needs TY and ER, so it precedes MEDLINE, whose "TI  - "
    # lines look alike; Refer's "%X" lines are checked after the brace/dash-tagged ones); BibTeX
    # before the journal page (an abstract may quote "摘要:"); Scopus CSV before generic CSV; CSL-JSON
    # (a JSON array or object with CSL variables) before JSONL, which takes any file opening with "{".
    return (
        pubmed_xml, endnote_xml, csl_json, ris, medline, wos, noteexpress, cnki, refworks, refer, bibtex,
        journal_page, scopus_csv, tabular.jsonl, tabular.csv,
    )


def formats() -> list[str]:
    return [r.NAME for r in _readers()]


def detect_format(path: str | Path, head: bytes | None = None) -> str | None:
    """Name of the reader whose sniffer accepts the file's content (name used only as a hint)."""
    from corpus.sources import read_bytes

    path = Path(path)
    if head is None:
        head = read_bytes(path)[:65536]
    for reader in _readers():
        if reader.sniff(path, head):
            return reader.NAME
    return None


def _reader(name: str) -> ModuleType:
    for reader in _readers():
        if reader.NAME == name:
            return reader
    raise ValueError(f"unknown format {name!r}; known formats: {', '.join(formats())}")


def read_file(path: str | Path, fmt: str | None = None) -> FileResult:
    """Read one file completely. Never raises for bad input: problems become `Skip`s."""
    path = Path(path)
    result = FileResult(file=str(path), format=fmt)
    try:
        if fmt is None:
            fmt = detect_format(path)
            if fmt is None:
                raise InputFileError(path, f"unrecognised format (known: {', '.join(formats())}; use --format)")
            result.format = fmt
        reader = _reader(fmt)
        for item in reader.parse(path):
            if isinstance(item, Skip):
                result.skipped.append(item)
            else:
                result.records.append(item.with_source(str(path)))
    except InputFileError as e:
        result.skipped.append(Skip(str(path), None, e.reason))
    except Exception as e:  # a reader bug must not lose the other files; report it plainly
        result.skipped.append(Skip(str(path), None, f"reader {fmt} failed: {type(e).__name__}: {e}"))
    return result


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named, and the files inside folders named (recursively, sorted, hidden ones skipped)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(p).parts):
                    yield child
        else:
            yield p


def read_paths(paths: Iterable[str | Path], fmt: str | None = None) -> Iterator[FileResult]:
    for path in expand_paths(paths):
        yield read_file(path, fmt)

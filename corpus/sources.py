"""Opening input files: transparent gzip, encoding detection with exact error positions."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path


class InputFileError(Exception):
    """A whole file cannot be read. The message names the file and, where known, the place."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def read_bytes(path: str | Path) -> bytes:
    """All bytes of a file, gunzipped when it is gzip (by magic number, not by name)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputFileError(path, "is a directory") from None
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except PermissionError:
        raise InputFileError(path, "permission denied") from None
    except OSError as e:
        raise InputFileError(path, f"cannot read: {e.strerror or e}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise InputFileError(path, f"broken gzip data: {e}") from None
    return data


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def guess_encoding(data: bytes) -> str:
    """Pick the encoding of an export: BOM, then UTF-16 without BOM, then UTF-8, then GB18030.

    Chinese databases (CNKI, Wanfang) still export GBK/GB18030; GB18030 is a superset of
    GBK and GB2312, so one decoder covers all three.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4000]
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4:
        return "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4:
        return "utf-16-be"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start >= len(data) - 3:  # truncated multibyte char at the very end: still UTF-8
            return "utf-8"
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return "utf-8"


def decode(data: bytes, path: str | Path, encoding: str | None = None) -> str:
    """Decode bytes, raising an error that names the file and byte offset of the bad bytes."""
    encoding = encoding or guess_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        bad = data[e.start : e.start + 4].hex(" ")
        raise InputFileError(
            path, f"not valid {encoding}: undecodable bytes {bad} at byte offset {e.start} (line {line})"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | Path, encoding: str | None = None) -> str:
    """Text of a file with newlines unified to LF."""
    return decode(read_bytes(path), path, encoding)

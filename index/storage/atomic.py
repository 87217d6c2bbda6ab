"""Replacing a file or folder so that readers, and a crash at any moment, see the old or the new one.

One protocol everywhere: write the new content aside, in the target's own folder (a rename is only
atomic within one file system), fsync it, rename it over the target, then fsync the folder so the
rename itself survives a power cut. A failure before the rename removes what was written aside
and leaves the target as it was; a crash (SIGKILL, power) leaves the temp behind under a name its
owner's clean-up recognises (``.tmp-*``, ``CURRENT.tmp.*``).

- `atomic_path(path)`: the general form, a context manager that yields the temp path to write.
- `atomic_write_bytes` / `atomic_write_text`: the same for content already in memory.
- `write_synced`, `fsync_file`, `fsync_dir`, `fsync_tree`, `replace`: the steps on their own, for
  protocols with work between writing and renaming (a whole generation folder in index/builder.py,
  CURRENT in index/storage/layout.py, the crash points of index/storage/crashpoints.py between the steps).

``durable=False`` skips the fsyncs: still atomic for readers and for a crash of this process, not
for a power cut. For caches, where a lost or damaged entry only costs rebuilding it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _fsync(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike) -> None:
    """Flush a file's content to the disk."""
    _fsync(path)


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename or a new entry in the folder `path` durable (POSIX needs the folder fsync'd)."""
    _fsync(path)


def fsync_tree(folder: str | os.PathLike) -> None:
    """fsync every file and folder below `folder`, the folder itself last."""
    for dirpath, _dirnames, filenames in os.walk(folder, topdown=False):
        for name in filenames:
            fsync_file(Path(dirpath) / name)
        fsync_dir(dirpath)


def write_synced(path: str | os.PathLike, data: bytes, durable: bool = True) -> None:
    """Write `data` to `path` (created or truncated) and, when durable, fsync it before returning."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        if durable:
            os.fsync(f.fileno())


def replace(src: str | os.PathLike, dst: str | os.PathLike, durable: bool = True) -> None:
    """Rename `src` (a file or a folder) over `dst` in one step, then, when durable, fsync `dst`'s folder.

    A folder can only replace a missing or empty folder.
    """
    os.replace(src, dst)
    if durable:
        fsync_dir(Path(dst).parent)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


@contextmanager
def atomic_path(
    path: str | os.PathLike, *, tmp_name: str | None = None, prefix: str | None = None, suffix: str = "",
    durable: bool = True,
) -> Iterator[Path]:
    """Yield a temp path beside `path`; write the new file (or make the new folder) there.

    When the block ends normally the temp is fsync'd (a folder: everything in it), renamed over
    `path` and the folder fsync'd; until that rename `path` keeps its old content. When the block
    raises, the temp is removed and the exception propagates.

    The temp is ``tmp_name`` in `path`'s folder when given (a name some clean-up looks for),
    else ``{prefix}{random}{suffix}`` with `prefix` defaulting to ``.tmp-{name}.``. It does not
    exist yet: the block creates it (open, np.save, sqlite3.connect, mkdir, ...).
    """
    path = Path(path)
    name = tmp_name or f"{f'.tmp-{path.name}.' if prefix is None else prefix}{os.urandom(8).hex()}{suffix}"
    tmp = path.parent / name
    try:
        yield tmp
        if durable and tmp.is_dir():
            fsync_tree(tmp)
        elif durable:
            fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, **kwargs) -> None:
    """Replace the file `path` with `data` atomically (see `atomic_path` for the keyword arguments)."""
    with atomic_path(path, **kwargs) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8", **kwargs) -> None:
    """Replace the file `path` with `text` atomically (see `atomic_path` for the keyword arguments)."""
    atomic_write_bytes(path, text.encode(encoding), **kwargs)

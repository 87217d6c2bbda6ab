"""index.storage.atomic: write aside, fsync, rename; the old content stays until the rename, no temp survives a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.storage import atomic
from index.storage.atomic import atomic_path, atomic_write_bytes, atomic_write_text

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def fsyncs(monkeypatch) -> list[str]:
    """The paths fsync'd, in order ("file:NAME" / "dir:NAME")."""
    calls: list[str] = []
    real = atomic._fsync

    def spy(path):
        real(path)
        calls.append(f"{'dir' if Path(path).is_dir() else 'file'}:{Path(path).name}")

    monkeypatch.setattr(atomic, "_fsync", spy)
    return calls


def test_write_replaces_and_leaves_nothing_else(tmp_path, fsyncs):
    target = tmp_path / "data.json"
    target.write_text("old")
    atomic_write_text(target, "新的 content")
    assert target.read_text(encoding="utf-8") == "新的 content"
    assert os.listdir(tmp_path) == ["data.json"]
    assert fsyncs[0].startswith("file:.tmp-data.json.") and fsyncs[1:] == [f"dir:{tmp_path.name}"]
    atomic_write_bytes(tmp_path / "new.bin", b"\x00\x01")  # a file that did not exist
    assert (tmp_path / "new.bin").read_bytes() == b"\x00\x01"


def test_old_content_stays_until_the_rename(tmp_path):
    target = tmp_path / "CURRENT"
    target.write_text("g1\n")
    with atomic_path(target, tmp_name="CURRENT.tmp.42") as tmp:
        assert tmp == tmp_path / "CURRENT.tmp.42" and not tmp.exists()
        tmp.write_text("g2\n")
        assert target.read_text() == "g1\n"  # readers still see the old one
    assert target.read_text() == "g2\n"
    assert sorted(os.listdir(tmp_path)) == ["CURRENT"]


@pytest.mark.parametrize("create", [True, False])
def test_failure_keeps_the_old_content_and_removes_the_temp(tmp_path, create):
    target = tmp_path / "table.sqlite"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target, prefix=".tmp-table-", suffix=".sqlite") as tmp:
        assert tmp.name.startswith(".tmp-table-") and tmp.name.endswith(".sqlite")
        if create:
            tmp.write_bytes(b"half written")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["table.sqlite"]


def test_nothing_written_is_an_error_not_an_empty_file(tmp_path):
    target = tmp_path / "memo.json"
    target.write_text("old")
    with pytest.raises(FileNotFoundError), atomic_path(target):
        pass
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["memo.json"]


def test_failed_rename_removes_the_temp(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "x").write_text("a folder is in the way")
    with pytest.raises(OSError):
        atomic_write_text(target, "text")
    assert sorted(os.listdir(tmp_path)) == ["taken"] and (target / "x").exists()


def test_folder_is_written_aside_and_renamed(tmp_path, fsyncs):
    target = tmp_path / "entry"
    with atomic_path(target, prefix=".tmp-") as tmp:
        tmp.mkdir()
        (tmp / "sub").mkdir()
        (tmp / "sub" / "a.npy").write_bytes(b"a")
        (tmp / "complete").write_text("1")
        assert not target.exists()
    assert (target / "sub" / "a.npy").read_bytes() == b"a" and (target / "complete").exists()
    assert os.listdir(tmp_path) == ["entry"]
    assert {"file:a.npy", "dir:sub", "file:complete"} <= set(fsyncs) and fsyncs[-1] == f"dir:{tmp_path.name}"
    # a failed folder write leaves nothing behind
    with pytest.raises(ValueError), atomic_path(tmp_path / "other", prefix=".tmp-") as tmp:
        tmp.mkdir()
        (tmp / "part").write_text("x")
        raise ValueError
    assert os.listdir(tmp_path) == ["entry"]


def test_not_durable_skips_every_fsync(tmp_path, fsyncs):
    atomic_write_text(tmp_path / "memo.json", "{}", durable=False)
    with atomic_path(tmp_path / "cache-entry", prefix=".tmp-", durable=False) as tmp:
        tmp.mkdir()
        (tmp / "f").write_text("x")
    assert fsyncs == []
    assert (tmp_path / "memo.json").read_text() == "{}" and (tmp_path / "cache-entry" / "f").exists()


def test_primitives(tmp_path, fsyncs):
    atomic.write_synced(tmp_path / "CURRENT.tmp.1", b"g2\n")
    atomic.replace(tmp_path / "CURRENT.tmp.1", tmp_path / "CURRENT")
    assert (tmp_path / "CURRENT").read_bytes() == b"g2\n" and os.listdir(tmp_path) == ["CURRENT"]
    assert fsyncs == [f"dir:{tmp_path.name}"]  # write_synced fsyncs its own open file


KILLED = """
import os, signal, sys
from index.storage.atomic import atomic_path
with atomic_path(sys.argv[1], tmp_name=sys.argv[2]) as tmp:
    tmp.write_text("new, half written")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_writer_leaves_the_old_content(tmp_path):
    target = tmp_path / "CURRENT"
    target.write_text("g1\n")
    proc = subprocess.run([sys.executable, "-c", KILLED, str(target), "CURRENT.tmp.7"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)  # fmt: skip
    assert proc.returncode == -9
    assert target.read_text() == "g1\n"
    assert sorted(os.listdir(tmp_path)) == ["CURRENT", "CURRENT.tmp.7"]  # for the owner's clean-up to remove

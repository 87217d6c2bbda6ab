"""index.storage.milvus.lite.repair: the index files a killed milvus-lite process left half-written
are removed before the database opens, and only while no process has it open."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow", reason="the cluster extra (pip install 'oncosearch[cluster]') is not installed")

from index.storage.milvus.lite import repair  # noqa: E402


def _arrow_file(path: Path) -> None:
    import pyarrow.ipc as ipc

    table = pa.table({"value": [1, 2, 3], "row_id": [0, 1, 2]})
    with ipc.new_file(str(path), table.schema) as writer:
        writer.write_table(table)


@pytest.fixture
def database(tmp_path) -> tuple[Path, dict[str, Path]]:
    db = tmp_path / "lab.db"
    indexes = db / "collections" / "pool_vocab" / "partitions" / "_default" / "indexes"
    indexes.mkdir(parents=True)
    (db / "LOCK").write_bytes(b"")
    files = {name: indexes / name for name in (
        "data_1.column.inverted.sidx", "data_2.column.inverted.sidx", "data_3.term.inverted.sidx",
        "data_1.vector.hnsw.idx", "data_2.vector.hnsw.idx")}
    _arrow_file(files["data_1.column.inverted.sidx"])  # whole
    files["data_2.column.inverted.sidx"].write_bytes(b"")  # killed before a byte was written
    whole = files["data_1.column.inverted.sidx"].read_bytes()
    files["data_3.term.inverted.sidx"].write_bytes(whole[: len(whole) // 2])  # killed halfway
    files["data_1.vector.hnsw.idx"].write_bytes(b"IHNf" + b"\0" * 60)
    files["data_2.vector.hnsw.idx"].write_bytes(b"")
    (db / "collections" / "pool_vocab" / "manifest.json").write_text("{}")  # not a sidecar: never touched
    return db, files


def test_empty_and_truncated_index_files_are_removed_whole_ones_kept(database):
    db, files = database
    removed = repair(db)
    gone = {"data_2.column.inverted.sidx", "data_3.term.inverted.sidx", "data_2.vector.hnsw.idx"}
    assert {p.name for p in removed} == gone
    assert {n for n, p in files.items() if p.exists()} == set(files) - gone
    assert (db / "collections" / "pool_vocab" / "manifest.json").exists()
    assert repair(db) == []  # nothing left to do


def test_a_database_open_in_another_process_is_left_alone(database):
    db, files = database
    with open(db / "LOCK", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as milvus-lite holds it while open
        assert repair(db) == []
    assert all(p.exists() for p in files.values())


def test_no_database_yet_is_nothing_to_repair(tmp_path):
    assert repair(tmp_path / "new.db") == []

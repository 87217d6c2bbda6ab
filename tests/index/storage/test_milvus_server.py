"""Milvus over the network: `milvus-lite server` on 127.0.0.1 as a process, the index mirrored to
it through `http://127.0.0.1:PORT` (the path a Milvus server or cluster takes), build → search →
update → search, then the server stopped and the clear error checked."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="the cluster extra (pip install 'oncosearch[cluster]') is not installed")

from corpus.readers import read_file  # noqa: E402
from tests.conftest import SAMPLE  # noqa: E402
from tests.search.cli_run import error_line, run  # noqa: E402
from tests.server.server_run import free_port  # noqa: E402

pytestmark = pytest.mark.slow
MILVUS_LITE = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "milvus-lite"


def milvus_lite_command() -> list[str]:
    found = shutil.which("milvus-lite") or (str(MILVUS_LITE) if MILVUS_LITE.exists() else None)
    assert found, "milvus-lite is part of the cluster extra but its command is missing"
    return [found]


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"milvus-lite server exited {process.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"milvus-lite server not listening on {port} after {timeout}s")


def test_build_search_update_search_over_the_network_then_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("ONCOSEARCH_INDEX", raising=False)
    records = [r for r in read_file(SAMPLE / "pubmed21n1298-oncology.xml.gz").records if r.abstract][:15]
    first, later = tmp_path / "first.jsonl", tmp_path / "later.jsonl"
    first.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records[:12]))
    later.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records[12:]))
    index, port = tmp_path / "idx", free_port()
    uri = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*milvus_lite_command(), "server", "--data-dir", str(tmp_path / "milvus"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, server)
        run("index", "build", first, "--index", index, "--quiet")
        run("index", "mirror", "--milvus-uri", uri, "--index", index)
        assert json.loads((index / "milvus.json").read_text())["uri"] == uri

        def ids(query: str) -> list[str]:
            return [h["id"] for h in json.loads(run("search", query, "--index", index, "--json").stdout)["results"]]

        before = ids("photodynamic therapy")
        assert before and not set(before) & {r.id for r in records[12:]}
        assert run("index", "check", "--index", index).stdout.startswith("ok: ")
        updated = json.loads(run("index", "update", later, "--index", index, "--json").stdout)
        assert updated["milvus"]["generation"] == updated["generation"]  # the new generation is on the server
        for record in records[12:]:  # records only the new generation holds, read over the network
            assert json.loads(run("show", record.id, "--index", index, "--json").stdout)["id"] == record.id
            assert ids(f"pmid:{record.pmid}") == [record.id]  # a field filter evaluated by the server
    finally:
        server.terminate()
        server.wait(30)
    line = error_line(run("search", "photodynamic therapy", "--index", index, code=1))
    assert uri in line and "Traceback" not in line

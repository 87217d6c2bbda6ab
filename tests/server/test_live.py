"""The live index under cron's switches: the new generation answers without a restart, a request
in flight finishes on the generation it started with, and retired generations let go of their
files and memory (20 switches)."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.pipeline import write_index
from index.storage.layout import IndexLayout
from search.server.app import create_app
from search.server.live import LiveIndex
from search.server.settings import ServerSettings


@pytest.fixture
def index(tmp_path, base) -> Path:
    target = tmp_path / "index"
    shutil.copytree(base, target)
    return target


def switch(root: Path, files: dict[str, Path], with_b: bool) -> str:
    write_index(root, [files["A"], files["B"]] if with_b else [files["A"]])
    return IndexLayout(root).current_name()


def settle(live: LiveIndex) -> None:
    """Let a background open finish (requests never wait for it; a test does)."""
    live.follow()
    opening = live._opening
    if opening is not None:
        opening.join(60)


def test_a_switch_is_answered_from_without_a_restart(index, files):
    app = create_app(ServerSettings(index_dir=index))
    with TestClient(app) as c:
        before = c.get("/healthz").json()["generation"]
        assert c.get("/api/stats").json()["records"] == 12
        new = switch(index, files, with_b=True)
        assert new != before
        settle(app.state.live)
        assert c.get("/healthz").json()["generation"] == new
        r = c.get("/api/stats")
        assert r.json()["records"] == 15 and r.headers["x-oncosearch-generation"] == new


def test_a_request_in_flight_finishes_on_its_generation(index, files):
    live = LiveIndex(index)
    live.start()
    with live.lease() as old:
        first = old.storage.name
        switch(index, files, with_b=True)
        settle(live)
        assert live.status()["generation"] != first  # new requests get the new one ...
        hits = old.search("CAR-T cell therapy", k=3)  # ... while this one still reads its own, open
        assert hits and old.storage.name == first
        assert not old._background._shutdown
    assert old._background._shutdown  # released once the last lease ended
    with live.lease() as new:
        assert new.storage.name != first and new.search("CAR-T cell therapy", k=3)
    live.close()


def test_models_are_carried_over_not_loaded_again(index, files):
    live = LiveIndex(index)
    live.start()
    with live.lease() as s:
        dense, english = s.dense.encoder, s.english.encoder if s.english else None
    switch(index, files, with_b=True)
    settle(live)
    with live.lease() as s:
        assert s.dense.encoder is dense and (english is None or s.english.encoder is english)
    live.close()


def _open_generation_files(root: Path) -> set[str]:
    """Files of the index's generations this process holds open or mapped (deleted ones too)."""
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            held.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    with open("/proc/self/maps") as maps:
        held |= {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}
    prefix = str(root / "generations")
    return {p.replace(" (deleted)", "") for p in held if p.startswith(prefix)}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def test_twenty_switches_hold_no_old_generation(index, files):
    live = LiveIndex(index)
    live.start()
    rss = []
    for i in range(20):
        name = switch(index, files, with_b=i % 2 == 0)
        settle(live)
        with live.lease() as s:
            assert s.storage.name == name and s.search("tumour immunotherapy", k=3)
        gc.collect()
        held = _open_generation_files(index)
        assert {Path(p).relative_to(index / "generations").parts[0] for p in held} <= {name}, held
        rss.append(_rss_mb())
    assert live.switches == 21
    assert rss[-1] - rss[4] < 40, f"memory grew across switches: {[round(x) for x in rss]} MB"
    live.close()
    del s  # the test's own reference to the last searcher
    gc.collect()
    assert not _open_generation_files(index)


def test_a_damaged_new_generation_keeps_the_old_one_answering(index, files):
    app = create_app(ServerSettings(index_dir=index))
    with TestClient(app) as c:
        good = c.get("/healthz").json()["generation"]
        new = switch(index, files, with_b=True)
        (index / "generations" / new / "docs.faiss").write_bytes(b"not a faiss file")
        settle(app.state.live)
        health = c.get("/healthz")
        assert health.status_code == 503 and "damaged" in health.json()["message"]
        assert health.json()["generation"] == good
        r = c.get("/api/search?q=CAR-T")
        assert r.status_code == 200 and r.headers["x-oncosearch-generation"] == good

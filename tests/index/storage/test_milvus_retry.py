"""`retrying`: a Milvus that fails for a passing reason is tried again within the deadline; one that
cannot work (pymilvus missing, a folder that does not exist) fails at once."""

import pytest

from index.errors import MilvusUnavailable
from index.storage.milvus import connect as connect_module
from index.storage.milvus.connect import retrying


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    slept: list[float] = []
    clock = [0.0]

    def sleep(s: float) -> None:
        slept.append(s)
        clock[0] += s

    monkeypatch.setattr(connect_module.time, "sleep", sleep)
    monkeypatch.setattr(connect_module.time, "monotonic", lambda: clock[0])
    return slept


def failing(times: int, transient: bool = True):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= times:
            raise MilvusUnavailable("http://milvus:19530", f"try {len(calls)} failed", transient=transient)
        return len(calls)

    return call, calls


def test_passing_failures_are_tried_again_with_doubling_pauses(pauses):
    call, _ = failing(3)
    told = []
    assert retrying(call, wait=60, on_retry=lambda e, p: told.append((e.problem, p))) == 4
    assert pauses == [1.0, 2.0, 4.0]
    assert told == [("try 1 failed", 1.0), ("try 2 failed", 2.0), ("try 3 failed", 4.0)]


def test_the_last_error_is_raised_when_the_next_try_would_start_past_the_wait(pauses):
    call, calls = failing(10)
    with pytest.raises(MilvusUnavailable, match="try 3 failed"):
        retrying(call, wait=5)
    assert pauses == [1.0, 2.0] and len(calls) == 3  # a third pause (4 s) would end at 7 s > 5 s


def test_no_wait_means_one_try_and_a_lasting_failure_is_not_retried(pauses):
    call, calls = failing(1)
    with pytest.raises(MilvusUnavailable):
        retrying(call, wait=0)
    call, calls = failing(1, transient=False)
    with pytest.raises(MilvusUnavailable, match="try 1 failed"):
        retrying(call, wait=600)
    assert pauses == [] and len(calls) == 1


def test_pauses_stop_growing_at_the_longest(pauses):
    call, _ = failing(8)
    retrying(call, wait=10_000, longest_pause=5)
    assert pauses == [1.0, 2.0, 4.0, 5, 5, 5, 5, 5]


def test_a_missing_folder_is_a_lasting_failure(tmp_path):
    pytest.importorskip("pymilvus", reason="the cluster extra is not installed")
    with pytest.raises(MilvusUnavailable) as e:
        connect_module.connect(tmp_path / "nowhere" / "lab.db")
    assert not e.value.transient and "does not exist" in e.value.problem


def test_a_milvus_lite_connection_that_fails_once_is_tried_once_more(tmp_path, monkeypatch, pauses):
    """milvus-lite serves a file from a thread of this process; after the process was busy for a
    while, the first new connection can fail on a GOAWAY sent to an idle channel. A server URI is
    not tried again here (that is `retrying`'s, within --wait)."""
    pymilvus = pytest.importorskip("pymilvus")
    from pymilvus.exceptions import MilvusException

    attempts = []

    class Flaky:
        def __init__(self, uri, token, timeout):
            attempts.append(uri)
            if len(attempts) == 1 or uri.startswith("http"):
                raise MilvusException(2, f"Fail connecting to server on {uri}")

    monkeypatch.setattr(pymilvus, "MilvusClient", Flaky)
    assert isinstance(connect_module.connect(tmp_path / "lab.db"), Flaky)
    assert len(attempts) == 2 and pauses == [connect_module.LITE_RECONNECT_S]
    attempts.clear()
    with pytest.raises(MilvusUnavailable, match="Fail connecting"):
        connect_module.connect("http://milvus.lab:19530")
    assert len(attempts) == 1

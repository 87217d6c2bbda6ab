"""Two writers at once: one proceeds, the other exits 75 naming the holder, or waits with --wait."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time

from safety_helpers import cli, cli_cmd, cli_env, index_ids


def _lock_held(index) -> dict | None:
    """The holder's info if some process holds the writer lock now."""
    fd = os.open(index / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = (index / "lock").read_text()
            return json.loads(text) if text else {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def test_two_updates_at_once(tmp_path, corpus, fresh_index):
    files = [corpus.files[n] for n in ("A1", "A2", "B")]
    env = cli_env(None, tmp_path / "xdg")
    args = ["index", "update", *files, "--index", fresh_index, "--json", "--quiet"]
    # Both start together with --wait 0 (the default); B needs embedding, so the winner holds the
    # lock for seconds (model load + embedding) while the loser arrives.
    procs = [subprocess.Popen(cli_cmd(*args, "--wait", "0"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    deadline = time.monotonic() + 60
    holder = None
    while holder is None or "pid" not in holder:
        holder = _lock_held(fresh_index)
        assert time.monotonic() < deadline, "no writer ever took the lock"
        time.sleep(0.05)
    # A third, started while the lock is held, waits for it (--wait 60) and then succeeds.
    waiter = subprocess.Popen(cli_cmd(*args, "--wait", "60"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    results = {p.pid: (p.returncode, *p.communicate(timeout=180)) for p in procs}
    results = {pid: (p.returncode, out, err) for (pid, (_, out, err)), p in zip(results.items(), procs, strict=True)}
    codes = sorted(rc for rc, _, _ in results.values())
    assert codes == [0, 75], results
    (winner,) = [pid for pid, (rc, _, _) in results.items() if rc == 0]
    (loser,) = [pid for pid, (rc, _, _) in results.items() if rc == 75]
    assert holder["pid"] == winner
    err = results[loser][2]
    assert err.startswith("oncosearch: error: ") and f"pid {winner}" in err and "--wait" in err, err
    assert "Traceback" not in err
    assert json.loads(results[winner][1])["added"] == 12
    out, err = waiter.communicate(timeout=180)
    assert waiter.returncode == 0, err
    s = json.loads(out)
    assert (s["added"], s["unchanged"], s["embedded_chunks"]) == (0, 27, 0)
    ids = index_ids(fresh_index)
    assert len(ids) == len(set(ids)) == 27 and set(ids) == corpus.union("A1", "A2", "B")
    check = cli("index", "check", "--index", fresh_index)
    assert check.returncode == 0, check.stderr
    assert _lock_held(fresh_index) is None

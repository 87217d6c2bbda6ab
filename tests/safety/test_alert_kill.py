"""kill -9 during `oncosearch alert run`, and two runs at once: new records are reported, and reported once.

On a copy of the base index (A1 + A2), two alerts wide enough to hold every record are added; an
update brings C's 3 records. Runs are then killed at the crash points of search/alerts.py
(ONCOSEARCH_CRASH_AT): `alert-ranked` (every alert ranked, nothing written yet) and
`alert-delivered` (the report written and flushed, the state not yet committed). A killed run
commits nothing, so the next run reports the same records; the run that finishes reports them and
the one after it nothing. Two runs started together take turns (the second waits with --wait) and
report C's records once between them.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess

from safety_helpers import cli, cli_cmd, cli_env, summary_of

from search.alerts import STATE_FILE


def _ids(stdout: str) -> list[str]:
    """Ids reported by `alert run --format json` (none when it printed nothing)."""
    if not stdout:
        return []
    return [h["id"] for a in json.loads(stdout)["alerts"] for h in a["new"]]


def _run(index, *args, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {"ONCOSEARCH_CRASH_AT": crash} if crash else None
    return cli("alert", "run", *args, "--format", "json", "--index", index, env=env)


def _killed(proc: subprocess.CompletedProcess, point: str) -> subprocess.CompletedProcess:
    assert proc.returncode == -signal.SIGKILL, f"crash point {point} never reached: rc {proc.returncode} {proc.stderr}"
    return proc


def test_kill_during_alert_run_then_rerun_reports_once(tmp_path, corpus, fresh_index):
    index = fresh_index
    for name in ("wide", "race"):
        add = cli("alert", "add", name, "tumour", "--top", "100", "--index", index)
        assert add.returncode == 0, add.stderr
    nothing = _run(index)
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (0, "", "")

    s = summary_of(cli("index", "update", corpus.files["A1"], corpus.files["A2"], corpus.files["C"], "--index", index,
                       "--json", "--quiet"))
    assert s["added"] == 3
    new = sorted(corpus.ids["C"])

    # killed before anything was written: no output, and nothing marked as reported
    assert _killed(_run(index, "wide", crash="alert-ranked:1"), "alert-ranked").stdout == ""
    report = tmp_path / "report.json"
    _killed(_run(index, "wide", "-o", report, crash="alert-ranked:1"), "alert-ranked")
    assert not report.exists() and list(tmp_path.glob(".tmp-report.json*")) == []

    # killed after the report was out, before the state was committed: reported, and again next time
    assert sorted(_ids(_killed(_run(index, "wide", crash="alert-delivered:1"), "alert-delivered").stdout)) == new
    _killed(_run(index, "wide", "-o", report, crash="alert-delivered:1"), "alert-delivered")
    assert sorted(_ids(report.read_text())) == new  # the file was renamed into place before the kill

    # the run that finishes reports the same records, once; the next one nothing
    done = _run(index, "wide")
    assert done.returncode == 0 and sorted(_ids(done.stdout)) == new
    again = _run(index, "wide")
    assert (again.returncode, again.stdout) == (0, "")

    conn = sqlite3.connect(index / STATE_FILE)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()

    # two runs at once: the second waits for the first's commit and then has nothing new
    procs = [subprocess.Popen(cli_cmd("alert", "run", "race", "--format", "json", "--wait", "300", "--index", index),
                              env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    assert sorted(i for out, _ in outs for i in _ids(out)) == new
    assert sorted(bool(out) for out, _ in outs) == [False, True]  # one reported, the other printed nothing

"""Unchanged reruns embed nothing; --prune follows the rule in index.pipeline._merge_update;
--quiet keeps the terminal silent and --log-file gets the reads, the skips and the summary."""

from __future__ import annotations

import json
import shutil

from safety_helpers import cli, index_ids, summary_of

KEYS = {"added", "updated", "removed", "unchanged", "skipped", "embedded_chunks", "seconds"}


def test_unchanged_rerun_embeds_nothing(tmp_path, corpus, fresh_index):
    proc = cli("index", "update", corpus.files["A1"], corpus.files["A2"], "--index", fresh_index, "--json")
    s = summary_of(proc)
    assert KEYS <= s.keys()
    assert (s["embedded_chunks"], s["unchanged"], s["added"], s["updated"], s["removed"]) == (0, 15, 0, 0, 0)
    assert s["index_records"] == 15 and s["skipped"] == []


def test_prune(tmp_path, corpus, base_index):
    # own copies of the source files, indexed from them (the cache makes this embed nothing)
    a1, a2 = tmp_path / "A1.jsonl", tmp_path / "A2.jsonl"
    shutil.copy(corpus.files["A1"], a1)
    shutil.copy(corpus.files["A2"], a2)
    index = tmp_path / "index"
    shutil.copytree(base_index / "cache", index / "cache")
    assert summary_of(cli("index", "build", a1, a2, "--index", index, "--json"))["embedded_chunks"] == 0

    # (a) a record gone from a file that is read again: removed with --prune, kept without
    lines = a1.read_text().splitlines(keepends=True)
    dropped = json.loads(lines[0])["id"]
    a1.write_text("".join(lines[1:]))
    s = summary_of(cli("index", "update", a1, "--index", index, "--json"))
    assert (s["removed"], s["index_records"]) == (0, 15)
    s = summary_of(cli("index", "update", a1, "--prune", "--index", index, "--json"))
    assert (s["removed"], s["unchanged"], s["index_records"], s["embedded_chunks"]) == (1, 11, 14, 0)
    assert dropped not in index_ids(index)

    # (b) a source file that no longer exists: its records go with --prune, even though not named
    a2.unlink()
    s = summary_of(cli("index", "update", a1, "--prune", "--index", index, "--json"))
    assert (s["removed"], s["index_records"]) == (3, 11)
    assert set(index_ids(index)) == set(corpus.ids["A1"]) - {dropped}

    # (c) a named file whose every record is now unreadable (a broken export) removes nothing
    a1.write_text("{not json\n" * 5)
    proc = cli("index", "update", a1, "--prune", "--index", index, "--json")
    assert proc.returncode == 3 and json.loads(proc.stdout)["removed"] == 0 and len(index_ids(index)) == 11


def test_quiet_and_log_file(tmp_path, corpus, fresh_index):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x1"}\n')  # no text: skipped
    log = tmp_path / "cron.log"
    proc = cli("index", "update", corpus.files["A1"], corpus.files["A2"], bad, "--index", fresh_index, "--quiet",
               "--log-file", log)
    assert proc.returncode == 3  # done, with skips
    assert proc.stdout == "" and proc.stderr == ""
    text = log.read_text()
    assert f"read {bad}" in text and "skipped" in text and "no title or abstract" in text
    assert "15 records (0 added, 0 updated, 0 removed, 15 unchanged)" in text and "0 chunks embedded" in text
    # new text: both models load and embed, and still not a byte on the terminal (no library's load bars)
    proc = cli("index", "update", corpus.files["C"], "--index", fresh_index, "--quiet")
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stderr[-500:]
    # --json --log-file: JSON on stdout, the same summary line in the log; a busy/failed run is logged too
    proc = cli("index", "build", corpus.files["A1"], "--index", fresh_index, "--json", "--log-file", log)
    assert json.loads(proc.stdout)["index_records"] == 12 and proc.stderr == ""
    assert log.read_text().count("chunks embedded") == 2
    assert " DEBUG " not in log.read_text()  # no library's debug chatter (bm25s re-enables its own on import)
    (fresh_index / "CURRENT").write_text("g999999-missing\n")
    proc = cli("index", "update", corpus.files["A1"], "--index", fresh_index, "--quiet", "--log-file", log)
    assert proc.returncode == 1 and proc.stderr.startswith("oncosearch: error: ")
    assert "ERROR" in log.read_text().splitlines()[-1] and "g999999-missing" in log.read_text()

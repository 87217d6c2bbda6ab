"""The CLI's one error boundary: library errors become one line and a meaningful exit code; any
other exception is a bug, one line too, with the traceback only under --debug."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from index.errors import DamagedIndex, ModelMismatch, NoIndex, WriterBusy
from search import exitcodes
from search.cli import app, describe_error
from search.errors import QueryError

runner = CliRunner()


@pytest.mark.parametrize(("error", "code", "words"), [
    (NoIndex("/x"), exitcodes.FAILED, "oncosearch index build"),
    (DamagedIndex("/x/sents.faiss: missing"), exitcodes.FAILED, "run oncosearch index check"),
    (ModelMismatch("use-m-v3", "tiny"), exitcodes.FAILED, "leave --model out"),
    (WriterBusy("held by pid 1"), exitcodes.BUSY, "held by pid 1"),
    (QueryError("empty query"), exitcodes.USAGE, "empty query"),
])
def test_each_library_error_has_its_words_and_exit_code(error, code, words):
    message, got = describe_error(error)
    assert got == code and words in message and str(error) in message


def test_the_index_check_hint_is_never_doubled():
    message, _ = describe_error(DamagedIndex("x: damaged; run oncosearch index check"))
    assert message.count("index check") == 1


def _broken_search(monkeypatch, exc: Exception):
    import search.engine

    def boom(self, *args, **kwargs):
        raise exc

    monkeypatch.setattr(search.engine.Searcher, "search", boom)


def test_a_bug_is_one_line_without_traceback(built_index, monkeypatch):
    monkeypatch.delenv("ONCOSEARCH_DEBUG", raising=False)
    _broken_search(monkeypatch, KeyError("rowid 7"))
    result = runner.invoke(app, ["search", "CAR-T", "--index", str(built_index)])
    assert result.exit_code == exitcodes.FAILED
    assert result.stderr.startswith("oncosearch: error: internal error (KeyError")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "damaged" not in result.stderr and "index check" not in result.stderr  # a bug is not corruption


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(built_index, monkeypatch, how):
    _broken_search(monkeypatch, KeyError("rowid 7"))
    if how == "env":
        monkeypatch.setenv("ONCOSEARCH_DEBUG", "1")
        args = ["search", "CAR-T", "--index", str(built_index)]
    else:
        monkeypatch.delenv("ONCOSEARCH_DEBUG", raising=False)
        args = ["--debug", "search", "CAR-T", "--index", str(built_index)]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, KeyError)  # raised through, so Python prints the traceback


def test_a_library_error_inside_a_command_is_worded_by_the_cli(built_index, monkeypatch):
    _broken_search(monkeypatch, DamagedIndex(f"{built_index}/store.sqlite: database disk image is malformed"))
    result = runner.invoke(app, ["search", "CAR-T", "--index", str(built_index)])
    assert result.exit_code == exitcodes.FAILED
    assert "store.sqlite" in result.stderr and result.stderr.strip().endswith("run oncosearch index check")


def test_no_index_names_the_directory(tmp_path):
    result = runner.invoke(app, ["search", "CAR-T", "--index", str(tmp_path / "none")])
    assert result.exit_code == exitcodes.FAILED
    assert str(tmp_path / "none") in result.stderr and "oncosearch index build" in result.stderr


@pytest.mark.parametrize("args", [
    ["index", "build", "x.jsonl", "--format", "nonsense", "--index", "{tmp}"],
    ["index", "build", "x.jsonl", "--index-type", "ivf", "--index", "{tmp}"],
    ["ingest", "x.jsonl", "--format", "nonsense"],
])
def test_unknown_choices_are_usage_errors(args, tmp_path):
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == exitcodes.USAGE
    assert "choose one of" in result.stderr

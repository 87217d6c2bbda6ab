"""Garbage in, Skips out: no reader may raise, whatever the bytes.

Feeds truncated, garbled, re-encoded and random bytes to every reader, both by name
(``read_file(path, fmt)``) and through content detection. Every problem must come back as a
Skip, and a file-level Skip (record=None) must name its file.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.readers import formats, read_file
from corpus.readers._tagged import has_text
from tests.corpus.conftest import FIXTURES

SEEDS = [
    "mrhelper/demo_cnki_202101.txt", "mrhelper/demo_wanfang_202101.NET", "mrhelper/demo_wos_202101.txt",
    "mrhelper/demo_pubmed_202101.nbib", "rispy/example_multiline.ris", "litstudy/example.ris",
    "zotero_translators/ReferBibIX__case00.txt", "zotero_translators/RefWorks_Tagged__case02.txt",
    "zotero_translators/Endnote_XML__case00.txt", "zotero_translators/BibTeX__case08.txt",
    "pybibx/scopus_m.bib", "cnki2bibtex/ChineseColon.net", "biopython/pubmed2.xml",
]


def _seed_bytes() -> list[bytes]:
    out = []
    for name in SEEDS:
        path = FIXTURES / name
        if path.is_file():
            out.append(path.read_bytes()[:6000])  # the head is enough and keeps runs fast
    litstudy = FIXTURES / "litstudy/scopus.csv"
    if litstudy.is_file():
        out.append(litstudy.read_bytes()[:6000])
    return out or [b"PMID- 1\nTI  - x\nAB  - y\n"]


SEED_BYTES = _seed_bytes()


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SEED_BYTES))
    how = draw(st.sampled_from(["truncate", "garble", "reencode", "splice", "random", "empty-ish"]))
    if how == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if how == "garble":
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 30))):
            if buf:
                buf[draw(st.integers(0, len(buf) - 1))] = draw(st.integers(0, 255))
        return bytes(buf)
    if how == "reencode":
        text = data.decode("utf-8", "replace")
        enc = draw(st.sampled_from(["utf-16", "utf-16-be", "gb18030", "gbk", "latin-1", "utf-32"]))
        return text.encode(enc, "replace")[: draw(st.integers(1, 20000))]
    if how == "splice":
        other = draw(st.sampled_from(SEED_BYTES))
        cut = draw(st.integers(0, len(data)))
        return data[:cut] + draw(st.binary(max_size=50)) + other[draw(st.integers(0, len(other))):]
    if how == "random":
        return draw(st.binary(max_size=2000))
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\n\n", b"\xff\xfe", b"TY  - ", b"@article{", b"<xml>"]))


def _check(result, path: Path) -> None:
    for skip in result.skipped:
        assert skip.file == str(path)
        if skip.record is None:
            assert str(path) in str(skip)
    for rec in result.records:
        assert has_text(rec)  # a title or an abstract: nothing empty is ever indexed


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mangled(), fmt=st.sampled_from(formats()))
def test_every_reader_survives_bad_bytes(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    result = read_file(path, fmt)
    _check(result, path)
    assert not any("failed:" in s.reason for s in result.skipped), [str(s) for s in result.skipped]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mangled(), name=st.sampled_from(["export.txt", "x.ris", "x.nbib", "x.bib", "x.csv", "x.net", "x"]))
def test_detection_survives_bad_bytes(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = read_file(path)
    _check(result, path)
    assert not any("failed:" in s.reason for s in result.skipped), [str(s) for s in result.skipped]

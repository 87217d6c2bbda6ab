"""Duplicate records across sources become one record; different papers never do."""

from __future__ import annotations

from pathlib import Path

from corpus.merge import Merge, merge_records, title_key
from corpus.readers import read_file
from corpus.record import Record

EN_TITLE = "Efficacy of camrelizumab plus chemotherapy in advanced esophageal squamous cell carcinoma"
ZH_TITLE = "卡瑞利珠单抗联合化疗治疗晚期食管鳞状细胞癌的疗效"


def rec(rid: str, **kw) -> Record:
    kw.setdefault("abstract", {"en": "An abstract."})
    return Record(id=rid, **kw)


def test_same_pmid_merges_and_unions_fields() -> None:
    a = rec("pmid:1", pmid="1", title={"en": EN_TITLE}, authors=("Li X",), keywords=("ESCC",))
    b = rec("doi:x", pmid="1", doi="10.1/X", title={"en": EN_TITLE}, journal="J Clin Oncol", keywords=("PD-1",))
    out = merge_records([a, b])
    assert len(out.records) == 1 and out.merges == [Merge("pmid:1", "doi:x", "pmid")]
    merged = out.records[0]
    assert merged.id == "pmid:1" and merged.doi == "10.1/X" and merged.journal == "J Clin Oncol"
    assert merged.authors == ("Li X",) and merged.keywords == ("ESCC", "PD-1")


def test_chinese_and_english_records_become_one_bilingual_record_by_doi() -> None:
    cnki = rec("h:1", doi="10.3760/cma.j.cn112152-20220101-00001", title={"zh": ZH_TITLE},
               abstract={"zh": "目的 探讨卡瑞利珠单抗联合化疗的疗效。"}, year=2022)
    pubmed = rec("pmid:2", pmid="2", doi="https://doi.org/10.3760/CMA.J.CN112152-20220101-00001",
                 title={"en": EN_TITLE}, abstract={"en": "OBJECTIVE: To explore ..."}, year=2022)
    out = merge_records([cnki, pubmed])
    assert len(out.records) == 1 and out.merges[0].reason == "doi"
    merged = out.records[0]
    assert merged.id == "h:1" and merged.pmid == "2"
    assert set(merged.title) == {"zh", "en"} and set(merged.abstract) == {"zh", "en"}


def test_bilingual_cnki_record_matches_english_record_by_english_title() -> None:
    wanfang = rec("h:w", title={"zh": ZH_TITLE, "en": EN_TITLE + "."}, abstract={"zh": "目的 探讨。"}, year=2022)
    wos = rec("h:e", title={"en": EN_TITLE.upper()}, abstract={"en": "Background ..."}, year=2022)
    out = merge_records([wanfang, wos])
    assert len(out.records) == 1 and out.merges == [Merge("h:w", "h:e", "title")]
    assert out.records[0].abstract.keys() == {"zh", "en"}


def test_third_source_matches_through_language_gained_in_merge() -> None:
    zh_only = rec("h:zh", doi="10.9/abc", title={"zh": ZH_TITLE}, abstract={"zh": "摘要。"})
    en_doi = rec("pmid:3", pmid="3", doi="10.9/abc", title={"en": EN_TITLE})
    en_title_only = rec("h:scopus", title={"en": EN_TITLE})
    out = merge_records([zh_only, en_doi, en_title_only])
    assert len(out.records) == 1
    assert [m.reason for m in out.merges] == ["doi", "title"]


def test_traditional_and_simplified_titles_match() -> None:
    a = rec("h:a", title={"zh": "腫瘤免疫治療的研究進展與臨床應用"}, abstract={"zh": "摘要。"})
    b = rec("h:b", title={"zh": "肿瘤免疫治疗的研究进展与临床应用"}, abstract={"zh": "摘要。"})
    assert len(merge_records([a, b]).records) == 1


def test_near_miss_titles_stay_apart() -> None:
    a = rec("h:a", title={"en": "Nivolumab in advanced gastric cancer: a randomised phase II trial"})
    b = rec("h:b", title={"en": "Nivolumab in advanced gastric cancer: a randomised phase III trial"})
    assert title_key(a.title["en"], "en") != title_key(b.title["en"], "en")
    assert len(merge_records([a, b]).records) == 2


def test_same_title_different_year_stays_apart() -> None:
    a = rec("h:a", title={"en": "Cancer statistics for China, 2015"}, year=2015)
    b = rec("h:b", title={"en": "Cancer statistics for China, 2015"}, year=2016)
    assert len(merge_records([a, b]).records) == 2
    c = rec("h:c", title={"en": "Cancer statistics for China, 2015"})  # year unknown: same paper
    assert len(merge_records([a, c]).records) == 1


def test_conflicting_identifiers_veto_a_title_merge() -> None:
    a = rec("pmid:10", pmid="10", title={"en": EN_TITLE}, year=2020)
    b = rec("pmid:11", pmid="11", title={"en": EN_TITLE}, year=2020)
    c = rec("doi:a", doi="10.1/a", title={"en": "Another long title about lung cancer screening"})
    d = rec("doi:b", doi="10.1/b", title={"en": "Another long title about lung cancer screening"})
    assert len(merge_records([a, b, c, d]).records) == 4


def test_generic_short_titles_do_not_merge() -> None:
    a = rec("h:a", title={"en": "Editorial"}, year=2020)
    b = rec("h:b", title={"en": "Editorial"}, year=2020)
    assert len(merge_records([a, b]).records) == 2


def test_real_exports_of_the_same_papers(fixtures: Path) -> None:
    """pybibx holds the same search exported from Scopus and WoS as BibTeX: DOIs line them up."""
    scopus = read_file(fixtures / "pybibx/scopus_m.bib").records
    wos = read_file(fixtures / "pybibx/wos_m.bib").records
    out = merge_records(scopus + wos)
    assert len(out.records) + len(out.merges) == len(scopus) + len(wos)
    assert out.merges and {m.reason for m in out.merges} <= {"pmid", "doi", "title"}
    seen = {r.id for r in scopus}
    assert all(m.kept_id in seen for m in out.merges)
    # merging the merged result again changes nothing
    again = merge_records(out.records)
    assert not again.merges

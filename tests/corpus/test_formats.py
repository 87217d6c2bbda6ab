"""Every export format in ../shared/fixtures: detection, record accounting and field values.

The expected counts were taken from the files themselves (their record start/end markers, or
for CSV the rows a csv module reads). A record with a title but no abstract comes back as a
title-only Record; only a record with neither is a Skip, so records + skips must equal the true count.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

import pytest

from corpus.readers import detect_format, formats, read_file
from corpus.readers._tagged import year_of
from corpus.text import squash
from tests.corpus.conftest import FIXTURES

# file, format detected from content, true number of records, of which with abstract
# (the others are title-only records, except those in NO_TEXT)
CASES = [
    ("biopython/pubmed_result1.txt", "medline", 1, 1),
    ("biopython/pubmed_result2.txt", "medline", 4, 4),
    ("biopython/pubmed_result3.txt", "medline", 1, 1),
    ("mrhelper/demo_pubmed_202101.nbib", "medline", 10, 9),
    ("metaknowledge/medline_test.medline", "medline", 175, 171),
    ("pybibx/pubmed.txt", "medline", 335, 335),
    ("pybibx/mcda_pubmed.txt", "medline", 10, 10),
    ("litstudy/example.ris", "ris", 25, 25),
    ("litstudy/exclude.ris", "ris", 1, 0),
    ("rispy/example_basic.ris", "ris", 1, 0),
    ("rispy/example_bom.ris", "ris", 1, 0),
    ("rispy/example_custom_list_tags.ris", "ris", 1, 0),
    ("rispy/example_empty_tag.ris", "ris", 1, 1),
    ("rispy/example_extraneous_data.ris", "ris", 2, 2),
    ("rispy/example_full.ris", "ris", 2, 2),
    ("rispy/example_full_without_whitespace.ris", "ris", 2, 2),
    ("rispy/example_full_write.ris", "ris", 2, 2),
    ("rispy/example_multi_unknown_tags.ris", "ris", 1, 0),
    ("rispy/example_multiline.ris", "ris", 3, 3),
    ("rispy/example_single_unknown_tag.ris", "ris", 1, 0),
    ("rispy/example_starting_newlines.ris", "ris", 1, 0),
    ("rispy/example_urls.ris", "ris", 4, 0),
    ("rispy/example_utf_chars.ris", "ris", 1, 1),
    ("rispy/example_wos.ris", "wos", 2, 2),  # named .ris, but it is WoS tagged text
    ("mrhelper/demo_wos_202101.txt", "wos", 10, 10),
    ("metaknowledge/OnePaper.isi", "wos", 1, 1),
    ("metaknowledge/TwoPaper.isi", "wos", 2, 1),
    ("metaknowledge/testFile.isi", "wos", 34, 12),
    ("metaknowledge/ManyAuthors.isi", "wos", 500, 403),
    ("mrhelper/demo_cnki_202101.txt", "cnki", 20, 20),
    ("mrhelper/demo_wanfang_202101.NET", "noteexpress", 20, 20),
    ("cnki2bibtex/ChineseColon.net", "noteexpress", 1, 1),
    ("cnki2bibtex/Classic5Test.net", "noteexpress", 5, 5),
    ("cnki2bibtex/CoverAllTest15Entries.net", "noteexpress", 15, 9),
    ("cnki2bibtex/LotsOfEnglish.net", "noteexpress", 21, 20),
    ("cnki2bibtex/mixed.net", "noteexpress", 12, 11),
    ("cnki2bibtex/withLineBreakInAddress.net", "noteexpress", 1, 1),
    ("cnki2bibtex/title/mixed.bib", "bibtex", 12, 11),
    ("cnki2bibtex/nameyear/LotsOfEnglish.bib", "bibtex", 21, 20),
    ("pybibx/scopus.bib", "bibtex", 263, 262),
    ("pybibx/scopus_m.bib", "bibtex", 24, 24),
    ("pybibx/mcda_scopus.bib", "bibtex", 236, 232),
    ("pybibx/wos.bib", "bibtex", 236, 236),
    ("pybibx/wos_m.bib", "bibtex", 29, 29),
    ("pybibx/mcda_wos.bib", "bibtex", 210, 184),
    ("litstudy/scopus.csv", "scopus-csv", 58, 57),
    ("metaknowledge/scopus_testing.csv.scopus", "scopus-csv", 220, 204),
    ("litstudy/ieee.csv", "csv", 10, 10),
    ("zotero_translators/ReferBibIX__case00.txt", "refer", 1, 1),
    ("biopython/pubmed2.xml", "pubmed-xml", 2, 2),
]


# Records with neither a title nor an abstract (read from the files: a DOI alone; authors and ISSNs alone).
NO_TEXT = {"rispy/example_bom.ris": 1, "rispy/example_custom_list_tags.ris": 1}


@pytest.mark.parametrize(("name", "fmt", "total", "with_abstract"), CASES, ids=[c[0] for c in CASES])
def test_fixture_accounted_for(fixtures: Path, name: str, fmt: str, total: int, with_abstract: int) -> None:
    result = read_file(fixtures / name)
    assert result.format == fmt
    assert not result.failed, [str(s) for s in result.skipped]
    assert len(result.skipped) == NO_TEXT.get(name, 0)
    assert all(s.reason.startswith("no title or abstract") for s in result.skipped)
    assert len(result.records) + len(result.skipped) == total
    assert sum(rec.has_abstract() for rec in result.records) == with_abstract
    numbers = sorted(s.record for s in result.skipped)
    assert all(n is not None and 1 <= n <= total for n in numbers)
    for rec in result.records:
        assert rec.id and rec.source == str(fixtures / name)
        assert rec.has_abstract() or any(t.strip() for t in rec.title.values())  # title-only: a title
        assert all(lang in ("zh", "en") for lang in (*rec.title, *rec.abstract))


def test_nbib_letter_without_abstract_is_a_title_only_record(fixtures: Path) -> None:
    """The real PubMed export: 10 records, one a Letter with no abstract. All 10 are read."""
    result = read_file(fixtures / "mrhelper/demo_pubmed_202101.nbib")
    assert len(result.records) == 10 and result.skipped == []
    (letter,) = [r for r in result.records if not r.has_abstract()]
    assert letter.id == "pmid:33465338" and letter.abstract == {}
    assert letter.title == {"en": "Changes in Treatment Behavior during the COVID-19 Pandemic among Patients at a "
                                  "Cancer Hospital."}
    assert "Letter" in letter.pub_types and letter.journal and letter.year == 2021


def test_every_new_reader_is_registered() -> None:
    for name in ("medline", "ris", "endnote-xml", "refer", "refworks", "noteexpress", "cnki", "wos", "bibtex",
                 "scopus-csv", "pubmed-xml", "journal-page", "jsonl", "csv"):
        assert name in formats()


# ---- Zotero's own parse of the same inputs ------------------------------------------------

ZOTERO = sorted(
    p.name for p in FIXTURES.glob("zotero_translators/*.txt")
    if not p.name.startswith(("CSL_JSON", "PubMed_XML"))  # CSL JSON is no export we read
) if FIXTURES.is_dir() else []
ZOTERO_FORMAT = {"BibTeX": "bibtex", "Endnote_XML": "endnote-xml", "MEDLINEnbib": "medline", "RIS": "ris",
                 "RefWorks_Tagged": "refworks", "ReferBibIX": "refer", "Web_of_Science_Tagged": "wos"}


def _norm(text: str | None) -> str:
    return re.sub(r"\W+", " ", squash(text or "")).strip().casefold()


@pytest.mark.parametrize("name", ZOTERO)
def test_against_zotero_expected(fixtures: Path, name: str) -> None:
    path = fixtures / "zotero_translators" / name
    expected = json.loads(path.with_name(name.replace(".txt", ".expected.json")).read_text(encoding="utf-8"))
    result = read_file(path)
    assert result.format == ZOTERO_FORMAT[name.split("__")[0]]
    with_text = [e for e in expected if e.get("abstractNote") or e.get("title")]
    assert len(result.records) + len(result.skipped) == len(expected)
    assert len(result.records) == len(with_text)
    for rec, exp in zip(result.records, with_text, strict=True):
        assert _norm(" ".join(rec.abstract.values())) == _norm(exp.get("abstractNote"))
        assert rec.has_abstract() == bool(exp.get("abstractNote"))
        if not rec.has_abstract():
            # Title-only records (once skipped) are held to their title; their other fields are edge
            # cases of these inputs (TeX in titles, a corporate author, a deprecated date tag).
            assert any(t.strip() for t in rec.title.values())
            continue
        if exp.get("title"):
            assert _norm(next(iter(rec.title.values()))) == _norm(exp["title"])
        if year_of(exp.get("date")):
            assert rec.year == year_of(exp["date"])
        if exp.get("DOI"):
            assert rec.doi == exp["DOI"].lower()
        authors = " ".join(rec.authors).casefold()
        for creator in exp.get("creators", []):
            if creator.get("creatorType") == "author":
                assert (creator.get("lastName") or creator.get("name", "")).casefold() in authors


# ---- specific records -----------------------------------------------------------------------


def test_cnki_estudy_record(fixtures: Path) -> None:
    rec = read_file(fixtures / "mrhelper/demo_cnki_202101.txt").records[0]
    assert rec.title == {"zh": "1例卡培他滨与苯妥英钠相互作用致乳腺癌合并癫痫患者小脑功能障碍的病例分析"}
    assert rec.abstract["zh"].startswith("苯妥英钠作为一种传统抗癫痫药物")  # CNKI's "<正>" marker dropped
    assert rec.authors == ("柯洪琴", "陈璿英", "王启斌")
    assert rec.journal == "中南药学" and rec.year == 2021
    assert rec.keywords[:2] == ("苯妥英钠", "卡培他滨")


def test_wanfang_noteexpress_is_bilingual(fixtures: Path) -> None:
    rec = read_file(fixtures / "mrhelper/demo_wanfang_202101.NET").records[0]
    assert rec.title["zh"] == "超声引导下前锯肌平面阻滞对乳腺癌改良根治术术后肿瘤转移、复发的影响"
    assert rec.title["en"].startswith("Influence of ultrasound-guided serratus plane block")
    assert rec.abstract["zh"].startswith("目的 探讨超声引导下前锯肌平面")
    assert rec.authors == ("江文杰", "韩超", "顾达民") and rec.year == 2020
    assert rec.keywords == ("前锯肌平面阻滞", "乳腺癌改良根治术", "基质金属蛋白酶")


def test_cnki_noteexpress_fullwidth_colons_and_broken_address(fixtures: Path) -> None:
    rec = read_file(fixtures / "cnki2bibtex/ChineseColon.net").records[0]
    assert rec.abstract["zh"].startswith("软组织肉瘤是一类间叶来源的恶性肿瘤")  # "{Abstract}：" full-width
    assert rec.title["en"].startswith("Chinese expert consensus on diagnosis")
    assert rec.year == 2016 and rec.journal == "中华肿瘤杂志"
    rec = read_file(fixtures / "cnki2bibtex/withLineBreakInAddress.net").records[0]
    assert rec.title == {"zh": "基于公共行政理念的政府公共关系发展历程探析"}
    assert rec.authors == ("谢昕", "王小增") and rec.keywords[0] == "政府公共关系"


def test_wanfang_refer_record(fixtures: Path) -> None:
    rec = read_file(fixtures / "zotero_translators/ReferBibIX__case00.txt").records[0]
    assert rec.title == {"zh": "参考文献管理工具研究"}
    assert rec.doi == "10.3969/j.issn.1008-0821.2009.02.027"
    assert rec.authors == ("余敏", "朱江", "丁照蕾") and rec.journal == "现代情报" and rec.year == 2009
    assert rec.keywords == ("参考文献管理", "文献管理软件", "学术书签网站", "Zotero")


def test_medline_record(fixtures: Path) -> None:
    rec = read_file(fixtures / "mrhelper/demo_pubmed_202101.nbib").records[0]
    assert rec.pmid == "33465792" and rec.id == "pmid:33465792"
    assert rec.doi == "10.1055/s-0040-1719149" and rec.year == 2021
    assert rec.title == {"en": "Switching of Hormone Therapies in Breast Cancer Women."}
    assert rec.abstract["en"].startswith("OBJECTIVE: The objective of the present study")
    assert rec.authors[0] == "de Medeiros, Luana Moreira"


def test_wos_record(fixtures: Path) -> None:
    rec = read_file(fixtures / "mrhelper/demo_wos_202101.txt").records[0]  # UTF-8 with BOM
    assert rec.title["en"] == ("Review of cyclin-dependent kinase 4/6 inhibitors in the treatment of advanced or "
                               "metastatic breast cancer")
    assert rec.authors[:2] == ("Husinka, Lakyn", "Koerner, Pamela H.")
    assert rec.doi == "10.1080/21556660.2020.1857103" and rec.pmid == "33414982" and rec.year == 2021
    assert "Palbociclib" in rec.keywords


def test_scopus_csv_and_bibtex_records(fixtures: Path) -> None:
    rec = read_file(fixtures / "litstudy/scopus.csv").records[0]
    assert rec.title == {"en": "Scalable molecular dynamics with NAMD"}
    assert rec.doi == "10.1002/jcc.20289" and rec.year == 2005
    assert rec.authors[:2] == ("Phillips J.C.", "Braun R.") and rec.journal == "Journal of Computational Chemistry"
    rec = read_file(fixtures / "pybibx/wos.bib").records[0]
    assert rec.title == {"en": "ELECTRE-SCORE : A first outranking based method for scoring actions"}
    assert rec.doi == "10.1016/j.ejor.2021.05.017" and rec.year == 2022
    assert rec.authors == ("Figueira, Jose Rui", "Greco, Salvatore", "Roy, Bernard")


def test_scopus_no_abstract_placeholder_is_a_title_only_record(fixtures: Path) -> None:
    result = read_file(fixtures / "litstudy/scopus.csv")
    (title_only,) = [r for r in result.records if not r.has_abstract()]
    assert result.skipped == [] and title_only.abstract == {} and title_only.title["en"]


def test_endnote_xml_styled_text(fixtures: Path) -> None:
    result = read_file(fixtures / "zotero_translators/Endnote_XML__case00.txt")
    (rec,) = [r for r in result.records if r.title == {"en": "Planting green roofs and living walls"}]
    assert rec.authors == ("Dunnett, Nigel", "Kingsbury, Noël")


def test_endnote_xml_bilingual_record(tmp_path: Path) -> None:
    xml = """<?xml version="1.0" encoding="UTF-8"?><xml><records><record>
      <ref-type name="Journal Article">17</ref-type>
      <contributors><authors><author><style face="normal">张三</style></author></authors></contributors>
      <titles><title><style face="normal">PD-1抑制剂治疗晚期非小细胞肺癌的疗效</style></title>
        <secondary-title>中国肺癌杂志</secondary-title>
        <translated-title>Efficacy of PD-1 inhibitors in advanced non-small cell lung cancer</translated-title></titles>
      <dates><year>2022</year></dates><electronic-resource-num>10.3779/j.issn.1009-3419.2022.01.01</electronic-resource-num>
      <abstract>目的 评价PD-1抑制剂治疗晚期非小细胞肺癌的疗效与安全性。</abstract>
    </record></records></xml>"""
    path = tmp_path / "export.xml"
    path.write_text(xml, encoding="utf-8")
    rec = read_file(path).records[0]
    assert read_file(path).format == "endnote-xml"
    assert rec.title["zh"].startswith("PD-1抑制剂") and rec.title["en"].startswith("Efficacy of PD-1")
    assert rec.journal == "中国肺癌杂志" and rec.year == 2022 and rec.doi == "10.3779/j.issn.1009-3419.2022.01.01"


def test_refworks_legend_header_is_not_a_record(fixtures: Path) -> None:
    result = read_file(fixtures / "zotero_translators/RefWorks_Tagged__case03.txt")
    assert len(result.records) + len(result.skipped) == 1


def test_cnki_custom_export_without_datatype(tmp_path: Path) -> None:
    text = (
        "SrcDatabase-来源库: 期刊\nTitle-题名: 免疫检查点抑制剂相关肺炎的研究进展\nAuthor-作者: 李四;王五;\n"
        "Source-刊名: 中国肿瘤临床\nYear-年: 2023\nSummary-摘要: 免疫检查点抑制剂相关肺炎是一种少见但致命的不良反应。\n"
        "\nSrcDatabase-来源库: 期刊\nTitle-题名: 第二篇\nSource-刊名: 肿瘤\nYear-年: 2022\n"
    )
    path = tmp_path / "cnki_custom.txt"
    path.write_text(text, encoding="utf-8")
    result = read_file(path)
    assert result.format == "cnki"
    assert len(result.records) == 2 and result.skipped == []
    assert result.records[0].authors == ("李四", "王五") and result.records[0].year == 2023
    assert result.records[1].title == {"zh": "第二篇"} and not result.records[1].has_abstract()  # no 摘要


# ---- encodings and line endings -------------------------------------------------------------

RECODE = [
    ("mrhelper/demo_cnki_202101.txt", "gb18030"),
    ("mrhelper/demo_cnki_202101.txt", "gbk"),
    ("mrhelper/demo_cnki_202101.txt", "utf-16"),
    ("mrhelper/demo_wanfang_202101.NET", "gb18030"),
    ("mrhelper/demo_wanfang_202101.NET", "utf-16-le"),
    ("zotero_translators/ReferBibIX__case00.txt", "gbk"),
    ("cnki2bibtex/mixed.net", "gb18030"),
    ("cnki2bibtex/title/mixed.bib", "gb18030"),
    ("mrhelper/demo_pubmed_202101.nbib", "utf-16"),
    ("mrhelper/demo_wos_202101.txt", "utf-16"),
    ("litstudy/example.ris", "utf-16"),
    ("zotero_translators/RefWorks_Tagged__case02.txt", "utf-16"),
    ("litstudy/scopus.csv", "utf-16"),
]


@pytest.mark.parametrize(("name", "encoding"), RECODE, ids=[f"{n}-{e}" for n, e in RECODE])
def test_reencoded_exports(fixtures: Path, tmp_path: Path, name: str, encoding: str) -> None:
    original = read_file(fixtures / name)
    text = (fixtures / name).read_bytes().decode("utf-8-sig")
    if encoding in ("gbk", "gb18030"):
        text = text.replace("\u2009", " ")  # characters GBK lacks do not occur in real GBK exports
    copy = tmp_path / Path(name).name
    data = text.encode(encoding, errors="strict" if encoding != "gbk" else "replace")
    if encoding == "utf-16-le":
        data = codecs.BOM_UTF16_LE + data
    copy.write_bytes(data)
    result = read_file(copy)
    assert result.format == original.format
    assert not result.failed, [str(s) for s in result.skipped]
    assert [r.title for r in result.records] == [r.title for r in original.records]
    assert [r.abstract for r in result.records] == [r.abstract for r in original.records]


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
@pytest.mark.parametrize("name", ["mrhelper/demo_cnki_202101.txt", "mrhelper/demo_wos_202101.txt",
                                  "zotero_translators/MEDLINEnbib__case03.txt", "litstudy/example.ris",
                                  "zotero_translators/ReferBibIX__case00.txt"])
def test_line_endings(fixtures: Path, tmp_path: Path, name: str, newline: str) -> None:
    original = read_file(fixtures / name)
    text = (fixtures / name).read_text(encoding="utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    copy = tmp_path / Path(name).name
    copy.write_bytes(text.replace("\n", newline).encode("utf-8"))
    result = read_file(copy)
    assert [r.to_dict() | {"source": ""} for r in result.records] == [
        r.to_dict() | {"source": ""} for r in original.records
    ]


def test_mixed_line_endings_ris(fixtures: Path) -> None:
    data = (fixtures / "litstudy/example.ris").read_bytes()
    assert b"\r\n" in data  # the fixture really mixes them
    assert len(read_file(fixtures / "litstudy/example.ris").records) == 25


def test_name_is_only_a_hint(fixtures: Path, tmp_path: Path) -> None:
    copy = tmp_path / "export.csv"  # a WoS file with a misleading extension
    copy.write_bytes((fixtures / "mrhelper/demo_wos_202101.txt").read_bytes())
    assert detect_format(copy) == "wos"


def test_journal_page_still_detected_after_new_readers() -> None:
    """The new sniffers sit before journal-page; the bilingual page must still reach its reader."""
    from tests.corpus.conftest import SHARED

    page = SHARED / "seed" / "immune-cell-therapy-review.zh-en.txt"
    result = read_file(page)
    assert result.format == "journal-page" and len(result.records) == 1
    assert set(result.records[0].title) == {"zh", "en"}

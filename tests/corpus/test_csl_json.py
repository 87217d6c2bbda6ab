"""corpus/readers/csl_json.py on Zotero's own CSL-JSON export and on hand-checked edge cases."""

from __future__ import annotations

import json

from corpus.readers import detect_format, read_file


def test_zoteros_csl_json_export_reads_as_zotero_reads_it(fixtures):
    path = fixtures / "zotero_translators" / "CSL_JSON__case00.txt"
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))[0]
    result = read_file(path)
    assert result.format == "csl-json" and not result.skipped
    (rec,) = result.records
    assert rec.title == {"en": expected["title"]}
    creator = expected["creators"][0]
    assert rec.authors == (f"{creator['lastName']}, {creator['firstName']}",)
    assert rec.year == 2013 and rec.volume == expected["volume"] == "2058"
    assert rec.pub_types == ("book",)
    assert rec.id.startswith("h:")  # Zotero's item URI is Zotero's key, not a record id of ours


def _write(tmp_path, items, name="items.json"):
    path = tmp_path / name
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def test_bilingual_item_chinese_names_and_our_own_ids(tmp_path):
    item = {
        "id": "h:0123456789abcdef", "type": "article-journal", "source": "oncosearch",
        "title": "CAR-T细胞治疗的安全性", "original-title": "Safety of CAR-T cell therapy",
        "abstract": "细胞因子释放综合征是最常见的不良反应。",
        "multi": {"_keys": {"abstract": {"en": "Cytokine release syndrome is the commonest adverse event."}}},
        "author": [{"family": "柯", "given": "洪琴"}, {"family": "Smith", "given": "John"}, {"literal": "王启斌"}],
        "container-title": "中国肿瘤生物治疗杂志", "issued": {"date-parts": [["2024", 3]]},
        "volume": 31, "issue": "3", "page": "233-240", "keyword": "CAR-T; 细胞因子释放综合征, CRS",
    }
    foreign = dict(item, source="PubMed", id="ITEM-1")
    rec, other = read_file(_write(tmp_path, [item, foreign])).records
    assert rec.id == "h:0123456789abcdef" and other.id != "ITEM-1" and other.id.startswith("h:")
    assert rec.title == {"zh": "CAR-T细胞治疗的安全性", "en": "Safety of CAR-T cell therapy"}
    assert rec.abstract["en"].startswith("Cytokine release") and rec.abstract["zh"].startswith("细胞因子")
    assert rec.authors == ("柯洪琴", "Smith, John", "王启斌")
    assert (rec.year, rec.volume, rec.issue, rec.pages) == (2024, "31", "3", "233-240")
    assert rec.keywords == ("CAR-T", "细胞因子释放综合征, CRS")  # ';' when there is one: headings may hold commas


def test_sniffing_tells_csl_json_from_our_jsonl(tmp_path, fixtures):
    csl = _write(tmp_path, [{"id": "a", "type": "article-journal", "title": "T", "issued": {"date-parts": [[2020]]}}])
    assert detect_format(csl) == "csl-json"
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text(json.dumps({"id": "x", "title": {"en": "T"}, "abstract": {"en": "A"}, "authors": []}) + "\n")
    assert detect_format(jsonl) == "jsonl"
    assert detect_format(fixtures / "zotero_translators" / "CSL_JSON__case00.txt") == "csl-json"


def test_bad_input_is_a_skip_not_a_traceback(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('[{"type": "article-journal", "title": "T", "issued": ', encoding="utf-8")
    result = read_file(broken, "csl-json")
    assert not result.records and result.failed and "invalid JSON at line 1" in result.skipped[0].reason
    mixed = read_file(_write(tmp_path, [{"type": "article-journal", "title": "Kept"}, "not an item", {}], "m.json"),
                      "csl-json")
    assert [r.title for r in mixed.records] == [{"en": "Kept"}]
    assert [(s.record, s.reason.split(",")[0]) for s in mixed.skipped][0] == (2, "item is JSON str")
    assert [s.record for s in mixed.skipped] == [2, 3]  # the empty item has no title or abstract

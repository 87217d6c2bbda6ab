"""Glossary: file integrity, cross-language expansion, tagging, consistency with jieba."""

import csv
import time

import pytest

from index.lexical.glossary import GLOSSARY_PATH, Glossary, build_userdict
from index.lexical.tokenize import USERDICT_PATH, jieba_tokenizer, tokenize


@pytest.fixture(scope="module")
def g():
    return Glossary.load()


def test_file_shape(g):
    with open(GLOSSARY_PATH, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert list(rows[0]) == ["concept_id", "category", "zh_terms", "en_terms"]
    ids = [r["concept_id"] for r in rows]
    assert len(ids) == len(set(ids)) >= 400
    for r in rows:
        assert r["concept_id"] == r["concept_id"].lower().strip() and " " not in r["concept_id"]
        assert r["zh_terms"].strip() and r["en_terms"].strip(), r["concept_id"]
    cats = {r["category"] for r in rows}
    assert {"therapy", "cancer", "target", "drug", "adverse_event", "general"} <= cats
    assert len(g) == len(rows)


def test_expand_zh_query(g):
    out = [t.lower() for t in g.expand("CAR-T细胞治疗淋巴瘤", "zh")]
    assert "chimeric antigen receptor" in out
    assert "lymphoma" in out
    assert "leukemia" not in out


def test_expand_en_to_zh(g):
    assert "帕博利珠单抗" in g.expand("pembrolizumab", "en")
    assert "帕博利珠单抗" in g.expand("Pembrolizumab plus chemotherapy")
    out = g.expand("cytokine release syndrome after CAR T cells", "en")
    assert "细胞因子释放综合征" in out and "嵌合抗原受体" in out


@pytest.mark.parametrize("q", ["PD-L1", "PD L1", "PDL1", "programmed death-ligand 1"])
def test_pd_l1_variants_find_concept(g, q):
    assert "pd-l1" in g.find(q)


def test_traditional_and_drug_names(g):
    assert g.find("替雷利珠單抗") == ["tislelizumab"]
    assert "tislelizumab" in g.expand("替雷利珠单抗")
    assert g.find("nivolumab vs 纳武利尤单抗") == ["nivolumab"]


def test_longest_match_wins(g):
    assert g.find("非小细胞肺癌") == ["nsclc"]
    assert g.find("non-small cell lung cancer") == ["nsclc"]
    assert g.find("small cell lung cancer") == ["sclc"]
    assert g.find("非霍奇金淋巴瘤") == ["nhl"]


def test_no_false_concepts(g):
    assert g.find("The weather was nice and we went for a walk.") == []
    assert g.find("") == []


def test_tags(g):
    tags = g.tags({
        "en": "Tisagenlecleucel in relapsed diffuse large B-cell lymphoma: cytokine release syndrome occurred.",
        "zh": "CD19 CAR-T细胞治疗弥漫大B细胞淋巴瘤",
    })  # fmt: skip
    assert tags["drug"] == ["tisagenlecleucel"]
    assert tags["cancer"] == ["dlbcl"]
    assert "car-t" in tags["therapy"]
    assert tags["adverse_event"] == ["crs"]
    assert tags["target"] == ["cd19"]
    assert all(ids == sorted(ids) for ids in tags.values())


def test_tagging_is_fast(g):
    text = (
        "Pembrolizumab and nivolumab improved overall survival in advanced non-small cell lung "
        "cancer with PD-L1 expression; grade 3 immune-related adverse events were rare. "
    ) * 8
    recs = [{"en": text + str(i)} for i in range(2000)]
    t = time.perf_counter()
    for r in recs:
        g.tags(r)
    per_record = (time.perf_counter() - t) / len(recs)
    assert per_record < 2e-3  # 50k records in well under two minutes even on a slow CI box


def test_every_pure_cjk_glossary_term_is_one_token(g):
    bad = [t for t in g.zh_userdict_terms() if jieba_tokenizer().lcut(t) != [t] or tokenize(t)[0] != t]
    assert bad == []


def test_userdict_file_is_up_to_date(g):
    """jieba_userdict.txt is generated from the glossary; regenerate with
    `python -m index.lexical.glossary --write-userdict` after editing the glossary."""
    on_disk = [tuple(line.split()) for line in USERDICT_PATH.read_text(encoding="utf-8").splitlines()]
    words = {w for w, _ in on_disk}
    assert set(g.zh_userdict_terms()) <= words
    assert [(w, int(f)) for w, f in on_disk] == build_userdict(g)

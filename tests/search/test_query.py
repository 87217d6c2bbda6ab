"""search.query.analyse: the query's own tokens, glossary expansions and CC-CEDICT glosses, with weights.

Only the public surface is used: ``analyse(text)`` and its ``.lang .tokens .weights .expansions .glosses``.
Weights as README "How ranking works" states them: the user's words 1.0, glossary expansion terms at half
weight, CC-CEDICT senses 0.3.
"""

from __future__ import annotations

import re

import pytest

from index.lexical.tokenize import tokenize
from search.query import Query, analyse

CJK = re.compile(r"[\u4e00-\u9fff]")


def weights_of(q) -> dict[str, float]:
    assert len(q.tokens) == len(q.weights)
    assert len(set(q.tokens)) == len(q.tokens), "a token appears twice"
    return dict(zip(q.tokens, q.weights, strict=True))


def toks(text: str, lang: str = "en") -> list[str]:
    return tokenize(text, lang)


def test_chinese_query_keeps_its_own_words_at_full_weight():
    q = analyse("CAR-T细胞治疗的安全性")
    assert q.lang == "zh"
    w = weights_of(q)
    for own in ("安全性", "细胞", *toks("CAR-T")):  # CAR-T stays one Latin term (plus its parts)
        assert w[own] == 1.0, own
    assert "的" not in w  # a stopword is no search term


def test_chinese_query_gets_english_glossary_terms_at_half_weight():
    q = analyse("CAR-T细胞")
    english = [t for t in q.expansions if not CJK.search(t)]
    assert "CAR-T cell" in q.expansions and "chimeric antigen receptor T cell" in q.expansions, q.expansions
    assert english, "a Chinese query must reach English abstracts through the glossary"
    w = weights_of(q)
    for term in ("chimeric", "antigen", "receptor"):
        (tok,) = toks(term)
        assert w[tok] == pytest.approx(0.5), term


def test_chinese_clinical_terms_map_to_their_english_names():
    q = analyse("细胞因子释放综合征 托珠单抗")
    lowered = {t.lower() for t in q.expansions}
    assert {"cytokine release syndrome", "crs", "tocilizumab"} <= lowered, q.expansions
    w = weights_of(q)
    assert w["细胞因子释放综合征"] == 1.0 and w["托珠单抗"] == 1.0
    assert w["tocilizumab"] == pytest.approx(0.5) and w["crs"] == pytest.approx(0.5)


def test_expansions_leave_out_terms_already_in_the_query():
    for text in ("CAR-T细胞治疗的安全性", "cytokine release syndrome after CAR-T", "免疫检查点抑制剂治疗肺癌"):
        q = analyse(text)
        assert q.expansions, text
        assert len({t.lower() for t in q.expansions}) == len(q.expansions), "duplicate expansion"
        for term in q.expansions:
            assert term.lower() not in text.lower(), (text, term)


def test_cedict_glosses_of_everyday_chinese_words():
    q = analyse("肿瘤患者的基因突变")
    assert q.lang == "zh"
    assert "patient" in q.glosses and "genetic mutation" in q.glosses, q.glosses
    w = weights_of(q)
    (patient,) = toks("patient")
    assert w[patient] == pytest.approx(0.3)  # only CC-CEDICT knows this everyday word
    assert w["患者"] == 1.0


def test_weights_order_own_over_glossary_over_gloss():
    q = analyse("CAR-T细胞治疗的安全性")
    w = weights_of(q)
    (security,) = toks("security")  # CC-CEDICT sense of 安全性; the glossary gives "safety"
    (chimeric,) = toks("chimeric")
    assert "security" in q.glosses and "security" not in q.expansions
    assert 1.0 == w["安全性"] > w[chimeric] > w[security] > 0
    assert all(0 < x <= 1.0 for x in q.weights)
    # own tokens come first, then expansion tokens, then gloss tokens
    first_lower = next(i for i, x in enumerate(q.weights) if x < 1.0)
    assert all(x == 1.0 for x in q.weights[:first_lower]) and all(x < 1.0 for x in q.weights[first_lower:])


def test_english_query_has_no_glosses_and_reaches_chinese_terms():
    q = analyse("PD-1 blockade in melanoma")
    assert q.lang == "en"
    assert q.glosses == []
    assert "黑色素瘤" in q.expansions
    w = weights_of(q)
    for own in toks("PD-1 blockade melanoma"):
        assert w[own] == 1.0, own
    assert w["黑色素瘤"] == pytest.approx(0.5)
    assert "in" not in w  # English stopword


def test_drug_name_expands_to_brand_code_and_chinese_name():
    q = analyse("tisagenlecleucel")
    assert q.lang == "en" and q.tokens[0] == "tisagenlecleucel" and q.weights[0] == 1.0
    assert {"Kymriah", "CTL019", "替沙仑赛"} <= set(q.expansions)


def test_traditional_chinese_query_is_folded_to_simplified():
    trad, simp = analyse("細胞因子釋放綜合徵"), analyse("细胞因子释放综合征")
    assert trad.lang == simp.lang == "zh"
    assert trad.tokens == simp.tokens and trad.weights == simp.weights
    assert [t for t in trad.expansions if not CJK.search(t)] == [t for t in simp.expansions if not CJK.search(t)]
    assert trad.glosses == simp.glosses


def test_mixed_query_with_more_chinese_than_english_is_chinese():
    q = analyse("CAR-T cell therapy for 淋巴瘤")
    assert q.lang == "zh"
    w = weights_of(q)
    assert w["淋巴瘤"] == 1.0 and w[toks("therapy")[0]] == 1.0
    assert "lymphoma" in q.expansions


@pytest.mark.parametrize("text", ["的", "   ", "。，"])
def test_queries_without_search_terms_give_nothing_to_match(text):
    q = analyse(text)
    assert q.tokens == [] and q.weights == [] and q.expansions == []


@pytest.mark.parametrize(("text", "short"), [
    ("TCR-T", True), ("CAR-T neurotoxicity", True), ("the role of NK cells", True), ("PD-1 blockade in melanoma", False),
    ("cytokine release syndrome after CAR-T", False), ("Is tumour mutational burden a biomarker for PD-1?", False),
    ("CAR-T 神经毒性", True), ("肿瘤浸润淋巴细胞", True), ("CAR-T细胞治疗在复发难治性淋巴瘤中的安全性", False),
])
def test_short_queries_are_names_and_keyword_pairs(text, short):
    assert Query.parse(text).short is short


def test_english_leg_reads_the_latin_words_of_a_chinese_query():
    """Names, abbreviations and numbers a Chinese question writes in Latin letters are what English
    abstracts write too; no dictionary glosses them, so they reach the English leg as typed."""
    q = Query.parse("1.5T和3T MRI诊断骨转移时能否省略STIR序列", syntax=False)
    assert q.latin == ["1.5T", "3T", "MRI", "STIR"]
    assert q.english.split()[:4] == ["1.5T", "3T", "MRI", "STIR"]
    assert "bone metastasis" in q.english  # the glossary's terms still follow
    eponym = Query.parse("Lloyd-Davies截石位加Trendelenburg头低脚高位是否存在严重风险", syntax=False)
    assert "Lloyd-Davies" in eponym.english and "Trendelenburg" in eponym.english
    assert Query.parse("ＭＲＩ引导穿刺活检", syntax=False).latin == ["MRI"]  # full-width letters folded
    assert Query.parse("免疫检查点抑制剂", syntax=False).latin == []
    assert Query.parse("Ki-67 expression in breast cancer").english == "Ki-67 expression in breast cancer"

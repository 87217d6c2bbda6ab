"""search.highlight: the query's terms, and only those, are marked in a snippet (Chinese and English)."""

from __future__ import annotations

import pytest
from rich.text import Text

from search.highlight import rich_markup, spans
from search.query import analyse


def marked(snippet: str, query: str) -> list[str]:
    found = spans(snippet, analyse(query))
    assert found == sorted(found)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(found, found[1:], strict=False)), "overlapping spans"
    return [snippet[s:e] for s, e in found]


def test_chinese_query_in_a_chinese_snippet():
    snippet = "CAR-T细胞治疗在复发难治性淋巴瘤中的安全性良好。"
    assert marked(snippet, "CAR-T细胞治疗的安全性") == ["CAR-T", "细胞治疗", "安全性"]


def test_longest_chinese_term_wins():
    snippet = "发生细胞因子释放综合征（CRS）者用托珠单抗治疗。"
    assert marked(snippet, "细胞因子释放综合征") == ["细胞因子释放综合征", "CRS"]  # not 细胞 / 因子 inside it


def test_chinese_query_marks_its_english_glossary_terms():
    snippet = "Chimeric antigen receptor T cells (CAR-T) showed acceptable safety in lymphoma."
    assert marked(snippet, "CAR-T细胞治疗的安全性") == ["Chimeric", "antigen", "receptor", "cells", "CAR-T", "safety"]


def test_english_query_in_a_chinese_snippet_marks_glossary_translations():
    snippet = "黑色素瘤患者接受PD-1抑制剂治疗后获益。"
    assert marked(snippet, "PD-1 blockade in melanoma") == ["黑色素瘤", "PD-1", "抑制剂"]


def test_english_case_and_inflection_variants():
    snippet = "TUMOURS with a high Mutation burden; mutations in tumor cells were rare. The cat sat."
    assert marked(snippet, "tumor mutations") == ["TUMOURS", "Mutation", "mutations", "tumor"]


def test_full_width_query_matches_ascii_snippet():
    assert marked("PD-1 blockade improved survival.", "ＰＤ－１ blockade") == ["PD-1", "blockade"]


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="BUG: highlight matches words with an ASCII-only "
                   "pattern, so full-width Latin letters in a snippet (ＣＡＲ－Ｔ, ＰＤ－１, common in Chinese "
                   "journals) are never marked, although the tokenizer folds them to the query's terms")
def test_full_width_terms_in_a_snippet_are_marked():
    assert marked("ＣＡＲ－Ｔ细胞治疗", "CAR-T细胞治疗") == ["ＣＡＲ－Ｔ", "细胞治疗"]


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="BUG: a compound term matches on any of its parts "
                   "(il, pd), so IL-2 is marked for the query IL-6 and PD-L1 for PD-1")
@pytest.mark.parametrize(("query", "snippet", "expected"), [
    ("IL-6", "IL-2 and IL-6 levels rose after infusion.", ["IL-6"]),
    ("PD-1 blockade", "PD-L1 expression predicted response to PD-1 blockade.", ["PD-1", "blockade"]),
])
def test_other_molecules_sharing_a_prefix_are_not_marked(query, snippet, expected):
    assert marked(snippet, query) == expected


def test_unrelated_words_and_single_letters_stay_plain():
    assert marked("The patients were followed for a median of 12 months.", "CAR-T细胞治疗的安全性") == []
    assert marked("Relapse after CD22 therapy.", "CD19") == []


def test_no_terms_no_marks():
    assert marked("CAR-T细胞治疗。", "的") == []


def test_rich_markup_wraps_each_term_and_keeps_the_text():
    snippet = "CAR-T细胞治疗的安全性 [见表1] and safety [p<0.05]."
    markup = rich_markup(snippet, analyse("CAR-T细胞治疗的安全性"), style="bold red")
    text = Text.from_markup(markup)
    assert text.plain == snippet  # square brackets of the snippet are escaped, not read as markup
    styled = sorted((s.start, s.end) for s in text.spans if str(s.style) == "bold red")
    assert [snippet[s:e] for s, e in styled] == ["CAR-T", "细胞治疗", "安全性", "safety"]
    assert markup.count("[bold red]") == 4


def test_rich_markup_of_a_snippet_without_terms_is_the_escaped_snippet():
    from rich.markup import escape

    snippet = "No terms here [1]."
    assert rich_markup(snippet, analyse("tocilizumab")) == escape(snippet)

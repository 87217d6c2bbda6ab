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


def test_full_width_terms_in_a_snippet_are_marked():
    """Full-width Latin letters (ＣＡＲ－Ｔ, ＰＤ－１, common in Chinese journals) are folded as the tokenizer folds them."""
    assert marked("ＣＡＲ－Ｔ细胞治疗", "CAR-T细胞治疗") == ["ＣＡＲ－Ｔ", "细胞治疗"]


def test_spans_are_offsets_of_the_original_snippet():
    """Normalisation can change lengths (α → alpha, ① → 1); the marks stay on the snippet's own characters."""
    snippet = "① ＴＮＦ－α and TNF-β rose; ＰＤ－Ｌ１ was high on ＣＤ１９⁺ blasts."
    assert marked(snippet, "TNF-alpha CD19 PD-L1") == ["ＴＮＦ－α", "ＰＤ－Ｌ１", "ＣＤ１９"]


@pytest.mark.parametrize(("query", "snippet", "expected"), [
    ("IL-6", "IL-2 and IL-6 levels rose after infusion.", ["IL-6"]),
    ("PD-1 blockade", "PD-L1 expression predicted response to PD-1 blockade.", ["PD-1", "blockade"]),
])
def test_other_molecules_sharing_a_prefix_are_not_marked(query, snippet, expected):
    assert marked(snippet, query) == expected


@pytest.mark.parametrize(("query", "snippet", "expected"), [
    ("tumor", "TUMOURS and a tumour; tumor-infiltrating lymphocytes.", ["TUMOURS", "tumour"]),
    ("PD-L1", "PD-1 and PD-L1, PDL1 and PD L1 (spaced).", ["PD-L1", "PDL1", "PD L1"]),
    ("PD-1", "PD L1 and PD-1.", ["PD-1"]),  # a spaced code is one word too: its PD is not PD-1's
    ("CAR-T cells", "CAR-T and CAR T cells; CAR-NK.", ["CAR-T", "CAR T", "cells"]),  # CAR-NK is another therapy
    ("IL-6", "IL-6R, IL-12 and interleukin-2; IL-6 at 6 months.", ["IL-6"]),
    ("small cell lung cancer", "non-small-cell lung cancer", ["lung", "cancer"]),  # not "small-cell" of NSCLC
])
def test_a_word_is_marked_when_it_matches_as_a_whole(query, snippet, expected):
    """All of a word's tokens must be query tokens: inflections and spellings still meet, a shared part does not."""
    assert marked(snippet, query) == expected


@pytest.mark.parametrize(("query", "snippet", "expected"), [
    ("T cells", "T-cell lymphoma", ["T-cell"]),  # every piece is a query word: the whole compound
    ("CAR-T cells", "CAR-T-cell recipients", ["CAR-T-cell"]),
    ("HER2", "HER2-positive and HER2-negative disease", ["HER2", "HER2"]),  # an entity inside: only the entity
    ("PD-1", "PD-1-positive blasts", ["PD-1"]),
    ("PD-L1", "anti-PD-L1 agents", ["PD-L1"]),
    ("PD-L1 inhibitor", "anti-PD-L1 agents", ["anti-PD-L1"]),  # the glossary's "anti-PD-L1 antibody": whole
    ("CAR-T", "CD19-CAR-T and CAR-mediated killing", ["CAR-T", "CAR"]),
    ("EGFR", "EGFR-mutant NSCLC", ["EGFR"]),
    ("PD-1 blockade", "anti-PD-L1 treatment", []),  # anti- alone is no reason to mark it
])
def test_compounds_of_self_standing_pieces(query, snippet, expected):
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

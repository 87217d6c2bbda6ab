"""Text helpers: Traditional → Simplified folding, and the fast paths of clean/squash."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import text as T
from corpus.text import clean, squash, to_simplified


def test_to_simplified() -> None:
    assert to_simplified("腫瘤免疫治療與細胞療法") == "肿瘤免疫治疗与细胞疗法"
    assert to_simplified("乳癌患者的化學治療後遺症") == "乳癌患者的化学治疗后遗症"
    assert to_simplified("肿瘤免疫治疗") == "肿瘤免疫治疗"  # already Simplified: unchanged
    assert to_simplified("PD-1 CAR-T therapy") == "PD-1 CAR-T therapy"
    assert to_simplified("") == ""


def _old_clean(text: str | None) -> str:
    """The implementation before the fast paths, kept as the reference."""
    if not text:
        return ""
    text = T._TAGS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = T._WS.sub(" ", text)
    text = T._NL.sub("\n", text)
    return text.strip()


def _old_squash(text: str) -> str:
    return re.sub(r"\s+", " ", _old_clean(text)).strip()


_TEXT = st.lists(
    st.sampled_from(list("ab Z9.\t\n\r<>/i\u00a0\u3000\x1c\x0b癌症e\u0301") + ["<i>", "</sup>", "  "]),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT | st.text(max_size=40))
def test_fast_paths_match_reference(s: str) -> None:
    assert clean(s) == _old_clean(s)
    assert squash(s) == _old_squash(s)


def test_a_half_width_full_stop_between_chinese_characters_ends_a_sentence():
    text = "目的 探讨血浆置换在儿童危重症中应用的疗效及安全性.方法 经股静脉建立血管通路,共3.5次治疗.结果 全部患儿均好转。"
    assert T.split_sentences(text, "zh") == [
        "目的 探讨血浆置换在儿童危重症中应用的疗效及安全性.", "方法 经股静脉建立血管通路,共3.5次治疗.",
        "结果 全部患儿均好转。"]
    assert T.split_sentences("CAR-T therapy (n=3.5).Results", "en") == ["CAR-T therapy (n=3.5).Results"]

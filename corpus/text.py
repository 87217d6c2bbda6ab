"""Text normalisation, language detection and sentence splitting.

Chinese exports mix full- and half-width punctuation and put non-breaking or ideographic
spaces inside labels ("摘\u00a0\u00a0要"); PubMed abstracts carry inline markup. Everything
that reaches the index passes through `clean` first so that the same text always looks the same.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# CJK ideographs, the one definition every module uses: the Unified Ideographs block, Extension A
# and the Compatibility Ideographs. Not kana, hangul, CJK punctuation (。，) or full-width forms.
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # for use inside a [...] character class
CJK = re.compile(f"[{CJK_CLASS}]")  # one ideograph: CJK.search(text) says whether text has any
CJK_RUNS = re.compile(f"([{CJK_CLASS}]+)")  # .findall: the runs; .split: odd pieces are the runs
_LATIN = re.compile(r"[A-Za-z]")
_TAGS = re.compile(r"</?(?:i|b|u|em|strong|sup|sub|sc|italic|bold)\b[^>]*>", re.I)
_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_NL = re.compile(r"\s*\n\s*")


def clean(text: str | None) -> str:
    """Unicode-normalise and tidy one field: strip inline tags, unify spaces, trim."""
    if not text:
        return ""
    if "<" in text:
        text = _TAGS.sub("", text)
    if not text.isascii():  # ASCII is already NFC and has no exotic spaces: skip the slow steps
        text = unicodedata.normalize("NFC", text)
        text = _WS.sub(" ", text)
    elif "\t" in text or "  " in text:
        text = _WS.sub(" ", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" in text:
        text = _NL.sub("\n", text)
    return text.strip()


def squash(text: str) -> str:
    """Collapse all whitespace (newlines too) to single spaces: for one-line fields."""
    if not text:
        return ""
    if text.isascii() and "<" not in text:
        # Fast path (most PubMed text): str.split() splits on exactly what re's \s matches.
        return " ".join(text.split())
    return " ".join(clean(text).split())


def to_simplified(text: str) -> str:
    """Traditional Chinese → Simplified, for matching only (records keep their original text).

    Taiwanese and Hong Kong journals write 腫瘤/癌症治療 where mainland ones write 肿瘤/癌症治疗;
    queries and tokens are folded to Simplified so both find each other. OpenCC's phrase-level
    "t2s" dictionary handles one-to-many characters (乾/幹 → 干, 後/后) better than a
    character table. Text without CJK is returned unchanged without calling the converter.
    """
    if not text or not CJK.search(text):
        return text
    return _t2s().convert(text)


@functools.cache
def _t2s():  # loaded on first use: building the converter costs ~20 ms
    import opencc

    return opencc.OpenCC("t2s")


def detect_lang(text: str) -> str:
    """'zh' when a meaningful share of the letters are CJK ideographs, else 'en'.

    Chinese abstracts are full of Latin tokens (CAR-T, PD-L1, IL-6), so the test is a ratio,
    not "contains any CJK character". One ideograph carries about as much as a short word.
    """
    cjk = len(CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    if cjk == 0:
        return "en"
    return "zh" if cjk >= latin_words * 0.5 else "en"


# A sentence ends at Chinese 。！？；(and their half-width forms in Chinese text; a half-width
# full stop only between Chinese characters, as many CNKI and CSL abstracts write it, so that
# 3.5 stays a number), or at English . ! ? ; followed by a space and an upper-case letter, digit
# or CJK char.
_ZH_END = re.compile(rf"(?<=[。！？；!?;])|(?<=[{CJK_CLASS}）)]\.)(?=[{CJK_CLASS}])")
_EN_END = re.compile(
    rf"(?<=[.!?;])\s+(?=[A-Z0-9(\[\"'{CJK_CLASS}])"
    r"|(?<=[。！？；])"
)
# Abbreviations after which a period does not end an English sentence.
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|et al|vs|Fig|Figs|No|approx|ca|cf|Dr|Mr|Ms|Inc|Ltd|St)\.$", re.I)


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    """Split a paragraph into sentences; for Chinese on 。！？；, for English on . ! ? ;.

    Lines are split first: structured abstracts keep one labelled section per line.
    Fragments shorter than a few characters are glued to their neighbour, so a
    sentence never ends up as "1." or "(A)".
    """
    out: list[str] = []
    for line in clean(text).split("\n"):
        line = line.strip()
        if not line:
            continue
        lang_here = lang or detect_lang(line)
        zh = lang_here == "zh"
        pieces = _ZH_END.split(line) if zh else _EN_END.split(line)
        glue, shortest = ("", 6) if zh else (" ", 12)  # Chinese: no spaces, more meaning per character
        buf = ""
        for piece in pieces:
            piece = piece.strip()
            if not piece:
                continue
            buf = f"{buf}{glue}{piece}" if buf else piece
            if not zh and _ABBREV.search(buf):
                continue
            if len(buf) < shortest:
                continue
            out.append(buf)
            buf = ""
        if buf:
            if out and len(buf) < shortest:
                out[-1] = f"{out[-1]}{glue}{buf}"
            else:
                out.append(buf)
    return out

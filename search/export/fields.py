"""What every export format asks of a record: its languages in order, its language tag, its pages split.

The first language is the paper's own: Chinese when the record has Chinese text (a Chinese journal
with an English translation, or a PubMed record of one with its vernacular title), else English.
Formats with one main title and one translated title put the first language in the main field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from corpus.record import Record

# The tags Zotero's Chinese citation styles switch on (GB/T 7714 prints 等 or et al. by them); the
# zotero-chinese style notes ask for zh-CN / en-US, not "Chinese" / "English".
LANGUAGE_TAGS = {"zh": "zh-CN", "en": "en-US"}


def lang_order(record: Record) -> tuple[str, str]:
    """The paper's own language first, then the other."""
    return ("zh", "en") if "zh" in record.langs else ("en", "zh")


def first_and_second(texts: Mapping[str, str], order: tuple[str, str]) -> tuple[str | None, str | None]:
    """The text of the first language that has one, and the other language's (None where absent)."""
    present = [texts[lang] for lang in order if texts.get(lang)]
    return (present[0] if present else None, present[1] if len(present) > 1 else None)


def language_tag(record: Record) -> str | None:
    return LANGUAGE_TAGS[lang_order(record)[0]] if record.langs else None


def joined_keywords(keywords: Sequence[str]) -> str | None:
    """Keywords in one field, "; "-joined: MeSH headings hold commas ("Carcinoma, Non-Small-Cell Lung"),
    so our readers split such a field on ';' when it has one. A lone keyword with a comma gets a
    closing ';' for the same reason."""
    if not keywords:
        return None
    return "; ".join(keywords) + (";" if len(keywords) == 1 and "," in keywords[0] else "")


_RANGE = re.compile(r"([^\s-]+)-([^\s-]+)")


def split_pages(pages: str | None) -> tuple[str | None, str | None]:
    """First and last page of a plain range ("168-170"); anything else ("e123", "94-8, 93") whole, first."""
    m = _RANGE.fullmatch(pages or "")
    return (m.group(1), m.group(2)) if m else (pages, None)

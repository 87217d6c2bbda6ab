"""Bilingual oncology glossary: query expansion across languages and concept tagging.

The glossary (`index/data/oncology_glossary.tsv`) has one concept per row::

    concept_id  category  zh_terms (|-separated)  en_terms (|-separated)

`Glossary.expand(query)` finds the concepts named in a query and returns the other
language's terms (then the same language's synonyms and abbreviations), for BM25 query
expansion: "CAR-T细胞治疗淋巴瘤" → ["CAR-T", ..., "chimeric antigen receptor", ..., "lymphoma"].
`Glossary.tags(...)` returns {category: [concept_id, ...]} for a record.

Matching
--------
* Chinese: longest match, scanning left to right, on a key string that is NFKC-normalised,
  converted to Simplified, lower-cased, with whitespace and hyphens removed (so "CAR-T 细胞",
  "CAR T细胞" and "car-t細胞" all meet the term "CAR-T细胞"). Candidates are looked up by their
  first character: one dict lookup per character.
* English (and Latin runs inside Chinese text): the text becomes a token sequence with the
  tokenizer's normalisation (NFKC, Greek spelled out, lower case, British → American, Snowball
  stem; stop words are kept so "head and neck" stays a phrase), hyphenated words split into
  parts. Each term is indexed both split and joined ("PD-L1" → ("pd", "l1") and ("pdl1",)),
  so "PD-L1", "PD L1" and "PDL1" all match. Longest match by first token.

`python -m index.lexical.glossary --write-userdict` regenerates the jieba user dictionary from the
glossary's Chinese terms plus `index/data/zh_extra_terms.txt`.
"""

from __future__ import annotations

import argparse
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from corpus.text import CJK, CJK_CLASS, CJK_RUNS, to_simplified
from index.lexical import tokenize as _tok
from index.storage.atomic import atomic_write_text

DATA_DIR = _tok.DATA_DIR
GLOSSARY_PATH = DATA_DIR / "oncology_glossary.tsv"
EXTRA_TERMS_PATH = DATA_DIR / "zh_extra_terms.txt"

_ZH_STRIP = re.compile(r"[\s\-]+")
_PURE_CJK = re.compile(f"^[{CJK_CLASS}]+$")


@dataclass(frozen=True)
class Concept:
    id: str
    category: str
    zh: tuple[str, ...]
    en: tuple[str, ...]


# --- normalisation shared by terms and texts --------------------------------------------------

_STEM_KEEP: dict[str, str] = {}


def _stem_keep(word: str) -> str:
    """Like the tokenizer's stem, but stop words are kept (raw) instead of dropped."""
    tok = _STEM_KEEP.get(word)
    if tok is None:
        tok = word if word in _tok.EN_STOPWORDS else _tok.stem(word)
        _STEM_KEEP[word] = tok
    return tok


def _en_tokens(text: str, joined: bool = False) -> list[str]:
    """Token sequence of a non-CJK text; hyphenated words split into parts (or joined)."""
    out: list[str] = []
    for comp in _tok.COMPOUND.findall(text.lower()):
        if "-" in comp:
            if joined:
                out.append(_stem_keep(comp.replace("-", "")))
            else:
                out.extend(_stem_keep(p) for p in comp.split("-"))
        else:
            out.append(_stem_keep(comp))
    return out


def _zh_key(text: str) -> str:
    return _ZH_STRIP.sub("", to_simplified(_tok.normalise(text)).lower())


class Glossary:
    def __init__(self, concepts: list[Concept]):
        self.concepts: dict[str, Concept] = {c.id: c for c in concepts}
        # zh: first char → [(key, concept_id)] longest first
        zh_index: dict[str, list[tuple[str, str]]] = {}
        # en: first token → [(token tuple, concept_id)] longest first
        en_index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for c in concepts:
            for term in c.zh:
                if CJK.search(term):
                    key = _zh_key(term)
                    zh_index.setdefault(key[0], []).append((key, c.id))
            for term in c.en + tuple(t for t in c.zh if not CJK.search(t)):
                norm = _tok.normalise(term)
                for joined in (False, True):
                    key = tuple(_en_tokens(norm, joined))
                    if key:
                        en_index.setdefault(key[0], []).append((key, c.id))
        for d in (zh_index, en_index):
            for k, lst in d.items():
                d[k] = sorted(set(lst), key=lambda kc: (-len(kc[0]), kc[1]))
        self._zh = zh_index
        self._en = en_index

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> Glossary:
        path = Path(path) if path else GLOSSARY_PATH
        concepts = []
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                concepts.append(
                    Concept(
                        id=row["concept_id"].strip(),
                        category=row["category"].strip(),
                        zh=tuple(t.strip() for t in row["zh_terms"].split("|") if t.strip()),
                        en=tuple(t.strip() for t in row["en_terms"].split("|") if t.strip()),
                    )
                )
        return cls(concepts)

    def __len__(self) -> int:
        return len(self.concepts)

    # --- matching -----------------------------------------------------------------------------

    def _find_zh(self, text: str, found: dict[str, None]) -> None:
        key = _zh_key(text)
        index = self._zh
        i, n = 0, len(key)
        while i < n:
            cands = index.get(key[i])
            if cands:
                for term, cid in cands:
                    if key.startswith(term, i):
                        found[cid] = None
                        i += len(term)
                        break
                else:
                    i += 1
            else:
                i += 1

    def _find_en(self, text: str, found: dict[str, None]) -> None:
        toks = _en_tokens(text)
        index = self._en
        i, n = 0, len(toks)
        while i < n:
            cands = index.get(toks[i])
            if cands:
                for term, cid in cands:
                    m = len(term)
                    if m == 1 or tuple(toks[i : i + m]) == term:
                        found[cid] = None
                        i += m
                        break
                else:
                    i += 1
            else:
                i += 1

    def find(self, text: str) -> list[str]:
        """Concept ids named in `text` (either language or mixed), in order of first mention."""
        found: dict[str, None] = {}
        if not text:
            return []
        text = _tok.normalise(text)
        if CJK.search(text):
            self._find_zh(text, found)
            for i, run in enumerate(CJK_RUNS.split(text)):
                if i % 2 == 0 and run.strip():
                    self._find_en(run, found)
        else:
            self._find_en(text, found)
        return list(found)

    def expand(self, query: str, lang: str | None = None, same_lang: bool = True) -> list[str]:
        """Terms to add to `query`: the other language's terms for every concept found, then
        (with `same_lang`) same-language synonyms/abbreviations. Terms already in the query and
        duplicates (case-insensitive) are left out."""
        if lang is None:
            lang = "zh" if CJK.search(query or "") else "en"
        q = query.lower()
        seen: set[str] = set()
        out: list[str] = []
        concepts = [self.concepts[cid] for cid in self.find(query)]
        groups = [c.en if lang == "zh" else c.zh for c in concepts]
        if same_lang:
            groups += [c.zh if lang == "zh" else c.en for c in concepts]
        for terms in groups:
            for t in terms:
                low = t.lower()
                if low in seen or low in q:
                    continue
                seen.add(low)
                out.append(t)
        return out

    def tags(self, record_text_by_lang: dict[str, str]) -> dict[str, list[str]]:
        """{category: sorted concept ids} for the texts of one record (any languages)."""
        found: dict[str, None] = {}
        for text in record_text_by_lang.values():
            for cid in self.find(text or ""):
                found[cid] = None
        out: dict[str, list[str]] = {}
        for cid in found:
            out.setdefault(self.concepts[cid].category, []).append(cid)
        return {cat: sorted(ids) for cat, ids in sorted(out.items())}

    # --- jieba user dictionary ----------------------------------------------------------------

    def zh_userdict_terms(self) -> list[str]:
        """Pure-CJK Chinese terms (simplified): those jieba must keep as one word."""
        terms = {to_simplified(t) for c in self.concepts.values() for t in c.zh}
        return sorted(t for t in terms if _PURE_CJK.match(t))


def _read_extra_terms(path: Path = EXTRA_TERMS_PATH) -> list[str]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(to_simplified(line.split()[0]))
    return out


def build_userdict(glossary: Glossary | None = None) -> list[tuple[str, int]]:
    """(word, freq) for the jieba user dictionary: glossary zh terms + extra terms, each with a
    frequency just high enough that jieba keeps it whole (checked against the full dictionary)."""
    glossary = glossary or Glossary.load()
    words = sorted(set(glossary.zh_userdict_terms()) | {w for w in _read_extra_terms() if _PURE_CJK.match(w)})
    tk = _tok.new_jieba_tokenizer(user_dictionary=False)
    # Floor for long words: a bare "just enough" frequency keeps a word whole on its own but
    # lets a neighbouring dictionary word steal its edge in running text.
    freqs = {w: max(tk.suggest_freq(w, tune=False), 300 if len(w) >= 4 else 3) for w in words}
    for _ in range(8):  # raise until every word survives with all the others loaded
        for w, f in freqs.items():
            tk.add_word(w, f)
        bad = [w for w in words if tk.lcut(w, HMM=True) != [w]]
        if not bad:
            break
        for w in bad:
            freqs[w] = freqs[w] * 2 + tk.suggest_freq(w, tune=False)
    return [(w, freqs[w]) for w in words]


def write_userdict(path: Path = _tok.USERDICT_PATH) -> int:
    entries = build_userdict()
    atomic_write_text(path, "".join(f"{w} {f}\n" for w, f in entries))  # read by every tokenizing process
    return len(entries)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write-userdict", action="store_true", help="regenerate index/data/jieba_userdict.txt")
    ap.add_argument("--expand", metavar="QUERY")
    args = ap.parse_args(argv)
    if args.write_userdict:
        print(f"wrote {write_userdict()} words to {_tok.USERDICT_PATH}")
    if args.expand:
        print(Glossary.load().expand(args.expand))


if __name__ == "__main__":
    main()

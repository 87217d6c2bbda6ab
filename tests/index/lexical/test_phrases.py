"""Phrases and excluded words in folded text: the tokenizer's normalisation, Latin word boundaries,
Chinese by substring."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.text import to_simplified
from index.lexical.phrases import WORDS, Phrase, WordIndex, fold
from index.lexical.tokenize import normalise

SAMPLE = Path(__file__).resolve().parents[3] / "corpus" / "sample"


def found(phrase: str, text: str) -> bool:
    return Phrase(phrase).in_text(fold(text))


def test_fold_is_the_tokenizers_normalisation_then_simplified_and_lower_case():
    assert fold("ＣＡＲ－Ｔ細胞治療 TNF-α") == "car-t细胞治疗 tnf-alpha"
    assert fold("Anti–PD‑1") == normalise("Anti–PD‑1").lower() == "anti-pd-1"  # en dash, non-breaking hyphen
    assert fold("Plain ASCII, Unchanged.") == "plain ascii, unchanged."
    assert fold("cafe\u0301 ＩＬ－６") == "café il-6"  # a combining accent joins the letter before it


def test_fold_equals_normalising_whole_texts_on_real_records(shared):
    """`fold` normalises only the non-ASCII stretches; on real text in both languages (the bundled
    PubMed sample, the Chinese CSL sample, WMT18's Chinese sentences with Traditional ones among
    them) that is exactly the whole-text composition."""
    from corpus import read_file

    texts = [t for path in sorted(SAMPLE.iterdir()) if path.suffix in (".gz", ".jsonl", ".txt")
             for r in read_file(path).records for t in (*r.title.values(), *r.abstract.values())]
    texts += (shared / "bench/wmt18-biomed-zh-en/wmt18.medline.zh-en.zh").read_text(encoding="utf-8").splitlines()
    assert sum(not t.isascii() for t in texts) > 1000 and any(to_simplified(t) != t for t in texts)
    assert [fold(t) for t in texts] == [to_simplified(normalise(t)).lower() for t in texts]


@pytest.mark.parametrize(("phrase", "text", "expected"), [
    ("PD-1", "PD-10 expression", False),  # a digit continues the code
    ("PD-1", "anti-PD-1 antibodies", True),  # a hyphen is a boundary
    ("PD-1", "PD-1/PD-L1 axis", True),
    ("mouse", "a mousetrap design", False),
    ("mouse", "in a mouse model", True),
    ("mouse", "in mice", False),  # no stemming
    ("CAR-T", "CAR-T细胞治疗", True),  # a Chinese character is a boundary for a Latin word
    ("car t", "CAR T-cell therapy", True),
    ("cytokine release syndrome", "Severe Cytokine Release Syndrome (CRS)", True),
    ("细胞治疗", "免疫细胞治疗的安全性", True),  # Chinese: substring
    ("細胞治療", "免疫细胞治疗的安全性", True),  # Traditional query, Simplified text
    ("细胞治疗", "免疫細胞治療的安全性", True),  # and the reverse
    ("ＴＮＦ－α", "TNF-alpha levels", True),  # full-width and Greek
    ("il-6", "IL-6R blockade", False),
])
def test_phrase_matching(phrase, text, expected):
    assert found(phrase, text) is expected


def test_spans_find_every_whole_word_occurrence():
    text = fold("PD-1, PD-10 and anti-PD-1")
    assert [text[s:e] for s, e in Phrase("pd-1").spans(text)] == ["pd-1", "pd-1"]
    assert Phrase("pd-1").spans(text)[1][0] == text.index("anti-") + 5


def test_the_word_index_never_misses_a_text_holding_the_phrase():
    """Phrases cut from real abstracts at every place (mid-word starts and ends included, so the
    boundaries matter): the index's candidates hold every text the phrase is in, and leave most out."""
    from corpus import read_file

    records = read_file(SAMPLE / "pubmed21n1298-oncology.xml.gz").records[:400]
    texts = [fold("\n".join((*r.title.values(), *r.abstract.values()))) for r in records]
    index = WordIndex(texts)
    phrases = {"pd-1", "car-t", "mouse", "cytokine release syndrome", "il-6", "t cell", "1", "(ci", "95%"}
    for text in texts[::20]:
        words = text.split()
        for i in range(0, len(words) - 3, 7):
            phrases.add(" ".join(words[i:i + 1 + i % 3]))
    narrowed = 0
    for phrase in map(Phrase, sorted(phrases)):
        truth = [i for i, text in enumerate(texts) if phrase.in_text(text)]
        candidates = index.candidates(phrase)
        if candidates is None:
            assert not WORDS.search(phrase.folded)
            continue
        assert set(truth) <= set(candidates.tolist()), phrase.text
        narrowed += len(candidates) < len(texts) / 2
    assert len(phrases) > 150 and narrowed > len(phrases) * 0.8
    assert index.candidates(Phrase("免疫细胞")) is None  # Chinese: every text may hold it

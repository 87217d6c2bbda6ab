"""The one CJK definition (corpus.text.CJK_CLASS) and the evidence that widening the narrower
copies it replaced changed nothing on real text.

Before, three places used narrower or different ranges than corpus.text and index.lexical.tokenize
(Unified Ideographs + Extension A + Compatibility Ideographs):

- corpus.text's English sentence split: a sentence may start with ``\\u4e00-\\u9fff`` only;
- search.highlight's "is this query term Chinese": ``\\u4e00-\\u9fff`` only;
- search.translate's Chinese runs: ``\\u3400-\\u9fff``, which also took in the Yijing hexagram
  symbols (U+4DC0-4DFF, not ideographs) and left out the Compatibility Ideographs.

The old and new patterns agree on every character outside U+3400-4DFF and U+F900-FAFF, so a text
with none of those characters is split, tokenized, highlighted and glossed exactly as before.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from pathlib import Path

import pytest

from corpus.text import CJK, CJK_CLASS, CJK_RUNS, clean, split_sentences, to_simplified

ROOT = Path(__file__).resolve().parents[2]
# Where the old ranges and CJK_CLASS differ: Extension A, the hexagrams, the Compatibility block.
CHANGED = re.compile("[\u3400-\u4dff\uf900-\ufaff]")
OLD_EN_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9(\[\"'\u4e00-\u9fff])|(?<=[。！？；])")
OLD_HIGHLIGHT = re.compile(r"[\u4e00-\u9fff]")
OLD_TRANSLATE_RUN = re.compile(r"[\u3400-\u9fff]+")


def test_cjk_class_is_the_three_ideograph_blocks():
    for ch in "癌一龥\u9fff\u3400\u4dbf\uf900\ufa0e\ufaff":
        assert CJK.fullmatch(ch), hex(ord(ch))
    for ch in "a Z 9 。，！：（ \u3000 ア ん 가 Ａ \u4dc0 \u4dff \ua000 \U00020000".split(" ") + [" "]:
        assert not CJK.search(ch), hex(ord(ch))
    assert re.fullmatch(f"[{CJK_CLASS}]+", "细胞治疗")


def test_cjk_runs_split_and_find():
    text = "CAR-T细胞治疗复发难治性B细胞淋巴瘤"
    assert CJK_RUNS.findall(text) == ["细胞治疗复发难治性", "细胞淋巴瘤"]
    assert CJK_RUNS.split(text) == ["CAR-T", "细胞治疗复发难治性", "B", "细胞淋巴瘤", ""]
    assert CJK_RUNS.findall("PD-1 inhibitors") == []


def test_sentence_may_start_with_any_ideograph():
    # The case the narrower class missed: a sentence after ". " that starts with an Extension A ideograph.
    assert split_sentences("The first sentence is here. \u3400 is the second one here.", "en") == [
        "The first sentence is here.", "\u3400 is the second one here."]


def test_no_module_keeps_its_own_cjk_range():
    """The ranges live in corpus/text.py only; everything else imports CJK, CJK_CLASS or CJK_RUNS."""
    owners = []
    for folder in ("corpus", "index", "search"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            src = path.read_text(encoding="utf-8")
            if any(s in src for s in ("\\u4e00", "\\u3400", "\\uf900", "\u4e00-", "\u3400-")):
                owners.append(str(path.relative_to(ROOT)))
    assert owners == ["corpus/text.py"]


def _texts(shared: Path) -> dict[str, str]:
    """Every text of the real data sets, by file: the bundled sample, the benchmarks' corpora and queries."""
    out = {}
    for path in sorted((ROOT / "corpus" / "sample").glob("*.xml.gz")):
        out[path.name] = gzip.decompress(path.read_bytes()).decode("utf-8")  # no &#...; references in it
    for path in sorted((ROOT / "corpus" / "sample").glob("*.txt")):
        out[path.name] = path.read_text(encoding="utf-8")
    bench = shared / "bench"
    for path in [*sorted(bench.glob("*/*.jsonl")), ROOT / "bench" / "pubmedqa-zh" / "queries.jsonl"]:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out[str(path.relative_to(path.parents[1]))] = "\n".join(
            v for row in rows for v in row.values() if isinstance(v, str))
    for path in sorted((bench / "wmt18-biomed-zh-en").glob("*.zh")):
        out[path.name] = path.read_text(encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def real_texts(shared) -> dict[str, str]:
    texts = _texts(shared)
    names = set(texts)
    assert {"pubmed21n1298-oncology.xml.gz", "pubmedqa/corpus.jsonl", "liveqa-dev/corpus.jsonl",
            "wmt18.medline.zh-en.zh", "wmt18.medline.en-zh.zh", "pubmedqa-zh/queries.jsonl"} <= names, names
    return texts


def test_real_text_has_no_character_where_old_and_new_ranges_differ(real_texts):
    """As read, and after each normalisation a code path applies before testing for CJK."""
    assert sum(len(CJK.findall(t)) for t in real_texts.values()) > 20_000  # the Chinese sets are in
    for name, text in real_texts.items():
        nfkc = unicodedata.normalize("NFKC", text)
        for form, variant in (("raw", text), ("NFC", unicodedata.normalize("NFC", text)), ("NFKC", nfkc),
                              ("t2s", to_simplified(text)), ("NFKC+t2s", to_simplified(nfkc))):
            found = sorted(set(CHANGED.findall(variant)))
            assert not found, f"{name} ({form}): {[hex(ord(c)) for c in found]}"


def test_chinese_real_text_behaves_as_with_the_old_ranges(real_texts):
    """Directly, on the texts with Chinese: sentence splits, highlight terms and translate's runs."""
    import corpus.text as text_module

    zh = [line for t in real_texts.values() for line in t.splitlines() if CJK.search(line)]
    assert len(zh) > 400
    new = [split_sentences(line) for line in zh]
    saved = text_module._EN_END
    text_module._EN_END = OLD_EN_END
    try:
        old = [split_sentences(line) for line in zh]
    finally:
        text_module._EN_END = saved
    assert new == old
    for line in zh:
        simple = to_simplified(line)
        assert CJK_RUNS.findall(simple) == OLD_TRANSLATE_RUN.findall(simple)
        for word in clean(line).split():
            assert bool(CJK.search(word)) == bool(OLD_HIGHLIGHT.search(word))

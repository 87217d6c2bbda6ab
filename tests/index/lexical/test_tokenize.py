"""BM25 tokenizer: protected Latin codes in Chinese, hyphen/space variants, stemming, stop
words, Traditional → Simplified, user dictionary."""

import pytest

from index.lexical.tokenize import jieba_tokenizer, tokenize


def _matches(query: str, doc: str) -> bool:
    return bool(set(tokenize(query)) & set(tokenize(doc)))


@pytest.mark.parametrize(
    "code, joined",
    [("CAR-T", "cart"), ("PD-L1", "pdl1"), ("CD19", "cd19"), ("IL-6", "il6"), ("CTLA-4", "ctla4"),
     ("4-1BB", "41bb"), ("CD3ζ", "cd3zeta")],
)  # fmt: skip
def test_latin_codes_survive_inside_chinese(code, joined):
    toks = tokenize(f"靶向{code}的细胞治疗")
    assert joined in toks
    # The code's tokens appear exactly as they do for the code alone, and nothing is mangled
    # into a CJK token (jieba issue #959).
    alone = tokenize(code)
    assert toks[1 : 1 + len(alone)] == alone  # right after the single token 靶向
    assert not any(code.lower()[:2] in t and any("\u4e00" <= c <= "\u9fff" for c in t) for t in toks)


def test_mixed_sentence_exact_tokens():
    toks = tokenize("PD-L1抑制剂联合化疗治疗IL-6升高患者")
    assert toks[:3] == ["pdl1", "pd", "l1"]
    assert "il6" in toks and "抑制剂" in toks and "化疗" in toks and "患者" in toks


@pytest.mark.parametrize("query", ["PD-L1", "PD L1", "PDL1", "pd-l1", "ＰＤ－Ｌ１"])
@pytest.mark.parametrize("doc", ["PD-L1 expression", "PDL1 expression", "PD L1 expression", "PD‐L1 表达"])
def test_pd_l1_forms_all_match(query, doc):
    assert "pdl1" in tokenize(query)
    assert "pdl1" in tokenize(doc)


def test_spaced_join_is_selective():
    assert "pdl1" in tokenize("PD L1")
    assert "il6" in tokenize("IL 6")
    assert "cart" in tokenize("CAR T cells")
    # Ordinary words followed by numbers or capitals are not glued together.
    assert "in2010" not in tokenize("in 2010")
    assert not any(t.startswith("of") for t in tokenize("EFFECT OF CAR"))


def test_hyphenated_compound_parts_and_inner_pairs():
    toks = tokenize("anti-PD-1 antibody")
    assert {"antipd1", "anti", "pd", "1", "pd1"} <= set(toks)
    assert _matches("PD-1", "anti-PD-1 antibody")


def test_stemming_and_stop_words():
    assert tokenize("The patients were treated with the therapies") == ["patient", "treat", "therapi"]
    assert tokenize("lymphomas") == tokenize("lymphoma")
    assert tokenize("tumour") == tokenize("tumors")
    assert tokenize("phase I trial") == ["phase", "i", "trial"]  # Roman numeral kept
    assert "t" in tokenize("T cells")


def test_greek_letters_spelled_out():
    assert "tnfalpha" in tokenize("TNF-α")
    assert "tnfalpha" in tokenize("TNF-alpha")
    assert "ifngamma" in tokenize("IFN-γ")


def test_traditional_matches_simplified():
    assert tokenize("腫瘤免疫細胞治療") == tokenize("肿瘤免疫细胞治疗")
    assert tokenize("嵌合抗原受體T細胞") == tokenize("嵌合抗原受体T细胞")


def test_chinese_stop_words_and_punctuation_dropped():
    toks = tokenize("本研究的结果，是否提示免疫治疗有效？")
    assert "的" not in toks and "是否" not in toks and "，" not in toks and "？" not in toks
    assert "免疫治疗" in toks


@pytest.mark.parametrize(
    "term",
    ["嵌合抗原受体", "肿瘤浸润淋巴细胞", "细胞因子释放综合征", "免疫检查点抑制剂", "自然杀伤细胞",
     "细胞因子诱导的杀伤细胞", "程序性死亡受体", "替雷利珠单抗", "帕博利珠单抗", "纳武利尤单抗",
     "卡瑞利珠单抗", "信迪利单抗", "特瑞普利单抗"],
)  # fmt: skip
def test_userdict_terms_are_one_word(term):
    assert jieba_tokenizer().lcut(term) == [term]
    assert tokenize(term)[0] == term


def test_userdict_terms_whole_in_context():
    toks = tokenize("替雷利珠单抗联合化疗治疗晚期食管癌，细胞因子释放综合征发生率低")
    assert "替雷利珠单抗" in toks and "细胞因子释放综合征" in toks and "食管癌" in toks


def test_long_words_findable_by_subwords():
    assert _matches("细胞治疗", "免疫细胞治疗")
    assert _matches("肺癌", "非小细胞肺癌")
    assert not _matches("胃癌", "非小细胞肺癌")


def test_empty_and_lang_hint():
    assert tokenize("") == []
    assert tokenize("   ") == []
    assert tokenize("CAR-T therapy", lang="en") == tokenize("CAR-T therapy")


def test_lexical_scores_equal_bm25s(tmp_path):
    """Our numpy reader of the saved BM25 arrays gives bm25s's own scores (weights included)."""
    import bm25s
    import numpy as np

    from corpus.record import Record
    from index.lexical.bm25 import FOLDER, LexicalIndex, record_tokens, write_lexical

    records = [
        Record(id="a", title={"en": "PD-L1 blockade in melanoma"}, abstract={"en": "Anti-PD-1 therapy for melanoma."}),
        Record(id="b", title={"zh": "CAR-T细胞治疗淋巴瘤"}, abstract={"zh": "嵌合抗原受体T细胞治疗复发淋巴瘤的安全性。"}),
        Record(id="c", title={"en": "Melanoma melanoma melanoma"},
               abstract={"en": "Cytokine release syndrome after CAR T."}),
    ]
    write_lexical(tmp_path, records)
    ours = LexicalIndex(tmp_path)
    theirs = bm25s.BM25.load(str(tmp_path / FOLDER), mmap=True)
    assert ours.num_docs == 3
    tokens = list(dict.fromkeys(record_tokens(records[0]) + record_tokens(records[1]) + ["melanoma", "nosuchterm"]))
    for toks in (tokens, ["melanoma"], ["nosuchterm"], []):
        ids = [ours.vocab[t] for t in toks if t in ours.vocab]
        expected = theirs.get_scores_from_ids(ids) if ids else np.zeros(3)
        assert np.allclose(ours.scores(toks), expected, atol=1e-6)
    weights = [0.5 if i % 2 else 1.0 for i in range(len(tokens))]
    expected = sum(w * theirs.get_scores_from_ids([ours.vocab[t]])
                   for t, w in zip(tokens, weights, strict=True) if t in ours.vocab)
    assert np.allclose(ours.scores(tokens, weights), expected, atol=1e-5)
    assert ours.scores(["melanoma"]).argmax() == 2
    # the vocabulary is read from its SQLite table, and says the same as bm25s's JSON
    from index.storage.disk_table import DiskTable

    assert isinstance(ours.vocab, DiskTable)
    assert dict(ours.vocab.items()) == theirs.vocab_dict
    (tmp_path / FOLDER / "vocab.sqlite").unlink()  # a generation written before the table: JSON as before
    older = LexicalIndex(tmp_path)
    assert isinstance(older.vocab, dict) and np.allclose(older.scores(tokens), ours.scores(tokens))

from corpus.record import Record
from corpus.text import split_sentences
from index.chunking import chunk_record, doc_text


def test_chinese_sentences_split_on_full_stops_and_semicolons():
    text = "CAR-T细胞治疗取得了显著疗效。但细胞因子释放综合征仍常见；神经毒性也需关注！如何预防？"
    assert split_sentences(text, "zh") == [
        "CAR-T细胞治疗取得了显著疗效。", "但细胞因子释放综合征仍常见；", "神经毒性也需关注！如何预防？",
    ]


def test_english_sentences_keep_abbreviations_and_numbers():
    text = "Patients received 2.5 mg/kg (e.g. in cohort A). Responses were durable. CRS occurred in 12%."
    assert split_sentences(text, "en") == [
        "Patients received 2.5 mg/kg (e.g. in cohort A).", "Responses were durable.", "CRS occurred in 12%.",
    ]


def test_structured_abstract_sections_stay_separate():
    text = "BACKGROUND: CAR-T cells work.\nMETHODS: We reviewed 20 trials.\nRESULTS: CRS was common."
    assert len(split_sentences(text, "en")) == 3


def test_bilingual_record_gives_doc_and_sentences_per_language():
    abstract = {"zh": "第一句话很长很长很长。第二句话也很长很长。", "en": "First sentence is here. Second one too."}
    rec = Record(id="x", title={"zh": "免疫细胞治疗", "en": "Immune cell therapy"}, abstract=abstract)
    docs, sents = chunk_record(rec)
    assert [d.lang for d in docs] == ["zh", "en"]
    assert [(s.lang, s.position) for s in sents] == [("zh", 0), ("zh", 1), ("zh", 2), ("en", 0), ("en", 1), ("en", 2)]
    assert sents[0].text == "免疫细胞治疗"  # position 0 is the title


def test_title_only_record_embeds_its_title_and_keywords_of_each_language():
    """A letter or a CNKI entry without 摘要: one doc vector per language from title + that language's keywords,
    and the title as its one sentence (position 0), so it owns a sentence like every record."""
    rec = Record(id="t", title={"zh": "肺癌免疫治疗述评", "en": "Immunotherapy of lung cancer: a comment"},
                 keywords=("肺癌", "免疫治疗", "Lung Neoplasms", "Immunotherapy"))
    docs, sents = chunk_record(rec)
    assert [(d.lang, d.text) for d in docs] == [("zh", "肺癌免疫治疗述评\n肺癌; 免疫治疗"),
                                                 ("en", "Immunotherapy of lung cancer: a comment\n"
                                                        "Lung Neoplasms; Immunotherapy")]
    assert [(s.lang, s.position, s.text) for s in sents] == [("zh", 0, rec.title["zh"]), ("en", 0, rec.title["en"])]


def test_keywords_stay_out_of_records_with_an_abstract():
    rec = Record(id="a", title={"en": "CAR-T"}, abstract={"en": "It works."}, keywords=("Lymphoma",))
    assert doc_text(rec, "en") == rec.text("en") == "CAR-T\nIt works."
    assert doc_text(Record(id="k", title={"en": "Only a title"}), "en") == "Only a title"  # no keywords: the title

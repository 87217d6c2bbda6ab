"""Query syntax: the parser on its own, then every element against the real `built_index`.

The index tests check results against an oracle computed here from the stored records (a regular
expression over the lower-cased title and abstract, the records' own years, authors, tags), so a
filter that let through one wrong record, or dropped one right one, fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.storage import Filters, open_generation
from search.engine import Searcher
from search.errors import QueryError
from search.query import Query
from search.syntax import parse

ROOT = Path(__file__).resolve().parents[2]
SEED_ID_TITLE = "肿瘤免疫细胞治疗:前景与挑战"


# --------------------------------------------------------------------------------------------------
# the parser


def test_phrases_in_ascii_and_chinese_quotes_and_the_free_text_left_over():
    p = parse('"cytokine release syndrome" tocilizumab “细胞因子 释放” 「免疫檢查點」')
    assert p.phrases == ("cytokine release syndrome", "细胞因子 释放", "免疫檢查點")
    assert p.text == "tocilizumab"
    assert parse("CAR-T“细胞因子释放综合征”的治疗").text == "CAR-T 的治疗"  # a phrase inside a Chinese run
    assert parse('"  many   spaces "').phrases == ("many spaces",)


def test_exclusions_with_minus_and_not():
    p = parse('CAR-T -review -"mouse model" NOT lymphoma NOT “小鼠” not here')
    assert p.excluded == ("review", "mouse model", "lymphoma", "小鼠")
    assert p.text == "CAR-T not here"  # lower-case "not" is a word


@pytest.mark.parametrize(("query", "expected"), [
    ("author:Zhang", Filters(author="Zhang")),
    ('author:"Zhang Wei"', Filters(author="Zhang Wei")),
    ("journal:“Nature Medicine”", Filters(journal="Nature Medicine")),
    ("year:2019", Filters(year_from=2019, year_to=2019)),
    ("year:2019-2022", Filters(year_from=2019, year_to=2022)),
    ("year:2019-", Filters(year_from=2019)),
    ("year:-2022", Filters(year_to=2022)),
    ("year：２０１９–２０２１", Filters(year_from=2019, year_to=2021)),  # full-width colon, digits, en dash
    ("Year:2020", Filters(year_from=2020, year_to=2020)),
    ("pmid:33795251", Filters(pmid="33795251")),
    ("doi:https://doi.org/10.1158/0008-5472.CAN-20-2701", Filters(doi="10.1158/0008-5472.can-20-2701")),
    ("lang:zh", Filters(lang="zh")),
    ("lang:EN", Filters(lang="en")),
    ("therapy:car-t", Filters(therapy=("car-t",))),
    ("therapy:CAR-T therapy:嵌合抗原受体T细胞", Filters(therapy=("car-t",))),  # a term in either language
    ("cancer:lymphoma cancer:肝细胞癌", Filters(cancer=("lymphoma", "hcc"))),  # repeated: any of them
])
def test_each_field(query, expected):
    p = parse(query)
    assert p.filters == expected
    assert p.text == "" and not p.phrases and not p.excluded


def test_fields_phrases_exclusions_and_words_together():
    p = parse('"cytokine release syndrome" -review year:2020-2023 tocilizumab therapy:car-t')
    assert (p.text, p.phrases, p.excluded) == ("tocilizumab", ("cytokine release syndrome",), ("review",))
    assert p.filters == Filters(year_from=2020, year_to=2023, therapy=("car-t",))


@pytest.mark.parametrize("text", [
    "CAR-T PD-1 anti-PD-1 IL-6 4-1BB PD-L1 CD19-CAR-T TNF-α",
    "Why do tumours not respond to anti-PD-1 therapy?",
    "Background: https://example.org/a:b?x=1 Methods:",
    "Delays in time to primary treatment after a diagnosis of breast cancer: does it impact survival?",
    "作者：张伟 背景：CAR-T细胞治疗复发难治性B细胞淋巴瘤",
    "a - b -> c --year 2020 -(x)",
    "Is the author: field ever used? year: 2019",
])
def test_ordinary_text_is_plain(text):
    assert parse(text).text == text and Query.parse(text) == Query(text, Query.parse(text).lang)


def test_every_evaluation_question_without_quotes_is_plain_text(shared):
    """The evaluation sets' questions (PubMedQA, LiveQA, PubMedQA-zh) read as typed, quotes aside:
    no known field name, leading minus or NOT turns one into syntax."""
    files = [shared / "bench/pubmedqa/queries.jsonl", shared / "bench/liveqa-dev/queries.jsonl",
             ROOT / "bench/pubmedqa-zh/queries.jsonl"]
    questions = [json.loads(line)["text"] for f in files for line in f.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    plain = [q for q in questions if not re.search('["“「]', q)]
    assert len(questions) - len(plain) == 2  # PubMedQA: one phrase, one unclosed quote; see syntax=False
    for q in plain:
        assert parse(q).text == q.strip() and Query.parse(q).filters.empty, q


def test_syntax_off_reads_quotes_as_text():
    question = '"Would a man smell a rose then throw it away?'  # a PubMedQA question, quote unclosed
    with pytest.raises(QueryError, match="unclosed quote"):
        Query.parse(question)
    q = Query.parse(question, syntax=False)
    assert q.text == question and not q.restricted


@pytest.mark.parametrize(("query", "message"), [
    ("CAR-T in year:20x9", "year:20x9 at position 10: expected a year (2019) or a range (2019-2022)"),
    ('CAR-T "cytokine release', 'unclosed quote " at position 7: expected a closing "'),
    ("肺癌 “细胞因子", "unclosed quote “ at position 4: expected a closing ”"),
    ("x 「免疫", "unclosed quote 「 at position 3: expected a closing 」"),
    ('x ""', '"" at position 3: expected some words between the quotes'),
    ("x year:2019 year:2020", "year:2020 at position 13: year: is already given at position 3"),
    ("x year:2022-2019", "year:2022-2019 at position 3: expected a year"),
    ("CAR-T NOT", "NOT at position 7: expected a word or a \"phrase\" after NOT"),
    ("CAR-T -year:2019", "-year:2019 at position 7: a field cannot be excluded"),
    ("lang:fr CAR-T", "lang:fr at position 1: expected zh or en"),
    ("x pmid:PMC123", "pmid:PMC123 at position 3: expected a PMID"),
    ("x doi:nature", "doi:nature at position 3: expected a DOI"),
    ("x therapy:no-such", "therapy:no-such at position 3: not a therapy term of the glossary"),
    ("x cancer:car-t", "cancer:car-t at position 3: not a cancer term"),  # a therapy is no cancer
])
def test_syntax_errors_name_the_position_and_what_was_expected(query, message):
    with pytest.raises(QueryError) as e:
        parse(query)
    assert str(e.value).startswith(message), str(e.value)


# --------------------------------------------------------------------------------------------------
# on the real index


@pytest.fixture(scope="module")
def searcher(built_index) -> Searcher:
    return Searcher(built_index)


@pytest.fixture(scope="module")
def records(built_index) -> dict:
    """id -> StoredRecord of every record in the index (the oracle's data)."""
    storage = open_generation(built_index)
    return {s.record.id: s for s in storage.iter_records()}


def body(stored) -> str:
    """Titles and abstracts of both languages, lower case: what phrases are matched in."""
    r = stored.record
    return "\n".join(v for d in (r.title, r.abstract) for v in d.values()).lower()


def has(stored, words: str) -> bool:
    return re.search(rf"(?<![^\W_]){re.escape(words)}(?![^\W_])", body(stored)) is not None


def ids(hits) -> list[str]:
    return [h.record.id for h in hits]


def newest_first(records: dict, found: list[str]) -> bool:
    keys = [(-(records[i].record.year or -10_000), i) for i in found]
    return keys == sorted(keys)


def test_a_phrase_alone_lists_exactly_the_records_holding_it_newest_first(searcher, records):
    expected = {i for i, s in records.items() if has(s, "cytokine release syndrome")}
    assert 3 <= len(expected) < len(records) / 2
    hits = searcher.search('"cytokine release syndrome"', k=1000)
    assert set(ids(hits)) == expected and len(hits) == len(expected)
    assert newest_first(records, ids(hits))
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    for h in hits:  # the snippet is the sentence holding the phrase
        assert "cytokine release syndrome" in h.snippet.lower(), h.snippet


def test_listing_pages_are_slices_of_one_order(searcher):
    whole = ids(searcher.search("therapy:car-t", k=100))
    assert len(whole) > 15
    assert ids(searcher.search("therapy:car-t", k=5, offset=5)) == whole[5:10]
    assert [h.rank for h in searcher.search("therapy:car-t", k=5, offset=10)] == list(range(11, 16))
    assert searcher.search("therapy:car-t", k=10, offset=len(whole)) == []


def test_a_phrase_with_free_text_ranks_only_the_records_holding_it(searcher, records):
    expected = {i for i, s in records.items() if has(s, "cytokine release syndrome")}
    plain = ids(searcher.search("neurotoxicity management", k=10))
    assert set(plain) - expected  # the phrase has records to keep out
    hits = searcher.search('"cytokine release syndrome" neurotoxicity management', k=10)
    assert set(ids(hits)) == expected
    assert all(h.legs for h in hits)  # ranked by the legs, not listed


@pytest.mark.parametrize("query", ["“免疫细胞治疗”", "「免疫細胞治療」", '"ＣＡＲ－Ｔ細胞"', "“肿瘤免疫细胞治疗:前景”"])
def test_chinese_quotes_traditional_and_full_width_match_the_chinese_record(searcher, query):
    hits = searcher.search(query, k=10)
    assert [h.record.title.get("zh") for h in hits] == [SEED_ID_TITLE]


def test_a_word_matches_on_word_boundaries(searcher, records):
    expected = {i for i, s in records.items() if has(s, "car")}
    loose = {i for i, s in records.items() if "car" in body(s)}
    assert expected and loose - expected  # "cardiac", "carcinoma" contain the letters
    assert set(ids(searcher.search('"car"', k=1000))) == expected


@pytest.mark.parametrize("query", ["CAR-T cell therapy -lymphoma", "CAR-T cell therapy NOT lymphoma",
                                   'CAR-T cell therapy -"solid tumors"', 'CAR-T cell therapy NOT “solid tumors”'])
def test_exclusion_drops_every_record_holding_the_word(searcher, records, query):
    word = "solid tumors" if "solid" in query else "lymphoma"
    plain = ids(searcher.search("CAR-T cell therapy", k=20))
    assert any(has(records[i], word) for i in plain)  # the exclusion has something to drop
    hits = ids(searcher.search(query, k=20))
    assert len(hits) == 20 and not any(has(records[i], word) for i in hits)


def test_exclusion_of_a_chinese_word(searcher):
    assert SEED_ID_TITLE in [h.record.title.get("zh") for h in searcher.search("免疫细胞治疗", k=10)]
    assert SEED_ID_TITLE not in [h.record.title.get("zh") for h in searcher.search("免疫细胞治疗 -安全性", k=10)]
    assert SEED_ID_TITLE not in [h.record.title.get("zh") for h in searcher.search("免疫细胞治疗 NOT 安全性", k=10)]


def _one_with(records: dict, test) -> object:
    return next(s for _, s in sorted(records.items()) if test(s))


def test_author_and_journal_fields(searcher, records):
    some = _one_with(records, lambda s: len(s.record.authors) >= 2 and s.record.journal)
    surname = some.record.authors[0].split()[0]
    expected = {i for i, s in records.items() if any(surname.lower() in a.lower() for a in s.record.authors)}
    assert set(ids(searcher.search(f"author:{surname}", k=1000))) == expected
    journal = some.record.journal
    expected = {i for i, s in records.items() if s.record.journal and journal.lower() in s.record.journal.lower()}
    assert set(ids(searcher.search(f'journal:"{journal}"', k=1000))) == expected
    assert some.record.id in expected


def test_year_single_and_range(searcher, records):
    for query, years in (("year:2019", {2019}), ("year:2018-2019", {2018, 2019})):
        expected = {i for i, s in records.items() if s.record.year in years}
        found = ids(searcher.search(query, k=1000))
        assert set(found) == expected and 0 < len(expected) < len(records), query
        assert newest_first(records, found)
    in_range = ids(searcher.search("CAR-T safety year:2018-2019", k=10))
    assert in_range and all(records[i].record.year in (2018, 2019) for i in in_range)


def test_pmid_and_doi_fields(searcher, records):
    some = _one_with(records, lambda s: s.record.pmid and s.record.doi)
    assert ids(searcher.search(f"pmid:{some.record.pmid}")) == [some.record.id]
    assert ids(searcher.search(f"doi:{some.record.doi.upper()}")) == [some.record.id]


def test_lang_field(searcher, records):
    assert [h.record.title.get("zh") for h in searcher.search("lang:zh", k=10)] == [SEED_ID_TITLE]
    english = ids(searcher.search("lang:en", k=1000))
    assert len(english) == sum("en" in s.record.langs for s in records.values())


def test_therapy_and_cancer_fields_use_the_records_tags(searcher, records):
    for query, category, cid in (("therapy:car-t", "therapy", "car-t"), ("cancer:lymphoma", "cancer", "lymphoma"),
                                 ("cancer:淋巴瘤", "cancer", "lymphoma")):
        expected = {i for i, s in records.items() if cid in s.tags.get(category, [])}
        assert 0 < len(expected) < len(records)
        assert set(ids(searcher.search(query, k=1000))) == expected, query


def test_fields_and_options_must_both_hold(searcher, records):
    both = ids(searcher.search("lang:en CAR-T", k=10, filters=Filters(lang="zh")))
    assert [records[i].record.title.get("zh") for i in both] == [SEED_ID_TITLE]  # the one bilingual record
    assert searcher.search("year:2019", k=10, filters=Filters(year_from=2020)) == []


def test_plain_queries_rank_exactly_as_plain_text(searcher):
    for text in ("CAR-T cell therapy for B-cell lymphoma", "免疫检查点抑制剂 肺癌"):
        with_syntax = searcher.search(text, k=10)
        plain = searcher.search(Query.parse(text, syntax=False), k=10)
        assert [(h.record.id, h.score) for h in with_syntax] == [(h.record.id, h.score) for h in plain]


def test_a_syntax_error_is_a_query_error_before_any_search(searcher):
    with pytest.raises(QueryError, match="position 7"):
        searcher.search("CAR-T year:twenty")


# --------------------------------------------------------------------------------------------------
# the command line


def cli(*args: str):
    from typer.testing import CliRunner

    from search.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_cli_syntax_error_is_one_line_and_exit_2(tmp_path):
    result = cli("search", "CAR-T year:20x9", "--index", str(tmp_path / "no-index"))  # before opening any index
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == ("oncosearch: error: year:20x9 at position 7: expected a year (2019) or a "
                                     "range (2019-2022)")


def test_cli_fields_with_options_and_a_listing_as_json(built_index, records):
    result = cli("search", "therapy:car-t year:2019-2021", "--lang", "en", "-k", "50", "--json",
                 "--index", str(built_index))
    assert result.exit_code == 0, result.stderr
    found = [r["id"] for r in json.loads(result.stdout)["results"]]
    expected = {i for i, s in records.items() if "car-t" in s.tags.get("therapy", []) and s.record.year in
                (2019, 2020, 2021) and "en" in s.record.langs}
    assert set(found) == expected and newest_first(records, found)


def test_cli_help_teaches_the_syntax_in_both_languages():
    text = cli("search", "--help").stdout
    for example in ('"cytokine release syndrome" -review year:2020-2023', "“细胞因子释放综合征” therapy:car-t lang:zh",
                    "「免疫檢查點抑制劑」", "author:\"Zhang Wei\"", "NOT word"):
        assert example in text, example


def test_cli_table_shows_the_query_as_typed(built_index):
    result = cli("search", 'therapy:car-t "cytokine release syndrome"', "-k", "3", "--index", str(built_index))
    assert result.exit_code == 0, result.stderr
    assert 'Results for: therapy:car-t "cytokine release syndrome"' in result.stdout
    none = cli("search", '"no such phrase anywhere"', "--index", str(built_index))
    assert 'No results for "no such phrase anywhere".' in " ".join(none.stdout.split())

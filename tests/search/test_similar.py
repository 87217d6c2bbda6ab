"""`similar`: records like one record, across languages, scored from what the index stored.

The cross-language check uses the bilingual seed review split in two: its Chinese half and its
English half as separate records beside the whole one. Each half's nearest records must be the
other two versions of the same paper, whatever language they are in — a ranking that stayed in
one language, or that read only the title, would fail.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from corpus import read_file
from index.storage import Filters
from search.cli import app
from search.engine import Searcher
from search.errors import QueryError, UnknownRecord
from search.similar import similar
from tests.conftest import SEED, run_json


@pytest.fixture(scope="module")
def split_index(built_index, tmp_path_factory):
    """The shared test index plus the seed review's Chinese half and English half as two records."""
    seed = read_file(SEED).records[0]
    halves = [replace(seed, id=f"seed-{lang}", title={lang: seed.title[lang]}, abstract={lang: seed.abstract[lang]},
                      pmid=None, doi=None) for lang in ("zh", "en")]
    folder = tmp_path_factory.mktemp("split")
    path = folder / "halves.jsonl"
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in halves), encoding="utf-8")
    index = folder / "idx"
    shutil.copytree(built_index, index)
    summary = run_json("index", "update", str(path), "--index", str(index))
    assert summary["added"] == 2
    return index, seed.id


@pytest.fixture(scope="module")
def searcher(split_index) -> Searcher:
    return Searcher(split_index[0])


def test_a_chinese_paper_finds_its_english_versions_and_the_reverse(searcher, split_index):
    whole = split_index[1]
    for lang, other in (("zh", "seed-en"), ("en", "seed-zh")):
        found = similar(searcher, f"seed-{lang}", k=5)
        assert found.source.record.id == f"seed-{lang}"
        assert {h.record.id for h in found.hits[:2]} == {whole, other}, [h.record.id for h in found.hits]


def test_neighbours_in_the_other_language_only(searcher):
    english = similar(searcher, "seed-zh", k=10, filters=Filters(lang="en"))
    assert english.hits and all("en" in h.record.langs for h in english.hits)
    chinese = similar(searcher, "seed-en", k=3, filters=Filters(lang="zh"))
    assert {h.record.id for h in chinese.hits} >= {"seed-zh"}


def test_never_the_record_itself_and_pages_are_slices(searcher, split_index):
    car_t = next(s.record for s in searcher.storage.iter_records() if "CAR" in s.record.title.get("en", "")
                 and s.record.pmid)
    first = similar(searcher, car_t.pmid, k=20)
    assert car_t.id not in {h.record.id for h in first.hits}
    assert len({h.record.id for h in first.hits}) == 20
    pages = similar(searcher, car_t.pmid, k=10).hits + similar(searcher, car_t.pmid, k=10, offset=10).hits
    assert [h.record.id for h in pages] == [h.record.id for h in first.hits]
    assert [h.rank for h in pages] == list(range(1, 21))
    # a CAR-T paper's neighbours are mostly CAR-T papers
    assert sum("CAR" in h.record.text("en") or "chimeric antigen" in h.record.text("en").lower()
               for h in first.hits[:10]) >= 7


def test_single_leg_modes_and_errors(searcher):
    dense = similar(searcher, "seed-zh", k=3, mode="dense")
    assert dense.hits and all("dense" in h.legs for h in dense.hits)
    with pytest.raises(QueryError):
        similar(searcher, "seed-zh", mode="english")  # a Chinese-only record has no English passages
    with pytest.raises(UnknownRecord):
        similar(searcher, "pmid:0")


def test_cli_similar_json_and_table(split_index):
    index = str(split_index[0])
    result = CliRunner().invoke(app, ["similar", "seed-zh", "--index", index, "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["similar_to"] == "seed-zh" and len(data["results"]) == 3
    assert data["results"][0]["id"] in {split_index[1], "seed-en"}
    table = CliRunner().invoke(app, ["similar", "seed-en", "--index", index, "-k", "2"])
    assert table.exit_code == 0 and "肿瘤免疫细胞治疗" in table.output, table.output
    missing = CliRunner().invoke(app, ["similar", "pmid:0", "--index", index])
    assert missing.exit_code == 1 and "no record" in missing.output


def test_cli_similar_exports_its_records(split_index, tmp_path):
    out = tmp_path / "相似.ris"
    result = CliRunner().invoke(app, ["similar", "seed-zh", "--index", str(split_index[0]), "-k", "4",
                                      "--format", "ris", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.count("ER  -") == 4 and "seed-zh" not in text and "Immune cell therapy for tumor" in text
    both = CliRunner().invoke(app, ["similar", "seed-zh", "--index", str(split_index[0]), "--json", "--format", "ris"])
    assert both.exit_code == 2

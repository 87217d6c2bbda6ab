"""The engine on a real index: modes are legs, hybrid pools every leg's candidates, explain and
snippets come from the legs, bad input is a typed error."""

from __future__ import annotations

import pytest

from search.engine import MODES, Searcher
from search.errors import QueryError
from search.fusion import fuse
from search.legs import Leg
from search.query import Query


@pytest.fixture(scope="module")
def searcher(built_index) -> Searcher:
    return Searcher(built_index)


def test_every_leg_is_a_leg_named_for_its_mode(searcher):
    assert list(searcher.legs) == ["dense", "lexical", "english"]
    for name, leg in searcher.legs.items():
        assert isinstance(leg, Leg) and leg.name == name and name in MODES


def test_hybrid_pools_every_legs_candidates_and_scores_them_on_every_leg(searcher):
    q = searcher.query("cytokine release syndrome after CAR-T cell infusion")
    ev = searcher.evidence(q, 10, None, "hybrid")
    assert set(ev.proposed) == {"dense", "lexical", "english"}
    pooled = set().union(*ev.proposed.values())
    for name in ("dense", "lexical"):
        assert set(ev.results[name].scores) == pooled  # no candidate ranked on half its evidence
    assert set(ev.results["english"].scores) <= pooled
    assert 0 < ev.results["lexical"].coverage <= 1


def test_single_leg_modes_rank_by_that_leg_alone(searcher):
    text = "tocilizumab for cytokine release syndrome"
    for mode in ("dense", "lexical", "english"):
        ev = searcher.evidence(searcher.query(text), 10, None, mode)
        assert set(ev.proposed) == {mode}
        assert set(ev.results) == {"dense", mode}  # the dense leg always scores: snippets and --explain
        hits = searcher.search(text, k=5, mode=mode)
        mine = ev.results[mode].scores
        expected = sorted(mine, key=lambda r: (-mine[r], r))[:5]
        assert [h.score for h in hits] == [mine[r] for r in expected]
        records = searcher.storage.get(expected)
        assert [h.record.id for h in hits] == [records[r].record.id for r in expected]


def test_hybrid_is_the_fusion_of_the_legs_scores(searcher):
    text = "CAR-T细胞治疗的安全性"
    q = searcher.query(text)
    ev = searcher.evidence(q, 10, None, "hybrid")
    fused = fuse(ev.scores(), searcher.weights, q.lang, ev.results["lexical"].coverage, q.short)
    best = sorted(fused, key=lambda r: (-fused[r], r))[:10]
    hits = searcher.search(q, k=10)
    assert [h.score for h in hits] == [fused[r] for r in best]
    assert all(set(h.legs) <= {"dense", "lexical", "english"} and "dense" in h.legs for h in hits)


def test_a_query_is_read_once(searcher, monkeypatch):
    import search.query as query_module

    calls = []
    real = query_module.analyse
    monkeypatch.setattr(query_module, "analyse", lambda text, expand=True: calls.append(text) or real(text, expand))
    q = Query.parse("免疫检查点抑制剂 肺癌")
    searcher.search(q, k=3)
    assert q.english and q.tokens  # both derived from the one analysis
    assert calls == ["免疫检查点抑制剂 肺癌"]


def test_dense_mode_never_analyses_the_query(searcher, monkeypatch):
    import search.query as query_module

    monkeypatch.setattr(query_module, "analyse", lambda *a, **k: pytest.fail("analysed in dense mode"))
    assert searcher.search("PD-1 blockade in melanoma", k=3, mode="dense")


def test_snippet_is_the_best_sentence_of_the_hit(searcher):
    hit = searcher.search("tocilizumab", k=1, mode="lexical")[0]
    sentences = searcher.storage.sentences(searcher.storage.find(hit.record.id).rowid)
    assert hit.snippet in [s.text for s in sentences]


@pytest.mark.parametrize("mode", ["bogus", "HYBRID"])
def test_unknown_mode_is_a_query_error(searcher, mode):
    with pytest.raises(QueryError, match="choose one of"):
        searcher.search("CAR-T", mode=mode)


def test_empty_query_is_a_query_error(searcher):
    with pytest.raises(QueryError, match="empty query"):
        searcher.search("   ")


def test_pages_are_slices_of_one_ranking(searcher):
    text = "T cell therapy for solid tumours"
    whole = searcher.search(text, k=20)
    pages = searcher.search(text, k=10) + searcher.search(text, k=10, offset=10)
    assert [h.record.id for h in pages] == [h.record.id for h in whole]
    assert [h.rank for h in pages] == list(range(1, 21))
    with pytest.raises(QueryError):
        searcher.search(text, k=10, offset=995)


def test_filters_on_author_pmid_doi_and_abstract(searcher):
    stored = next(s for s in searcher.storage.iter_records() if s.record.authors and s.record.pmid)
    from index.storage import Filters

    surname = stored.record.authors[0].split()[0]
    rows = searcher.storage.allowed(Filters(author=surname.upper()))
    assert stored.rowid in set(rows.tolist())
    assert searcher.storage.allowed(Filters(pmid=stored.record.pmid)).tolist() == [stored.rowid]
    assert len(searcher.storage.allowed(Filters(has_abstract=True))) == searcher.storage.records
    assert len(searcher.storage.allowed(Filters(has_abstract=False))) == 0

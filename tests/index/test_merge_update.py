"""index.pipeline._merge_update: how `index update` merges freshly read records into the current ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

from corpus.record import Record
from index.builder import content_hash
from index.pipeline import Held, UpdateCounts, _merge_update, held_records, key_of


def rec(pmid: str, title: str, source: str, year: int = 2021, abstract: str | None = None) -> Record:
    return Record(
        id=f"pmid:{pmid}", pmid=pmid, doi=f"10.1016/j.test.{pmid}", year=year, journal="Journal of Immunotherapy",
        title={"en": title},
        abstract={"en": abstract or f"{title}. We enrolled 42 patients with relapsed disease; responses were durable."},
        authors=("Zhang W", "Smith J"), source=source,
    )


@pytest.fixture
def files(tmp_path):
    """Two export files that exist (a.nbib, b.ris) and one path that no longer exists (gone.xml)."""
    a, b = tmp_path / "a.nbib", tmp_path / "b.ris"
    a.write_text("PMID- 1\n")
    b.write_text("TY  - JOUR\n")
    return str(a), str(b), str(tmp_path / "gone.xml")


@pytest.fixture
def old(files):
    a, b, gone = files
    return [
        rec("33795251", "Mesothelin-targeted CAR T cells for ovarian cancer", a),
        rec("34093519", "Blocking TNF-alpha and IL-1beta after CAR-T infusion", a),
        rec("33249873", "Infections in patients receiving CAR-T cells", a),
        rec("31845217", "CAR-T cell therapy: a review", b),
        rec("32000001", "Tumour-infiltrating lymphocytes in melanoma", gone),
    ]


def ids(records: list[Record]) -> list[str]:
    return [r.id for r in records]


def test_same_records_again_change_nothing(old):
    merged, counts = _merge_update(old, old[:4], {old[0].source, old[3].source}, prune=True)
    assert counts == UpdateCounts(unchanged=4, removed=1)  # only the record of the vanished file goes
    assert ids(merged) == ids(old[:4])
    assert all(m is o for m, o in zip(merged, old, strict=False))  # same source: the stored record is kept as is


def test_added_updated_unchanged_and_kept(old, files):
    a, b, _ = files
    changed = replace(old[1], year=2022)  # metadata only: still a different record
    retitled = replace(old[2], title={"en": "Infections after CAR-T cell therapy"})
    new_one = rec("35000002", "NK cells engineered with a CAR for glioblastoma", a)
    other_new = rec("35000001", "TCR-T cells against HPV-positive cancers", a)
    fresh = [new_one, old[0], changed, retitled, other_new]
    merged, counts = _merge_update(old, fresh, {a}, prune=False)
    assert counts == UpdateCounts(added=2, updated=2, removed=0, unchanged=1)
    # old order first (updated records in place), then the new ones in reading order
    assert ids(merged) == ids(old) + [new_one.id, other_new.id]
    by_id = {r.id: r for r in merged}
    assert by_id[old[1].id].year == 2022
    assert by_id[old[2].id].title == {"en": "Infections after CAR-T cell therapy"}
    assert by_id[old[3].id] is old[3] and by_id[old[4].id] is old[4]  # not read, no prune: kept


def test_moved_record_is_unchanged_but_its_source_is_refreshed(old, files):
    a, b, _ = files
    moved = old[0].with_source(b)
    merged, counts = _merge_update(old, [moved], {b}, prune=False)
    assert counts == UpdateCounts(unchanged=1)
    assert merged[0].source == b and merged[0] == moved
    assert len(merged) == len(old)


def test_prune_removes_records_missing_from_a_file_read_again(old, files):
    a, b, _ = files
    merged, counts = _merge_update(old, [old[0]], {a}, prune=True)
    # a.nbib was read and now holds only the first record; gone.xml no longer exists; b.ris was not named
    assert counts == UpdateCounts(unchanged=1, removed=3)
    assert ids(merged) == [old[0].id, old[3].id]


def test_without_prune_nothing_is_removed(old, files):
    a, _, _ = files
    merged, counts = _merge_update(old, [old[0]], {a}, prune=False)
    assert counts == UpdateCounts(unchanged=1)
    assert ids(merged) == ids(old)


def test_prune_keeps_records_of_a_file_that_failed_to_read(old, files):
    a, b, _ = files
    # a.nbib was named but failed (so it is not in read_files): its records stay; b.ris read, still holds its record
    merged, counts = _merge_update(old, [old[3]], {b}, prune=True)
    assert counts == UpdateCounts(unchanged=1, removed=1)
    assert ids(merged) == ids(old[:4])


def test_prune_with_an_empty_file_removes_all_its_records(old, files):
    a, b, _ = files
    merged, counts = _merge_update(old, [], {b}, prune=True)
    assert counts == UpdateCounts(removed=2)  # b.ris's record and the vanished file's
    assert ids(merged) == ids(old[:3])


def test_a_record_that_moved_to_another_file_survives_pruning_of_the_old_one(old, files):
    a, b, _ = files
    moved = old[1].with_source(b)
    merged, counts = _merge_update(old, [old[0], old[2], moved, old[3]], {a, b}, prune=True)
    assert counts == UpdateCounts(unchanged=4, removed=1)
    assert ids(merged) == ids(old[:4])
    assert {r.id: r.source for r in merged}[old[1].id] == b


def test_nothing_lost_nothing_doubled(old, files):
    a, b, gone = files
    fresh = [old[2], rec("36000000", "CIK cells plus PD-1 blockade", b), replace(old[0], journal="Cancer Research")]
    for prune in (False, True):
        merged, counts = _merge_update(old, fresh, {a, b}, prune)
        assert len(ids(merged)) == len(set(ids(merged)))
        kept_unread = len(merged) - counts.added - counts.updated - counts.unchanged
        assert kept_unread == (0 if prune else 3)  # old[1], old[3] and old[4] were not in this read
        assert counts.updated + counts.unchanged + counts.removed + kept_unread == len(old)
        assert set(ids(fresh)) <= set(ids(merged))
        assert len(merged) == len(old) - counts.removed + counts.added
    assert counts == UpdateCounts(added=1, updated=1, unchanged=1, removed=3)


def test_first_update_of_an_empty_index(files):
    a, _, _ = files
    fresh = [rec("1", "First", a), rec("2", "Second", a)]
    merged, counts = _merge_update([], fresh, {a}, prune=True)
    assert counts == UpdateCounts(added=2)
    assert merged == fresh


def test_records_known_by_key_alone_merge_as_the_records_do(old, files):
    """A generation that lives only in Milvus is merged by key (id, content hash, source): the same
    counts and order as the full records, with the unchanged ones left as keys (their text unread)."""
    a, b, _ = files
    held = [Held(r.id, content_hash(r), r.source, row) for row, r in enumerate(old)]
    assert held_records(_Keys(old)) == held
    changed = replace(old[1], year=2022)
    moved = replace(old[3], source=a)  # the same record, now read from another file
    new_one = rec("35000002", "NK cells engineered with a CAR for glioblastoma", a)
    fresh = [old[0], changed, new_one, moved]
    for prune in (False, True):
        by_record, counts = _merge_update(old, fresh, {a, b}, prune)
        by_key, key_counts = _merge_update(held, fresh, {a, b}, prune)
        assert key_counts == counts and [key_of(e) for e in by_key] == [key_of(r) for r in by_record]
        found = {e.id: e for e in by_key}
        assert found[old[0].id] is held[0]  # unchanged, same file: still a key
        # changed, or read from another file: the fresh record
        assert found[changed.id] is changed and found[moved.id] is moved and found[new_one.id] is new_one


class _Keys:
    def __init__(self, records: list[Record]):
        self.records = records

    def record_keys(self) -> list[tuple[str, str, str]]:
        return [(r.id, content_hash(r), r.source) for r in self.records]

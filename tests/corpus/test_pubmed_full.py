"""The whole 30,000-record baseline file is accounted for: every record stored (title-only ones too) or skipped."""

from __future__ import annotations

from corpus.readers import read_file
from tests.corpus.conftest import SHARED

BASELINE = SHARED / "corpus" / "pubmed20n0014.xml.gz"


def test_pubmed_baseline_accounted_for() -> None:
    result = read_file(BASELINE)  # ~10 s since the clean/squash fast paths
    assert result.format == "pubmed-xml" and not result.failed
    assert len(result.records) + len(result.skipped) == 30000
    assert sum(r.has_abstract() for r in result.records) > 14000
    # about half are title-only (1970s MEDLINE: letters, editorials, abstracts never keyed in): read, not skipped
    assert sum(not r.has_abstract() for r in result.records) > 14000
    assert all(r.has_abstract() or any(r.title.values()) for r in result.records)
    assert all(s.reason.startswith(("no title or abstract", "book record")) for s in result.skipped)
    assert len({r.id for r in result.records}) == len(result.records)

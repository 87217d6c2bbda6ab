"""The JSON shapes of answers, shared by the CLI's `--json` and the HTTP API (`search.server`),
so that a script reads the same keys from either face."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from index.storage.store import StoredRecord
from search.engine import Hit


def hits_payload(head: dict[str, Any], hits: Sequence[Hit], explain: bool = False) -> dict[str, Any]:
    """`head` (e.g. {"query": ...} or {"similar_to": ...}) plus "results": one dict per hit
    (`Hit.to_dict`), with each leg's rank and score under "explain" when asked."""
    return head | {"results": [h.to_dict() | ({"explain": h.legs} if explain else {}) for h in hits]}


def record_payload(stored: StoredRecord) -> dict[str, Any]:
    """One record in full: `Record.to_dict` plus its glossary tags and whether it has an abstract."""
    return stored.record.to_dict() | {"tags": stored.tags, "has_abstract": stored.record.has_abstract()}

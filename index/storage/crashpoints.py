"""Deterministic crash points for the kill tests (``tests/safety``).

Set ``ONCOSEARCH_CRASH_AT=<stage>:<n>`` and the process SIGKILLs itself the n-th time (1-based)
it passes the named point. Stages, in the order a write passes them:

    lock            writer lock acquired, nothing written yet
    clean           after each stale folder/file removed (start and end of a write)
    embed-commit    inside a cache transaction: rows inserted, not yet committed
    embed-batch     after each embedding batch is committed to the cache
    store           after each record written into the new store (uncommitted)
    store-commit    store committed and closed
    faiss           after each FAISS file written
    lexical         after the lexical (BM25) files written
    fsync           after the generation's files and folders are fsync'd
    manifest        after manifest.json is written into the .tmp- folder
    rename          after .tmp-NAME is renamed to NAME, before CURRENT is switched
    mirror          (a Milvus backend) after each of the new generation's collections is written
    mirrored        the new generation's mirror complete, CURRENT not yet switched
    switch-tmp      CURRENT.tmp written, not yet renamed over CURRENT
    switch          after CURRENT is switched, before old generations are cleaned
    prune           (a Milvus backend) after each mirror of a removed generation is dropped

and in `oncosearch alert run` (search/alerts.py), inside its state transaction:

    alert-ranked    every alert ranked, nothing written yet
    alert-delivered the report written (stdout flushed, -o file renamed), the state not yet committed

Unset (the normal case) every call is one dictionary lookup. ``ONCOSEARCH_CRASH_AT`` is a test
hook: never set it in production.
"""

from __future__ import annotations

import os
import signal

ENV = "ONCOSEARCH_CRASH_AT"
_counts: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    value = os.environ.get(ENV)
    if not value:
        return None
    stage, _, n = value.partition(":")
    return stage, int(n or 1)


def crash_point(stage: str) -> None:
    target = _target()
    if target is None or target[0] != stage:
        return
    _counts[stage] = _counts.get(stage, 0) + 1
    if _counts[stage] == target[1]:
        os.kill(os.getpid(), signal.SIGKILL)

"""Verify a mirrored generation against its manifest: collections, their fields, counts and runs.

What `index check` does for the local files (checksums, counts against the store), for Milvus: a
collection missing or of another shape, rows lost or doubled (a count that disagrees with the
manifest), runs that no longer tile the vector ids. Each problem is one line naming the URI.
"""

from __future__ import annotations

import json

import numpy as np

from index.errors import MilvusUnavailable
from index.storage.base import DOCS, PASSAGES, SENTENCES
from index.storage.milvus import schema
from index.storage.milvus.connect import connect, normalise_uri, talking


def check_mirror(uri: str, generation: str, token: str | None = None, digest: str | None = None) -> list[str]:
    """Problems with generation `generation` at Milvus `uri` (none: sound). `digest`: the local
    manifest's sha256, when there is a local generation it must be a mirror of."""
    uri = normalise_uri(uri)
    try:
        client = connect(uri, token)
        with talking(uri, "checking"):
            return _problems(client, uri, schema.Names(generation), digest)
    except MilvusUnavailable as e:
        return [str(e)]


def _problems(client, uri: str, names: schema.Names, digest: str | None) -> list[str]:
    where = f"Milvus at {uri}: generation {names.generation}"
    if not client.has_collection(names.records):
        return [f"{where}: not mirrored ({names.records} missing)"]
    properties = client.describe_collection(names.records).get("properties") or {}
    if not properties.get(schema.COMPLETE):
        return [f"{where}: only partly mirrored (no complete mark): mirror it again"]
    if digest is not None and properties[schema.COMPLETE] != digest:
        return [f"{where}: mirrors another manifest than the local generation's: mirror it again"]
    manifest = json.loads(properties.get(schema.MANIFEST) or "{}")
    english = bool(manifest.get("settings", {}).get("english_model"))
    expected = {names.records: schema.records_schema(client), names.vocab: schema.vocab_schema(client),
                names.vectors(DOCS): schema.vectors_schema(client, manifest.get("dim", 0), False),
                names.vectors(SENTENCES): schema.vectors_schema(client, manifest.get("dim", 0), True)}
    if english:
        expected[names.vectors(PASSAGES)] = schema.vectors_schema(client, 0, False)
    problems = []
    for name, wanted in expected.items():
        if not client.has_collection(name):
            problems.append(f"{where}: {name} missing")
            continue
        have = {f["name"]: f["type"] for f in client.describe_collection(name)["fields"]}
        want = {f.name: f.dtype for f in wanted.fields}
        if have != want:
            differ = sorted(set(have.items()) ^ set(want.items()), key=str)
            problems.append(f"{where}: {name} has fields {sorted(have)}, expected {sorted(want)} "
                            f"(differing: {', '.join(str(n) for n, _ in differ)})")
    if problems:
        return problems
    for name in expected:
        client.load_collection(name)
    count = {name: int(client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]) for name in expected}
    runs = _runs(client, names.records, manifest.get("records", 0))
    for name, held, says in (
        (names.records, count[names.records], manifest.get("records")),
        (names.vectors(DOCS), count[names.vectors(DOCS)], manifest.get("docs")),
        (names.vectors(SENTENCES), count[names.vectors(SENTENCES)], manifest.get("sentences")),
    ):
        if held != says:
            problems.append(f"{where}: {name} holds {held} rows, the manifest says {says}")
    if count[names.records] != manifest.get("records"):
        return problems
    for kind, prefix in ((DOCS, "doc"), (SENTENCES, "sent"), (PASSAGES, "passage")):
        if kind == PASSAGES and not english:
            continue
        starts, counts = runs[f"{prefix}_start"], runs[f"{prefix}_count"]
        tiled = len(counts) == 0 or (starts[0] == 0 and np.array_equal(starts[1:], np.cumsum(counts)[:-1]))
        if not tiled or int(counts.sum()) != count[names.vectors(kind)]:
            problems.append(f"{where}: the records' {kind} runs cover {int(counts.sum())} ids"
                            f"{'' if tiled else ' with gaps or overlaps'}; {names.vectors(kind)} holds "
                            f"{count[names.vectors(kind)]} rows")
    if count[names.vocab] == 0:
        problems.append(f"{where}: {names.vocab} is empty (no BM25 terms)")
    return problems


def _runs(client, records: str, n: int) -> dict[str, np.ndarray]:
    fields = ["rowid", "doc_start", "doc_count", "sent_start", "sent_count", "passage_start", "passage_count"]
    rows: list[dict] = []
    for a in range(0, n, schema.LIMIT):
        rows += client.query(records, filter=f"rowid >= {a} and rowid < {a + schema.LIMIT}", output_fields=fields,
                             limit=schema.LIMIT)
    rows.sort(key=lambda r: r["rowid"])
    return {f: np.array([r[f] for r in rows], dtype=np.int64) for f in fields}

"""Verify a mirrored generation against its manifest: collections, their fields, counts and runs.

What `index check` does for the local files (checksums, counts against the store), for Milvus: a
collection missing or of another shape, rows lost or doubled (a count of the rows the generation
sees that disagrees with its manifest), runs that are not one pool version each. Each problem is
one line naming the URI.
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
    if not properties.get(schema.POOL):
        return [f"{where}: mirrored by an earlier oncosearch (vectors in collections of their own): mirror it again"]
    pool, epoch = schema.Pool(properties[schema.POOL]), int(properties.get(schema.EPOCH) or 0)
    manifest = json.loads(properties.get(schema.MANIFEST) or "{}")
    english = bool(manifest.get("settings", {}).get("english_model"))
    kinds = [DOCS, SENTENCES, *([PASSAGES] if english else [])]
    expected = {names.records: schema.records_schema(client), names.vocab: schema.vocab_schema(client),
                pool.versions: schema.versions_schema(client),
                **{pool.vectors(kind): schema.vectors_schema(client, manifest.get("dim", 0), kind == SENTENCES)
                   for kind in kinds}}
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

    def count(name: str, expression: str = "") -> int:
        return int(client.query(name, filter=expression, output_fields=["count(*)"])[0]["count(*)"])

    alive = schema.alive_at(epoch)
    held = {names.records: count(names.records), pool.versions: count(pool.versions, alive),
            **{pool.vectors(kind): count(pool.vectors(kind), alive) for kind in kinds}}
    for name, says in ((names.records, manifest.get("records")), (pool.versions, manifest.get("records")),
                       (pool.vectors(DOCS), manifest.get("docs")), (pool.vectors(SENTENCES), manifest.get("sentences"))):
        if held[name] != says:
            what = "rows" if name == names.records else f"rows alive at epoch {epoch}"
            problems.append(f"{where}: {name} holds {held[name]} {what}, the manifest says {says}")
    if held[names.records] != manifest.get("records"):
        return problems
    runs = _runs(client, names.records, manifest.get("records", 0))
    for kind, prefix in ((DOCS, "doc"), (SENTENCES, "sent"), (PASSAGES, "passage")):
        if kind not in kinds:
            continue
        starts, counts = runs[f"{prefix}_start"], runs[f"{prefix}_count"]
        serials = starts >> schema.SERIAL_SHIFT
        placed = bool(np.all(starts == serials << schema.SERIAL_SHIFT)) and len(np.unique(serials)) == len(serials)
        if not placed or int(counts.sum()) != held[pool.vectors(kind)]:
            problems.append(f"{where}: the records' {kind} runs cover {int(counts.sum())} ids"
                            f"{'' if placed else ' not one version each'}; {pool.vectors(kind)} holds "
                            f"{held[pool.vectors(kind)]} rows alive at epoch {epoch}")
    if count(names.vocab) == 0:
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

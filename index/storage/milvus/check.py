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
    if not client.has_collection(names.marker):
        return [f"{where}: not mirrored ({names.marker} missing)"]
    properties = client.describe_collection(names.marker).get("properties") or {}
    if not properties.get(schema.COMPLETE):
        return [f"{where}: only partly mirrored (no complete mark): mirror it again"]
    if digest is not None and properties[schema.COMPLETE] != digest:
        return [f"{where}: mirrors another manifest than the local generation's: mirror it again"]
    pool, epoch = schema.Pool(properties[schema.POOL]), int(properties[schema.EPOCH])
    manifest = json.loads(properties.get(schema.MANIFEST) or "{}")
    english = bool(manifest.get("settings", {}).get("english_model"))
    kinds = [DOCS, SENTENCES, *([PASSAGES] if english else [])]
    expected = {pool.versions: schema.versions_schema(client), pool.vocab: schema.vocab_schema(client),
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
    alive = schema.alive_at(epoch)

    def count(name: str) -> int:
        return int(client.query(name, filter=alive, output_fields=["count(*)"])[0]["count(*)"])

    held = {name: count(name) for name in expected}
    for name, says in ((pool.versions, manifest.get("records")), (pool.vectors(DOCS), manifest.get("docs")),
                       (pool.vectors(SENTENCES), manifest.get("sentences"))):
        if held[name] != says:
            problems.append(f"{where}: {name} holds {held[name]} rows alive at epoch {epoch}, the manifest says {says}")
    if held[pool.versions] != manifest.get("records"):
        return problems
    versions = _versions(client, pool, alive)
    if len(np.unique(versions["serial"])) != len(versions["serial"]):
        problems.append(f"{where}: {pool.versions} holds two alive versions of one serial at epoch {epoch}")
    for kind, prefix in ((DOCS, "doc"), (SENTENCES, "sent"), (PASSAGES, "passage")):
        if kind in kinds and int(versions[f"{prefix}_count"].sum()) != held[pool.vectors(kind)]:
            problems.append(f"{where}: the versions' {kind} runs cover {int(versions[f'{prefix}_count'].sum())} "
                            f"vectors; {pool.vectors(kind)} holds {held[pool.vectors(kind)]} alive at epoch {epoch}")
    if held[pool.vocab] == 0:
        problems.append(f"{where}: {pool.vocab} holds no term alive at epoch {epoch} (no BM25 terms)")
    return problems


def _versions(client, pool: schema.Pool, alive: str) -> dict[str, np.ndarray]:
    props = client.describe_collection(pool.versions).get("properties") or {}
    top = int(props.get(schema.NEXT_SERIAL) or 1)
    fields = ["serial", "doc_count", "sent_count", "passage_count"]
    rows: list[dict] = []
    for a in range(0, top, schema.LIMIT):
        rows += client.query(pool.versions, filter=f"serial >= {a} and serial < {a + schema.LIMIT} and {alive}",
                             output_fields=fields, limit=schema.LIMIT)
    return {f: np.array([r[f] for r in rows], dtype=np.int64) for f in fields}

"""An index folder that reads from Milvus: it remembers the URI, so readers need only ``--index``.

``INDEX_DIR/milvus.json`` holds the backend and its URI (never a token: that comes from
``ONCOSEARCH_MILVUS_TOKEN``). With it, `index.storage.open_generation` opens the current
generation's mirror at that URI instead of the local files (`mirrors.mirror_index` writes the
mirror and the file; `forget` goes back to the local files). With ``"only": true`` (``index
build/update --milvus-only``) writes keep no local files: a generation's folder holds its manifest
and its records live in Milvus alone (index/storage/milvus/direct.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from index.errors import DamagedIndex, NoIndex
from index.storage.layout import IndexLayout
from index.storage.milvus.connect import normalise_uri

BACKEND_FILE = "milvus.json"
LEDGER_FILE = "milvus-mirrors.json"  # the mirrors this index began to write (index.storage.milvus.mirrors)
POOL_FILE = "milvus-pool.json"  # this index's own name for its vector pools in Milvus (schema.Pool)


def touches_milvus(root: Path) -> bool:
    """Whether the index at `root` reads Milvus or has mirrors there (cheap: no pymilvus import)."""
    return (Path(root) / BACKEND_FILE).exists() or (Path(root) / LEDGER_FILE).exists()


def remembered(root: Path) -> str | None:
    """The Milvus URI the index at `root` reads from, or None (the local files)."""
    path = Path(root) / BACKEND_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise DamagedIndex(f"{path}: unreadable ({e}); delete it to read the local files") from None
    if not isinstance(data, dict) or data.get("backend") != "milvus" or not isinstance(data.get("uri"), str):
        raise DamagedIndex(f"{path}: not an oncosearch backend file; delete it to read the local files")
    return data["uri"]


def remember(root: Path, uri: str, only: bool = False) -> None:
    """Read Milvus at `uri` from now on; `only`: writes keep no local files either (milvus-only)."""
    from index.storage.atomic import atomic_write_text

    data = {"backend": "milvus", "uri": normalise_uri(uri), **({"only": True} if only else {})}
    atomic_write_text(Path(root) / BACKEND_FILE, json.dumps(data) + "\n")


def milvus_only(root: Path) -> bool:
    """Whether writes of the index at `root` keep their records in Milvus alone (no local files)."""
    if remembered(root) is None:
        return False
    return json.loads((Path(root) / BACKEND_FILE).read_text(encoding="utf-8")).get("only") is True


def open_remembered(root: Path, uri: str):
    """The mirror at `uri` of the current generation of the index at `root`."""
    from index.errors import MilvusUnavailable
    from index.storage.milvus.storage import open_milvus

    layout = IndexLayout(Path(root))
    name = layout.current_name()
    if name is None:
        raise NoIndex(layout.root)
    try:
        return open_milvus(uri, name, root=layout.root)
    except MilvusUnavailable as e:
        if "not mirrored" in e.problem or "partly mirrored" in e.problem:
            raise MilvusUnavailable(e.uri, f"{e.problem}; run: oncosearch index mirror --index {layout.root}",
                                    transient=False) from None
        raise


def index_key(root: Path) -> str:
    """A random name for the index at `root`, made once: its pools in a Milvus shared by several
    indexes (two labs' folders at the same path included) never mix."""
    import secrets

    from index.storage.atomic import atomic_write_text

    path = Path(root) / POOL_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = None
    except (OSError, ValueError) as e:
        raise DamagedIndex(f"{path}: unreadable ({e}); delete it (the next mirror then writes every vector)") from None
    if data is not None:
        key = data.get("index") if isinstance(data, dict) else None
        if isinstance(key, str) and key.isalnum():
            return key
        raise DamagedIndex(f"{path}: not an oncosearch pool file; delete it (the next mirror then writes every vector)")
    key = secrets.token_hex(5)
    atomic_write_text(path, json.dumps({"index": key}) + "\n")
    return key


def forget(root: Path) -> None:
    """Read the local files again (``index build/update --backend local``)."""
    from index.storage.atomic import fsync_dir

    path = Path(root) / BACKEND_FILE
    if path.exists():
        path.unlink()
        fsync_dir(Path(root))


def check_remembered(root: Path, generation: str) -> list[str]:
    """Problems with the Milvus mirror of `generation` that the index at `root` reads."""
    from index.storage.milvus.check import check_mirror
    from index.storage.milvus.writer import manifest_digest_of

    return check_mirror(remembered(root), generation,
                        digest=manifest_digest_of(IndexLayout(Path(root)).generations / generation))

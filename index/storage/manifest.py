"""The manifest every generation carries: what built it, what it holds, and checksums."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.errors import DamagedIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MILVUS_ONLY = "milvus"  # settings["storage"] of a generation whose records live only in Milvus




def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Manifest:
    model_id: str
    model_path: str | None
    dim: int
    records: int
    docs: int
    sentences: int
    built_at: str
    format_version: int = FORMAT_VERSION
    index_types: dict[str, str] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    files: dict[str, dict] = field(default_factory=dict)  # name -> {"sha256", "size"}

    def write(self, generation: Path) -> None:
        path = generation / MANIFEST
        with open(path, "w") as f:
            json.dump(asdict(self), f, indent=2, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def read(cls, generation: Path) -> Manifest:
        path = generation / MANIFEST
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise DamagedIndex(f"{path}: manifest missing (not an oncosearch index generation)") from None
        except (OSError, ValueError) as e:
            raise DamagedIndex(f"{path}: unreadable manifest: {e}") from None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            found = data.get("format_version") if isinstance(data, dict) else None
            raise DamagedIndex(f"{path}: index format {found}, this oncosearch reads format {FORMAT_VERSION}; rebuild it")
        try:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except TypeError as e:
            raise DamagedIndex(f"{path}: manifest fields wrong: {e}") from None

    def lives_in_milvus(self) -> bool:
        """Whether the generation's records live only in Milvus (its folder holds this manifest alone;
        index/storage/milvus/direct.py)."""
        return self.settings.get("storage") == MILVUS_ONLY

    def record_files(self, generation: Path, names: list[str]) -> None:
        self.files = {n: {"sha256": sha256_file(generation / n), "size": (generation / n).stat().st_size} for n in names}

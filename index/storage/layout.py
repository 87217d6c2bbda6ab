"""Where an index lives on disk, and how a generation becomes the current one.

    INDEX_DIR/
      CURRENT                 name of the current generation (switched with os.replace)
      lock                    writers hold an exclusive flock on it
      generations/<name>/     immutable once CURRENT points at it:
          manifest.json  store.sqlite  docs.faiss  sents.faiss  [lexical files]
      cache/                  embeddings by text hash, per model (reused by every build)
      alerts.sqlite           saved searches (search/alerts.py); writers never touch it

Readers read CURRENT once and keep using that generation even when a writer switches it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from index.storage.atomic import replace, write_synced

ENV_INDEX = "ONCOSEARCH_INDEX"
TMP_PREFIX = ".tmp-"  # generations/.tmp-NAME: being written (or left by a crash)
CURRENT_TMP_PREFIX = "CURRENT.tmp."


def default_index_dir() -> Path:
    """$ONCOSEARCH_INDEX, else $XDG_DATA_HOME/oncosearch/index (~/.local/share/oncosearch/index)."""
    if os.environ.get(ENV_INDEX):
        return Path(os.environ[ENV_INDEX]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "oncosearch" / "index"


def cache_home() -> Path:
    """$XDG_CACHE_HOME/oncosearch (~/.cache/oncosearch): eval indexes, model caches, lookup tables, memos."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "oncosearch"


@dataclass(frozen=True)
class IndexLayout:
    root: Path

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    @property
    def generations(self) -> Path:
        return self.root / "generations"

    @property
    def lock_file(self) -> Path:
        return self.root / "lock"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    def current_name(self) -> str | None:
        try:
            name = self.current_file.read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def current(self) -> Path | None:
        name = self.current_name()
        return self.generations / name if name else None

    def switch_to(self, generation: Path) -> None:
        """Atomically make `generation` current: write aside, fsync, rename over, fsync dir.

        A crash before the rename leaves a ``CURRENT.tmp.<pid>`` file (removed by the next writer)
        and the old CURRENT intact; after it, the new one. CURRENT is never half-written.
        """
        from index.storage.crashpoints import crash_point

        tmp = self.root / f"{CURRENT_TMP_PREFIX}{os.getpid()}"
        write_synced(tmp, f"{generation.name}\n".encode())
        crash_point("switch-tmp")
        replace(tmp, self.current_file)  # and fsync the root folder

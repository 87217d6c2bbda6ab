"""One writer at a time: an exclusive flock on INDEX_DIR/lock.

flock is released by the kernel when the holder dies (kill -9 included), so a crashed run never
leaves a stale lock. The holder writes who it is into the file for the waiting side's message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from index.errors import WriterBusy


class LockBusy(WriterBusy):
    """Another writer holds the index. Exit code 75 (EX_TEMPFAIL) for cron."""


class WriterLock:
    def __init__(self, path: Path, wait: float = 0.0):
        self.path = path
        self.wait = wait
        self.fd: int | None = None

    def holder(self) -> str:
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return "another oncosearch process"
        return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')} ({info.get('command')})"

    def __enter__(self) -> WriterLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockBusy(
                        f"index {self.path.parent} is being written by {self.holder()}; "
                        f"gave up after waiting {self.wait:g}s (use --wait SECONDS to wait longer)"
                    ) from None
                time.sleep(0.2)
        info = {
            "pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

"""`oncosearch serve` as a real process on 127.0.0.1, for the tests that talk HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serving(index: Path, *args: str, env: dict | None = None, log_dir: Path | None = None,
            timeout: float = 180) -> Iterator[Served]:
    """Start `oncosearch serve --index INDEX --port P ARGS`, wait until /healthz answers 200, yield
    its URL, then stop it (SIGTERM, then SIGKILL) whatever the test did."""
    port = free_port()
    log = (log_dir or index.parent) / f"serve-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ONCOSEARCH_")}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "search.cli", "serve", "--index", str(index), "--port",
                                 str(port), *args], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_healthy(served, timeout, headers=_auth(env))
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(served: Served, timeout: float, headers: dict | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"oncosearch serve exited {served.process.returncode}:\n{served.log_text()}")
        try:
            if httpx.get(f"{served.url}/healthz", headers=headers, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"oncosearch serve not healthy after {timeout}s:\n{served.log_text()}")


def _auth(env: dict | None) -> dict | None:
    token = (env or {}).get("ONCOSEARCH_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else None

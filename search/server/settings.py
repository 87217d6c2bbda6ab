"""How a server runs: which index, which address, who may ask (token), which other origin may call.

`oncosearch serve` builds one `ServerSettings`; with `--workers N` each worker process reads it
back from the environment (`to_env` / `from_env`), since uvicorn starts workers by import string.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus.errors import OncosearchError

ENV_TOKEN = "ONCOSEARCH_TOKEN"
ENV_SETTINGS = "ONCOSEARCH_SERVE_SETTINGS"  # JSON of the settings (without the token), for worker processes
MIN_TOKEN_LENGTH = 16


class UnsafeSettings(OncosearchError):
    """A server would be reachable from other machines without a token, or with a guessable one."""


@dataclass(frozen=True)
class ServerSettings:
    index_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None  # required unless host is loopback; checked on every request
    cors_origin: str | None = None  # one origin allowed to call the API from its pages (none by default)
    workers: int = 1
    warm: bool = True  # run two queries on each generation before answering from it
    access_log: bool = True  # one line per request (off: --quiet)

    def check(self) -> None:
        """Refuse settings that expose the index: any non-loopback address without a token."""
        if self.token is not None and len(self.token) < MIN_TOKEN_LENGTH:
            raise UnsafeSettings(f"the token is {len(self.token)} characters; use at least {MIN_TOKEN_LENGTH} "
                                 "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        if not is_loopback(self.host) and not self.token:
            raise UnsafeSettings(f"--host {self.host} is reachable from other machines: give --token TOKEN (or set "
                                 f"{ENV_TOKEN}) so that only people holding it can search, or keep the default "
                                 "--host 127.0.0.1 behind a reverse proxy")

    def to_env(self) -> dict[str, str]:
        """Environment for worker processes; the token travels in its own variable, as it came."""
        fields = asdict(self) | {"index_dir": str(self.index_dir), "token": None}
        env = {ENV_SETTINGS: json.dumps(fields)}
        if self.token:
            env[ENV_TOKEN] = self.token
        return env

    @classmethod
    def from_env(cls) -> ServerSettings:
        fields = json.loads(os.environ[ENV_SETTINGS])
        return cls(**(fields | {"index_dir": Path(fields["index_dir"]), "token": os.environ.get(ENV_TOKEN) or None}))


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches: 127.0.0.0/8, ::1, and the name localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to anything

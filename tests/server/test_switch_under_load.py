"""A generation switch under load, end to end: `oncosearch serve` answers clients on 127.0.0.1
while `oncosearch index update` writes and switches the index; no request fails, and afterwards
the answers come from the new generation."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter

import httpx
import pytest

from index.storage.layout import IndexLayout
from tests.conftest import run_cli
from tests.server.server_run import serving

pytestmark = pytest.mark.slow

QUERIES = ["CAR-T细胞治疗的安全性", "tumour immunotherapy", "PD-1 blockade", "肿瘤 免疫 治疗", "chemotherapy toxicity"]


def test_switch_under_load_fails_no_request(tmp_path, base, files):
    index = tmp_path / "index"
    shutil.copytree(base, index)
    new_ids = [json.loads(line)["id"] for line in files["B"].read_text().splitlines()]
    with serving(index, "--quiet", log_dir=tmp_path) as served:
        old = IndexLayout(index).current_name()
        statuses: Counter = Counter()
        generations: Counter = Counter()
        failures: list[str] = []
        stop = threading.Event()

        def client(n: int) -> None:
            with httpx.Client(base_url=served.url, timeout=30) as http:
                i = n
                while not stop.is_set():
                    try:
                        r = http.get("/api/search", params={"q": QUERIES[i % len(QUERIES)], "k": 5})
                        statuses[r.status_code] += 1
                        generations[r.headers.get("x-oncosearch-generation")] += 1
                        if r.status_code != 200:
                            failures.append(f"{r.status_code} {r.text[:200]}")
                    except httpx.HTTPError as e:
                        failures.append(repr(e))
                    i += 1

        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in clients:
            t.start()
        time.sleep(1.0)
        update = run_cli("index", "update", str(files["B"]), "--index", str(index), "--json", "--quiet")
        assert update.returncode == 0, update.stderr
        new = IndexLayout(index).current_name()
        assert new != old
        deadline = time.monotonic() + 60
        while generations[new] < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for t in clients:
            t.join()
        assert not failures, failures[:5]
        assert generations[old] > 0 and generations[new] >= 20, generations
        health = httpx.get(f"{served.url}/healthz").json()
        assert health["generation"] == new and health["records"] == 15
        for record_id in new_ids:  # records only the new generation holds
            assert httpx.get(f"{served.url}/api/records/{record_id}").status_code == 200
        assert "released generation" in served.log_text()

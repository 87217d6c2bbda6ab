"""`oncosearch serve` as a process: one worker and several, each logging its requests, stopped
cleanly by SIGTERM (what systemd sends)."""

from __future__ import annotations

import httpx
import pytest

from tests.server.server_run import serving

pytestmark = pytest.mark.slow


def test_the_single_process_server_answers_and_logs(server):
    r = httpx.get(f"{server.url}/api/search", params={"q": "CAR-T细胞治疗的安全性", "k": 3})
    assert r.status_code == 200 and len(r.json()["results"]) == 3
    assert '"GET /api/search?q=CAR-T' in server.log_text()


def test_two_workers_answer_and_log_and_stop_cleanly(built_index, tmp_path):
    with serving(built_index, "--workers", "2", log_dir=tmp_path) as served:
        with httpx.Client(base_url=served.url) as http:
            for q in ("tumour immunotherapy", "肿瘤免疫治疗", "PD-1 blockade"):
                r = http.get("/api/search", params={"q": q, "k": 5})
                assert r.status_code == 200 and r.json()["results"]
            assert http.get("/api/records/no-such-id").status_code == 404
        process = served.process
    assert process.returncode == 0  # SIGTERM: finish, then exit 0
    log = served.log_text()
    assert log.count('"GET /api/search?q=') == 3  # worker processes log their requests too
    assert "(2 workers)" in log and "Traceback" not in log

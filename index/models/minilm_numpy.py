"""all-MiniLM-L6-v2 query encoder in plain numpy, so that a search never imports torch.

Indexing embeds English passages with sentence-transformers (index/english.py); importing
torch and sentence-transformers takes seconds, most of a cold ``oncosearch search``. A query is
one short text, so the query path runs the same BERT forward pass here instead: the model
directory's own ``tokenizer.json`` through ``tokenizers``, the float32 weights of
``model.safetensors`` memory-mapped, then mean pooling and L2 normalisation, as modules.json
says. Rows agree with sentence-transformers to a cosine of 0.9999 or better
(tests/index/models/test_minilm_numpy.py).

The weights are read straight from the safetensors layout (an 8-byte header length, a JSON
header, the raw little-endian tensors) into read-only views of one ``mmap``:
``safetensors.safe_open(framework="np")`` copies every tensor, about 90 MB and 75-140 ms per
load, while a query touches a few dozen rows of the 47 MB word-embedding table.

A query is a few dozen tokens, far too small a product to split across BLAS threads, and on a
busy machine waiting for a second thread's core costs more than the product itself (as for USE,
index/models/encoders.py `query_threads`): `encode` runs with one BLAS thread unless told otherwise.

Only BERT encoders with absolute positions, (exact) GELU and mean pooling are supported;
anything else raises ValueError rather than giving vectors that do not match the index.
"""

from __future__ import annotations

import json
import mmap
import struct
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
_EMBEDDINGS = "embeddings.word_embeddings.weight"


def load_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file as a read-only numpy view of one memory map (no copies)."""
    with open(path, "rb") as f:
        buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if len(buffer) < 8:
        raise ValueError(f"{path}: not a safetensors file")
    (header_len,) = struct.unpack("<Q", buffer[:8])
    if 8 + header_len > len(buffer):
        raise ValueError(f"{path}: not a safetensors file (header length {header_len})")
    header = json.loads(buffer[8 : 8 + header_len])
    data = np.frombuffer(buffer, dtype=np.uint8, offset=8 + header_len)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        if not 0 <= begin <= end <= len(data) or end - begin != dtype.itemsize * int(np.prod(shape)):
            raise ValueError(f"{path}: tensor {name} has bad offsets {begin}..{end} for shape {shape}")
        tensors[name] = data[begin:end].view(dtype).reshape(shape)
    return tensors


_ERFC_COEFFS = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
                1.00002368, -1.26551223)


def _half_erfc_abs(x: np.ndarray) -> np.ndarray:
    """erfc(|x|) / 2, relative error below 1.2e-7 (Numerical Recipes' Chebyshev fit), in x's dtype."""
    z = np.abs(x)
    t = z * 0.5
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _ERFC_COEFFS[0]
    for c in _ERFC_COEFFS[1:-1]:
        poly += c
        poly *= t
    poly += _ERFC_COEFFS[-1]
    z *= z
    poly -= z
    np.exp(poly, out=poly)
    poly *= t
    poly *= 0.5
    return poly


def erf(x: np.ndarray) -> np.ndarray:
    """Vectorised error function, absolute error below 1.2e-7 (numpy has none; scipy is slow to import)."""
    half = _half_erfc_abs(x)
    np.subtract(0.5, half, out=half)
    return np.copysign(half, x, out=half) * 2.0


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's ``hidden_act: gelu``: x * (1 + erf(x / sqrt 2)) / 2."""
    half = _half_erfc_abs(x * np.asarray(0.7071067811865476, dtype=x.dtype))
    np.subtract(0.5, half, out=half)  # erf(|u|) / 2
    np.copysign(half, x, out=half)
    half += 0.5
    half *= x
    return half


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + np.float32(eps)) * weight + bias


def _read_json(path: Path) -> dict | list:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _check_pooling(config: dict, where: Path) -> None:
    """Mean over the tokens is the only pooling implemented; anything else is refused."""
    modes = {key for key, value in config.items() if key.startswith("pooling_mode_") and value is True}
    if "pooling_mode" in config:  # newer sentence-transformers spell it as one string
        modes.add(f"pooling_mode_{config['pooling_mode']}_tokens" if config["pooling_mode"] == "mean"
                  else f"pooling_mode_{config['pooling_mode']}")
    if modes != {"pooling_mode_mean_tokens"}:
        raise ValueError(f"{where}: only mean-token pooling is supported, found {sorted(modes) or 'none'}")


class MiniLMNumpy:
    """A sentence-transformers BERT model (Transformer -> mean Pooling -> Normalize) run in numpy."""

    def __init__(self, model_dir: str | Path, threads: int | None = 1) -> None:
        """Load `model_dir` (a sentence-transformers directory); `threads` BLAS threads per encode, None: as set."""
        self.model_dir = Path(model_dir)
        self.threads = threads
        transformer_dir = self._check_modules()
        config = _read_json(transformer_dir / "config.json")
        if config.get("model_type", "bert") != "bert" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{transformer_dir}: only BERT with absolute positions is supported")
        if config.get("hidden_act") != "gelu":
            raise ValueError(f"{transformer_dir}: hidden_act {config.get('hidden_act')!r} is not supported (only gelu)")
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.dim = int(config["hidden_size"])
        self.eps = float(config["layer_norm_eps"])
        if self.dim % self.heads:
            raise ValueError(f"{transformer_dir}: hidden_size {self.dim} is not a multiple of {self.heads} heads")

        sbert_path = transformer_dir / "sentence_bert_config.json"
        sbert = _read_json(sbert_path) if sbert_path.exists() else {}
        self.max_seq_length = int(sbert.get("max_seq_length") or config["max_position_embeddings"])
        self.max_seq_length = min(self.max_seq_length, int(config["max_position_embeddings"]))
        self.do_lower_case = bool(sbert.get("do_lower_case", False))

        # sentence-transformers calls the tokenizer with truncation="longest_first",
        # max_length=max_seq_length (special tokens included) and padding to the longest in the batch.
        self.tokenizer = Tokenizer.from_file(str(transformer_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)

        self.weights = self._named_weights(load_safetensors(transformer_dir / "model.safetensors"), transformer_dir)
        self._blas_limit = None
        if threads is not None:
            from threadpoolctl import ThreadpoolController

            self._blas_limit = ThreadpoolController().limit

    def _check_modules(self) -> Path:
        """Folder of the Transformer module, once modules.json is Transformer -> mean Pooling [-> Normalize]."""
        modules_path = self.model_dir / "modules.json"
        if not modules_path.exists():
            raise ValueError(f"{self.model_dir}: no modules.json (not a sentence-transformers model directory)")
        modules = sorted(_read_json(modules_path), key=lambda module: module["idx"])
        types = [module["type"] for module in modules]
        if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
            raise ValueError(f"{modules_path}: expected Transformer -> Pooling [-> Normalize], found {types}")
        pooling_dir = self.model_dir / modules[1]["path"]
        _check_pooling(_read_json(pooling_dir / "config.json"), pooling_dir)
        return self.model_dir / modules[0]["path"]

    def _named_weights(self, tensors: dict[str, np.ndarray], where: Path) -> dict[str, np.ndarray]:
        """The tensors under their names without any prefix ("bert.", "model." ...), floating ones as float32."""
        prefixes = [name[: -len(_EMBEDDINGS)] for name in tensors if name.endswith(_EMBEDDINGS)]
        if len(prefixes) != 1:
            raise ValueError(f"{where}: expected one {_EMBEDDINGS} in model.safetensors, found {len(prefixes)}")
        prefix = prefixes[0]
        weights = {}
        for name, tensor in tensors.items():
            if name.startswith(prefix):
                floating = tensor.dtype.kind == "f" and tensor.dtype != np.float32
                weights[name[len(prefix):]] = tensor.astype(np.float32) if floating else tensor
        missing = [name for name in self._required_names() if name not in weights]
        if missing:
            raise ValueError(f"{where}: model.safetensors lacks {missing[:3]}{' ...' if len(missing) > 3 else ''}")
        if weights[_EMBEDDINGS].shape[1] != self.dim:
            raise ValueError(f"{where}: embeddings are {weights[_EMBEDDINGS].shape[1]}-wide, config says {self.dim}")
        return weights

    def _required_names(self) -> list[str]:
        names = [_EMBEDDINGS, "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
                 "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
        for i in range(self.layers):
            for part in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                         "intermediate.dense", "output.dense"):
                names += [f"encoder.layer.{i}.{part}.weight", f"encoder.layer.{i}.{part}.bias"]
            for part in ("attention.output.LayerNorm", "output.LayerNorm"):
                names += [f"encoder.layer.{i}.{part}.weight", f"encoder.layer.{i}.{part}.bias"]
        return names

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text, shape (len(texts), dim)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if self._blas_limit is None:
            return self._encode(texts, batch_size, out)
        with self._blas_limit(limits=self.threads, user_api="blas"):
            return self._encode(texts, batch_size, out)

    def _encode(self, texts: list[str], batch_size: int, out: np.ndarray) -> np.ndarray:
        texts = [text.lower() if self.do_lower_case else text for text in texts]
        encodings = self.tokenizer.encode_batch(texts)
        # Longest first, as sentence-transformers batches, so a batch pads little.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            length = len(encodings[rows[0]].ids)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            type_ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.float32)
            for j, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[j, :n] = encodings[i].ids
                type_ids[j, :n] = encodings[i].type_ids
                mask[j, :n] = 1.0
            out[rows] = self._embed(ids, type_ids, mask)
        return out

    def _embed(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """BERT forward pass over one padded batch, then mean pooling and L2 normalisation."""
        w = self.weights
        batch, length = ids.shape
        x = (w[_EMBEDDINGS][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][type_ids])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        x = x.reshape(batch * length, self.dim)
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # padded keys get no attention
        for i in range(self.layers):
            x = self._layer(x, f"encoder.layer.{i}.", batch, length, bias)
        x = x.reshape(batch, length, self.dim)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def _layer(self, x: np.ndarray, name: str, batch: int, length: int, bias: np.ndarray) -> np.ndarray:
        """One encoder layer on (batch * length, dim) rows."""
        w = self.weights
        head_dim = self.dim // self.heads

        def dense(h: np.ndarray, part: str) -> np.ndarray:
            # (W @ h.T).T, not h @ W.T: W is stored (out, in) row-major, and with a few dozen rows
            # in h OpenBLAS streams W half again as fast this way round (452 vs 686 us for the
            # 1536 x 384 product on 18 rows, one thread); same sums, no copy of W.
            return (w[f"{name}{part}.weight"] @ h.T).T + w[f"{name}{part}.bias"]

        def split(h: np.ndarray) -> np.ndarray:  # -> (batch, heads, length, head_dim)
            return h.reshape(batch, length, self.heads, head_dim).transpose(0, 2, 1, 3)

        q = split(dense(x, "attention.self.query"))
        k = split(dense(x, "attention.self.key"))
        v = split(dense(x, "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) * np.float32(1.0 / np.sqrt(head_dim)) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.dim)
        x = _layer_norm(dense(context, "attention.output.dense") + x, w[f"{name}attention.output.LayerNorm.weight"],
                        w[f"{name}attention.output.LayerNorm.bias"], self.eps)
        hidden = gelu(dense(x, "intermediate.dense"))
        return _layer_norm(dense(hidden, "output.dense") + x, w[f"{name}output.LayerNorm.weight"],
                           w[f"{name}output.LayerNorm.bias"], self.eps)

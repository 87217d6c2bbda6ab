"""A fingerprint of the code and data that shape an index's tokens, chunks and vectors.

An index is a function of its records, its models and this code: sentence splitting and
normalisation, chunking, the passage splitter, the jieba user dictionary, the glossary, the BM25
tokenizer and parameters, the FAISS type rule, the store layout. Caches of built indexes (the
evaluation indexes of `oncosearch eval`, the benchmark's) key on this fingerprint, so a change to
any of them builds a fresh index instead of measuring code that no longer exists. Embeddings stay
cached by text, so such a rebuild re-embeds only text that changed.

Comments and docstrings are left out (they change no index); everything else in a listed module
counts. The list is by module name and resolved at run time: a module that moves or disappears fails
loudly (tests/index/test_fingerprint.py) rather than silently leaving the fingerprint blind.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import cache
from pathlib import Path

SHAPING_MODULES = (
    "corpus.text",  # normalisation, language detection, sentence splitting
    "corpus.record",  # the record's text per language
    "index.chunking",  # what becomes a USE vector
    "index.english",  # the English passages
    "index.lexical.tokenize",  # BM25 tokens, jieba set-up
    "index.lexical.glossary",  # concept tags, user dictionary
    "index.lexical.bm25",  # BM25 parameters and files
    "index.builder",  # the generation's layout and ranges
    "index.storage.store",  # the SQLite schema
    "index.storage.vectors",  # FAISS types
    "index.models.encoders",  # model identity, normalisation
)
DATA_DIR = Path(__file__).resolve().parent / "data"  # jieba user dictionary, glossary, extra terms


def shaping_files() -> list[Path]:
    files = []
    for name in SHAPING_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"index.fingerprint lists {name}, which does not exist: update SHAPING_MODULES")
        files.append(Path(spec.origin))
    return files + sorted(p for p in DATA_DIR.iterdir() if p.is_file())


def code_of(path: Path) -> bytes:
    """A module's code without its comments and docstrings (which change no index); a data file's bytes."""
    if path.suffix != ".py":
        return path.read_bytes()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


@cache
def build_fingerprint() -> str:
    """Hex digest over the shaping modules' code and the data files' bytes, with their names."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in shaping_files():
        h.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode() + b"\0")
        h.update(code_of(path))
    return h.hexdigest()[:16]

"""The build fingerprint: eval indexes are rebuilt when the code or data that shape them change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from index.fingerprint import SHAPING_MODULES, build_fingerprint, shaping_files

ROOT = Path(__file__).resolve().parents[2]


def test_every_listed_module_exists_and_the_data_is_included():
    files = shaping_files()
    assert len(files) > len(SHAPING_MODULES)
    assert {"jieba_userdict.txt", "oncology_glossary.tsv"} <= {f.name for f in files}
    assert build_fingerprint() == build_fingerprint()


def test_comments_and_docstrings_do_not_count_code_does(tmp_path):
    from index.fingerprint import code_of

    src = tmp_path / "m.py"
    src.write_text('"""Doc."""\nX = 1  # one\n\n\ndef f():\n    """Why."""\n    return X\n')
    base = code_of(src)
    src.write_text('"""Another doc."""\nX = 1  # a different comment\n\n\ndef f():\n    return X\n')
    assert code_of(src) == base
    src.write_text('"""Doc."""\nX = 2\n\n\ndef f():\n    return X\n')
    assert code_of(src) != base


def _eval(tree: Path, folder: Path, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "XDG_CACHE_HOME": str(cache)}
    proc = subprocess.run([sys.executable, "-m", "search.cli", "eval", str(folder), "--mode", "dense", "--json"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_eval_rebuilds_after_a_glossary_or_dictionary_change_and_says_so(tmp_path, shared):
    tree = tmp_path / "tree"
    for package in ("corpus", "index", "search"):
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("sample", "__pycache__"))
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    lines = (shared / "bench" / "pubmedqa" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:6]
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = [json.loads(line)["_id"] for line in lines]
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "CAR-T cell therapy"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text(f"query-id\tcorpus-id\tscore\nq1\t{docs[0]}\t1\n")
    cache = tmp_path / "cache"

    first = _eval(tree, folder, cache)
    assert first["index"].endswith("(built)")
    assert _eval(tree, folder, cache)["index"] == first["index"].replace("(built)", "(reused)")

    glossary = tree / "index" / "data" / "oncology_glossary.tsv"
    glossary.write_text(glossary.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after_glossary = _eval(tree, folder, cache)
    assert after_glossary["index"].endswith("(built)") and after_glossary["index"] != first["index"]

    userdict = tree / "index" / "data" / "jieba_userdict.txt"
    userdict.write_text(userdict.read_text(encoding="utf-8") + "嵌合抗原受体 100 n\n", encoding="utf-8")
    after_dict = _eval(tree, folder, cache)
    assert after_dict["index"].endswith("(built)") and after_dict["index"] != after_glossary["index"]

"""The bundled sample in both languages: CSL's Chinese abstracts are part of it, regenerate from
../shared exactly, and a Chinese (or English) query finds them.

The index here holds the CSL part plus the first 20 English PubMed records of the sample, built
once for the module in-process (small: about 50 records).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from corpus import read_file
from index.pipeline import sample_sources
from search.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "corpus" / "sample"
CSL_FILE = SAMPLE / "csl-medicine-oncology.zh.jsonl"


def build_sample_module():
    spec = importlib.util.spec_from_file_location("build_sample", SAMPLE / "build_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_default_index_reads_the_csl_part():
    assert CSL_FILE in sample_sources() and all(p.is_file() for p in sample_sources())
    result = read_file(CSL_FILE)
    assert result.format == "jsonl" and result.skipped == [] and len(result.records) == 32
    assert all(r.langs == ("zh",) and r.has_abstract() and r.keywords and r.id.startswith("csl:")
               for r in result.records)
    assert "csl-medicine-oncology.zh.jsonl" in (SAMPLE / "PROVENANCE.md").read_text(encoding="utf-8")


def test_the_csl_part_regenerates_from_shared_exactly(shared):
    rows = list(build_sample_module().csl_records(shared / "corpus" / "csl" / "benchmark"))
    committed = [json.loads(line) for line in CSL_FILE.read_text(encoding="utf-8").splitlines()]
    assert rows == committed
    # the rule keeps cancer and immunity, and leaves an aneurysm (动脉瘤) out although 瘤 is in its title
    titles = {r["title"]["zh"] for r in rows}
    assert "硫酸吗啡控释片治疗856例癌症疼痛临床研究" in titles
    assert not any("动脉瘤" in t for t in titles)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> SimpleNamespace:
    folder = tmp_path_factory.mktemp("bilingual")
    english = read_file(SAMPLE / "pubmed21n1298-oncology.xml.gz").records[:20]
    source = folder / "english.jsonl"
    source.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in english), encoding="utf-8")
    index = folder / "idx"
    result = CliRunner().invoke(app, ["index", "build", str(CSL_FILE), str(source), "--index", str(index), "--json"])
    assert result.exit_code == 0, result.stderr
    return SimpleNamespace(index=index, summary=json.loads(result.stdout))


def top_ids(small, query: str, k: int = 3) -> list[str]:
    result = CliRunner().invoke(app, ["search", query, "--index", str(small.index), "-k", str(k), "--json"])
    assert result.exit_code == 0, result.stderr
    return [r["id"] for r in json.loads(result.stdout)["results"]]


def test_small_index_holds_both_parts(small):
    assert small.summary["index_records"] == 52 and small.summary["skipped"] == []


@pytest.mark.parametrize(("query", "record"), [
    ("癌症疼痛的吗啡治疗", "csl:test:609"),  # morphine for cancer pain
    ("口腔癌的分子标志物", "csl:test:935"),  # molecular markers of oral cancer: CD44V6 in oral squamous carcinoma
    ("白血病患者的家庭护理", "csl:test:535"),  # home nursing of leukaemia patients
])
def test_chinese_query_finds_a_csl_abstract_first(small, query, record):
    assert top_ids(small, query)[0] == record


def test_english_query_reaches_a_chinese_abstract(small):
    assert "csl:test:667" in top_ids(small, "skin lesions of adult T-cell leukemia/lymphoma")

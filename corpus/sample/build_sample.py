"""Rebuild the bundled sample corpus from its two upstream sources.

    python corpus/sample/build_sample.py ../shared/corpus/pubmed21n1298.xml.gz
    python corpus/sample/build_sample.py ../shared/corpus/csl/benchmark

PubMed (a .xml.gz file): keeps every <PubmedArticle> that has an abstract and is about cancer: an
oncology word in its title, abstract or MeSH headings. The records are copied as NLM wrote them
(PubMed XML), so the sample is read by the same reader as any PubMed download (less the
cited-reference lists, which nothing here reads).

CSL (its ``benchmark`` folder): the Chinese abstracts about cancer, tumours and immunity — see
`csl_records` for the rule — written as JSON Lines of `Record.to_dict` (read by the ``jsonl``
reader), so a newcomer's Chinese query finds Chinese papers too, not only English ones.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

HERE = Path(__file__).parent
PUBMED_SAMPLE = HERE / "pubmed21n1298-oncology.xml.gz"
CSL_SAMPLE = HERE / "csl-medicine-oncology.zh.jsonl"

ONCOLOGY = re.compile(
    r"\b(cancer|cancers|tumou?rs?|carcinomas?|neoplasms?|neoplastic|oncolog\w*|lymphomas?|leuka?emias?|"
    r"melanomas?|sarcomas?|gliomas?|glioblastomas?|myelomas?|metasta\w+|blastomas?|adenocarcinomas?|"
    r"malignan\w+|CAR-T|chemotherapy|radiotherapy|immunotherapy)\b",
    re.I,
)


def is_oncology(article: etree._Element) -> bool:
    text = " ".join(
        "".join(el.itertext())
        for path in (".//ArticleTitle", ".//Abstract", ".//MeshHeading/DescriptorName")
        for el in article.iterfind(path)
    )
    return bool(article.find(".//Abstract/AbstractText") is not None and ONCOLOGY.search(text))


def build_pubmed(src: Path, dest: Path = PUBMED_SAMPLE) -> int:
    with gzip.open(src, "rb") as f:
        tree = etree.parse(f, etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True))
    root = tree.getroot()
    kept = 0
    for article in list(root):
        if article.tag == "PubmedArticle" and is_oncology(article):
            kept += 1
            for refs in article.findall("PubmedData/ReferenceList"):
                refs.getparent().remove(refs)  # cited references: bulk we never read
        else:
            root.remove(article)
    data = etree.tostring(tree, xml_declaration=True, encoding="utf-8")
    with gzip.GzipFile(dest, "wb", mtime=0) as out:  # mtime=0: byte-identical rebuilds
        out.write(data)
    print(f"kept {kept} oncology records with abstracts -> {dest}")
    return kept


# --- CSL -----------------------------------------------------------------------------------------------------

CSL_CATEGORY = "医学"  # the cls_ctg label of medicine (one of CSL's 13 categories)
# Cancer, tumour and treatment words, and immunity: 瘤 alone is not enough (动脉瘤 is an aneurysm,
# 结核瘤 a tuberculoma), so the malignant kinds are named; 免疫组化/免疫组织化学 is a staining method,
# not a topic, and does not count.
CSL_TOPIC = re.compile(
    r"癌|肿瘤|恶性|白血病|淋巴瘤|骨髓瘤|肉瘤|黑色?素瘤|胶质瘤|母细胞瘤|化疗|放疗|免疫(?!组)"
)
CSL_SPLITS = ("dev", "test")  # the splits whose abstracts CSL publishes (train has titles only)


def _rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def csl_records(folder: Path) -> Iterator[dict]:
    """CSL's medical records about cancer, tumours or immunity, as `Record.to_dict` dicts.

    CSL's task files are line-aligned within a split: line i of ``ts`` (abstract → title), ``kg``
    (abstract + title → keywords joined by '_'), ``cls_dcp`` (abstract → discipline) and
    ``cls_ctg`` (title → category) are one paper. Kept: category 医学 and a `CSL_TOPIC` word in
    the title, abstract or keywords. Ids name the split and line (``csl:test:935``) so each record
    can be traced back; CSL gives no journal, year, authors or DOI.
    """
    for split in CSL_SPLITS:
        ts, kg, dcp, ctg = (_rows(folder / task / f"{split}.tsv") for task in ("ts", "kg", "cls_dcp", "cls_ctg"))
        if not len(ts) == len(kg) == len(dcp) == len(ctg):
            raise SystemExit(f"{folder}: the {split} files differ in length; CSL's layout has changed")
        for line, (t, k, d, c) in enumerate(zip(ts, kg, dcp, ctg, strict=True), 1):
            abstract, title, keywords, category = t[1], t[2], k[2], c[2]
            if d[1] != abstract or c[1] != title or k[1] != f"{abstract} {title}":
                raise SystemExit(f"{folder}: {split} line {line} is not one paper across ts/kg/cls_dcp/cls_ctg")
            if category != CSL_CATEGORY or not CSL_TOPIC.search(f"{title} {abstract} {keywords}"):
                continue
            yield {
                "id": f"csl:{split}:{line}", "title": {"zh": title}, "abstract": {"zh": abstract},
                "keywords": [w for w in keywords.split("_") if w.strip()],
            }


def build_csl(folder: Path, dest: Path = CSL_SAMPLE) -> int:
    rows = list(csl_records(folder))
    dest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"kept {len(rows)} CSL medical records about cancer, tumours or immunity -> {dest}")
    return len(rows)


def main(src: str, dest: str | None = None) -> None:
    path = Path(src)
    if path.is_dir():
        build_csl(path, Path(dest) if dest else CSL_SAMPLE)
    else:
        build_pubmed(path, Path(dest) if dest else PUBMED_SAMPLE)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)

"""Rebuild the bundled sample corpus from the NLM PubMed update file pubmed21n1298.

    python corpus/sample/build_sample.py ../shared/corpus/pubmed21n1298.xml.gz

Keeps every <PubmedArticle> that has an abstract and is about cancer: an oncology word in
its title, abstract or MeSH headings. The records are copied as NLM wrote them (PubMed XML),
so the sample is read by the same reader as any PubMed download (less the cited-reference
lists, which nothing here reads).
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

from lxml import etree

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


def main(src: str, dest: str) -> None:
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


if __name__ == "__main__":
    default_dest = str(Path(__file__).with_name("pubmed21n1298-oncology.xml.gz"))
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else default_dest)

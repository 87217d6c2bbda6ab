"""PubMed XML (PubmedArticleSet from efetch, the baseline and update files).

Streams with lxml.iterparse so a 200 MB update file never sits in memory as a tree.
Structured abstracts keep their section labels, one section a line ("METHODS: ...");
OtherAbstract and VernacularTitle supply the second language of Chinese-journal records.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from corpus.readers import Skip
from corpus.readers._tagged import NO_TEXT, has_text
from corpus.record import Record, article_number, full_pages, make_record_id, normalise_doi, page_range
from corpus.sources import InputFileError, read_bytes
from corpus.text import detect_lang, squash

NAME = "pubmed-xml"


def sniff(path: Path, head: bytes) -> bool:
    h = head[:4096].decode("utf-8", "ignore")
    return "<PubmedArticleSet" in h or "<PubmedArticle>" in h or "<PubmedArticle " in h


def _text(el: etree._Element | None) -> str:
    """All text inside an element, inline markup (<i>, <sup>) flattened."""
    return "" if el is None else "".join(el.itertext())


def _abstract(abstract: etree._Element | None) -> str:
    if abstract is None:
        return ""
    lines = []
    for part in abstract.findall("AbstractText"):
        body = squash(_text(part))
        if not body:
            continue
        label = (part.get("Label") or "").strip()
        lines.append(f"{label}: {body}" if label and label.upper() != "UNLABELLED" else body)
    return "\n".join(lines)


def _year(article: etree._Element) -> int | None:
    for path in ("Journal/JournalIssue/PubDate/Year", "ArticleDate/Year"):
        y = article.findtext(path)
        if y and y.strip().isdigit():
            return int(y.strip())
    medline = article.findtext("Journal/JournalIssue/PubDate/MedlineDate") or ""
    m = re.search(r"(1[89]|20)\d\d", medline)
    return int(m.group(0)) if m else None


def _authors(article: etree._Element) -> tuple[str, ...]:
    names = []
    for a in article.findall("AuthorList/Author"):
        last, fore = a.findtext("LastName"), a.findtext("ForeName") or a.findtext("Initials")
        if last:
            names.append(f"{last.strip()} {fore.strip()}" if fore else last.strip())
        elif a.findtext("CollectiveName"):
            names.append(squash(_text(a.find("CollectiveName"))))
    return tuple(names)


def _doi(article_el: etree._Element) -> str | None:
    # Explicit paths, not ".//": PubmedData/ReferenceList holds the DOIs of *cited* papers, which
    # a descendant search returned for articles without a DOI of their own (and it was slow).
    for el in article_el.iterfind("MedlineCitation/Article/ELocationID[@EIdType='doi']"):
        if el.text:
            return normalise_doi(el.text)
    for el in article_el.iterfind("PubmedData/ArticleIdList/ArticleId[@IdType='doi']"):
        if el.text:
            return normalise_doi(el.text)
    return None


def parse_article(el: etree._Element) -> Record | str:
    """One <PubmedArticle> to a Record, or the reason it cannot be one."""
    citation = el.find("MedlineCitation")
    if citation is None:
        return "no MedlineCitation element"
    pmid = (citation.findtext("PMID") or "").strip() or None
    article = citation.find("Article")
    if article is None:
        return "no Article element"
    title: dict[str, str] = {}
    abstract: dict[str, str] = {}
    main_title = squash(_text(article.find("ArticleTitle"))).strip("[]")
    if main_title:
        title[detect_lang(main_title)] = main_title
    vern = squash(_text(article.find("VernacularTitle")))
    if vern:
        title.setdefault(detect_lang(vern), vern)
    main_abs = _abstract(article.find("Abstract"))
    if main_abs:
        abstract[detect_lang(main_abs)] = main_abs
    for other in citation.findall("OtherAbstract"):
        text = _abstract(other)
        if text:
            abstract.setdefault(detect_lang(text), text)
    keywords = [squash(_text(k)) for k in citation.iterfind("KeywordList/Keyword")]
    keywords += [squash(_text(d)) for d in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName")]
    year = _year(article)
    doi = _doi(el)
    return Record(
        id=make_record_id(pmid=pmid, doi=doi, title=title, year=year),
        title=title,
        abstract=abstract,
        pmid=pmid,
        doi=doi,
        authors=_authors(article),
        journal=squash(article.findtext("Journal/Title") or "") or None,
        year=year,
        keywords=tuple(k for k in keywords if k),
        pub_types=tuple(squash(_text(p)) for p in article.iterfind("PublicationTypeList/PublicationType")),
    ).with_citation(
        volume=article.findtext("Journal/JournalIssue/Volume"),
        issue=article.findtext("Journal/JournalIssue/Issue"),
        pages=page_range(article.findtext("Pagination/StartPage"), article.findtext("Pagination/EndPage"))
        or full_pages(article.findtext("Pagination/MedlinePgn"))
        or article_number(article.findtext("ELocationID[@EIdType='pii']")),
    )


def parse(path: Path) -> Iterator[Record | Skip]:
    data = read_bytes(path)
    n = 0
    try:
        for _, el in etree.iterparse(
            io.BytesIO(data), events=("end",), tag=("PubmedArticle", "PubmedBookArticle"),
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
        ):
            n += 1
            if el.tag == "PubmedBookArticle":
                yield Skip(str(path), n, "book record (PubmedBookArticle), not a journal abstract", el.sourceline)
            else:
                rec = parse_article(el)
                if isinstance(rec, str):
                    yield Skip(str(path), n, rec, el.sourceline)
                elif not has_text(rec):  # a title-only record (a letter, a comment) is indexed on its title
                    yield Skip(str(path), n, f"{NO_TEXT} ({rec.id})", el.sourceline)
                else:
                    yield rec
            el.clear(keep_tail=False)
            while el.getprevious() is not None:
                del el.getparent()[0]
    except etree.XMLSyntaxError as e:
        line = e.position[0] if e.position else None
        msg = f"malformed XML at line {line}: {e.msg}; {n} records before it were read"
        if n == 0:
            raise InputFileError(path, msg) from None
        yield Skip(str(path), n + 1, msg, line)
    if n == 0:
        raise InputFileError(path, "no PubmedArticle elements found")



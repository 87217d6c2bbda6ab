"""MEDLINE / .nbib, the format of PubMed's "Save → PubMed" (EndNote, Zotero, NoteExpress import it as
PubMed/MEDLINE).

No maintained library writes it (the PyPI ``nbib`` package only parses, and is the second reader in
the tests), and the format is a few tagged lines, so it is written here. PubMed's own convention for
a Chinese-journal article is kept, since every MEDLINE importer expects it:

- English title in TI, the Chinese title in TT (PubMed's "transliterated title", the title in the
  original language); English abstract in AB, the Chinese one in OAB with OABL - chi. A record in
  one language has its title in TI and its abstract in AB.
- FAU per author as stored, JT journal, DP year, VI, IP, PG, AID "doi [doi]", OT per keyword (MeSH
  headings among them are not told apart), PT per publication type, LA chi / eng.
- Each value is one line: MEDLINE readers join wrapped lines with a space, which would put spaces
  into Chinese text, and a line break inside an abstract becomes a space (PubMed's AB is one
  paragraph too). A blank line would end the record.
- OWN - oncosearch (the source of the citation data, which also makes a file of records without a
  PMID recognisable as MEDLINE) and OID - oncosearch: ID (MEDLINE's "organisation: identifier"
  form), which our reader takes back as the record id.
"""

from __future__ import annotations

from collections.abc import Sequence

from corpus.record import EXPORT_MARK, Record
from corpus.text import squash
from search.export.fields import lang_order

_MEDLINE_LANGUAGE = {"zh": "chi", "en": "eng"}


def _line(tag: str, value: str) -> str:
    return f"{tag:<4}- {squash(value)}"


def _lines(record: Record) -> list[str]:
    lines = [_line("PMID", record.pmid)] if record.pmid else []
    lines += [_line("OWN", EXPORT_MARK), _line("OID", f"{EXPORT_MARK}: {record.id}")]
    lines += [_line(tag, value) for tag, value in (("VI", record.volume), ("IP", record.issue)) if value]
    if record.year:
        lines.append(_line("DP", str(record.year)))
    order = ("en", "zh")  # PubMed's: English in TI/AB, the original language in TT/OAB
    titles = [record.title[lang] for lang in order if record.title.get(lang)]
    lines += [_line(tag, text) for tag, text in zip(("TI", "TT"), titles, strict=False)]
    if record.pages:
        lines.append(_line("PG", record.pages))
    if record.doi:
        lines.append(_line("AID", f"{record.doi} [doi]"))
    abstracts = [(lang, record.abstract[lang]) for lang in order if record.abstract.get(lang)]
    for (lang, text), tag in zip(abstracts, ("AB", "OAB"), strict=False):
        lines.append(_line(tag, text))
        if tag == "OAB":
            lines.append(_line("OABL", _MEDLINE_LANGUAGE[lang]))
    lines += [_line("FAU", name) for name in record.authors]
    if record.langs:
        lines.append(_line("LA", _MEDLINE_LANGUAGE[lang_order(record)[0]]))
    lines += [_line("PT", t) for t in record.pub_types]
    if record.journal:
        lines.append(_line("JT", record.journal))
    lines += [_line("OT", k) for k in record.keywords]
    return lines


def write(records: Sequence[Record]) -> str:
    return "".join("\n".join(_lines(r)) + "\n\n" for r in records)

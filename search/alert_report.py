"""An alert run's new records as a report: markdown (for mail), html, json or ris.

A report holds only the alerts with new records (`AlertRun.news`); a run with nothing new has no
report at all (the CLI prints nothing, so cron mails nothing). Every format is built from the same
`AlertRun`, so the CLI and a server say the same thing.

JSON (keys documented in README "Alerts"):
``{"generated", "index", "generation", "alerts": [{"name", "query", "filters", "top", "new": [hit]}]}``
where each hit has the keys of `oncosearch search --json` results (`search.engine.Hit.to_dict`).
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

from corpus.record import Record
from search.alerts import AlertRun, filters_as_options, filters_to_dict

FORMATS = ("markdown", "html", "json", "ris")


def render(run: AlertRun, fmt: str) -> str:
    """The report of `run` in `fmt` (one of FORMATS); "" when no alert has anything new."""
    if not run.news:
        return ""
    return {"markdown": markdown, "html": html_page, "json": json_text, "ris": ris}[fmt](run)


def links(record: Record) -> list[tuple[str, str]]:
    """(label, URL) of a record's PubMed page and DOI."""
    out = []
    if record.pmid and record.pmid.isdigit():
        out.append((f"PMID {record.pmid}", f"https://pubmed.ncbi.nlm.nih.gov/{record.pmid}/"))
    if record.doi:
        out.append((f"doi:{record.doi}", "https://doi.org/" + quote(record.doi, safe="/:;()._-")))
    return out


def _titles(record: Record) -> list[str]:
    titles = [record.title[lang] for lang in ("en", "zh") if record.title.get(lang)]
    return titles or [record.id]


def _count(n: int) -> str:
    return f"{n} new record{'s' if n != 1 else ''}"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text: str) -> str:
    """Text as literal markdown (no emphasis, links or HTML from a title), on one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def markdown(run: AlertRun) -> str:
    total = sum(len(r.new) for r in run.news)
    lines = [f"# oncosearch alerts: {_count(total)} ({run.started[:10]})", ""]
    for result in run.news:
        alert = result.alert
        options = filters_as_options(alert.filters)
        lines += [f"## {md_escape(alert.name)}: {_count(len(result.new))}", "",
                  f"Query: {md_escape(alert.query)}" + (f" · {md_escape(options)}" if options else "")
                  + f" · top {alert.top}", ""]
        for i, hit in enumerate(result.new, 1):
            r = hit.record
            first, *others = _titles(r)
            lines.append(f"{i}. **{md_escape(first)}**" + "".join(f"  \n   {md_escape(t)}" for t in others) + "  ")
            facts = [str(r.year) if r.year else "", f"*{md_escape(r.journal)}*" if r.journal else "",
                     *(f"[{md_escape(label)}](<{url}>)" for label, url in links(r)), f"rank {hit.rank}"]
            lines.append("   " + " · ".join(f for f in facts if f))
        lines.append("")
    return "\n".join(lines)


def html_page(run: AlertRun) -> str:
    """A self-contained page (no scripts, no outside resources); every value escaped."""
    e = html.escape
    total = sum(len(r.new) for r in run.news)
    title = f"oncosearch alerts: {_count(total)} ({run.started[:10]})"
    body = []
    for result in run.news:
        alert = result.alert
        options = filters_as_options(alert.filters)
        body.append(f"<h2>{e(alert.name)}: {_count(len(result.new))}</h2>")
        body.append(f"<p class=\"q\">Query: <b>{e(alert.query)}</b>" + (f" · <code>{e(options)}</code>" if options else "")
                    + f" · top {alert.top}</p>")
        body.append("<ol>")
        for hit in result.new:
            r = hit.record
            titles = "<br>".join(f"<b>{e(t)}</b>" if i == 0 else e(t) for i, t in enumerate(_titles(r)))
            facts = [e(str(r.year)) if r.year else "", f"<i>{e(r.journal)}</i>" if r.journal else "",
                     *(f"<a href=\"{e(url)}\">{e(label)}</a>" for label, url in links(r)), f"rank {hit.rank}"]
            snippet = f"<br><span class=\"s\">{e(hit.snippet)}</span>" if hit.snippet else ""
            body.append(f"<li>{titles}<br>{' · '.join(f for f in facts if f)}{snippet}</li>")
        body.append("</ol>")
    style = ("body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}"
             "li{margin-bottom:.8em}.q{color:#444}.s{color:#555;font-size:90%}")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>{style}</style></head>\n<body>\n<h1>{e(title)}</h1>\n"
            + "\n".join(body) + "\n</body></html>\n")


def as_dict(run: AlertRun) -> dict:
    return {
        "generated": run.started, "index": str(run.index), "generation": run.generation,
        "alerts": [{"name": r.alert.name, "query": r.alert.query, "filters": filters_to_dict(r.alert.filters),
                    "top": r.alert.top, "new": [hit.to_dict() for hit in r.new]} for r in run.news],
    }


def json_text(run: AlertRun) -> str:
    return json.dumps(as_dict(run), ensure_ascii=False, indent=2) + "\n"


def ris(run: AlertRun) -> str:
    """The new records as one RIS file for a reference manager (a record new to two alerts once)."""
    from search.export import export

    records = {hit.record.id: hit.record for result in run.news for hit in result.new}
    return export(list(records.values()), "ris")

"""Output for people (rich tables) and for scripts (JSON)."""

from __future__ import annotations

import json
import sys
from typing import Any

from search.engine import Hit
from search.query import Query


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)


ID_HEADER = "PMID / DOI"
ID_WIDTH = 24  # the identifier column's width however narrow the terminal


def _ident_width(idents: list[str], rank_width: int, console_width: int) -> int:
    """Width of the PMID / DOI column: the longest identifier, on one line where the terminal allows
    (10.1016/j.ejmp.2020.12.011 is 26 characters: one line from 80 columns), but at most half of what
    the narrow columns leave, so the titles keep the other half."""
    from rich.cells import cell_len

    longest = max(cell_len(i) for i in [ID_HEADER, *idents])
    fixed = rank_width + len("score") + len("year") + 16  # the other narrow columns, borders and padding
    return min(longest, max(ID_WIDTH, (console_width - fixed) // 2))


def no_abstract_mark(record) -> str:
    """The mark of a title-only record (indexed on its title and keywords), in its title's language."""
    return "［无摘要］" if record.title.get("zh") and not record.title.get("en") else "[no abstract]"


def hits_table(query: str | Query, hits: list[Hit], explain: bool = False) -> None:
    """Hits as a table: titles in both languages, the best sentence with the query's terms marked."""
    from rich.markup import escape
    from rich.table import Table

    from search.highlight import rich_markup

    q = query if isinstance(query, Query) else Query.parse(query)
    console = _console()
    if not hits:
        console.print(f"No results for [bold]{escape(q.source or q.text)}[/bold].")
        return
    table = Table(title=f"Results for: {escape(q.source or q.text)}", show_lines=True, expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("year", no_wrap=True)
    idents = [h.record.pmid or h.record.doi or h.record.id for h in hits]
    width = _ident_width(idents, max(len(str(h.rank)) for h in hits), console.width)
    # never cut: an identifier is what `oncosearch show` takes; one too long for its line folds onto the next
    table.add_column(ID_HEADER, min_width=width, max_width=width, overflow="fold")
    table.add_column("title · best sentence", ratio=1)
    for h, ident in zip(hits, idents, strict=True):
        r = h.record
        titles = "\n".join(f"[bold]{escape(r.title[lang])}[/bold]" for lang in ("zh", "en") if r.title.get(lang))
        if r.has_abstract():
            snippet = rich_markup(h.snippet, q)
        else:  # a title-only hit: its snippet would repeat the title
            snippet = f"[dim]{escape(no_abstract_mark(r))}[/dim]"
        body = f"{titles}\n{snippet}" if titles else snippet
        if explain and h.legs:
            legs = "  ".join(f"{leg}: #{v['rank']} ({v['score']:.3f})" for leg, v in h.legs.items())
            body += f"\n[cyan]{legs}[/cyan]"
        score = f"{h.score:.3f}" if q.text else "—"  # fields and phrases alone: listed newest first, not scored
        table.add_row(str(h.rank), score, str(r.year or ""), escape(ident), body)
    console.print(table)


def record_text(stored) -> None:
    from rich.markup import escape

    console = _console()
    r = stored.record
    console.print(escape(f"{r.id}  PMID {r.pmid or '-'}  DOI {r.doi or '-'}  {r.year or ''}  {r.journal or ''}"),
                  style="bold")
    if not r.has_abstract():
        console.print(escape(f"{no_abstract_mark(r)} indexed on its title and keywords · 仅按标题和关键词检索"),
                      style="dim")
    for lang in ("zh", "en"):
        if r.title.get(lang) or r.abstract.get(lang):
            console.print()
            console.print(escape(r.title.get(lang, "")), style="bold")
            console.print(escape(r.abstract.get(lang, "")))
    if r.authors:
        console.print(f"\n[dim]Authors:[/dim] {escape('; '.join(r.authors))}")
    if r.keywords:
        console.print(f"[dim]Keywords:[/dim] {escape('; '.join(r.keywords))}")
    if stored.tags:
        tags = "; ".join(f"{cat}: {', '.join(ids)}" for cat, ids in stored.tags.items())
        console.print(f"[dim]Tags:[/dim] {escape(tags)}")
    console.print(f"[dim]Source:[/dim] {escape(r.source)}")

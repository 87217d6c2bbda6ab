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


def hits_table(query: str | Query, hits: list[Hit], explain: bool = False) -> None:
    """Hits as a table: titles in both languages, the best sentence with the query's terms marked."""
    from rich.markup import escape
    from rich.table import Table

    from search.highlight import rich_markup

    q = query if isinstance(query, Query) else Query.parse(query)
    console = _console()
    if not hits:
        console.print(f"No results for [bold]{escape(q.text)}[/bold].")
        return
    table = Table(title=f"Results for: {escape(q.text)}", show_lines=True, expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("year", no_wrap=True)
    table.add_column("PMID / DOI", no_wrap=True, max_width=24)
    table.add_column("title · best sentence", ratio=1)
    for h in hits:
        r = h.record
        ident = r.pmid or r.doi or r.id
        titles = "\n".join(f"[bold]{escape(r.title[lang])}[/bold]" for lang in ("zh", "en") if r.title.get(lang))
        snippet = rich_markup(h.snippet, q)
        body = f"{titles}\n{snippet}" if titles else snippet
        if explain and h.legs:
            legs = "  ".join(f"{leg}: #{v['rank']} ({v['score']:.3f})" for leg, v in h.legs.items())
            body += f"\n[cyan]{legs}[/cyan]"
        table.add_row(str(h.rank), f"{h.score:.3f}", str(r.year or ""), escape(ident), body)
    console.print(table)


def record_text(stored) -> None:
    from rich.markup import escape

    console = _console()
    r = stored.record
    console.print(escape(f"{r.id}  PMID {r.pmid or '-'}  DOI {r.doi or '-'}  {r.year or ''}  {r.journal or ''}"),
                  style="bold")
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

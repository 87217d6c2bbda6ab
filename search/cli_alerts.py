"""`oncosearch alert ...`: saved searches that report new records, for cron (the library is search/alerts.py).

Registered in search/cli.py with ``app.add_typer(alert_app, name="alert")``; the error boundary,
exit codes and shared options (--index, --wait, --json, glossary tags) are search/cli.py's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

# Made before search.cli is imported: `python -m search.cli` runs cli.py as __main__, which imports
# this module, which imports search.cli afresh, which imports alert_app back from this half-made module.
alert_app = typer.Typer(
    help="Saved searches that report only what is new (for cron). 保存检索，只报告新收录的记录。",
    no_args_is_help=True,
)

from search import exitcodes  # noqa: E402
from search.cli import (  # noqa: E402
    CancerOpt,
    HasAbstractOpt,
    IndexOpt,
    JournalOpt,
    JsonOpt,
    LangOpt,
    PubTypeOpt,
    TherapyOpt,
    WaitOpt,
    YearFromOpt,
    YearToOpt,
    _fail,
    _filters,
    _index_dir,
)


@alert_app.command("add")
def alert_add(
    name: str = typer.Argument(..., help="A short name: letters (any script), digits, - or _, e.g. car-t-crs, 肺癌免疫."),
    query: str = typer.Argument(..., help="The query, as you would type it to oncosearch search."),
    top: int = typer.Option(20, "--top", "-k", min=1, max=1000, help="Report new records that rank in the "
                            "alert's top N of the whole index."),
    lang: str = LangOpt, year_from: int | None = YearFromOpt, year_to: int | None = YearToOpt,
    journal: str | None = JournalOpt, pub_type: str | None = PubTypeOpt, therapy: list[str] | None = TherapyOpt,
    cancer: list[str] | None = CancerOpt, has_abstract: bool | None = HasAbstractOpt,
    replace: bool = typer.Option(False, "--replace", help="Replace an alert of this name (it starts afresh: what "
                                 "the index holds now is not news to it)."),
    index: Path | None = IndexOpt, wait: float = WaitOpt,
) -> None:
    """Save a search as an alert. What the index holds now is not news; `alert run` reports what comes later.

    Examples:

      oncosearch alert add car-t-crs "CAR-T cytokine release syndrome" --year-from 2020 --top 30

      oncosearch alert add 肺癌免疫 "免疫检查点抑制剂 非小细胞肺癌" --cancer nsclc

      oncosearch alert add til "tumour-infiltrating lymphocytes" --therapy til --replace
    """
    from search.alerts import add_alert

    filters = _filters(lang, year_from, year_to, journal, pub_type, therapy, cancer, has_abstract)
    alert, records = add_alert(_index_dir(index), name, query, filters, top, replace=replace, wait=wait)
    typer.echo(f"alert {alert.name} {'saved' if not replace else 'saved (replacing any of that name)'}: "
               f"{alert.query!r}, top {alert.top}; the {records} records in the index now are not news to it")


@alert_app.command("list")
def alert_list(index: Path | None = IndexOpt, json_out: bool = JsonOpt) -> None:
    """List the alerts: query, filters, depth, when added and when last run.

    Examples:

      oncosearch alert list

      oncosearch alert list --json      # 供脚本使用 (for scripts)
    """
    from search.alerts import filters_as_options, list_alerts

    alerts = list_alerts(_index_dir(index))
    if json_out:
        from search.render import print_json

        print_json([a.to_dict() for a in alerts])
        return
    if not alerts:
        typer.echo('no alerts yet; add one with: oncosearch alert add NAME "QUERY"')
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("name", "query", "filters", "top", "added", "last run"):
        table.add_column(column, overflow="fold")
    for a in alerts:
        table.add_row(escape(a.name), escape(a.query), escape(filters_as_options(a.filters)), str(a.top),
                      a.created.replace("+00:00", "Z"), (a.last_run or "never").replace("+00:00", "Z"))
    Console(soft_wrap=False).print(table)


@alert_app.command("remove")
def alert_remove(
    name: str = typer.Argument(..., help="The alert's name (see oncosearch alert list)."),
    index: Path | None = IndexOpt, wait: float = WaitOpt,
) -> None:
    """Delete an alert. An unknown name exits 1.

    Examples: oncosearch alert remove car-t-crs    oncosearch alert remove 肺癌免疫
    """
    from search.alerts import remove_alert

    remove_alert(_index_dir(index), name, wait=wait)
    typer.echo(f"alert {name} removed")


@alert_app.command("run")
def alert_run(
    names: list[str] | None = typer.Argument(None, help="Alerts to run (default: all).", show_default=False),
    fmt: str = typer.Option("markdown", "--format", "-f", help="markdown (for mail), html (a self-contained "
                            "page), json or ris (the new records for a reference manager)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file (replaced "
                                       "atomically) instead of stdout; not created when nothing is new.",
                                       show_default=False),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report, but do not mark anything as reported."),
    index: Path | None = IndexOpt, wait: float = WaitOpt,
) -> None:
    """Report each alert's new records; nothing new: no output at all and exit 0 (cron mails only news).

    New to an alert: first seen in the index since the alert's last completed run, and ranking in its
    top N. A run killed before it finished reports the same records next time.

    Examples:

      oncosearch index update ~/exports --prune --quiet && oncosearch alert run

      oncosearch alert run car-t-crs 肺癌免疫 --format html -o ~/alerts/today.html

      oncosearch alert run --format json --wait 60     # 等待另一个正在运行的 alert run (wait for another run)
    """
    from index.storage.atomic import atomic_write_text
    from search.alert_report import FORMATS, render
    from search.alerts import AlertError, AlertRun, run_alerts

    if fmt not in FORMATS:
        _fail(f"--format {fmt}: choose one of {', '.join(FORMATS)}", exitcodes.USAGE)
    if output is not None and not output.parent.is_dir():
        _fail(f"-o {output}: the folder {output.parent} does not exist")

    def deliver(run: AlertRun) -> None:
        """Write the report; the run is committed only after this returns."""
        text = render(run, fmt)
        if not text:
            return
        if output is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        try:
            atomic_write_text(output, text)
        except OSError as e:
            raise AlertError(f"-o {output}: {e.strerror or e}; nothing was marked as reported") from None

    run = run_alerts(_index_dir(index), names or None, deliver=deliver, wait=wait, dry_run=dry_run)
    for failed in run.failed:
        typer.echo(f"oncosearch: error: alert {failed.alert.name}: {failed.error} (its new records wait for the "
                   "next run)", err=True)
    if run.failed:
        raise typer.Exit(exitcodes.FAILED)

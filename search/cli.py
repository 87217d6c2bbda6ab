"""The `oncosearch` command line (Typer).

Heavy modules (numpy, faiss, torch) are imported inside the commands that need them, so that
`--help` is instant and a search never loads torch.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer
import typer.core
import typer.exceptions

from corpus.errors import OncosearchError
from search import exitcodes


def describe_error(e: OncosearchError) -> tuple[str, int]:
    """The line a person reads for a library error, and the exit code cron sees.

    Libraries say what is wrong; what to do about it at a terminal is worded here.
    """
    from index.errors import DamagedIndex, ModelMismatch, NoIndex, WriterBusy
    from search.errors import QueryError

    message = str(e)
    if isinstance(e, NoIndex):
        return (f"{message}. Build one with: oncosearch index build (the bundled sample) or "
                "oncosearch index build FILES...", exitcodes.FAILED)
    if isinstance(e, DamagedIndex):
        return (message if "index check" in message else f"{message}; run oncosearch index check", exitcodes.FAILED)
    if isinstance(e, ModelMismatch):
        return (f"{message}: leave --model out, or rebuild the index with this model "
                "(oncosearch index build --model ...).", exitcodes.FAILED)
    if isinstance(e, WriterBusy):
        return message, exitcodes.BUSY
    if isinstance(e, QueryError):
        return message, exitcodes.USAGE
    from search.server.settings import UnsafeSettings

    if isinstance(e, UnsafeSettings):
        return message, exitcodes.USAGE
    return message, exitcodes.FAILED


def _debug(ctx) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or os.environ.get("ONCOSEARCH_DEBUG", "") not in ("", "0")


class _ErrorBoundary(typer.core.TyperGroup):
    """The one place where errors become an exit code: a library error is one line; anything
    else is a bug, reported as one line too, with the traceback only under --debug."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):  # exit codes and usage errors: Typer's
            raise
        except OncosearchError as e:
            if _debug(ctx):
                raise
            message, code = describe_error(e)
            _fail(message, code)
        except Exception as e:
            if _debug(ctx):
                raise
            detail = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
            _fail(f"internal error ({type(e).__name__}: {detail}): a bug in oncosearch; run again with "
                  "oncosearch --debug ... (or ONCOSEARCH_DEBUG=1) to see where")


app = typer.Typer(
    cls=_ErrorBoundary,
    name="oncosearch",
    help="Bilingual (中文 + English) semantic search over oncology abstracts.\n\n"
    "Example: oncosearch search \"CAR-T细胞治疗的安全性\"",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Build, update and check the index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show the Python traceback of an error "
                                         "(also ONCOSEARCH_DEBUG=1).")) -> None:
    """Bilingual (中文 + English) semantic search over oncology abstracts.

    Example: oncosearch search "CAR-T细胞治疗的安全性"
    """

IndexOpt = typer.Option(
    None, "--index", help="Index directory. Default: $ONCOSEARCH_INDEX, else $XDG_DATA_HOME/oncosearch/index "
    "(~/.local/share/oncosearch/index).", show_default=False,
)
JsonOpt = typer.Option(False, "--json", help="Print JSON for scripts instead of a table.")
ExportFormatOpt = typer.Option(
    None, "--format", help="table (the default), json (the same as --json), or a file for reference managers: "
    "ris, bibtex, csl-json, nbib (Zotero, EndNote, NoteExpress import these), csv (Excel, UTF-8), jsonl "
    "(our own readers take it back).", show_default=False,
)
OutputOpt = typer.Option(None, "-o", "--output", help="Write the --format file here (replaced whole, never left "
                         "half-written) instead of printing it.", show_default=False)


def _index_dir(index: Path | None) -> Path:
    from index.storage.layout import default_index_dir

    return index if index is not None else default_index_dir()


def _fail(message: str, code: int = exitcodes.FAILED) -> None:
    typer.echo(f"oncosearch: error: {message}", err=True)
    raise typer.Exit(code)


def _check_choices(fmt: str | None = None, index_type: str | None = None) -> None:
    """Refuse an unknown --format or --index-type as a usage error, before any work."""
    if fmt is not None:
        from corpus.readers import formats

        if fmt not in formats():
            _fail(f"--format {fmt}: choose one of {', '.join(formats())}", exitcodes.USAGE)
    if index_type is not None:
        from index.storage.vectors import INDEX_TYPES

        if index_type not in INDEX_TYPES:
            _fail(f"--index-type {index_type}: choose one of {', '.join(INDEX_TYPES)}", exitcodes.USAGE)


def _check_backend(root: Path, backend: str | None, milvus_uri: str | None, milvus_only: bool | None = None) -> None:
    """Refuse a --backend / --milvus-uri / --milvus-only choice that names no place to write, as a usage error."""
    from index.pipeline import milvus_target, only_in_milvus

    try:
        only_in_milvus(root, milvus_target(root, backend, milvus_uri), milvus_only)
    except ValueError as e:
        _fail(str(e) if str(e).startswith("--") else f"--backend {backend or 'milvus'}: {e}", exitcodes.USAGE)
    except OncosearchError as e:  # an unreadable milvus.json
        _fail(*describe_error(e))


def _open_searcher(index: Path | None, model: str | None = None):
    """A `Searcher` over the current generation, verified first (`index.storage.open_generation`);
    errors reach the boundary as typed errors."""
    from search.engine import Searcher

    return Searcher(_index_dir(index), model=model)


def _output_format(json_out: bool, fmt: str | None, output: Path | None) -> str:
    """The one output format asked for by --json, --format and -o; a contradiction is a usage error,
    found before the index is opened."""
    from search.export import FORMATS

    if json_out and fmt not in (None, "json"):
        _fail(f"--json and --format {fmt} ask for two outputs: --json is short for --format json; keep one",
              exitcodes.USAGE)
    fmt = "json" if json_out else (fmt or "table")
    if fmt not in ("table", "json", *FORMATS):
        _fail(f"--format {fmt}: choose one of table, json, {', '.join(FORMATS)}", exitcodes.USAGE)
    if output is not None and fmt not in FORMATS:
        _fail(f"-o writes a file of --format {', '.join(FORMATS)}; {fmt} goes to the terminal (redirect it with > "
              "for a file)", exitcodes.USAGE)
    return fmt


def _show_hits(hits, fmt: str, output: Path | None, explain: bool, query, json_head: dict) -> None:
    """Ranked hits (of `search` or `similar`) as a table, as JSON (`json_head` plus "results") or
    as an export file of their records."""
    if fmt not in ("table", "json"):
        _emit([h.record for h in hits], fmt, output)
    elif fmt == "json":
        from search.payloads import hits_payload
        from search.render import print_json

        print_json(hits_payload(json_head, hits, explain))
    else:
        from search.render import hits_table

        hits_table(query, hits, explain=explain)


def _emit(records, fmt: str, output: Path | None) -> None:
    """Records in an export format (`search.export`): printed, or written to `output` with a note on stderr.

    The file is written aside and renamed over `output`, so a reader (or an alert mailer picking it
    up) never sees half a file and a failed write leaves the old one. Shared by every command that
    answers with records (search, show, similar).
    """
    from search.export import export

    records = list(records)
    text = export(records, fmt)
    if output is None:
        sys.stdout.write(text)
        return
    from index.storage.atomic import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as e:
        _fail(f"cannot write {output}: {e.strerror or e}")
    typer.echo(f"wrote {len(records)} record{'s' if len(records) != 1 else ''} ({fmt}) to {output}", err=True)


def _setup_logging(quiet: bool, log_file: Path | None) -> None:
    """Log lines to stderr (unless quiet) and appended to `log_file` (always, when given).

    The ``oncosearch.file`` logger writes to the log file only: errors that the command also
    prints on stderr go there, so a cron log shows why a run failed.
    """
    handlers: list[logging.Handler] = []
    file_only = logging.getLogger("oncosearch.file")
    file_only.handlers.clear()
    file_only.propagate = False
    file_only.addHandler(logging.NullHandler())  # without a log file: nowhere (not logging's stderr fallback)
    if log_file is not None:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [{os.getpid()}] %(message)s"))
        handlers.append(handler)
        file_only.addHandler(handler)
    if not quiet:
        handlers.append(logging.StreamHandler(sys.stderr))
    if not handlers:  # quiet and no log file: nowhere, not logging's last-resort stderr handler (cron mails it)
        handlers.append(logging.NullHandler())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers,
                        force=True)
    for noisy in ("sentence_transformers", "transformers", "jieba", "faiss", "httpx", "huggingface_hub", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _write(sources: list[Path], *, update: bool, prune: bool, index: Path | None, model: str | None,
           fmt: str | None, strict: bool, index_type: str, wait: float, quiet: bool, json_out: bool,
           log_file: Path | None, english: bool | None = None, ray: str | None = None,
           ray_workers: int | None = None, backend: str | None = None, milvus_uri: str | None = None,
           milvus_only: bool | None = None) -> None:
    """Shared body of `index build` and `index update`: read, embed, switch, summarise, exit code."""
    import sqlite3

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from corpus.ingest import StrictStop
    from index.errors import MilvusUnavailable
    from index.pipeline import sample_sources, write_index

    _check_choices(fmt=fmt, index_type=index_type)
    _check_backend(_index_dir(index), backend, milvus_uri, milvus_only)
    _setup_logging(quiet or json_out, log_file)
    log = logging.getLogger("oncosearch")
    if not sources:
        sources = sample_sources()
        log.info("no SOURCE given: indexing the bundled sample corpus")
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   disable=quiet or json_out, transient=False)
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        label = {"embed": "Embedding chunks (USE)", "store": "Writing store",
                 "embed-en": "Embedding English passages (MiniLM)"}.get(stage, stage)
        if stage not in tasks:
            tasks[stage] = bar.add_task(label, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    def on_file(fr) -> None:
        log.info("read %s (%s): %d records, %d skipped", fr.file, fr.format or "?", len(fr.records), len(fr.skipped))
        for skip in fr.skipped[:20]:
            log.warning("skipped %s", skip)
        if len(fr.skipped) > 20:
            log.warning("… and %d more skipped in %s (see --json)", len(fr.skipped) - 20, fr.file)

    def fail(message: str, code: int = exitcodes.FAILED) -> None:
        logging.getLogger("oncosearch.file").error(message)
        _fail(message, code)

    try:
        with bar:
            result = write_index(
                _index_dir(index), sources, update=update, prune=prune, model=model, fmt=fmt, strict=strict,
                index_type=index_type, wait=wait, progress=progress, on_file=on_file, english=english,
                ray=ray, ray_workers=ray_workers, backend=backend, milvus_uri=milvus_uri, milvus_only=milvus_only,
            )
    except StrictStop as e:
        fail(f"--strict: {e}; nothing was written")
    except MilvusUnavailable as e:  # raised before the switch: the index is as it was
        fail(f"{describe_error(e)[0]}; nothing was switched: searches read what they read before")
    except OncosearchError as e:  # a busy writer (exit 75), a damaged current index, a model that will not load
        fail(*describe_error(e))
    except (sqlite3.DatabaseError, OSError) as e:  # the machine's fault (disk full, permissions), not ours
        fail(f"{type(e).__name__}: {e}; nothing was switched: the index is as it was")
    summary = result.summary()
    if json_out:
        from search.render import print_json

        print_json(summary)
    # the summary line goes to the log file in every mode, and to stderr unless --quiet or --json
    log.info(
        "index %s: %d records (%d added, %d updated, %d removed, %d unchanged), %d without abstract; %d files read, "
        "%d merged, %d skipped; %d chunks embedded; %.1fs", summary["generation"], summary["index_records"],
        summary["added"], summary["updated"], summary["removed"], summary["unchanged"],
        summary["index_records_without_abstract"], summary["files"],
        summary["merged"], len(summary["skipped"]), summary["embedded_chunks"], summary["seconds"],
    )
    if result.mirror is not None:
        log.info("milvus: %s to %s: %s", "written" if summary.get("milvus_only") else "mirrored", result.mirror.uri,
                 result.mirror.line())
    if result.ingest.files and len(result.ingest.failed_files) == len(result.ingest.files) and not result.ingest.records:
        raise typer.Exit(exitcodes.FAILED)
    raise typer.Exit(exitcodes.SKIPPED if summary["skipped"] else exitcodes.OK)


SourcesArg = typer.Argument(None, help="Files or folders to read (any supported format; folders recursively). "
                            "None: the bundled sample corpus.", show_default=False)
ModelOpt = typer.Option(None, "--model", help="A local sentence-transformers model directory to embed with "
                        "instead of the built-in USE multilingual v3.", show_default=False)
FormatOpt = typer.Option(None, "--format", help="Force the input format instead of detecting it "
                         "(see `oncosearch formats`).", show_default=False)
StrictOpt = typer.Option(False, "--strict", help="Stop at the first bad record or file; write nothing.")
TypeOpt = typer.Option("auto", "--index-type", help="FAISS index type: auto (flat while an index holds "
                       "under 64 MiB of vectors, e.g. 32k USE sentences; else HNSW), flat (exact) or hnsw.")
WaitOpt = typer.Option(0.0, "--wait", help="Seconds to wait for another writer to finish before giving up "
                       "with exit code 75, and for a Milvus backend that does not answer (tried again with growing "
                       "pauses) before giving up with exit code 1.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bar or log lines on the terminal.")
LogOpt = typer.Option(None, "--log-file", help="Append log lines (files read, skips, summary) to this file.",
                      show_default=False)
EnglishOpt = typer.Option(None, "--english/--no-english", help="Also embed each record's English title + abstract "
                          "with all-MiniLM-L6-v2 (a third, English-only ranking leg; better English results, about "
                          "a third more indexing time). Default: on for a new index; an update keeps the index's "
                          "choice.", show_default=False)
RayOpt = typer.Option(None, "--ray", metavar="ADDRESS|auto", help="Embed new text on a Ray cluster (Ray Data "
                      "actors holding the models): the head node's HOST:PORT, ray://HOST:10001, or auto (the cluster "
                      "this machine joined with `ray start`). Same vectors, same embedding cache as without it. "
                      "Needs pip install 'oncosearch\\[cluster]' here and on the cluster.", show_default=False)
RayWorkersOpt = typer.Option(None, "--ray-workers", min=1, help="Ray actors embedding at once, one CPU each "
                             "(default: one per CPU of the cluster).", show_default=False)
BackendOpt = typer.Option(None, "--backend", metavar="local|milvus", help="Where searches read the index: local "
                          "(FAISS + SQLite files) or milvus (each new generation is also written into Milvus before it "
                          "becomes current; needs --milvus-uri the first time and pip install 'oncosearch\\[cluster]'). "
                          "Default: as the index does now.", show_default=False)
MilvusOnlyOpt = typer.Option(None, "--milvus-only/--local-files", help="With a Milvus backend: keep the records "
                             "in Milvus alone (no local FAISS/SQLite/BM25 files; a write sends only what changed, for "
                             "corpora past what one machine rewrites in a night), or write local files too. Default: "
                             "as the index does now (local files too, for a new one).", show_default=False)
MilvusUriOpt = typer.Option(None, "--milvus-uri", help="A milvus-lite file (embedded, e.g. ./oncosearch.db) or a "
                            "Milvus server (http://HOST:19530). Default: the one this index remembers. A token comes "
                            "from $ONCOSEARCH_MILVUS_TOKEN.", show_default=False)
ModeOpt = typer.Option("hybrid", "--mode", help="Ranking: hybrid (USE + BM25 + English MiniLM where the index has "
                       "it, fused; the default), dense (USE alone), lexical (BM25 alone) or english (MiniLM alone).")


@index_app.command("build")
def index_build(
    sources: list[Path] | None = SourcesArg, index: Path | None = IndexOpt, model: str | None = ModelOpt,
    fmt: str | None = FormatOpt, strict: bool = StrictOpt, index_type: str = TypeOpt, wait: float = WaitOpt,
    quiet: bool = QuietOpt, json_out: bool = JsonOpt, log_file: Path | None = LogOpt,
    english: bool | None = EnglishOpt, ray: str | None = RayOpt, ray_workers: int | None = RayWorkersOpt,
    backend: str | None = BackendOpt, milvus_uri: str | None = MilvusUriOpt, milvus_only: bool | None = MilvusOnlyOpt,
) -> None:
    """Build a new index from SOURCES (replacing what the index held), with a progress bar.

    Examples:

      oncosearch index build                          # the bundled sample corpus

      oncosearch index build exports/ pubmed.xml.gz   # folders and files, formats detected

      oncosearch index build cnki.txt --format cnki --index ./myindex --json

      oncosearch index build zh_only_exports/ --no-english   # skip the English MiniLM leg

      oncosearch index build 知网导出/ --ray 10.0.0.5:6379 --ray-workers 16   # 在 Ray 集群上嵌入 (embed on a Ray cluster)

      oncosearch index build exports/ --backend milvus --milvus-uri http://milvus.lab:19530   # 存入 Milvus (into Milvus)

      oncosearch index build pubmed/ --backend milvus --milvus-uri http://milvus:19530 --milvus-only  # 只存 Milvus
    """
    _write(sources or [], update=False, prune=False, index=index, model=model, fmt=fmt, strict=strict,
           index_type=index_type, wait=wait, quiet=quiet, json_out=json_out, log_file=log_file, english=english,
           ray=ray, ray_workers=ray_workers, backend=backend, milvus_uri=milvus_uri, milvus_only=milvus_only)


@index_app.command("update")
def index_update(
    sources: list[Path] = typer.Argument(..., help="Files or folders to read.", show_default=False),
    prune: bool = typer.Option(False, "--prune", help="Remove records whose source file was read again and no "
                               "longer holds them, or whose source file no longer exists."),
    index: Path | None = IndexOpt, fmt: str | None = FormatOpt, strict: bool = StrictOpt,
    index_type: str = TypeOpt, wait: float = WaitOpt, quiet: bool = QuietOpt, json_out: bool = JsonOpt,
    log_file: Path | None = LogOpt, english: bool | None = EnglishOpt, ray: str | None = RayOpt,
    ray_workers: int | None = RayWorkersOpt, backend: str | None = BackendOpt, milvus_uri: str | None = MilvusUriOpt,
    milvus_only: bool | None = MilvusOnlyOpt,
) -> None:
    """Add new and changed records from SOURCES; embed only text not seen before. For cron.

    Examples:

      oncosearch index update ~/exports --prune --quiet --log-file ~/oncosearch.log

      oncosearch index update new.nbib --json --wait 600

      oncosearch index update 新导出/ --ray auto --quiet   # 本机所在的 Ray 集群 (the cluster this machine joined)

      oncosearch index update ~/exports --wait 600 --quiet   # Milvus 重启时重试 (retries while Milvus restarts)
    """
    _write(sources, update=True, prune=prune, index=index, model=None, fmt=fmt, strict=strict,
           index_type=index_type, wait=wait, quiet=quiet, json_out=json_out, log_file=log_file, english=english,
           ray=ray, ray_workers=ray_workers, backend=backend, milvus_uri=milvus_uri, milvus_only=milvus_only)


@index_app.command("check")
def index_check(index: Path | None = IndexOpt, json_out: bool = JsonOpt) -> None:
    """Verify the current generation: manifest, checksums, vector counts against the store, model.

    Exits 0 when sound, 1 with a list of problems otherwise.

    Example: oncosearch index check --index ./myindex
    """
    from index.storage.check import check_index

    problems, info = check_index(_index_dir(index))
    if (_index_dir(index) / "milvus.json").exists() and info.get("generation"):  # and its Milvus mirror
        from index.storage.milvus.remember import check_remembered

        problems += check_remembered(_index_dir(index), info["generation"])
    if json_out:
        from search.render import print_json

        print_json({"ok": not problems, "problems": problems, **info})
    elif problems:
        for p in problems:
            typer.echo(f"PROBLEM: {p}", err=True)
    else:
        typer.echo(f"ok: {info.get('generation')} ({info.get('records')} records, {info.get('sentences')} sentences, "
                   f"model {info.get('model_id')})")
    raise typer.Exit(exitcodes.FAILED if problems else exitcodes.OK)


@index_app.command("mirror")
def index_mirror(
    index: Path | None = IndexOpt,
    milvus_uri: str | None = MilvusUriOpt, wait: float = WaitOpt, json_out: bool = JsonOpt,
) -> None:
    """Copy the current generation into Milvus and read from there from now on (search, show, similar,
    stats, eval, serve need only --index; index build/update keep the mirror current).

    Needs pip install 'oncosearch\\[cluster]'. See docs/milvus.md.

    Examples:

      oncosearch index mirror --milvus-uri ./oncosearch.db --index ./myindex

      oncosearch index mirror --milvus-uri http://milvus.lab:19530   # 实验室的 Milvus 服务器 (the lab's server)
    """
    from index.storage.milvus.mirrors import mirror_index
    from index.storage.milvus.remember import remembered

    root = _index_dir(index)
    uri = milvus_uri or remembered(root)
    if uri is None:
        _fail(f"{root} reads its local files: name a Milvus with --milvus-uri", exitcodes.USAGE)
    try:
        report = mirror_index(root, uri, wait=wait)
    except OncosearchError as e:
        _fail(*describe_error(e))
    if json_out:
        from search.render import print_json

        print_json(report.to_dict())
    else:
        typer.echo(f"mirrored {report.generation} to {report.uri}: {report.line()}; {root} now reads from Milvus")


# the options every command that ranks records takes (search, similar, alert add)
TopOpt = typer.Option(10, "-k", "--top", min=1, max=1000, help="Number of results.")
OffsetOpt = typer.Option(0, "--offset", min=0, max=999, help="Skip this many results (the next page: "
                         "--offset 10 with -k 10); pages are slices of one ranking.")
LangOpt = typer.Option("any", "--lang", help="Only records with text in this language: zh, en or any.")
YearFromOpt = typer.Option(None, "--year-from", help="Only records published in or after this year.")
YearToOpt = typer.Option(None, "--year-to", help="Only records published in or before this year.")
JournalOpt = typer.Option(None, "--journal", help="Only journals whose name contains this text.", show_default=False)
PubTypeOpt = typer.Option(None, "--pub-type", help="Only records with a publication type containing this text, "
                          "e.g. Review, 'Clinical Trial'.", show_default=False)
TherapyOpt = typer.Option(None, "--therapy", help="Only records tagged with this therapy (glossary id or term, "
                          "e.g. car-t, til, checkpoint-inhibitor, 免疫检查点抑制剂); repeat for any of several.",
                          show_default=False)
CancerOpt = typer.Option(None, "--cancer", help="Only records tagged with this cancer type (e.g. lymphoma, nsclc, "
                         "肝细胞癌); repeat for any of several.", show_default=False)
HasAbstractOpt = typer.Option(None, "--has-abstract/--no-abstract", help="Only records with an abstract / only "
                              "records indexed on their title alone (letters, editorials, exports without 摘要). "
                              "Default: both.", show_default=False)


def _filters(lang: str, year_from: int | None, year_to: int | None, journal: str | None, pub_type: str | None,
             therapy: list[str] | None, cancer: list[str] | None, has_abstract: bool | None):
    """The filter options as `Filters` (`search.filters`; an unknown --lang or glossary term is a usage error)."""
    from search.errors import QueryError
    from search.filters import read_filters

    try:
        return read_filters(lang, year_from, year_to, journal, pub_type, therapy or (), cancer or (), has_abstract)
    except QueryError as e:
        _fail(str(e), exitcodes.USAGE)


@app.command()
def search(
    query: str = typer.Argument(..., help="Your question or keywords, in Chinese or English, with "
                                "\"exact phrases\", -excluded words and field terms (see below)."),
    k: int = TopOpt, offset: int = OffsetOpt, lang: str = LangOpt, year_from: int | None = YearFromOpt,
    year_to: int | None = YearToOpt, journal: str | None = JournalOpt, pub_type: str | None = PubTypeOpt,
    therapy: list[str] | None = TherapyOpt, cancer: list[str] | None = CancerOpt,
    has_abstract: bool | None = HasAbstractOpt,
    index: Path | None = IndexOpt,
    model: str | None = typer.Option(None, "--model", help="Model directory to check against the index's "
                                        "model (a mismatch is refused).", show_default=False),
    mode: str = ModeOpt,
    explain: bool = typer.Option(False, "--explain", help="Show each leg's rank and score per result."),
    json_out: bool = JsonOpt, fmt: str | None = ExportFormatOpt, output: Path | None = OutputOpt,
) -> None:
    """Search the index and print ranked results with their best sentence.

    Query syntax (查询语法), written inside the query:

      "exact phrase"  “精确短语”  「精确短语」  in the title or abstract
      (case, full-width and Traditional/Simplified forms do not matter)

      -word  -"phrase"  NOT word     leave out records containing it

      author:Zhang  author:"Zhang Wei"  journal:"Nature Medicine"
      year:2019  year:2019-2022  pmid:33795251  doi:10.1056/NEJMoa1709866
      lang:zh  lang:en  therapy:car-t  cancer:lymphoma

    The words left over are ranked as usual; fields and phrases alone list
    the matching records newest first. Field terms and options must all
    hold. CAR-T, anti-PD-1 and "breast cancer: ..." stay plain text: a minus
    excludes only at the start of a word, a field has no space after its
    colon, and only upper-case NOT is an operator.

    Examples:

      oncosearch search "CAR-T细胞治疗的安全性"

      oncosearch search '"cytokine release syndrome" -review year:2020-2023'

      oncosearch search '“细胞因子释放综合征” therapy:car-t lang:zh'

      oncosearch search '「免疫檢查點抑制劑」 cancer:nsclc NOT 小鼠'   # 繁体亦可

      oncosearch search 'author:"Zhang Wei" year:2021'   # newest first

      oncosearch search "PD-1 blockade in melanoma" -k 20 --year-from 2020 --lang en

      oncosearch search "免疫检查点抑制剂 肺癌" --json

      oncosearch search "cytokine release syndrome" --therapy car-t --cancer lymphoma

      oncosearch search "tisagenlecleucel" --mode lexical --explain

      oncosearch search "肿瘤浸润淋巴细胞" -k 10 --offset 10      # the second page

      oncosearch search "CAR-T细胞治疗的安全性" -k 50 --format ris -o car-t.ris   # 导入 Zotero / EndNote / NoteExpress

      oncosearch search "PD-1 blockade in melanoma" -k 100 --format csv -o pd1.csv   # opens in Excel
    """
    from search.engine import MODES

    fmt = _output_format(json_out, fmt, output)
    if mode not in MODES:
        _fail(f"--mode {mode}: choose one of {', '.join(MODES)}", exitcodes.USAGE)
    if not query.strip():
        _fail('empty query: type some words, e.g. oncosearch search "CAR-T cytokine release syndrome"',
              exitcodes.USAGE)
    from search.query import Query

    filters = _filters(lang, year_from, year_to, journal, pub_type, therapy, cancer, has_abstract)
    q = Query.parse(query)  # a syntax error is reported before the index is opened
    searcher = _open_searcher(index, model)
    hits = searcher.search(q, k=k, filters=filters, mode=mode, offset=offset)
    _show_hits(hits, fmt, output, explain, q, {"query": query})


@app.command()
def show(
    record_id: str = typer.Argument(..., metavar="ID", help="Record id, PMID or DOI (as shown by search)."),
    index: Path | None = IndexOpt, json_out: bool = JsonOpt, fmt: str | None = ExportFormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """Show one record in full (both languages where present).

    Examples:

      oncosearch show 33795251

      oncosearch show doi:10.1158/0008-5472.can-20-2701 --json

      oncosearch show 33795251 --format bibtex >> refs.bib      # 追加到 BibTeX 文献库 (append to a .bib)
    """
    fmt = _output_format(json_out, fmt, output)
    searcher = _open_searcher(index)
    stored = searcher.get(record_id)
    if stored is None:
        _fail(f"no record with id, PMID or DOI {record_id!r} in {searcher.storage.root}")
    if fmt not in ("table", "json"):
        _emit([stored.record], fmt, output)
    elif fmt == "json":
        from search.payloads import record_payload
        from search.render import print_json

        print_json(record_payload(stored))
    else:
        from search.render import record_text

        record_text(stored)


@app.command()
def similar(
    record_id: str = typer.Argument(..., metavar="ID", help="Record id, PMID or DOI (as shown by search)."),
    k: int = TopOpt, offset: int = OffsetOpt, lang: str = LangOpt, year_from: int | None = YearFromOpt,
    year_to: int | None = YearToOpt, journal: str | None = JournalOpt, pub_type: str | None = PubTypeOpt,
    therapy: list[str] | None = TherapyOpt, cancer: list[str] | None = CancerOpt,
    has_abstract: bool | None = HasAbstractOpt, index: Path | None = IndexOpt, mode: str = ModeOpt,
    explain: bool = typer.Option(False, "--explain", help="Show each leg's rank and score per result."),
    json_out: bool = JsonOpt, fmt: str | None = ExportFormatOpt, output: Path | None = OutputOpt,
) -> None:
    """Records most like one record, in either language (never the record itself).

    Scored from what the index stored for the record (its vectors and its own terms), not by
    typing its title as a query; a Chinese paper finds English ones and the reverse.

    Examples:

      oncosearch similar 33795251

      oncosearch similar 33795251 --lang zh          # 只看中文文献 (Chinese papers only)

      oncosearch similar doi:10.1158/0008-5472.can-20-2701 -k 20 --year-from 2020 --json

      oncosearch similar 33795251 -k 50 --format ris -o 相似文献.ris     # into Zotero / EndNote
    """
    from search.engine import MODES
    from search.similar import similar as find_similar

    fmt = _output_format(json_out, fmt, output)
    if mode not in MODES:
        _fail(f"--mode {mode}: choose one of {', '.join(MODES)}", exitcodes.USAGE)
    filters = _filters(lang, year_from, year_to, journal, pub_type, therapy, cancer, has_abstract)
    searcher = _open_searcher(index)
    found = find_similar(searcher, record_id, k=k, filters=filters, offset=offset, mode=mode)
    _show_hits(found.hits, fmt, output, explain, found.query, {"similar_to": found.source.record.id})


@app.command()
def stats(index: Path | None = IndexOpt, json_out: bool = JsonOpt) -> None:
    """Show the configuration and what the index holds (records, languages, years, model).

    Example: oncosearch stats --json
    """
    from search.stats import index_stats

    searcher = _open_searcher(index)
    info = index_stats(searcher)
    if json_out:
        from search.render import print_json

        print_json(info)
    else:
        width = max(map(len, info))
        for key, value in info.items():
            typer.echo(f"{key:>{width}}: {value}")


@app.command("eval")
def evaluate(
    folder: Path = typer.Argument(..., help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) or a "
                                  "parallel folder (NAME.zh beside NAME.en, line-aligned)."),
    queries: Path | None = typer.Option(None, "--queries", help="Use this queries.jsonl instead (its own "
                                           "qrels/test.tsv beside it is used when present).", show_default=False),
    add: list[Path] | None = typer.Option(None, "--add", help="Extra records to index as distractors "
                                             "(any supported format).", show_default=False),
    model: str | None = ModelOpt,
    mode: str = ModeOpt,
    k: int = typer.Option(10, "-k", "--top", min=1, max=1000, help="Rank each query as `search -k K` does "
                          "(the fusion pool grows with K); 100 adds Recall@100."),
    backend: str = typer.Option("local", "--backend", help="local (the default) or milvus: rank from the "
                                "evaluation index's Milvus mirror in a milvus-lite file (needs the cluster extra), "
                                "for parity with local."),
    json_out: bool = JsonOpt,
) -> None:
    """Measure retrieval quality: MRR@10, Recall@1/@10/@100, nDCG@10 (BEIR) or accuracy@1 (parallel).

    The evaluation index is built once per corpus and model under $XDG_CACHE_HOME/oncosearch/eval.

    Examples:

      oncosearch eval ../shared/bench/pubmedqa

      oncosearch eval ../shared/bench/pubmedqa --add corpus/sample/pubmed21n1298-oncology.xml.gz

      oncosearch eval ../shared/bench/wmt18-biomed-zh-en --json

      oncosearch eval ../shared/bench/pubmedqa --backend milvus     # 同一评测，Milvus 后端 (parity)
    """
    from search.evaluate import run_eval

    _setup_logging(json_out, None)
    if backend not in ("local", "milvus"):
        _fail(f"--backend {backend}: choose local or milvus", exitcodes.USAGE)
    report = run_eval(folder, queries_file=queries, add=add or [], model=model, mode=mode, k=k, backend=backend)
    if json_out:
        from search.render import print_json

        print_json(report)
    else:
        for key, value in report.items():
            typer.echo(f"{key:>22}: {value:.4f}" if isinstance(value, float) else f"{key:>22}: {value}")


@app.command()
def ingest(
    sources: list[Path] = typer.Argument(..., help="Files or folders to read.", show_default=False),
    fmt: str | None = FormatOpt, strict: bool = StrictOpt, json_out: bool = JsonOpt,
) -> None:
    """Read files without indexing: report records, merges and every skip (file, record, reason).

    Exit codes: 0 all good, 3 done with skips, 1 nothing readable (or --strict hit a problem).

    Examples: oncosearch ingest exports/    oncosearch ingest cnki.txt --strict --json
    """
    from corpus.ingest import StrictStop
    from corpus.ingest import ingest as run_ingest

    _check_choices(fmt=fmt)
    try:
        result = run_ingest(sources, fmt=fmt, strict=strict)
    except StrictStop as e:
        _fail(f"--strict: {e}")
    summary = result.summary()
    if json_out:
        from search.render import print_json

        print_json(summary)
    else:
        for fr in result.files:
            title_only = sum(not r.has_abstract() for r in fr.records)
            typer.echo(f"{fr.file}: {fr.format or '?'}, {len(fr.records)} records, {len(fr.skipped)} skipped"
                       + (f", {title_only} without abstract" if title_only else ""))
        for s in result.skipped:
            typer.echo(f"  skipped {s}")
        for m in result.merges:
            typer.echo(f"  merged {m.merged_id} into {m.kept_id} (same {m.reason})")
        typer.echo(f"{summary['files']} files, {summary['records']} records, {summary['merged']} merged, "
                   f"{len(summary['skipped'])} skipped, {summary['records_without_abstract']} without abstract "
                   "(indexed on title and keywords)")
    if result.files and len(result.failed_files) == len(result.files):
        raise typer.Exit(exitcodes.FAILED)
    raise typer.Exit(exitcodes.SKIPPED if result.skipped else exitcodes.OK)


@app.command()
def formats() -> None:
    """List the input formats that are detected automatically (names for --format).

    Example: oncosearch formats    then e.g.  oncosearch index build 知网导出.txt --format cnki
    """
    from corpus.readers import formats as names

    for name in names():
        typer.echo(name)


from search.cli_alerts import alert_app  # noqa: E402  (here: it imports this module's helpers)

app.add_typer(alert_app, name="alert")

from search.cli_serve import serve  # noqa: E402

app.command("serve")(serve)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""The JSON API: the CLI's answers over HTTP, with the same keys as its `--json`.

    GET /api/search?q=&k=&offset=&lang=&year_from=&year_to=&journal=&pub_type=&therapy=&cancer=&mode=&explain=
    GET /api/records/{id}        one record (id, PMID or doi:...)
    GET /api/similar/{id}        records most like it (the search filters apply)
    GET /api/export?format=      a query's results (search parameters) or a selection (ids=) as a file
    GET /api/stats               what `oncosearch stats --json` prints
    GET /healthz                 200 with the generation answering; 503 without a usable index

Each request leases the live generation (`search.server.live`) and is answered from it to the end,
even when cron switches generations meanwhile; the generation is named in the
X-Oncosearch-Generation header. Answers add to the CLI's keys: "generation", "k", "offset", and per
result "marks" (character spans of the snippet that match the query, for highlighting).
Parameters are checked before any work: out of range, of the wrong type or unknown → 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from index.storage import Filters
from search.engine import MAX_DEPTH, Searcher
from search.errors import QueryError, UnknownRecord
from search.filters import read_filters
from search.payloads import hits_payload, record_payload
from search.server.access import GENERATION_HEADER

MAX_QUERY = 1000  # characters of a query
MAX_K = 100
MAX_OFFSET = MAX_DEPTH - 1
MAX_IDS = 100  # records in one exported selection
MAX_ID = 300  # characters of an id, PMID or DOI

MEDIA_TYPES = {"ris": "application/x-research-info-systems", "bibtex": "application/x-bibtex",
               "csl-json": "application/vnd.citationstyles.csl+json", "nbib": "application/nbib",
               "csv": "text/csv", "jsonl": "application/x-ndjson"}


def known_parameters(request: Request) -> None:
    """Refuse parameters an endpoint does not take (a typo such as `yaer_from` would otherwise be
    ignored in silence, and the client would read unfiltered results as filtered)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _query_names(dependant)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise QueryError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
                         f"{request.url.path} takes {', '.join(sorted(allowed)) or 'none'}")


def _query_names(dependant) -> set[str]:
    names = {f.alias for f in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


router = APIRouter(dependencies=[Depends(known_parameters)])

Text = Annotated[str, Query(min_length=1, max_length=MAX_QUERY, description="The question or keywords, "
                            "Chinese or English, with the query syntax (\"phrases\", -word, author:, year:, ...).")]
RecordId = Annotated[str, Query(max_length=MAX_ID)]
Term = Annotated[str, Query(max_length=200)]
Year = Annotated[int, Query(ge=1000, le=9999)]
Mode = Literal["hybrid", "dense", "lexical", "english"]


@dataclass(frozen=True)
class Ranking:
    """The parameters of every answer that ranks records: page, filters, mode, explain."""

    k: int
    offset: int
    filters: Filters
    mode: str
    explain: bool


def ranking(
    k: Annotated[int, Query(ge=1, le=MAX_K, description="Results per page.")] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Results to skip (the next page).")] = 0,
    lang: Literal["any", "zh", "en"] = "any",
    year_from: Year | None = None,
    year_to: Year | None = None,
    journal: Term | None = None,
    pub_type: Term | None = None,
    therapy: Annotated[list[Term], Query(max_length=20, description="Glossary id or term; repeat for any of several.")]
    = [],  # noqa: B006  (FastAPI copies defaults)
    cancer: Annotated[list[Term], Query(max_length=20, description="Glossary id or term; repeat for any of several.")]
    = [],  # noqa: B006
    has_abstract: bool | None = None,
    mode: Mode = "hybrid",
    explain: bool = False,
) -> Ranking:
    if offset + k > MAX_DEPTH:
        raise QueryError(f"offset {offset} + k {k}: results are ranked to depth {MAX_DEPTH} at most")
    filters = read_filters(lang, year_from, year_to, journal, pub_type, therapy, cancer, has_abstract, prefix="")
    return Ranking(k, offset, filters, mode, explain)


@contextmanager
def leased(request: Request) -> Iterator[Searcher]:
    with request.app.state.live.lease() as searcher:
        yield searcher


def _answer(payload: dict, searcher: Searcher) -> JSONResponse:
    return JSONResponse(payload, headers={GENERATION_HEADER.decode(): searcher.storage.name})


def _with_marks(payload: dict, hits, query) -> dict:
    from search.highlight import spans

    for result, hit in zip(payload["results"], hits, strict=True):
        result["marks"] = [list(s) for s in spans(hit.snippet, query)] if hit.snippet else []
    return payload


def _search(searcher: Searcher, q: str, r: Ranking):
    from search.query import Query as ParsedQuery

    query = ParsedQuery.parse(q)
    return query, searcher.search(query, k=r.k, filters=r.filters, mode=r.mode, offset=r.offset)


@router.get("/api/search", summary="Ranked records for a query (中文或英文)")
def search(request: Request, q: Text, r: Annotated[Ranking, Depends(ranking)]) -> JSONResponse:
    with leased(request) as searcher:
        query, hits = _search(searcher, q, r)
        payload = hits_payload({"query": q}, hits, r.explain) | {
            "generation": searcher.storage.name, "k": r.k, "offset": r.offset}
        return _answer(_with_marks(payload, hits, query), searcher)


@router.get("/api/records/{record_id:path}", summary="One record in full")
def record(request: Request, record_id: str) -> JSONResponse:
    _check_id(record_id)
    with leased(request) as searcher:
        stored = searcher.get(record_id)
        if stored is None:
            raise UnknownRecord(f"no record with id, PMID or DOI {record_id!r}")
        return _answer(record_payload(stored), searcher)


@router.get("/api/similar/{record_id:path}", summary="Records most like one record, in either language")
def similar(request: Request, record_id: str, r: Annotated[Ranking, Depends(ranking)]) -> JSONResponse:
    from search.similar import similar as find_similar

    _check_id(record_id)
    with leased(request) as searcher:
        found = find_similar(searcher, record_id, k=r.k, filters=r.filters, offset=r.offset, mode=r.mode)
        payload = hits_payload({"similar_to": found.source.record.id}, found.hits, r.explain) | {
            "generation": searcher.storage.name, "k": r.k, "offset": r.offset}
        return _answer(_with_marks(payload, found.hits, found.query), searcher)


@router.get("/api/export", summary="A query's results or a selection of records as a file for reference managers",
            response_class=Response, responses={200: {"description": "The file, as an attachment", "content": {
                media: {"schema": {"type": "array", "items": {"type": "object"}} if media.endswith("+json")
                        else {"type": "string"}} for media in MEDIA_TYPES.values()}}})
def export(request: Request, r: Annotated[Ranking, Depends(ranking)],
           format: Literal["ris", "bibtex", "csl-json", "nbib", "csv", "jsonl"] = "ris",  # noqa: A002
           q: Annotated[str | None, Query(min_length=1, max_length=MAX_QUERY)] = None,
           ids: Annotated[list[RecordId], Query(max_length=MAX_IDS, description="Record ids, PMIDs or DOIs "
                                                "(repeat, or separate with commas).")] = []) -> Response:  # noqa: B006
    from search.export import EXTENSIONS
    from search.export import export as write

    keys = [key.strip() for value in ids for key in value.split(",") if key.strip()]
    if (q is None) == (not keys):
        raise QueryError("give either q (export a query's results) or ids (export a selection), not both or neither")
    if len(keys) > MAX_IDS:
        raise QueryError(f"{len(keys)} ids: export at most {MAX_IDS} at a time")
    with leased(request) as searcher:
        if keys:
            records = []
            for key in dict.fromkeys(keys):
                _check_id(key)
                stored = searcher.get(key)
                if stored is None:
                    raise UnknownRecord(f"no record with id, PMID or DOI {key!r}")
                records.append(stored.record)
            name = "selection"
        else:
            _, hits = _search(searcher, q, r)
            records, name = [h.record for h in hits], q
        body = write(records, format)
        filename = f"oncosearch-{_slug(name)}{EXTENSIONS[format]}"
        disposition = f"attachment; filename=\"{_ascii(filename)}\"; filename*=UTF-8''{quote(filename)}"
        return Response(body.encode("utf-8"), media_type=f"{MEDIA_TYPES[format]}; charset=utf-8",
                        headers={"Content-Disposition": disposition, GENERATION_HEADER.decode(): searcher.storage.name})


@router.get("/api/stats", summary="What the index holds and the settings in force")
def stats(request: Request) -> JSONResponse:
    from search.stats import index_stats

    with leased(request) as searcher:
        return _answer(index_stats(searcher), searcher)


@router.get("/healthz", summary="200 with the generation answering; 503 when there is no usable index")
def healthz(request: Request) -> JSONResponse:
    from search.server.errors import describe

    status = request.app.state.live.status()
    body = {k: v for k, v in status.items() if k != "problem"}
    if status["generation"] is None or status["problem"] is not None:
        problem = status["problem"]
        message = describe(problem) if problem is not None else "the index is being opened"
        return JSONResponse(body | {"status": "unavailable", "message": message}, status_code=503)
    return JSONResponse(body | {"status": "ok"}, headers={GENERATION_HEADER.decode(): status["generation"]})


def _check_id(key: str) -> None:
    if not key.strip() or len(key) > MAX_ID:
        raise QueryError(f"a record id, PMID or DOI is 1 to {MAX_ID} characters")


def _slug(text: str) -> str:
    """A file-name part from a query: letters (any script), digits and dashes, at most 40 characters."""
    kept = "".join(c if c.isalnum() else "-" for c in text.strip())
    return "-".join(filter(None, kept.split("-")))[:40] or "results"


def _ascii(name: str) -> str:
    return name.encode("ascii", "replace").decode().replace("?", "_")

"""Errors as HTTP answers: a status a client can act on and one JSON message, never a traceback.

| status | when                                                         | error code     |
|--------|--------------------------------------------------------------|----------------|
| 400    | bad input: a parameter out of range, unknown, malformed      | bad_request    |
| 401    | a token is required and was not given, or is wrong           | unauthorized   |
| 404    | no record with this id, PMID or DOI; no such path            | not_found      |
| 405    | a method other than GET (the server never writes)            | method_not_allowed |
| 503    | no index yet, or the index is damaged or its model is gone   | unavailable    |
| 500    | a bug: logged with its traceback on the server, not sent     | internal_error |
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from corpus.errors import OncosearchError

CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 503: "unavailable", 500: "internal_error"}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": CODES.get(status, "error"), "message": message}, status_code=status,
                        headers=headers)


def status_of(e: OncosearchError) -> int:
    """The HTTP status of a library error (the server's counterpart of the CLI's exit codes)."""
    from index.errors import DamagedIndex, ModelError, NoIndex
    from search.errors import QueryError, UnknownRecord

    if isinstance(e, QueryError):
        return 400
    if isinstance(e, UnknownRecord):
        return 404
    if isinstance(e, (NoIndex, DamagedIndex, ModelError)):
        return 503
    return 500


def describe(e: OncosearchError) -> str:
    """The message a client reads: the library's own words, with what an operator does about it."""
    from index.errors import DamagedIndex, NoIndex

    if isinstance(e, NoIndex):
        return f"{e}: the server answers once one is built (oncosearch index build / index update)"
    if isinstance(e, DamagedIndex):
        return f"the index is damaged ({e}); an operator should run oncosearch index check"
    return str(e)

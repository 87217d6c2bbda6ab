"""Typed errors of the query side: bad input from a person or a client.

A `QueryError` is the caller's to fix (the CLI's usage exit code, HTTP 400); it is also a
`ValueError` so plain library callers may catch it as one.
"""

from corpus.errors import OncosearchError


class QueryError(OncosearchError, ValueError):
    """The query or its options cannot be answered as given (empty text, unknown mode, a leg the index lacks)."""


class UnknownRecord(OncosearchError):
    """No record of the index has this id, PMID or DOI (a server answers 404)."""

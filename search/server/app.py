"""The ASGI app of `oncosearch serve`: the JSON API and the page over one live index.

Layers, outermost first: access log → security headers → catch-all (a bug is a JSON 500, its
traceback in the server log only) → raw URL checks → token → CORS (only with --cors) → routes.
FastAPI gives typed parameters checked before a handler runs and the OpenAPI schema at
/openapi.json that clients and the schema tests read; its interactive docs are off (they load
scripts from a CDN, and the page is the people's interface).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from corpus.errors import OncosearchError
from search.server import api, page
from search.server.access import AccessLog
from search.server.asgi import HttpMiddleware
from search.server.errors import describe, error_response, status_of
from search.server.live import LiveIndex
from search.server.security import RawInputGuard, SecurityHeaders, TokenGate
from search.server.settings import ServerSettings

log = logging.getLogger("oncosearch.server")


def create_app(settings: ServerSettings, live: LiveIndex | None = None) -> FastAPI:
    """The app for `settings` (refused when unsafe: `ServerSettings.check`), answering from `live`
    (default: the index at settings.index_dir, opened at start)."""
    settings.check()
    live = live or LiveIndex(settings.index_dir, warm=settings.warm)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        live.start()
        yield
        live.close()

    app = FastAPI(title="oncosearch", version=_version(), lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Bilingual (中文 + English) semantic search over oncology abstracts: the same engine "
                  "and keys as the `oncosearch` command's --json. Read-only: indexing stays with `oncosearch index "
                  "update` in cron.")
    app.state.live, app.state.settings, app.state.static = live, settings, page.load_static()
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.include_router(api.router)
    app.include_router(page.router)
    _error_handlers(app)
    if settings.cors_origin:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=[settings.cors_origin], allow_methods=["GET"],
                           allow_headers=["Authorization"], expose_headers=["Content-Disposition"])
    app.add_middleware(TokenGate, token=settings.token)  # type: ignore[arg-type]
    app.add_middleware(RawInputGuard)  # type: ignore[arg-type]
    app.add_middleware(CatchAll)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeaders)  # type: ignore[arg-type]
    app.add_middleware(AccessLog)  # type: ignore[arg-type]
    return app


def app_from_env() -> FastAPI:
    """The app for a uvicorn worker process (`oncosearch serve --workers N`): settings from the environment."""
    from search.server.access import setup_logging

    settings = ServerSettings.from_env()
    setup_logging(settings.access_log)
    return create_app(settings)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OncosearchError)
    async def library_error(request: Request, e: OncosearchError):
        status = status_of(e)
        if status == 500:
            log.error("%s %s: %s: %s", request.method, request.url.path, type(e).__name__, e)
            return error_response(500, "internal error: a bug in oncosearch; the server log has the details")
        return error_response(status, describe(e))

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, e: RequestValidationError):
        return error_response(400, "; ".join(_validation_message(err) for err in e.errors()[:5]))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        message = {404: f"no such path: {request.url.path}", 405: f"{request.method} is not allowed here: the server "
                   "only answers GET (indexing stays with oncosearch index update)"}.get(e.status_code, str(e.detail))
        return error_response(e.status_code, message, getattr(e, "headers", None))


ERROR_SCHEMA = {"type": "object", "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
ERRORS = {"400": "Bad input: a parameter out of range, of the wrong type, unknown or malformed",
          "401": "A token is required (Authorization: Bearer TOKEN)", "404": "No record with this id, PMID or DOI",
          "503": "No index yet, or the index is damaged"}


def _openapi(app: FastAPI) -> dict:
    """FastAPI's schema with the errors this API really answers (400 where FastAPI says 422), each
    a JSON object with a message."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for schemas in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(schemas, None)
        for path, methods in schema.get("paths", {}).items():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                wanted = ["400", "503"] + (["404"] if "{record_id}" in path or path == "/api/export" else [])
                wanted += ["401"] if app.state.settings.token else []
                for status in wanted:
                    responses[status] = {"description": ERRORS[status], "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        app.openapi_schema = schema
    return app.openapi_schema


def _validation_message(err: dict) -> str:
    where = ".".join(str(part) for part in err.get("loc", ())[1:]) or "request"
    return f"{where}: {err.get('msg', 'invalid')}"


class CatchAll(HttpMiddleware):
    """A bug becomes one JSON 500 with the security headers; its traceback goes to the server log only."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if not started:
                await error_response(500, "internal error: a bug in oncosearch; the server log has the details")(
                    scope, receive, send)


def _version() -> str:
    try:
        return version("oncosearch")
    except PackageNotFoundError:
        return "0"

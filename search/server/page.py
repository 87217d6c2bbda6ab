"""The search page's files and the login form, served by the app itself (no CDN: labs are offline).

The files in `static/` are read once, at start, into a table by name; a request names an entry of
that table, never a path, so nothing a client sends reaches the filesystem.
"""

from __future__ import annotations

import hmac
import mimetypes
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from search.server.errors import error_response
from search.server.security import SESSION_COOKIE, local_target, session_value

STATIC = Path(__file__).parent / "static"
MAX_FORM = 4096  # bytes of a login form
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
         ".png": "image/png", ".ico": "image/x-icon", ".woff2": "font/woff2"}


def load_static(folder: Path = STATIC) -> dict[str, tuple[bytes, str]]:
    """name -> (content, media type) of every file in `folder` (not below it)."""
    files = {}
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        if path.is_file() and not path.name.startswith("."):
            media = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files[path.name] = (path.read_bytes(), media + ("; charset=utf-8" if media.startswith("text/") else ""))
    return files


router = APIRouter(include_in_schema=False)


def _file(request: Request, name: str, status: int = 200) -> Response:
    entry = request.app.state.static.get(name)
    if entry is None:
        return error_response(404, f"no file {name!r} here")
    content, media = entry
    return Response(content, status_code=status, media_type=media, headers={"Cache-Control": "no-cache"})


@router.get("/")
def index_page(request: Request) -> Response:
    return _file(request, "index.html")


@router.get("/static/{name}")
def static_file(request: Request, name: str) -> Response:
    return _file(request, name)


@router.get("/favicon.svg")
def favicon(request: Request) -> Response:
    return _file(request, "favicon.svg")


@router.get("/login")
def login_form(request: Request) -> Response:
    return _file(request, "login.html")


@router.post("/login")
async def login(request: Request) -> Response:
    """The page's sign-in: a form field `token`; right → a session cookie (derived from the token,
    HttpOnly, SameSite=Strict) and back to `?next=` (a path of this server) or the page; wrong →
    the form again, 401."""
    token = request.app.state.settings.token
    target = local_target(request.query_params.get("next"))
    if token is None:
        return RedirectResponse(target, status_code=303)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return error_response(413, f"a login form is under {MAX_FORM} bytes")
    try:
        given = parse_qs(body.decode("utf-8"), max_num_fields=5).get("token", [""])[0]
    except (UnicodeDecodeError, ValueError):
        given = ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        return _file(request, "login.html", status=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session_value(token), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response

"""What stands between a client and the engine: raw input checks, the token, security headers.

Pure ASGI middleware (no per-request framework objects), so each check costs microseconds and
runs before routing: a malformed URL never reaches a handler, and no request data ever becomes a
path or a command (ids are looked up in the store; static files come from a list made at start).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from http.cookies import SimpleCookie
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from search.server.asgi import HttpMiddleware
from search.server.errors import error_response

SESSION_COOKIE = "oncosearch_session"
OPEN_PATHS = ("/login", "/static/", "/favicon.svg")  # the login form and its assets: no data in them
MAX_URL = 4096  # bytes of path + query string
_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def url_problem(raw_path: bytes, query_string: bytes) -> str | None:
    """Why a URL cannot be read as UTF-8 text (None when it can): too long, a '%' not followed by
    two hex digits, bytes that are not UTF-8 once decoded, control characters."""
    if len(raw_path) + len(query_string) > MAX_URL:
        return f"the URL is longer than {MAX_URL} bytes"
    for part, name in ((raw_path, "path"), (query_string, "query string")):
        if _BAD_PERCENT.search(part):
            return f"malformed percent-encoding in the {name}"
        try:
            text = unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as e:
            return f"the {name} is not UTF-8 (byte {e.start + 1} of it once decoded)"
        if _CONTROL.search(text):
            return f"control characters in the {name}"
    return None


class RawInputGuard(HttpMiddleware):
    """400 for a URL that is not well-formed UTF-8 percent-encoding (frameworks would quietly
    replace bad bytes with U+FFFD and search for that)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = url_problem(scope.get("raw_path") or scope["path"].encode(), scope.get("query_string", b""))
        if problem:
            await error_response(400, problem)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SecurityHeaders(HttpMiddleware):
    """Every response: a CSP allowing only the app's own files, nosniff, no framing, no referrer."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def local_target(next_url: str | None) -> str:
    """Where the sign-in form returns to: a path of this server (`next=`), never another site
    (`//evil.example`, `https://...`, `/\\evil`) — else the page itself."""
    if next_url and next_url.startswith("/") and not next_url.startswith(("//", "/\\")) and "\\" not in next_url \
            and not _CONTROL.search(next_url):
        return next_url
    return "/"


def session_value(token: str) -> str:
    """The login cookie's value: derived from the token, so the cookie never holds the token itself."""
    return hmac.new(token.encode(), b"oncosearch-session-v1", hashlib.sha256).hexdigest()


class TokenGate(HttpMiddleware):
    """With a token: every request but the login form and its assets must carry it, as
    `Authorization: Bearer TOKEN` (scripts) or the login form's cookie (the page); both compared
    in constant time. Without one (loopback only, see `ServerSettings.check`) it lets all through."""

    def __init__(self, app: ASGIApp, token: str | None):
        super().__init__(app)
        self.token = token.encode() if token else None
        self.session = session_value(token).encode() if token else None

    def allows(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"")
        if auth[:7].lower() == b"bearer " and hmac.compare_digest(auth[7:].strip(), self.token):
            return True
        cookie = headers.get(b"cookie")
        if cookie:
            jar = SimpleCookie()
            try:
                jar.load(cookie.decode("latin-1"))
            except Exception:  # a malformed Cookie header is no session
                return False
            morsel = jar.get(SESSION_COOKIE)
            if morsel is not None and hmac.compare_digest(morsel.value.encode(), self.session):
                return True
        return False

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None or scope["path"].startswith(OPEN_PATHS) or self.allows(scope):
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/" and scope["method"] in ("GET", "HEAD"):
            from urllib.parse import quote

            from starlette.responses import RedirectResponse

            query = scope.get("query_string", b"").decode("latin-1")
            target = "/login" + (f"?next={quote('/?' + query, safe='')}" if query else "")
            await RedirectResponse(target, status_code=303)(scope, receive, send)
            return
        await error_response(401, "a token is required: send Authorization: Bearer TOKEN, or sign in at /login",
                             {"WWW-Authenticate": 'Bearer realm="oncosearch"'})(scope, receive, send)

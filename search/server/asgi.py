"""The shape every middleware of the server shares: HTTP requests get its `handle`; lifespan and
other ASGI messages pass straight through to the app it wraps."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP request: answer it here, or pass it on with `await self.app(scope, receive, send)`."""
        await self.app(scope, receive, send)

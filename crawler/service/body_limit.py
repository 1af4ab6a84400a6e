"""Refuse request bodies over a size, announced or streamed (an ASGI middleware)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413, whether announced by
    Content-Length or streamed in chunks. Requests to ``upload_paths`` (file uploads) may be
    up to ``max_upload`` bytes instead."""

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int, *, max_upload: int | None = None,
                 upload_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload = max_upload if max_upload is not None else max_bytes
        self.upload_paths = frozenset(upload_paths)

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Callable[..., Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope.get("path") in self.upload_paths else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        seen = 0
        refused = False

        async def limited() -> dict[str, Any]:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    await self._refuse(send, limit)
                    return {"type": "http.disconnect"}  # the app stops reading; its answer is dropped
            return message

        async def unless_refused(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited, unless_refused)

    async def _refuse(self, send: Callable[..., Awaitable[None]], limit: int) -> None:
        body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

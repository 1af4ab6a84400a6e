"""Refuse request bodies over a size, announced or streamed (an ASGI middleware).

The API's clients get JSON (``{"detail": ...}``); a person's browser posting a desk form gets a
short page saying what the limit is and how to get past it, with a link back to the form - a
JSON document in a browser tab is no answer for an analyst whose CSV file was too big."""

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
        path = scope.get("path") or ""
        upload = path in self.upload_paths
        limit = self.max_upload if upload else self.max_bytes
        headers = dict(scope.get("headers") or [])

        def refusal() -> Refusal:  # made only for a body refused, not for every request
            page = path.startswith("/desk/") and b"text/html" in headers.get(b"accept", b"")
            return _page(limit, upload) if page else _json(limit)

        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, refusal())
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
                    await _refuse(send, refusal())
                    return {"type": "http.disconnect"}  # the app stops reading; its answer is dropped
            return message

        async def unless_refused(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited, unless_refused)



Refusal = tuple[bytes, bytes]  # (content type, body)


def _json(limit: int) -> Refusal:
    return b"application/json", json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f} MiB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def _page(limit: int, upload: bool) -> Refusal:
    # Only text of our own (the limit, a fixed path): nothing from the request is written into it.
    if upload:
        what = (f"The file is larger than the {_size(limit)} this server accepts for an upload. Split it into "
                "smaller files, or import it with <code>wangzi candidates import FILE</code>; the server's operator "
                "can raise the limit with <code>WANGZI_API_MAX_UPLOAD</code>.")
        back = '<a href="/desk/candidates/new">Back to adding candidates</a>'
    else:
        what = f"The form sent more than the {_size(limit)} this server accepts for a request."
        back = '<a href="/">Back to the review desk</a>'
    body = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too large - Wangzi</title></head>'
            f'<body><main><h1>Too large</h1><p role="alert">{what}</p><p>{back}</p></main></body></html>')
    return b"text/html; charset=utf-8", body.encode()


async def _refuse(send: Callable[..., Awaitable[None]], refusal: Refusal) -> None:
    content_type, body = refusal
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
        # The desk's own policy (crawler/desk/security.py) is not applied to this answer: no script, no style.
        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
        (b"x-content-type-options", b"nosniff"),
    ]})
    await send({"type": "http.response.body", "body": body})

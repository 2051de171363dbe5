"""What stands between the public and the answering pipeline: origins, rates and sizes.

- Origins: chat requests from a browser page must come from an allowed origin (the
  `ASSISTANT_ALLOWED_ORIGINS` list, or the API's own pages). CORS headers only ask the browser
  to hide answers; this check refuses the request itself, so a page that sends a "simple"
  cross-origin POST (no preflight) still gets nothing.
- Rates: a moving window per client address (the `limits` library), 429 with Retry-After.
- Sizes: a request body larger than the limit is refused with 413 before it is read whole.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def parse_origins(value: str) -> frozenset[str]:
    """'https://a.edu, https://b.edu/' -> {'https://a.edu', 'https://b.edu'} (normalised)."""
    return frozenset(o for o in (normalise_origin(part) for part in value.split(",")) if o)


def normalise_origin(origin: str) -> str:
    """Scheme and host (and a non-default port), lower-case, no path: how browsers send it."""
    origin = origin.strip().rstrip("/")
    if not origin or origin == "null":
        return origin
    parts = urlsplit(origin)
    if not parts.scheme or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}{port}"


class OriginPolicy:
    """Which browser origins may call the chat endpoints."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(allowed)

    def permits(self, origin: str | None, own_origin: str) -> bool:
        """True for requests without an Origin (not from a browser page: curl, servers, the
        load script), from the API's own origin, or from an allowed one."""
        if origin is None:
            return True
        candidate = normalise_origin(origin)
        return candidate == normalise_origin(own_origin) or candidate in self.allowed


class RateLimiter:
    """A moving-window limit per client key (in memory, per server process)."""

    def __init__(self, rate: str) -> None:
        self.item: RateLimitItem = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> int:
        """Count a request; 0 when allowed, else the seconds until one more is allowed."""
        if self._limiter.hit(self.item, key):
            return 0
        reset_at = self._limiter.get_window_stats(self.item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        # Bodies here are small (a question and a short history), so reading one whole
        # before the app sees it costs little and catches a chunked body without a length.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        request_id = scope.get("state", {}).get("request_id", "")
        body = json.dumps(
            {
                "error": {
                    "code": "body_too_large",
                    "message": f"The request body is larger than {self.max_bytes} bytes.",
                    "request_id": request_id,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

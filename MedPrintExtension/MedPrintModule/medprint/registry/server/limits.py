"""Request limits: a body-size cap (checked before the body is read) and a per-token rate limit."""

from __future__ import annotations

import threading
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: requests with a body must declare Content-Length (411) of at most
    ``max_bytes`` (413); the body is never read when refused."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            if length is None or not length.isdigit():
                await JSONResponse({"detail": "Content-Length is required"}, 411)(scope, receive, send)
                return
            if int(length) > self.max_bytes:
                await JSONResponse({"detail": f"body of {int(length)} bytes exceeds the limit of "
                                              f"{self.max_bytes} bytes"}, 413)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second sustained, ``burst`` at once (0 = off)."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 if the request may go ahead, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            level, last = self._buckets.get(key, (float(self.burst), now))
            level = min(float(self.burst), level + (now - last) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate

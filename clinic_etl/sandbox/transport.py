"""Run an ASGI app (a simulator) in-process behind a synchronous httpx client."""

from __future__ import annotations

import asyncio
import threading

import httpx


class InProcessTransport(httpx.BaseTransport):
    """httpx's ASGITransport is async-only; this bridges it for `httpx.Client` with a private event loop."""

    def __init__(self, app: object) -> None:
        self._inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self._loop = asyncio.new_event_loop()
        self._serving = threading.Lock()  # one request at a time on the loop, whichever thread sends it

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=body)

        async def send() -> httpx.Response:
            response = await self._inner.handle_async_request(forwarded)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        with self._serving:
            response = self._loop.run_until_complete(send())
        response.request = request
        return response

    def close(self) -> None:
        """Closed by the resource that opened it, at the end of the run (clients sharing it do not close it)."""
        if not self._loop.is_closed():
            self._loop.close()

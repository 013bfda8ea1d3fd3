"""A light Socket.IO v5 client on Engine.IO v4 HTTP long-polling only, as behind a proxy that
blocks WebSockets: one pending GET per client, POSTs one at a time, packets separated by \\x1e.

All the clients of a generator worker share one aiohttp session and its keep-alive connections.
"""

import asyncio
import json
import time

import aiohttp
from yarl import URL

from bench.wsclient import Peer

SEPARATOR = b"\x1e"
#: A poll is answered at least every ping interval (25 s on every target); a read this long
#: without a byte means the server is gone.
POLL_READ_TIMEOUT = 60.0


def polling_session() -> aiohttp.ClientSession:
    """One session for thousands of clients: no connection cap, no shared cookies."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=None),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=POLL_READ_TIMEOUT),
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )


class PollingClient(Peer):
    """One participant on long-polling: a task that keeps a GET pending, and one that POSTs."""

    __slots__ = ("http", "url", "outbox", "poller", "poster")

    def __init__(self, http: aiohttp.ClientSession, host: str, port: int, code: str) -> None:
        super().__init__(code)
        self.http = http
        self.url = URL(f"http://{host}:{port}/socket.io/?EIO=4&transport=polling")
        self.outbox: list[bytes] = []
        self.poller: asyncio.Task | None = None
        self.poster: asyncio.Task | None = None

    async def open(self) -> None:
        """The handshake: its answer is the OPEN packet, which names the session."""
        async with self.http.get(self.url) as response:
            body = await response.read()
            if response.status != 200:
                raise ConnectionError(f"handshake refused: {response.status} {body[:200]!r}")
        packets = body.split(SEPARATOR)
        if not packets[0].startswith(b"0"):
            raise ConnectionError(f"no OPEN packet: {body[:200]!r}")
        # parsed once: yarl would otherwise parse the URL again for every poll
        self.url = self.url.update_query(sid=json.loads(packets[0][1:])["sid"])
        self._receive(packets, time.monotonic())
        self.poller = asyncio.get_running_loop().create_task(self._poll())

    def _receive(self, packets: list[bytes], now: float) -> None:
        for p in packets:
            if p and not self.closed:
                self._on_text(p, now)

    async def _poll(self) -> None:
        try:
            while not self.closed:
                async with self.http.get(self.url) as response:
                    body = await response.read()
                    if response.status != 200:
                        raise ConnectionError(f"poll refused: {response.status} {body[:200]!r}")
                self._receive(body.split(SEPARATOR), time.monotonic())
        except Exception as exc:  # noqa: BLE001 - the session is over; waiters hear why
            self.error = repr(exc)[:300]
            self._lost(exc)

    async def _post(self) -> None:
        try:
            while self.outbox and not self.closed:
                body, self.outbox = SEPARATOR.join(self.outbox), []
                async with self.http.post(self.url, data=body,
                                          headers={"Content-Type": "text/plain"}) as response:
                    reply = await response.read()
                    if response.status != 200:
                        raise ConnectionError(f"POST refused: {response.status} {reply[:200]!r}")
        except Exception as exc:  # noqa: BLE001 - as for a poll
            self.error = repr(exc)[:300]
            self._lost(exc)
        finally:
            self.poster = None

    def send_text(self, text: bytes) -> None:
        if self.closed:
            return
        self.outbox.append(text)
        if self.poster is None:
            self.poster = asyncio.get_running_loop().create_task(self._post())

    def close(self) -> None:
        if not self.closed:
            self._lost("closed by the generator")
            for task in (self.poller, self.poster):
                if task is not None:
                    task.cancel()


async def open_polling_client(http: aiohttp.ClientSession, host: str, port: int, code: str,
                              timeout: float = 30.0) -> PollingClient:
    client = PollingClient(http, host, port, code)
    await asyncio.wait_for(client.open(), timeout)
    await asyncio.wait_for(client.ready, timeout)
    return client

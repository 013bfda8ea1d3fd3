"""A light Socket.IO v5 client on Engine.IO v4 HTTP long-polling only, as behind a proxy that
blocks WebSockets: one pending GET per client, POSTs one at a time, packets separated by \\x1e.

Each client has two keep-alive HTTP/1.1 connections, as a browser does: one for its polls and one
for its POSTs, each an `asyncio.Protocol` that sends one request at a time and reads responses
by their Content-Length, with no task per client. (On an aiohttp client session a poll cost the
generator ~150 µs of CPU, as much as it cost the servers, so the generator, not the server, set
the latency.) They connect from random addresses of 127.0.0.0/8, as the websocket clients do.
"""

import asyncio
import json
import re
import time
from collections.abc import Callable

from bench.wsclient import Peer, loopback_address

SEPARATOR = b"\x1e"
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: a request at a time, each response's status and body
    to `on_response`, the end of the connection (or a response it cannot read) to `on_lost`."""

    __slots__ = ("transport", "buf", "status", "need", "on_response", "on_lost")

    def __init__(self, on_response: Callable[[int, bytes], None],
                 on_lost: Callable[[object], None]) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.status = 0
        self.need: int | None = None
        self.on_response = on_response
        self.on_lost = on_lost

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.on_lost(exc or "connection closed")

    def request(self, head: bytes, body: bytes = b"") -> None:
        self.transport.write(head + body)

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        while True:
            if self.need is None:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head, buf = buf[:end + 2], buf[end + 4:]
                length = CONTENT_LENGTH.search(head)
                if length is None:
                    self.transport.abort()
                    self.on_lost(f"a response without Content-Length: {head[:200]!r}")
                    return
                self.status, self.need = int(head[9:12]), int(length.group(1))
            if len(buf) < self.need:
                break
            body, buf = buf[:self.need], buf[self.need:]
            self.need = None
            self.on_response(self.status, body)
        self.buf = buf

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class PollingClient(Peer):
    """One participant on long-polling: a GET always pending on one connection, POSTs on the
    other."""

    __slots__ = ("host", "port", "local", "path", "poller", "poster", "outbox", "posting")

    def __init__(self, host: str, port: int, code: str) -> None:
        super().__init__(code)
        self.host, self.port = host, port
        self.local = (loopback_address(), 0) if host == "127.0.0.1" else None
        self.path = "/socket.io/?EIO=4&transport=polling"
        self.poller: Connection | None = None
        self.poster: Connection | None = None
        self.outbox: list[bytes] = []
        self.posting = False

    def _request(self, method: str, length: int | None = None) -> bytes:
        head = f"{method} {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if length is not None:
            head += f"Content-Type: text/plain\r\nContent-Length: {length}\r\n"
        return (head + "\r\n").encode()

    async def open(self) -> None:
        """Connect and send the handshake: its answer, the OPEN packet, names the session."""
        _, self.poller = await asyncio.get_running_loop().create_connection(
            lambda: Connection(self._polled, self._gone), self.host, self.port,
            local_addr=self.local)
        self.poller.request(self._request("GET"))

    def _polled(self, status: int, body: bytes) -> None:
        if status != 200:
            self._gone(f"poll refused: {status} {body[:200]!r}")
            return
        now = time.monotonic()
        packets = body.split(SEPARATOR)
        if "&sid=" not in self.path:
            if not packets[0].startswith(b"0"):
                self._gone(f"no OPEN packet: {body[:200]!r}")
                return
            self.path += "&sid=" + json.loads(packets[0][1:])["sid"]
        for p in packets:
            if p and not self.closed:
                self._on_text(p, now)
        if not self.closed:
            self.poller.request(self._request("GET"))

    def _posted(self, status: int, body: bytes) -> None:
        if status != 200:
            self._gone(f"POST refused: {status} {body[:200]!r}")
            return
        self.posting = False
        self._post()

    def _poster_lost(self, why: object) -> None:
        """A server may close a keep-alive connection left idle (Node's after 5 s): the next
        POST opens another. Lost while a POST is unanswered, the session is over."""
        if self.posting:
            self._gone(why)
        else:
            self.poster = None

    def _post(self) -> None:
        if self.posting or not self.outbox or self.closed:
            return
        if self.poster is None:
            self.posting = True
            asyncio.get_running_loop().create_task(self._connect_poster())
            return
        body, self.outbox = SEPARATOR.join(self.outbox), []
        self.posting = True
        self.poster.request(self._request("POST", len(body)), body)

    async def _connect_poster(self) -> None:
        try:
            _, self.poster = await asyncio.get_running_loop().create_connection(
                lambda: Connection(self._posted, self._poster_lost), self.host, self.port,
                local_addr=self.local)
        except OSError as exc:
            self._gone(exc)
            return
        self.posting = False
        self._post()

    def _gone(self, why: object) -> None:
        """The session is over: a connection ended, or the server refused a request; whoever
        waits for it hears why."""
        if not self.closed:
            self.error = repr(why)[:300]
            self._lost(why)
            self._hang_up()

    def send_text(self, text: bytes) -> None:
        if self.closed:
            return
        self.outbox.append(text)
        self._post()

    def close(self) -> None:
        if not self.closed:
            self._lost("closed by the generator")
            self._hang_up()

    def _hang_up(self) -> None:
        for connection in (self.poller, self.poster):
            if connection is not None:
                connection.close()


async def open_polling_client(host: str, port: int, code: str,
                              timeout: float = 30.0) -> PollingClient:
    client = PollingClient(host, port, code)
    await asyncio.wait_for(client.open(), timeout)
    await asyncio.wait_for(client.ready, timeout)
    return client

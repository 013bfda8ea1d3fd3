"""A deliberately light Socket.IO v5 / Engine.IO v4 client over a raw WebSocket (asyncio.Protocol).

`Peer` is its Socket.IO side, shared with the long-polling client in bench/pollclient.py.

Thousands of these run in one process: no task per client, no JSON parse of broadcasts unless asked,
so the generator costs a few microseconds per received frame and is not what gets measured.
"""

import asyncio
import base64
import json
import os
import random
import re
import struct
import time
import zlib
from collections.abc import Callable

UPDATE_PREFIX = b'42["update",'
SEQ_RE = re.compile(rb'"seq":(\d+),"prev":(\d+),"type":"(\w+)"')
MARK_RE = re.compile(rb"#b(\d+)#")
ZERO_MASK = b"\x00\x00\x00\x00"  # a valid RFC 6455 mask; masking with it is the identity
DEFLATE_TAIL = b"\x00\x00\xff\xff"


def _frame(text: bytes, opcode: int = 0x1) -> bytes:
    n = len(text)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + ZERO_MASK + text


class Peer:
    """The Engine.IO v4 / Socket.IO v5 side of one participant, whatever carries its packets:
    connect, acks, and a cheap record of each broadcast."""

    __slots__ = (
        "auth", "ready", "acks", "next_ack", "last_seq", "last_seq_at", "gaps", "stale", "marks",
        "record_marks", "full", "polls", "state", "closed", "on_close", "error",
    )

    def __init__(self, code: str, token: str | None = None) -> None:
        auth = {"event": code}
        if token:
            auth["token"] = token
        self.auth = json.dumps(auth, separators=(",", ":")).encode()
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.acks: dict[int, tuple[float, asyncio.Future | Callable | None]] = {}
        self.next_ack = 0
        self.last_seq = -1
        self.last_seq_at = 0.0
        self.gaps = 0
        self.stale = 0
        self.marks: list[tuple[int, float]] = []
        self.record_marks = True
        self.full: dict | None = None  # question_id -> votes, for clients that fully apply updates
        self.polls: dict[int, dict] = {}  # poll_id -> results, kept by the same clients
        self.state = None
        self.closed = False
        self.on_close = None
        self.error: object = None

    def send_text(self, text: bytes) -> None:
        """Send one Engine.IO packet the way this client's transport carries it."""
        raise NotImplementedError

    def close(self) -> None:
        """Leave without a word, as a closed laptop does."""
        raise NotImplementedError

    def _fail(self, why: str) -> None:
        self.error = why
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        self.close()

    def _lost(self, exc: object) -> None:
        """The connection is gone: whoever waits for it to connect or for an ack hears so."""
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before connect: {exc}"))
        for _, waiter in self.acks.values():
            if isinstance(waiter, asyncio.Future) and not waiter.done():
                waiter.set_exception(ConnectionError("closed"))
        self.acks.clear()

    # ---- Engine.IO / Socket.IO -------------------------------------------------------------
    def _on_text(self, p: bytes, now: float) -> None:
        if p.startswith(UPDATE_PREFIX):
            m = SEQ_RE.search(p, 12, 80)
            if m is None:
                return
            seq, prev = int(m.group(1)), int(m.group(2))
            if seq <= self.last_seq:
                self.stale += 1
                return
            if prev > self.last_seq >= 0:
                self.gaps += 1
            self.last_seq, self.last_seq_at = seq, now
            if m.group(3) == b"question" and self.record_marks:
                mark = MARK_RE.search(p)
                if mark is not None:
                    self.marks.append((int(mark.group(1)), now))
            if self.full is not None:
                msg = json.loads(p[2:])[1]
                if msg["type"] == "votes":
                    for qid, votes in msg["counts"]:
                        self.full[qid] = votes
                    for poll in msg.get("polls", ()):
                        self.polls[poll["id"]] = poll["results"]
                elif msg["type"] == "question":
                    self.full.setdefault(msg["question"]["id"], msg["question"]["votes"])
            return
        if p.startswith(b"43"):
            i = 2
            while p[i] != 0x5B:  # '['
                i += 1
            entry = self.acks.pop(int(p[2:i]), None)
            if entry is not None:
                sent, waiter = entry
                if isinstance(waiter, asyncio.Future):
                    if not waiter.done():
                        waiter.set_result((now - sent, p[i:]))
                elif waiter is not None:
                    waiter(now - sent, p[i:])
            return
        if p == b"2":
            self.send_text(b"3")
        elif p.startswith(b"0"):
            self.send_text(b"40" + self.auth)
        elif p.startswith(b"40"):
            if not self.ready.done():
                self.ready.set_result(now)
        elif p.startswith(b"44"):
            self._fail(f"connect refused: {p[2:200]!r}")
        elif p.startswith(b"41") or p.startswith(b"1"):
            self.close()

    def expect(self, waiter=None) -> int:
        """A new ack id, whose ack goes to waiter (a Future, a callback(latency, raw) or None),
        for a packet about to be sent; the latency counts from now."""
        ack = self.next_ack
        self.next_ack += 1
        self.acks[ack] = (time.monotonic(), waiter)
        return ack

    def emit(self, event: str, payload: object, waiter=None) -> float:
        """Send an event with an ack id; waiter is a Future, a callback(latency, raw) or None."""
        ack = self.expect(waiter)
        self.send_text(b"42" + str(ack).encode()
                       + json.dumps([event, payload], separators=(",", ":")).encode())
        return self.acks[ack][0]

    async def call(self, event: str, payload: object, timeout: float = 30.0) -> tuple[float, dict]:
        fut = asyncio.get_running_loop().create_future()
        self.emit(event, payload, fut)
        latency, raw = await asyncio.wait_for(fut, timeout)
        return latency, json.loads(raw)[0]


class Client(Peer, asyncio.Protocol):
    """One participant socket over a hand-rolled WebSocket."""

    __slots__ = ("host", "port", "path", "deflate", "transport", "buf", "upgraded", "inflater")

    def __init__(self, host: str, port: int, code: str, *, deflate: bool = True,
                 token: str | None = None) -> None:
        super().__init__(code, token)
        self.host, self.port = host, port
        self.path = "/socket.io/?EIO=4&transport=websocket"
        self.deflate = deflate
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.upgraded = False
        self.inflater = None

    # ---- transport -------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if self.deflate else ""
        transport.write(
            (f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n").encode()
        )

    def connection_lost(self, exc) -> None:
        self._lost(exc)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buf = self.buf + data if self.buf else data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            head = buf[:end].decode("latin-1")
            if " 101 " not in head.split("\r\n", 1)[0]:
                self._fail(f"upgrade refused: {head.splitlines()[0]}")
                return
            if "permessage-deflate" in head.lower():
                self.inflater = zlib.decompressobj(-15)
            self.upgraded = True
            buf = buf[end + 4:]
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            hdr = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = struct.unpack_from("!H", buf, pos + 2)[0]
                hdr = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = struct.unpack_from("!Q", buf, pos + 2)[0]
                hdr = 10
            if n - pos < hdr + length:
                break
            payload = buf[pos + hdr:pos + hdr + length]
            pos += hdr + length
            if b0 & 0x40 and self.inflater is not None:
                payload = self.inflater.decompress(payload + DEFLATE_TAIL)
            opcode = b0 & 0x0F
            if opcode == 1:
                self._on_text(payload, now)
            elif opcode == 9:
                self.transport.write(_frame(payload, 0xA))
            elif opcode == 8:
                self.transport.close()
                return
        self.buf = buf[pos:] if pos < n else b""

    def send_text(self, text: bytes) -> None:
        if not self.closed:
            self.transport.write(_frame(text))

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()

def loopback_address() -> str:
    """A random address of 127.0.0.0/8 to connect from: an audience comes from many addresses,
    and a server's per-address work (its join limit) should cost what it costs for one."""
    return f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"


async def open_client(host: str, port: int, code: str, *, deflate: bool = True,
                      timeout: float = 30.0) -> Client:
    loop = asyncio.get_running_loop()
    local = (loopback_address(), 0) if host == "127.0.0.1" else None
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: Client(host, port, code, deflate=deflate), host, port,
                               local_addr=local),
        timeout,
    )
    await asyncio.wait_for(client.ready, timeout)
    return client

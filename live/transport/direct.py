"""Settled websockets with one task each: engine.io sockets that write straight to the wire.

Stock engine.io gives every websocket a writer task fed by a queue, a new task and timeout for
every message it reads, and a sleeping task for every ping. With thousands of sockets and
thousands of messages a second that bookkeeping, not the messages, is the cost, and the tasks are
most of an idle connection's memory. A `DirectSocket` reads in one task, pings from a timer
and, once its websocket is settled (upgraded, with nothing left queued), writes each
packet's frame to the transport on the spot, in the order it was sent. Long-polling sockets, and
websockets still upgrading, keep engine.io's queue, bounded like a websocket's write buffer; a
broadcast puts its packet there in place, and a poll waits for it in its request's own task.
permessage-deflate is off: our frames are too small to gain from it, and each deflate context
costs ~100 KB per connection.

Once settled, the connection is taken from aiohttp (`DirectWebSocket.detach`): its bytes go
straight to the websocket's frame parser (`SettledProtocol`), one task of the socket's own reads
the parsed messages, and aiohttp's handler returns. Otherwise aiohttp's request handler, the
upgrade request, its middlewares' and engine.io's suspended frames, the HTTP parser and the 101
response all stayed alive for the websocket's life: about 9 KB of each idle connection's 21 KB.
A websocket from the start, which settles at once, is answered with the 101 alone
(`DirectWebSocket.accept`), without aiohttp's websocket response.

Written against python-engineio 4.15.1 (BaseSocket's flags and queue, AsyncSocket's send,
receive, close, ping, poll, POST and websocket handlers, the aiohttp driver's WebSocket and
translate_request, and the server's connect sequence and POST handling) and aiohttp 3.14.5 (the
request handler's `connection_lost`, `start`, `finish_response`, `data_received` and
`set_parser`, the server's `connection_lost`, the websocket response's handshake, reader and
parser, the frame parser and its queue);
`tests/test_fast_broadcast.py` fails if any of them changes, and `broadcast.install` keeps the
stock classes on other versions.
"""

import asyncio
import base64
import binascii
import collections
import hashlib
import logging
import struct
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping

from aiohttp import WSCloseCode, WSMsgType, WebSocketError, hdrs
from aiohttp._websocket.reader import WebSocketDataQueue, WebSocketReader
from aiohttp.helpers import DEFAULT_CHUNK_SIZE
from aiohttp.http import WS_KEY
from aiohttp.web import BaseRequest, HTTPBadRequest, StreamResponse, WebSocketResponse
from engineio import async_socket, exceptions
from engineio import packet as eio_packet
from engineio.async_drivers.aiohttp import WebSocket as EngineWebSocket

log = logging.getLogger(__name__)

#: Bytes a socket may leave unsent before it is dropped, in its websocket's write buffer or, on
#: long-polling, queued for polls that do not come (Principle 4: a client that stops reading does
#: not grow the server's memory; it reconnects and catches up with a snapshot).
SLOW_CONSUMER_BYTES = 1 << 20
#: Sockets that finish leaving in one turn of the event loop. When thousands of connections end
#: at once (the end of a session, a venue's Wi-Fi dropping) each close costs ~0.1 ms; done all in
#: one turn they stopped every other socket for half a second, and in turns of this many the
#: others wait ~10 ms between two of them.
LEAVES_PER_TURN = 100
#: Connections dropped for not reading, in this process, by transport (read by `live.metrics`).
dropped = {"websocket": 0, "polling": 0}


def frame(data: str | bytes) -> bytes:
    """One unmasked, final WebSocket frame (RFC 6455 §5.2) as a server sends it: text for a str,
    binary for bytes."""
    if isinstance(data, str):
        opcode, data = 0x81, data.encode()
    else:
        opcode = 0x82
    n = len(data)
    if n < 126:
        return bytes((opcode, n)) + data
    if n < 65536:
        return struct.pack("!BBH", opcode, 126, n) + data
    return struct.pack("!BBQ", opcode, 127, n) + data


def control(opcode: int, payload: bytes) -> bytes:
    """An unmasked control frame (RFC 6455 §5.5): its payload is at most 125 bytes."""
    return bytes((0x80 | opcode, len(payload))) + payload


def write(transport: asyncio.Transport, wire: bytes) -> None:
    """Write a frame, unless the peer stopped reading long ago: then drop the connection."""
    if transport.is_closing():
        return
    if transport.get_write_buffer_size() > SLOW_CONSUMER_BYTES:
        log.warning("dropping a socket that stopped reading")
        dropped["websocket"] += 1
        transport.abort()
        return
    transport.write(wire)


class LightQueue:
    """The part of an unbounded asyncio.Queue that engine.io uses, holding no storage while empty.

    asyncio's queue keeps four deques (~3 KB) from birth; a settled websocket queues only its
    OPEN packet, so with thousands connected those empty deques were an eighth of the memory.
    """

    __slots__ = ("_items", "_getters", "_unfinished", "_joiners")

    def __init__(self) -> None:
        self._items: collections.deque | None = None
        self._getters: list[asyncio.Future] | None = None
        self._unfinished = 0
        self._joiners: list[asyncio.Future] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: object) -> None:
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        self._unfinished += 1
        self._wake_getter()

    async def put(self, item: object) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> object:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    async def get(self) -> object:
        """As asyncio.Queue.get, including its hand-over when a woken getter is cancelled."""
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                if self._getters is not None and getter in self._getters:
                    self._getters.remove(getter)
                if self._items and not getter.cancelled():
                    self._wake_getter()
                raise
        return self.get_nowait()

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if not self._unfinished and self._joiners is not None:
            for joiner in self._joiners:
                if not joiner.done():
                    joiner.set_result(None)
            self._joiners = None

    async def join(self) -> None:
        if self._unfinished:
            joiner = asyncio.get_running_loop().create_future()
            if self._joiners is None:
                self._joiners = []
            self._joiners.append(joiner)
            await joiner

    def _wake_getter(self) -> None:
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break
        if not self._getters:
            self._getters = None


class Turns:
    """Lets at most `per_turn` waiters go on in each turn of the event loop, first come first."""

    def __init__(self, per_turn: Callable[[], int]) -> None:
        self._per_turn = per_turn
        self._waiting: collections.deque[asyncio.Future] = collections.deque()
        self._releasing = False

    async def turn(self) -> None:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiting.append(waiter)
        if not self._releasing:
            self._releasing = True
            loop.call_soon(self._release, loop)
        await waiter

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        released = 0
        while self._waiting and released < self._per_turn():
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                released += 1
        if self._waiting:
            loop.call_soon(self._release, loop)
        else:
            self._releasing = False


#: Where a settled websocket whose connection ended waits its turn to close (`LEAVES_PER_TURN`).
LEAVING = Turns(lambda: LEAVES_PER_TURN)


class RequestEnviron(Mapping):
    """engine.io's WSGI-style environ of an aiohttp request, read from the request when asked.

    engine.io's aiohttp driver copies every header into a dict of new `HTTP_*` keys, and
    python-socketio keeps that dict for the life of the connection, next to the request that
    holds the same headers: ~2 KB per connection. This reads each key from the request instead,
    with the driver's values. (A header whose own name has an underscore is not found: the
    driver's keys cannot tell it from a hyphen, and proxies drop such headers anyway.)
    """

    __slots__ = ("request",)

    _CONSTANT = {
        "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.async": True,
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "SERVER_SOFTWARE": "aiohttp", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "0",
        "SERVER_NAME": "aiohttp", "SERVER_PORT": "0", "SCRIPT_NAME": "",
    }
    _FROM_REQUEST: dict[str, Callable[[BaseRequest], object]] = {
        "wsgi.input": lambda request: request.content,
        "REQUEST_METHOD": lambda request: request.method,
        "QUERY_STRING": lambda request: request.query_string or "",
        "RAW_URI": lambda request: request.path_qs,
        "SERVER_PROTOCOL": lambda request: f"HTTP/{request.version[0]}.{request.version[1]}",
        "aiohttp.request": lambda request: request,
        "wsgi.url_scheme": lambda request: request.headers.get("X-Forwarded-Proto", "http"),
        "PATH_INFO": lambda request: request.path,
    }
    _CONTENT = {"CONTENT_TYPE": "CONTENT-TYPE", "CONTENT_LENGTH": "CONTENT-LENGTH"}

    def __init__(self, request: BaseRequest) -> None:
        self.request: BaseRequest | SettledRequest = request

    def release(self) -> None:
        """Keep only what the environ answers for its request (`SettledRequest`)."""
        if isinstance(self.request, BaseRequest):
            self.request = SettledRequest(self.request)

    def __getitem__(self, key: str) -> object:
        headers = self.request.headers
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-")
            values = None if name in self._CONTENT.values() else headers.getall(name, None)
            if not values:
                raise KeyError(key)
            return ",".join(values)
        if key in self._CONTENT:
            value = headers.get(self._CONTENT[key])
            if value is None:
                raise KeyError(key)
            return value
        if key in self._FROM_REQUEST:
            return self._FROM_REQUEST[key](self.request)
        return self._CONSTANT[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._CONSTANT
        yield from self._FROM_REQUEST
        names = dict.fromkeys(name.upper() for name in self.request.headers)
        for key, name in self._CONTENT.items():
            if name in names:
                yield key
        for name in names:
            if name not in self._CONTENT.values():
                yield "HTTP_" + name.replace("-", "_")

    def __len__(self) -> int:
        return sum(1 for _ in self)


class SettledRequest:
    """What a released environ (`RequestEnviron.release`) still tells of its request: its
    headers and the handful of fields read from it. The request itself holds its connection's
    HTTP parser, handler and writer, which aiohttp lets go of once it has answered the request
    (for a websocket, once it is detached)."""

    __slots__ = ("headers", "method", "path", "path_qs", "query_string", "version", "remote",
                 "scheme", "host")
    #: A settled websocket has no body to read (a long-polling POST brings its own request).
    content = None

    def __init__(self, request: BaseRequest) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(request, name))


def translate_request(request: BaseRequest) -> RequestEnviron:
    """engine.io's `translate_request` for aiohttp, without the copy (`RequestEnviron`)."""
    return RequestEnviron(request)


class SettledProtocol(asyncio.Protocol):
    """A settled websocket's connection once aiohttp has let go of it: each read goes straight
    to the websocket's frame parser, which queues the messages its socket's task reads. The
    queue pauses and resumes reading here, as it did through aiohttp's handler."""

    __slots__ = ("transport", "_parser", "_reading_paused")

    def __init__(self, transport: asyncio.Transport, parser: object, reading_paused: bool) -> None:
        self.transport = transport
        self._parser = parser
        self._reading_paused = reading_paused

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def eof_received(self) -> None:
        return None  # the transport closes itself: a websocket is not half-closed

    def connection_lost(self, exc: BaseException | None) -> None:
        self._parser.feed_eof()

    def pause_reading(self) -> None:
        if not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()


class Detached(StreamResponse):
    """What aiohttp's handler returns for a websocket it no longer holds (`DirectWebSocket.detach`):
    the 101 is on the wire already, so there is nothing more to prepare or end."""

    def __init__(self) -> None:
        super().__init__(status=101)

    async def prepare(self, request: BaseRequest) -> None:
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None


SWITCHING = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             b"Connection: upgrade\r\nSec-WebSocket-Accept: ")


def accept_key(request: BaseRequest) -> bytes:
    """The Sec-WebSocket-Accept for a websocket handshake, refused as aiohttp's websocket
    response refuses it (400). engine.io has checked the Upgrade and Connection headers; no
    subprotocol or extension is offered back."""
    headers = request.headers
    version = headers.get(hdrs.SEC_WEBSOCKET_VERSION, "")
    if version not in ("13", "8", "7"):
        raise HTTPBadRequest(text=f"Unsupported version: {version}")
    key = headers.get(hdrs.SEC_WEBSOCKET_KEY)
    try:
        if not key or len(base64.b64decode(key)) != 16:
            raise HTTPBadRequest(text=f"Handshake error: {key!r}")
    except binascii.Error:
        raise HTTPBadRequest(text=f"Handshake error: {key!r}") from None
    return base64.b64encode(hashlib.sha1(key.encode() + WS_KEY).digest())


class DirectWebSocket(EngineWebSocket):
    """engine.io's aiohttp websocket driver, without permessage-deflate, whose connection is
    taken from aiohttp once settled. A websocket from the start is accepted by hand (`accept`);
    an upgrade from long-polling goes through aiohttp's websocket response, which reads the
    probe and the upgrade packet before the socket settles."""

    detached = False
    #: The message queue and frame parser of a websocket accepted by hand.
    _queue: WebSocketDataQueue | None = None
    _parser: WebSocketReader | None = None

    async def __call__(self, environ):
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return Detached() if self.detached else self._sock

    async def accept(self, environ):
        """Answer the handshake with the 101 alone, and read frames with aiohttp's parser and
        queue made here: aiohttp's websocket response would be made, prepared (its headers, its
        writer, the response signals) and let go of at once, ~0.1 ms of a join's CPU."""
        request = environ["aiohttp.request"]
        accept = accept_key(request)
        handler = request.protocol
        transport = handler.transport
        if transport is None:
            raise ConnectionResetError("Connection lost")
        handler.keep_alive(False)
        self._queue = WebSocketDataQueue(handler, DEFAULT_CHUNK_SIZE,
                                         loop=asyncio.get_running_loop())
        self._parser = WebSocketReader(self._queue, self.server.max_http_buffer_size,
                                       compress=False, decode_text=True)
        transport.write(SWITCHING + accept + b"\r\n\r\n")
        self.environ = environ
        try:
            await self.handler(self)
        finally:
            if not self.detached:
                await self.close()
        return Detached()

    async def close(self):
        if self._sock is not None:
            await self._sock.close()
            return
        transport = self.environ["aiohttp.request"].transport
        if transport is not None and not transport.is_closing():
            transport.write(control(0x8, struct.pack("!H", WSCloseCode.OK)))
            transport.close()

    def detach(self) -> object:
        """Hand the connection from aiohttp's request handler to a `SettledProtocol` and return
        the websocket's message queue. The handler is told its connection is gone, without
        closing it or ending the queue: it leaves the server's connections, and once this
        driver returns, its task ends and lets go of the request and everything it held."""
        request = self.environ["aiohttp.request"]
        handler = request.protocol
        transport = handler.transport
        if self._sock is None:
            queue, parser = self._queue, self._parser
        else:
            queue, parser = self._sock._reader, self._sock._parser
        settled = SettledProtocol(transport, parser, handler._reading_paused)
        queue._protocol = settled
        transport.set_protocol(settled)
        tail, handler._message_tail = handler._message_tail, b""
        if tail:  # frames that came with the handshake, before the parser was in place
            parser.feed_data(tail)
        handler._payload_parser = None  # its connection_lost would end the queue
        handler.transport = None  # and close the connection
        handler.connection_lost(None)
        self.environ.release()
        self.detached = True
        return queue


class DirectSocket(async_socket.AsyncSocket):
    """An engine.io socket that writes to its settled websocket directly (see the module)."""

    #: The websocket's transport while the socket is settled on it; None means use the queue.
    direct_transport: asyncio.Transport | None = None
    #: Reads a text message's Socket.IO event in one step (`live.transport.inbound`), or returns
    #: False to leave it to engine.io's `receive`; None: every message goes there.
    events: Callable[["DirectSocket", str], Awaitable[bool]] | None = None
    #: Bytes of the packets waiting in the queue.
    queued_bytes: int = 0
    _ping_timer: asyncio.TimerHandle | None = None
    #: The task reading a detached websocket (`_serve`).
    _reading: asyncio.Task | None = None
    #: The environ of the request that opened the session, which python-socketio keeps for the
    #: session's life; released once the session is settled (`release_handshake`).
    handshake: RequestEnviron | None = None

    async def _upgrade_websocket(self, environ):
        """A websocket from the start is accepted by hand and detached at once (engine.io's
        own checks first); an upgrade from long-polling goes through aiohttp's websocket."""
        if self.connected or self.upgraded:
            return await super()._upgrade_websocket(environ)
        try:
            return await DirectWebSocket(self._websocket_handler, self.server).accept(environ)
        except HTTPBadRequest:  # engine.io made the session for this websocket: it ends here
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_ERROR)
            self.server.sockets.pop(self.sid, None)
            raise

    def release_handshake(self) -> None:
        """Let go of the request that opened the session, keeping what its environ answers:
        called once the session is settled on a websocket or has been polled."""
        if self.handshake is not None:
            self.handshake.release()
            self.handshake = None

    async def send(self, pkt: eio_packet.Packet) -> None:
        if await self.check_ping_timeout():
            self.send_now(pkt)
            if self.queued_bytes > SLOW_CONSUMER_BYTES and not self.closing:
                await self._drop_unpolled()

    def queue_now(self, pkt: eio_packet.Packet) -> bool:
        """`send` in place, where it would not need to await: False, having done nothing, when
        the client's pings are overdue or the packet would take the queue over the limit (then
        `send` closes the socket)."""
        last_ping = self.last_ping
        if self.closed or (last_ping and time.time() - last_ping > self.server.ping_timeout):
            return False
        data = pkt.data
        size = len(data) if isinstance(data, (str, bytes)) else 0
        if self.queued_bytes + size > SLOW_CONSUMER_BYTES:
            return False
        self.send_now(pkt)
        return True

    def send_now(self, pkt: eio_packet.Packet) -> None:
        """Write the packet now if settled, else queue it behind what is already queued."""
        transport = self.direct_transport
        if transport is None:
            data = pkt.data
            self.queued_bytes += len(data) if isinstance(data, (str, bytes)) else 0
            self.queue.put_nowait(pkt)
        else:
            write(transport, frame(pkt.encode()))

    async def poll(self) -> list[eio_packet.Packet]:
        """engine.io's poll: everything queued, [] once the queue has ended, QueueEmpty when
        nothing comes within a ping interval and timeout. It waits under `asyncio.timeout`, in
        the request's own task, where engine.io's `wait_for` made a task for every poll."""
        queue = self.queue
        try:
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                first = await queue.get()
            queue.task_done()
        except (TimeoutError, asyncio.CancelledError):
            raise exceptions.QueueEmpty() from None
        self.queued_bytes = 0
        if first is None:
            return []
        packets = [first]
        while not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is None:
                queue.put_nowait(None)
                break
            packets.append(pkt)
        return packets

    def takes_polls(self) -> bool:
        """Whether a long-polling GET may come straight here (`live.transport.wire`): the
        session is open on long-polling and not moving to a websocket."""
        return self.connected and not (self.upgraded or self.upgrading or self.closing
                                       or self.closed)

    async def _drop_unpolled(self) -> None:
        """Close a session whose queue outgrew the limit, keeping only the CLOSE for its poll."""
        log.warning("dropping a long-polling socket that stopped polling")
        dropped["polling"] += 1
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()
        self.queued_bytes = 0
        await self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)

    async def handle_post_request(self, environ: dict) -> None:
        """engine.io's, except that a payload it cannot read ends the session at once: engine.io's
        own disconnect would wait, without answering the POST, for a poll that may never come."""
        try:
            await super().handle_post_request(environ)
        except (ValueError, exceptions.EngineIOError) as exc:  # UnicodeDecodeError is a ValueError
            await self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise exceptions.EngineIOError("unreadable long-polling payload") from exc

    def schedule_ping(self) -> None:
        """Ping after the interval, from a timer instead of a sleeping task."""
        if self.last_ping:
            self.last_ping = None
            self._ping_timer = asyncio.get_running_loop().call_later(
                self.server.ping_interval, self._ping
            )

    def _ping(self) -> None:
        self._ping_timer = None
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            self.send_now(eio_packet.Packet(eio_packet.PING))

    async def close(self, wait=True, abort=False, reason=None):
        """Close the session, and a settled websocket's connection with it: its read has no
        timeout of its own (engine.io's service task finds unanswered pings and closes here)."""
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None
        await super().close(wait=wait, abort=abort, reason=reason)
        transport = self.direct_transport
        if transport is not None:
            if reason == self.server.reason.PING_TIMEOUT:
                transport.abort()  # nobody is reading what is still unsent
            else:
                transport.close()  # after the close packet has gone out

    async def _websocket_handler(self, ws: DirectWebSocket) -> None:
        """engine.io's websocket handler: the same upgrade, then (settled) writes direct and reads
        in a task of the socket's own, with the connection detached from aiohttp."""
        server = self.server
        if self.connected:  # an upgrade from long-polling
            self.upgrading = True  # hold packet sends during the upgrade
            probe = await _read(ws, server)
            if probe is None or _decoded(probe, eio_packet.PING) != "probe":
                self.upgrading = False
                return
            await ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
            self.queue.put_nowait(eio_packet.Packet(eio_packet.NOOP))  # ends the pending poll
            upgrade = await _read(ws, server)
            if upgrade is None or _decoded(upgrade, eio_packet.UPGRADE) is None:
                self.upgrading = False
                return
            self.upgraded = True
            self.upgrading = False
        else:
            self.connected = True
            self.upgraded = True

        transport = ws.environ["aiohttp.request"].transport
        if self._settle(transport):
            queue = ws.detach()
            self.release_handshake()
            self._reading = asyncio.get_running_loop().create_task(self._serve(queue, transport))
            return
        await ws.close()
        await self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)

    async def _serve(self, queue: object, transport: asyncio.Transport) -> None:
        """Read a detached websocket's messages in order until it ends, then leave."""
        server = self.server
        code = WSCloseCode.OK
        try:
            while not self.closed:
                data = await _settled_message(queue, transport)
                if not isinstance(data, str):
                    code = data
                    break
                events = self.events
                if events is not None and await events(self, data):
                    continue
                try:
                    pkt = eio_packet.Packet(encoded_packet=data)
                except Exception:  # noqa: BLE001 - not engine.io: end the connection
                    break
                try:
                    await self.receive(pkt)
                except exceptions.UnknownPacketError:
                    pass
                except exceptions.SocketIsClosedError:
                    break
                except Exception:  # noqa: BLE001 - as engine.io does: log, keep serving
                    server.logger.exception("Unknown receive error")
        finally:
            self.direct_transport = None
        await LEAVING.turn()
        if not transport.is_closing():
            transport.write(control(0x8, struct.pack("!H", code)))
            transport.close()
        await self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
        if server.sockets.get(self.sid) is self:  # as engine.io does once its handler returns
            del server.sockets[self.sid]

    def _settle(self, transport: asyncio.Transport) -> bool:
        """Write out what was queued, in order, then go direct; False if the socket closed."""
        while not self.queue.empty():
            pkt = self.queue.get_nowait()
            self.queue.task_done()
            if pkt is None:
                return False
            write(transport, frame(pkt.encode()))
        self.queued_bytes = 0
        self.direct_transport = transport
        return True


async def _read(ws: DirectWebSocket, server) -> str | None:
    """The next text message, or None when the connection ended, broke, sent too much or sent
    binary data (the protocol has none: a client announcing attachments is refused apart).

    No timeout: a timer per read would cost more than the read (see `DirectSocket.close`).
    """
    try:
        msg = await ws._sock.receive()
    except Exception:  # noqa: BLE001 - a broken connection ends it
        return None
    if msg.type is not WSMsgType.TEXT:
        return None
    if len(msg.data) > server.max_http_buffer_size:
        return None
    return msg.data


async def _settled_message(queue: object, transport: asyncio.Transport) -> str | int:
    """A detached websocket's next text message, answering pings on the way, or the close code
    to end the connection with: when it ended or sent a close, binary data (the protocol has
    none) or a frame aiohttp's parser refused (too long, malformed)."""
    while True:
        try:
            msg = await queue.read()
        except WebSocketError as exc:
            return exc.code
        except Exception:  # noqa: BLE001 - the end of the stream, or a broken connection
            return WSCloseCode.OK
        kind = msg.type
        if kind is WSMsgType.TEXT:
            return msg.data
        if kind is WSMsgType.PING:
            write(transport, control(0xA, msg.data))
        elif kind is not WSMsgType.PONG:
            return WSCloseCode.OK if kind is WSMsgType.CLOSE else WSCloseCode.UNSUPPORTED_DATA


def _decoded(data: str | bytes, expected: int) -> str | None:
    """The data of an engine.io packet of the expected type ("" if it has none), else None."""
    try:
        pkt = eio_packet.Packet(encoded_packet=data)
    except Exception:  # noqa: BLE001 - anything undecodable is not the expected packet
        return None
    if pkt.packet_type != expected:
        return None
    return pkt.data or ""

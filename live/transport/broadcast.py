"""Broadcasts at the speed of the socket: encode a room message once, write the same frame to all.

python-socketio's stock `AsyncManager.emit` encodes once too, but then spends a task, a queue put
and a writer wake-up per recipient; with thousands of sockets in a room that bookkeeping, not the
wire format, is the cost. This path builds the WebSocket frame once and hands it to each settled
websocket's transport directly (`live.transport.direct`, which also carries each socket's own
acks and pings without tasks).

It relies on internals of python-socketio 5.18.1 / python-engineio 4.15.1 (the manager's emit and
its rooms' maps, and those `direct` names). `tests/test_fast_broadcast.py` fails if those
change; at run time, other versions fall back to the stock path. A socket that is not a settled
websocket (long-polling, or mid-upgrade) gets the packet in engineio's own queue, so its order
is kept: put there in place, or through engine.io's `send` where that must close the socket.
"""

import asyncio
import importlib.metadata
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import socketio
from engineio import async_socket
from engineio import packet as eio_packet
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from socketio import packet as sio_packet

from live.transport import direct, inbound

log = logging.getLogger(__name__)

PINNED = {"python-socketio": "5.18.1", "python-engineio": "4.15.1", "aiohttp": "3.14.5"}
#: Seconds between attempts to reach Redis after losing it: short, so clients converge soon after
#: it returns (python-socketio's own back-off doubles up to a minute).
REDIS_RETRY_INTERVAL = 0.25
#: Seconds a Redis connect, PING, publish or subscribe may take before Redis counts as lost.
REDIS_TIMEOUT = 1.0
#: Seconds between two health checks (a PING), and the longest the listener reads without
#: looking whether Redis was found lost: a hang is noticed within this plus REDIS_TIMEOUT.
REDIS_HEALTH_INTERVAL = 0.5
#: Messages waiting to be published, at most: past it Redis is not keeping up and counts as lost.
PUBLISH_QUEUE_LIMIT = 10_000
#: Sockets one broadcast writes to before letting the event loop run other work (a write costs
#: ~8 µs, mostly in the kernel: 500 of them hold up an ack for at most ~4 ms).
WRITES_PER_TURN = 500
#: Server→client event telling clients to take a fresh snapshot: news may have been lost.
RESYNC_EVENT = "resync"


def pinned_versions_installed() -> bool:
    return all(importlib.metadata.version(name) == version for name, version in PINNED.items())


class DirectManager(socketio.AsyncManager):
    """In-process manager whose local delivery writes one shared frame per socket, and whose
    disconnect leaves only the rooms the socket is in.

    The stock `basic_disconnect` checks every room of the namespace for the leaving socket, and
    each socket has rooms of its own (its sid, its participant): with thousands connected, one
    disconnect costs a millisecond, and everyone leaving at once (the end of the event, a venue's
    Wi-Fi dropping) stops the server for seconds. Here each namespace keeps the rooms each sid
    entered.
    """

    direct = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.joined: dict[str, dict[str, dict[object, None]]] = {}  # namespace -> sid -> rooms

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.joined.setdefault(namespace, {}).setdefault(sid, {})[room] = None

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        sids = self.joined.get(namespace, {})
        rooms = sids.get(sid)
        if rooms is not None:
            rooms.pop(room, None)
            if not rooms:
                del sids[sid]
                if not sids:
                    del self.joined[namespace]

    def basic_disconnect(self, sid, namespace, **kwargs):
        """The stock disconnect (python-socketio 5.18.1), leaving the sid's own rooms only."""
        if not self.direct:
            return super().basic_disconnect(sid, namespace, **kwargs)
        if namespace not in self.rooms:
            return
        for room in list(self.joined.get(namespace, {}).get(sid, ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None,
                   to=None, **kwargs):
        room = to or room
        if callback or not self.direct or namespace not in self.rooms:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                      callback=callback, **kwargs)
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event] + data
        ).encode()
        if isinstance(encoded, list):  # binary attachments: not our traffic, use the stock path
            return await super().emit(event, data[0] if len(data) == 1 else tuple(data),
                                      namespace, room=room, skip_sid=skip_sid, **kwargs)
        eio_pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        wire = direct.frame(eio_pkt.encode())
        sockets = self.server.eio.sockets
        queued = []
        for number, eio_sid in enumerate(self._recipients(namespace, room, skip_sid)):
            if number and not number % WRITES_PER_TURN:
                await asyncio.sleep(0)  # let acks and reads in between
            socket = sockets.get(eio_sid)
            if socket is None or socket.closing or socket.closed:
                continue
            transport = getattr(socket, "direct_transport", None)
            if transport is not None:
                direct.write(transport, wire)
            elif not (isinstance(socket, direct.DirectSocket) and socket.queue_now(eio_pkt)):
                queued.append(eio_sid)
        if queued:  # a socket that closed meanwhile no longer needs the news
            await asyncio.gather(*(self.server._send_eio_packet(s, eio_pkt) for s in queued),
                                 return_exceptions=True)

    def _recipients(self, namespace: str, room, skip_sid) -> list[str]:
        """The engine.io ids of the room's (or rooms') sockets, less the skipped ones.

        Read from the rooms' own maps as a list of the id strings that already exist:
        `get_participants` would make a copy and a (sid, eio_sid) tuple per socket, thousands of
        young objects for the garbage collector to walk at every collection while the broadcast
        yields.
        """
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        rooms = self.rooms[namespace]
        members: dict[str, str] = {}
        for name in [room] if room is None or isinstance(room, str) else room:
            if name in rooms:
                members.update(rooms[name]._fwdm)
        return [eio_sid for sid, eio_sid in members.items() if sid not in skip]


class DirectRedisManager(socketio.AsyncRedisManager, DirectManager):
    """Redis pub/sub manager whose local delivery (what `_handle_emit` calls through `super()`)
    is the direct path, and whose publishing never holds up that delivery.

    python-socketio's emit delivers to this worker's sockets, then awaits the publish (and the
    listener skips this worker's own messages when they come back): with a hung Redis every
    broadcast would wait out the publish timeout. Here `_publish` only queues the message, a
    bounded queue that one task drains. Redis carries news, never the truth: Redis counts as lost
    when a PING, a publish or the subscription fails or does not answer in time, or when the queue
    is full; this worker then drops its news for the others (marking it held back) and keeps
    serving its own clients. When the subscription is back `on_restored(everyone)` runs, so its
    clients (and everyone's, if it held news back meanwhile) can be told to resync.
    """

    def __init__(self, url: str, logger: logging.Logger) -> None:
        super().__init__(url, logger=logger)
        self.subscribed = False
        self.on_restored: Callable[[bool], Awaitable[None]] | None = None
        self.outbox: asyncio.Queue[dict] = asyncio.Queue(PUBLISH_QUEUE_LIMIT)
        self._lost = False
        self._held_back = False
        self._sending = False
        #: News not handed to Redis: failed, timed out, queue full, or dropped while it was lost.
        self.publish_failures = 0
        #: Counts restorations: a failure of a call begun before the last one is old news.
        self._epoch = 0
        self.thread: asyncio.Task | None = None
        self._tasks: list[asyncio.Task] = []

    def initialize(self) -> None:
        super().initialize()
        self._tasks = [
            self.server.start_background_task(self._drain),
            self.server.start_background_task(self._watch),
        ]

    async def close(self) -> None:
        """Stop listening, publishing and checking: the app is shutting down."""
        tasks = [*self._tasks, self.thread] if self.thread is not None else self._tasks
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.redis is not None:
            await asyncio.gather(self.redis.aclose(), return_exceptions=True)

    def _client(self, timeout: float | None) -> Redis:
        """A client that fails fast instead of retrying: the listener and our callers retry."""
        return Redis.from_url(
            self.redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )

    def _commands(self) -> Redis:
        if self.redis is None:
            self.redis = self._client(REDIS_TIMEOUT)
        return self.redis

    async def _publish(self, data: dict) -> None:
        """Queue for the drain task, never wait: the resync when Redis returns repairs a drop."""
        if self._lost:
            self._held_back = True
            self.publish_failures += 1
            return
        try:
            self.outbox.put_nowait(data)
        except asyncio.QueueFull:
            self._held_back = True
            self.publish_failures += 1
            self._down(f"publish queue full at {PUBLISH_QUEUE_LIMIT} messages")

    async def _drain(self) -> None:
        """Publish the queued news in order, one message at a time, while Redis is reachable."""
        while True:
            data = await self.outbox.get()
            if self._lost:
                self._held_back = True
                continue
            epoch = self._epoch
            self._sending = True
            try:
                await asyncio.wait_for(
                    self._commands().publish(self.channel, self.json.dumps(data)), REDIS_TIMEOUT)
            except Exception as exc:
                self.publish_failures += 1
                if epoch == self._epoch:
                    self._down(f"cannot publish: {exc!r}")
            finally:
                self._sending = False

    async def _watch(self) -> None:
        """PING Redis every interval: one that stops answering is lost, like one that died."""
        while True:
            await asyncio.sleep(REDIS_HEALTH_INTERVAL)
            if self._lost:
                continue
            epoch = self._epoch
            try:
                await asyncio.wait_for(self._commands().ping(), REDIS_TIMEOUT)
            except Exception as exc:
                if epoch == self._epoch:
                    self._down(f"no answer to PING: {exc!r}")

    async def _redis_listen_with_retries(self) -> AsyncIterator[dict]:
        """Subscribe (confirmed, in time), yield messages until Redis is lost, then retry."""
        while True:
            client = self._client(REDIS_TIMEOUT)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                if await pubsub.get_message(timeout=REDIS_TIMEOUT) is None:
                    raise TimeoutError("no answer to SUBSCRIBE")
                await self._restored()
                # A hung Redis leaves the subscription silent: look up between quiet intervals.
                while not self._lost:
                    message = await pubsub.get_message(timeout=REDIS_HEALTH_INTERVAL)
                    if message is not None:
                        yield message
            except Exception as exc:
                self._down(repr(exc))
            finally:
                await asyncio.gather(pubsub.aclose(), client.aclose(), return_exceptions=True)
            await asyncio.sleep(REDIS_RETRY_INTERVAL)

    def _down(self, reason: str) -> None:
        """Stop publishing until the subscription is back; news being sent may not arrive."""
        if self._sending:
            self._held_back = True
        if self.subscribed or not self._lost:
            self._get_logger().error(
                "Redis unavailable (%s): serving this worker's clients only, retrying every %ss",
                reason, REDIS_RETRY_INTERVAL,
            )
        self.subscribed = False
        self._lost = True

    async def _restored(self) -> None:
        self.subscribed = True
        if not self._lost:
            self._get_logger().info("subscribed to Redis")
            return
        self._epoch += 1
        stale, self.redis = self.redis, None  # its pooled connections may be hung or dead
        if stale is not None:
            await asyncio.gather(stale.aclose(), return_exceptions=True)
        while not self.outbox.empty():  # news from before the loss: the resync repairs it
            self.outbox.get_nowait()
            self._held_back = True
        self._lost = False
        everyone, self._held_back = self._held_back, False
        self._get_logger().warning(
            "Redis is back: telling %s clients to resync", "every worker's" if everyone else "our")
        if self.on_restored is not None:
            await self.on_restored(everyone)


def redis_status(manager: socketio.AsyncManager) -> str:
    """For the health check: "off" without Redis, else whether this worker is subscribed."""
    if not isinstance(manager, DirectRedisManager):
        return "off"
    return "ok" if manager.subscribed else "down"


def install(sio: socketio.AsyncServer) -> bool:
    """Use the direct websocket driver, sockets and event reader for this server; False (stock
    behaviour) on other versions."""
    if not pinned_versions_installed():
        log.warning("fast broadcast disabled: written for %s", PINNED)
        sio.manager.direct = False
        return False
    eio = sio.eio
    eio._async = {**eio._async, "websocket": direct.DirectWebSocket,
                  "translate_request": direct.translate_request}
    eio.create_queue = direct.LightQueue
    stock_connect = eio.handlers["connect"]
    # The direct reader runs each command before reading the next, as async_handlers=False does.
    events = None if sio.async_handlers else inbound.reader(sio)

    async def connect(eio_sid: str, environ: dict) -> object:
        """engine.io made a stock socket a moment ago; make it direct before its first ping."""
        socket = eio.sockets.get(eio_sid)
        if type(socket) is async_socket.AsyncSocket:
            socket.__class__ = direct.DirectSocket
            socket.events = events
            if isinstance(environ, direct.RequestEnviron):
                socket.handshake = environ
        return await stock_connect(eio_sid, environ)

    eio.on("connect", connect)
    return True


def manager(redis_url: str, logger: logging.Logger) -> socketio.AsyncManager:
    if redis_url:
        return DirectRedisManager(redis_url, logger=logger)
    return DirectManager()

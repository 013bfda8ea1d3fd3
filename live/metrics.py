"""The numbers an operator watches during an event, in a Prometheus registry of the app's own.

Counters and histograms are bumped where things happen: once per command, once per broadcast
(its deliveries added as one count, never per socket) and once per database batch. What is a
state rather than a happening (sockets connected, sessions per transport, Redis up) is read from
the server's own maps when Prometheus scrapes, so it costs nothing in between.
"""

import time
from collections.abc import Awaitable, Callable, Iterator

import socketio
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from live.domain.model import Attendance
from live.notify import MODERATOR_NAMESPACE, SCREEN_NAMESPACE
from live.services.qa import Identity
from live.transport import broadcast, direct

#: Seconds: from a millisecond (a vote acked from memory) to the 10 s past which a client gives up.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: The label of commands nobody handles: their names are the client's, not a bounded set.
UNKNOWN_COMMAND = "(unknown)"
#: The attendance label of a participant socket that has not joined, or whose choice is unknown.
UNKNOWN_ATTENDANCE = "unknown"
NOT_COMMANDS = frozenset({"connect", "disconnect"})
NAMESPACES = ("/", SCREEN_NAMESPACE, MODERATOR_NAMESPACE)

disable_created_metrics()  # a `_created` series per label set would double what is scraped

Handler = Callable[..., Awaitable[object]]
Emit = Callable[..., Awaitable[None]]


def _code(result: object) -> str:
    """The outcome code of an envelope: ok, or its error's code."""
    if isinstance(result, dict):
        if result.get("ok"):
            return "ok"
        error = result.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            return error["code"]
    return "none"


class Metrics:
    """Every metric of one app, in a registry of its own so apps in one process never clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.commands = Counter(
            "live_commands", "Socket.IO commands answered, by namespace, command and outcome code.",
            ["namespace", "command", "code"], registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "live_ack_seconds", "Seconds from a command reaching its handler to its ack.",
            ["namespace", "command"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.broadcasts = Counter(
            "live_broadcasts", "Messages this worker emitted to a room or a namespace.",
            ["namespace"], registry=self.registry,
        )
        self.deliveries = Counter(
            "live_broadcast_deliveries",
            "Sockets of this worker that its broadcasts were addressed to.",
            ["namespace"], registry=self.registry,
        )
        self.db_seconds = Histogram(
            "live_db_batch_seconds",
            "Seconds one batch of units of work took to run and commit (one transaction).",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.db_units = Counter(
            "live_db_units",
            "Units of work committed or refused by a rule (ok), or failed in the database or for "
            "want of it (error).",
            ["outcome"], registry=self.registry,
        )

    def watch(self, sio: socketio.AsyncServer, identities: dict[str, Identity]) -> None:
        """Read the server's state at each scrape, and time every command registered so far."""
        self.registry.register(_State(sio, identities))
        for namespace, handlers in sio.handlers.items():
            for name, handler in list(handlers.items()):
                if name not in NOT_COMMANDS:
                    handlers[name] = self._timed(handler, namespace, name)

    def _timed(self, handler: Handler, namespace: str, name: str) -> Handler:
        """The handler, counting its outcome and timing its ack (label children made once)."""
        command = UNKNOWN_COMMAND if name == "*" else name
        ack = self.ack_seconds.labels(namespace, command)
        outcomes: dict[str, Counter] = {}

        async def timed(*args: object) -> object:
            started = time.perf_counter()
            code = "exception"
            try:
                result = await handler(*args)
                code = _code(result)
                return result
            finally:
                ack.observe(time.perf_counter() - started)
                counter = outcomes.get(code)
                if counter is None:
                    counter = outcomes[code] = self.commands.labels(namespace, command, code)
                counter.inc()

        return timed

    def counted(self, sio: socketio.AsyncServer) -> Emit:
        """`sio.emit` to a room (or a whole namespace), counting the message and its recipients."""
        broadcasts: dict[str, tuple[Counter, Counter]] = {}

        async def emit(name: str, data: object, room: str | None = None, namespace: str = "/",
                       **kwargs: object) -> None:
            counters = broadcasts.get(namespace)
            if counters is None:
                counters = broadcasts[namespace] = (
                    self.broadcasts.labels(namespace), self.deliveries.labels(namespace))
            counters[0].inc()
            counters[1].inc(len(sio.manager.rooms.get(namespace, {}).get(room, ())))
            await sio.emit(name, data, room=room, namespace=namespace, **kwargs)

        return emit

    def batch(self, seconds: float, units: int, faults: int) -> None:
        """The store's observer (`live.store.db.Observer`), on both dialects: one batch."""
        self.db_seconds.observe(seconds)
        for outcome, count in (("ok", units - faults), ("error", faults)):
            if count:
                self.db_units.labels(outcome).inc(count)


class _State(Collector):
    """What the server holds now, read at scrape time."""

    def __init__(self, sio: socketio.AsyncServer, identities: dict[str, Identity]) -> None:
        self.sio = sio
        self.identities = identities

    def collect(self) -> Iterator[Metric]:
        manager = self.sio.manager
        sockets = GaugeMetricFamily(
            "live_sockets", "Connected Socket.IO clients, by namespace.", labels=["namespace"])
        for namespace in NAMESPACES:
            sockets.add_metric([namespace], len(manager.rooms.get(namespace, {}).get(None, ())))
        yield sockets

        attendance = {value.value: 0 for value in Attendance} | {UNKNOWN_ATTENDANCE: 0}
        for identity in list(self.identities.values()):
            key = identity.attendance or UNKNOWN_ATTENDANCE
            attendance[key] = attendance.get(key, 0) + 1
        participants = GaugeMetricFamily(
            "live_participant_sockets",
            "Participant sockets by where their participant is (in the room, remote, or not "
            "known yet).", labels=["attendance"])
        for value, count in attendance.items():
            participants.add_metric([value], count)
        yield participants

        transports = {"websocket": 0, "polling": 0}
        for socket in list(self.sio.eio.sockets.values()):
            transports["websocket" if socket.upgraded else "polling"] += 1
        sessions = GaugeMetricFamily(
            "live_sessions", "Engine.IO sessions, by transport: websocket or long-polling.",
            labels=["transport"])
        for transport, count in transports.items():
            sessions.add_metric([transport], count)
        yield sessions

        dropped = CounterMetricFamily(
            "live_slow_consumers_dropped",
            "Connections dropped because they stopped reading (this process), by transport.",
            labels=["transport"])
        for transport in ("websocket", "polling"):
            dropped.add_metric([transport], direct.dropped[transport])
        yield dropped

        if isinstance(manager, broadcast.DirectRedisManager):
            yield GaugeMetricFamily(
                "live_redis_up", "1 while this worker is subscribed to Redis, else 0.",
                value=1 if broadcast.redis_status(manager) == "ok" else 0)
            yield CounterMetricFamily(
                "live_redis_publish_failures",
                "News this worker could not hand to Redis (failed, timed out, queue full or "
                "Redis lost); the resync after Redis returns repairs it.",
                value=manager.publish_failures)

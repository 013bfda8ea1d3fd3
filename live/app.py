"""Composition: the aiohttp app, the Socket.IO server and everything whose lifetime they share."""

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import socketio
from aiohttp import web

from live.domain.changes import to_moderators, to_screens
from live.fanout import Fanout, event_room
from live.mail import ReceiptMailer
from live.metrics import Metrics
from live.notify import MODERATOR_NAMESPACE, SCREEN_NAMESPACE, Notifier, dispatch
from live.services.events import CreatedEvent, EventService
from live.services.export import ExportService
from live.services.polls import PollService
from live.services.moderation import ModerationService
from live.services.qa import QAService
from live.services.limits import SignInGuard
from live.services.organisers import OrganiserService
from live.services.record import RecordService
from live.services.steward import StewardService
from live.settings import Settings
from live.store import Store, open_store
from live.transport import broadcast, http, moderation_http, organise, pages, proxy
from live.transport import metrics_http, record_http, schedule_page, steward_http, wire
from live.transport.http import EVENTS, POLLS, QA, SETTINGS, SIGNINS
from live.transport.moderate import ModeratorSockets
from live.transport.moderation_http import MODERATION
from live.transport.organiser_session import ORGANISERS
from live.transport.origins import origin_check
from live.transport.screen import ScreenSockets
from live.transport.steward_http import STEWARDS
from live.transport.socket import ParticipantSockets

log = logging.getLogger(__name__)

MAX_SOCKET_MESSAGE = 64 * 1024
SOCKET_CLOSE_TIMEOUT = 1.0
DEMO_TITLE = "Demo: citizens' assembly"
DEMO_DESCRIPTION = "A demonstration event. Ask a question, upvote the ones you want answered."

DATABASE: web.AppKey[Store] = web.AppKey("database", Store)
FANOUT: web.AppKey[Fanout] = web.AppKey("fanout", Fanout)
SIO: web.AppKey[socketio.AsyncServer] = web.AppKey("sio", socketio.AsyncServer)


def announce(text: str) -> None:
    """Tell the person who started the server something they need (links, a secret shown once)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _socket_server(settings: Settings) -> socketio.AsyncServer:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=broadcast.manager(settings.redis_url, logging.getLogger("live.redis")),
        cors_allowed_origins=origin_check(settings),
        max_http_buffer_size=MAX_SOCKET_MESSAGE,
        serializer=wire.Packet,
        # Every namespace reaches a connect handler, so an unknown one is refused with a message.
        namespaces="*",
        # A socket's commands run one after another in its own connection's task rather than in
        # a new task each: no per-message task, and each client's acks come back in order.
        async_handlers=False,
        logger=False,
        engineio_logger=False,
    )
    broadcast.install(sio)
    wire.guard(sio)
    return sio


def _resync(emit_to: Callable[..., Awaitable[None]]) -> Callable[[bool], Awaitable[None]]:
    """After losing Redis this worker's clients, and every worker's if it held news back, may
    have missed news: each takes a snapshot."""

    async def resync(everyone: bool) -> None:
        for namespace in ("/", SCREEN_NAMESPACE, MODERATOR_NAMESPACE):
            await emit_to(broadcast.RESYNC_EVENT, {}, namespace=namespace,
                          ignore_queue=not everyone)

    return resync


def _room_emitter(
    emit_to: Callable[..., Awaitable[None]],
) -> Callable[[str, dict, str], Awaitable[None]]:
    """An event's broadcasts reach its participants and its big screens alike."""

    async def emit(name: str, data: dict, room: str) -> None:
        await emit_to(name, data, room=room)
        await emit_to(name, data, room=room, namespace=SCREEN_NAMESPACE)

    return emit


def _audience(sio: socketio.AsyncServer) -> Callable[[int], int]:
    """Sockets on this worker that an event's broadcasts reach: its participants and screens."""

    def count(event_id: int) -> int:
        room = event_room(event_id)
        return sum(len(sio.manager.rooms.get(namespace, {}).get(room, ()))
                   for namespace in ("/", SCREEN_NAMESPACE))

    return count


def describe(settings: Settings, created: CreatedEvent | dict) -> str:
    """Links for an event, with its secrets when it has just been created."""
    event = created.event if isinstance(created, CreatedEvent) else created
    links = http.links(settings, event["code"])
    lines = [
        f"Event {event['code']}: {event['title']}",
        f"  Participants: {links['participant']}",
        f"  Moderators:   {links['moderator']}",
        f"  Big screen:   {links['screen']}",
        f"  Stewards:     {links['steward']}",
    ]
    if isinstance(created, CreatedEvent):
        lines += [
            f"  Moderator secret (shown once): {created.moderator_secret}",
            f"  Steward secret (shown once):   {created.steward_secret}",
            f"  Screen token (shown once):     {created.screen_token}",
            f"  Screen link (keep it private): {links['screen']}#token={created.screen_token}",
        ]
    return "\n".join(lines)


def create_app(settings: Settings, *, demo: bool = False) -> web.Application:
    networks = settings.proxy_networks()
    app = web.Application(
        middlewares=[*([proxy.forwarded(networks)] if networks else []), http.compress],
        client_max_size=http.MAX_BODY,
    )
    app.on_response_prepare.append(http.security_headers)
    app.on_response_prepare.append(http.revalidate_documents)
    app[SETTINGS] = settings
    app[SIGNINS] = SignInGuard(
        settings.signin_limit, settings.signin_event_limit, settings.signin_window
    )
    sio = _socket_server(settings)
    wire.add_routes(app, sio)
    app[SIO] = sio
    metrics = app[metrics_http.METRICS] = Metrics()
    emit_to = metrics.counted(sio)
    if isinstance(sio.manager, broadcast.DirectRedisManager):
        sio.manager.on_restored = _resync(emit_to)
    app[http.REDIS_STATUS] = lambda: broadcast.redis_status(sio.manager)
    participants = ParticipantSockets(sio, lambda: app[QA], lambda: app[POLLS])
    http.add_routes(app)
    pages.setup(app)
    schedule_page.setup(app)
    moderators = ModeratorSockets(
        sio,
        lambda: app[MODERATION],
        lambda: app[POLLS],
        lambda: app[record_http.RECORD],
        lambda: app[STEWARDS],
    )
    app[organise.SCREENS] = ScreenSockets(
        sio,
        lambda: app[MODERATION],
        lambda: app[QA],
        lambda: app[POLLS],
        lambda: app[record_http.RECORD],
        app[SIGNINS],
    )
    moderation_http.add_routes(app)
    record_http.add_routes(app)
    steward_http.add_routes(app)
    metrics_http.add_routes(app, settings)
    organise.setup(app)
    metrics.watch(sio, participants.identities)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        db = open_store(settings.database_url, settings.db)
        db.observe = metrics.batch
        await db.open()
        if not sio.manager_initialized:  # subscribe to Redis now, not at the first connection
            sio.manager_initialized = True
            sio.manager.initialize()
        fanout = Fanout(
            _room_emitter(emit_to),
            settings.vote_flush_interval,
            poll_interval=settings.poll_flush_interval,
            tallies=lambda poll_ids: app[POLLS].tallies(poll_ids),
            audience=_audience(sio),
            delivery_rate=settings.vote_delivery_rate,
            staff_results=lambda event_id, polls: notifier.publish(
                [
                    to_moderators(event_id, "poll_results", {"polls": polls}),
                    to_screens(event_id, "poll_results", {"polls": polls}),
                ]
            ),
        )
        await fanout.start()
        notifier = Notifier(
            lambda name, data, room, namespace: emit_to(name, data, room=room, namespace=namespace)
        )
        await notifier.start()
        publish = dispatch(fanout.publish, notifier.publish)
        app[DATABASE] = db
        app[FANOUT] = fanout
        app[EVENTS] = EventService(db, publish)
        app[QA] = QAService(db, settings, publish)
        app[MODERATION] = ModerationService(db, publish)
        app[STEWARDS] = StewardService(db, settings, publish)
        mailer = ReceiptMailer(settings) if settings.smtp_host else None
        app[record_http.RECORD] = RecordService(db, publish, mailer)
        app[record_http.EXPORT] = ExportService(db)
        app[ORGANISERS] = OrganiserService(db)
        revocations = asyncio.create_task(moderators.watch_revocations(), name="revocations")
        app[POLLS] = PollService(db, publish)
        token = await app[EVENTS].ensure_organiser_token(settings.organiser_token)
        if token:
            announce(f"Organiser token (shown once, keep it safe): {token}")
        if demo:
            existing = await app[EVENTS].demo_event()
            created = existing or await app[EVENTS].create(
                title=DEMO_TITLE, description=DEMO_DESCRIPTION, demo=True
            )
            announce(describe(settings, created))
        try:
            yield
        finally:
            revocations.cancel()
            await asyncio.gather(revocations, return_exceptions=True)
            await fanout.stop()
            await notifier.stop()
            if isinstance(sio.manager, broadcast.DirectRedisManager):
                await sio.manager.close()
            if mailer is not None:
                await mailer.close()
            await db.close()

    async def close_sockets(app: web.Application) -> None:
        """Close every client so it reconnects (elsewhere, or here after a restart) at once."""
        sockets = list(sio.eio.sockets.values())
        closing = [
            asyncio.create_task(socket.close(reason=sio.eio.reason.SERVER_DISCONNECT))
            for socket in sockets
            if not (socket.closing or socket.closed)
        ]
        if closing:  # a direct socket's close also ends its connection, after the close packet
            _, stuck = await asyncio.wait(closing, timeout=SOCKET_CLOSE_TIMEOUT)
            for task in stuck:
                task.cancel()
        await sio.shutdown()

    app.cleanup_ctx.append(lifetime)
    app.on_shutdown.append(close_sockets)
    return app

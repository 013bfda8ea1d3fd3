"""The direct broadcast path: pinned to the internals it was written against, and still correct."""

import asyncio
import hashlib
import importlib.metadata
import inspect
import random
import socket
import time

import aiohttp
import pytest
from aiohttp import base_protocol, web_protocol, web_server, web_ws
from aiohttp._websocket import reader_py as aiohttp_reader
from engineio import async_server as engineio_server
from engineio import async_socket, base_server as engineio_base_server, base_socket
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as engineio_aiohttp
from socketio import async_manager, async_pubsub_manager, async_server, base_manager, base_server
from socketio import async_redis_manager
from socketio import packet

from bench.wsclient import open_client
from live.app import SIO
from live.transport import broadcast, direct
from support import Client, Follower, Polling, joined, running_server

#: sha256 (first 16 hex digits) of the source of every internal the direct path relies on, as in
#: python-socketio 5.18.1 / python-engineio 4.15.1 / aiohttp 3.14.5 (its frame parser by the pure
#: Python source its compiled one is built from). If this test fails after an upgrade, re-read
#: live/transport/broadcast.py, direct.py, inbound.py and wire.py against the new code before
#: updating the pins and these digests.
INTERNALS = {
    "socketio.AsyncManager.emit": (async_manager.AsyncManager.emit, "01ccd5b82b4f955e"),
    "socketio.BaseManager.get_participants": (
        base_manager.BaseManager.get_participants, "7d78ad681c95de5b"),
    "socketio.BaseManager.basic_enter_room": (
        base_manager.BaseManager.basic_enter_room, "3f509586d2d7f47e"),
    "socketio.BaseManager.basic_leave_room": (
        base_manager.BaseManager.basic_leave_room, "e27f3eea06d1c6a6"),
    "socketio.BaseManager.basic_close_room": (
        base_manager.BaseManager.basic_close_room, "1d81a80fe1cac5a5"),
    "socketio.BaseManager.basic_disconnect": (
        base_manager.BaseManager.basic_disconnect, "2933b50bc4b2ea7b"),
    "socketio.AsyncPubSubManager.emit": (
        async_pubsub_manager.AsyncPubSubManager.emit, "6cc46e0ff9b6d7cf"),
    "socketio.AsyncPubSubManager._handle_emit": (
        async_pubsub_manager.AsyncPubSubManager._handle_emit, "4284671be955f644"),
    "socketio.AsyncPubSubManager._thread": (
        async_pubsub_manager.AsyncPubSubManager._thread, "fa8d075729aac64d"),
    "socketio.AsyncPubSubManager.initialize": (
        async_pubsub_manager.AsyncPubSubManager.initialize, "e8a2b026ecea320f"),
    "socketio.AsyncRedisManager._listen": (
        async_redis_manager.AsyncRedisManager._listen, "3e74fdd1084b4e13"),
    "socketio.AsyncServer._handle_event": (
        async_server.AsyncServer._handle_event, "65178105ef8b593d"),
    "socketio.AsyncServer._handle_eio_message": (
        async_server.AsyncServer._handle_eio_message, "bef50fc0e1635921"),
    "socketio.AsyncServer._handle_event_internal": (
        async_server.AsyncServer._handle_event_internal, "472e8b723a12d507"),
    "socketio.BaseServer._get_event_handler": (
        base_server.BaseServer._get_event_handler, "e18d9a6570aaaaf4"),
    "socketio.Packet.decode": (packet.Packet.decode, "61ad7904b539f472"),
    "socketio.Packet.__init__": (packet.Packet.__init__, "5fe2fa797e082c1d"),
    "socketio.AsyncServer._handle_connect": (
        async_server.AsyncServer._handle_connect, "c97c480cf777de36"),
    "socketio.AsyncServer._send_packet": (async_server.AsyncServer._send_packet, "a00022b42c1c29e9"),
    "socketio.AsyncServer._send_eio_packet": (
        async_server.AsyncServer._send_eio_packet, "64cf72a2ab7d75b1"),
    "socketio.Packet.encode": (packet.Packet.encode, "513c45be75181da2"),
    "engineio.AsyncSocket.poll": (async_socket.AsyncSocket.poll, "826f58a9f3606db2"),
    "engineio.AsyncSocket.send": (async_socket.AsyncSocket.send, "0437276ccba7ab09"),
    "engineio.AsyncSocket._websocket_handler": (
        async_socket.AsyncSocket._websocket_handler, "27f120df4d717a24"),
    "engineio.AsyncSocket.receive": (async_socket.AsyncSocket.receive, "a91ae36ec2fb5340"),
    "engineio.AsyncSocket.check_ping_timeout": (
        async_socket.AsyncSocket.check_ping_timeout, "77616d5ca7809257"),
    "engineio.AsyncSocket.close": (async_socket.AsyncSocket.close, "faa2e93902543244"),
    "engineio.AsyncSocket.schedule_ping": (
        async_socket.AsyncSocket.schedule_ping, "fe316639159cd70d"),
    "engineio.AsyncSocket._send_ping": (async_socket.AsyncSocket._send_ping, "67db82a704ea49d0"),
    "engineio.AsyncSocket._upgrade_websocket": (
        async_socket.AsyncSocket._upgrade_websocket, "820b83efe96adb98"),
    "engineio.AsyncSocket.handle_get_request": (
        async_socket.AsyncSocket.handle_get_request, "05eaae9f0a60d9be"),
    "engineio.AsyncSocket.handle_post_request": (
        async_socket.AsyncSocket.handle_post_request, "82dca119a261a959"),
    "engineio.AsyncServer.handle_request": (
        engineio_server.AsyncServer.handle_request, "1a8c878e35166cfe"),
    "engineio.aiohttp.create_route": (engineio_aiohttp.create_route, "0bb365240a062488"),
    "engineio.AsyncServer._handle_connect": (
        engineio_server.AsyncServer._handle_connect, "5bd7edc1d1ae115a"),
    "engineio.AsyncServer._trigger_event": (
        engineio_server.AsyncServer._trigger_event, "4a09b6e47eb66532"),
    "engineio.BaseServer.on": (engineio_base_server.BaseServer.on, "7b5457b52dc7fd22"),
    "engineio.BaseSocket.__init__": (base_socket.BaseSocket.__init__, "8532b631a4dc815f"),
    "engineio.Packet.encode": (eio_packet.Packet.encode, "8f3d5d869711cbb8"),
    "engineio.aiohttp.WebSocket": (engineio_aiohttp.WebSocket, "96fbcb0d1f45694a"),
    "engineio.aiohttp.translate_request": (
        engineio_aiohttp.translate_request, "20aa782740060790"),
    "engineio.BaseServer._ok": (engineio_base_server.BaseServer._ok, "b8f717402eac2b0d"),
    "engineio.BaseServer._bad_request": (
        engineio_base_server.BaseServer._bad_request, "af66afac6f6c67db"),
    "engineio.BaseServer._cors_headers": (
        engineio_base_server.BaseServer._cors_headers, "da3a25b4305292e2"),
    "aiohttp.RequestHandler.connection_lost": (
        web_protocol.RequestHandler.connection_lost, "df2fe6e95fd04c7c"),
    "aiohttp.RequestHandler.start": (web_protocol.RequestHandler.start, "2e565fd40c8e04fb"),
    "aiohttp.RequestHandler.finish_response": (
        web_protocol.RequestHandler.finish_response, "b7eb53db8f4b30ca"),
    "aiohttp.Server.connection_lost": (web_server.Server.connection_lost, "fff3ade6ffe866a8"),
    "aiohttp.WebSocketResponse._handshake": (
        web_ws.WebSocketResponse._handshake, "95b5e704a7821784"),
    "aiohttp.RequestHandler.data_received": (
        web_protocol.RequestHandler.data_received, "1ee57ebe052e6c80"),
    "aiohttp.RequestHandler.set_parser": (
        web_protocol.RequestHandler.set_parser, "bb548eb2b85d5c28"),
    "aiohttp.WebSocketReader.__init__": (
        aiohttp_reader.WebSocketReader.__init__, "ea518c1cea91584e"),
    "aiohttp.WebSocketResponse._post_start": (
        web_ws.WebSocketResponse._post_start, "5537cb3f2ecae6ed"),
    "aiohttp.BaseProtocol.connection_lost": (
        base_protocol.BaseProtocol.connection_lost, "8b4e1725c5648b9c"),
    "aiohttp.WebSocketDataQueue": (aiohttp_reader.WebSocketDataQueue, "526af2531df720ee"),
    "aiohttp.WebSocketReader.feed_data": (
        aiohttp_reader.WebSocketReader.feed_data, "e27242a8f09458e4"),
    "aiohttp.WebSocketReader.feed_eof": (
        aiohttp_reader.WebSocketReader.feed_eof, "68c39e4ee655f214"),
}


def test_pinned_versions_are_installed():
    for name, version in broadcast.PINNED.items():
        assert importlib.metadata.version(name) == version, (
            f"{name} changed: re-verify live/transport/broadcast.py against it"
        )
    assert broadcast.pinned_versions_installed()


@pytest.mark.parametrize("name", sorted(INTERNALS))
def test_internals_are_the_ones_the_fast_path_was_written_against(name):
    obj, digest = INTERNALS[name]
    actual = hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]
    assert actual == digest, f"{name} changed: re-verify live/transport/broadcast.py against it"


def test_redis_manager_delivers_locally_through_the_direct_path():
    mro = broadcast.DirectRedisManager.__mro__
    assert mro.index(async_pubsub_manager.AsyncPubSubManager) < mro.index(
        broadcast.DirectManager) < mro.index(async_manager.AsyncManager)


async def test_recipients_are_the_rooms_participants_less_the_skipped(server, event):
    host, port = server.url.removeprefix("http://").split(":")
    raw = [await open_client(host, int(port), event["code"]) for _ in range(4)]
    manager = server.app[SIO].manager
    (room,) = [name for name in manager.rooms["/"] if str(name).startswith("e:")]  # the event's

    def stock(rooms, skip=()):
        return sorted(eio for sid, eio in manager.get_participants("/", rooms) if sid not in skip)

    members = stock(room)
    assert len(members) == 4
    assert sorted(manager._recipients("/", room, None)) == members
    first = next(sid for sid, _ in manager.get_participants("/", room))
    assert sorted(manager._recipients("/", room, first)) == stock(room, [first])
    assert sorted(manager._recipients("/", [room, "nobody"], [first])) == stock(
        [room, "nobody"], [first])
    assert sorted(manager._recipients("/", None, None)) == stock(None)
    for c in raw:
        c.close()


def _manager_state(manager) -> tuple:
    rooms = {ns: {room: dict(members) for room, members in by_room.items()}
             for ns, by_room in manager.rooms.items()}
    return rooms, manager.callbacks, manager.pending_connect, manager.pending_disconnect


def test_disconnect_leaves_what_the_stock_disconnect_leaves():
    """The same random enters, leaves, closes and disconnects on the stock manager and ours."""
    stock, ours = async_manager.AsyncManager(), broadcast.DirectManager()
    draw = random.Random(6)
    namespaces, rooms = ["/", "/screen"], ["e:1", "e:2", "p:1", "p:2", "m:1"]
    connected: list[tuple[str, str]] = []
    for step in range(3000):
        action = draw.random()
        if action < 0.3 or not connected:
            sid, ns = f"s{step}", draw.choice(namespaces)
            pending, callback = draw.random() < 0.3, draw.random() < 0.3
            for manager in (stock, ours):
                manager.basic_enter_room(sid, ns, None, eio_sid=f"e{step}")
                manager.basic_enter_room(sid, ns, sid, eio_sid=f"e{step}")
                if pending:
                    manager.pending_connect.setdefault(ns, []).append(sid)
                if callback:
                    manager.callbacks[sid] = {1: print}
            connected.append((sid, ns))
        elif action < 0.65:
            sid, ns = draw.choice(connected)
            room = draw.choice(rooms)
            for manager in (stock, ours):
                manager.basic_enter_room(sid, ns, room)
        elif action < 0.75:
            sid, ns = draw.choice(connected)
            room = draw.choice(rooms + [sid])
            for manager in (stock, ours):
                manager.basic_leave_room(sid, ns, room)
        elif action < 0.78:
            ns, room = draw.choice(namespaces), draw.choice(rooms)
            for manager in (stock, ours):
                manager.basic_close_room(room, ns)
        else:
            sid, ns = connected.pop(draw.randrange(len(connected)))
            pending = draw.random() < 0.5
            for manager in (stock, ours):
                if pending:
                    manager.pre_disconnect(sid, ns)
                manager.basic_disconnect(sid, ns)
        assert _manager_state(ours) == _manager_state(stock), f"step {step}"
    for ns, by_sid in ours.joined.items():
        for sid, joined in by_sid.items():
            assert set(joined) == {r for r, members in stock.rooms[ns].items() if sid in members}
    assert sum(len(by_sid) for by_sid in ours.joined.values()) == sum(
        len(by_room.get(None, ())) for by_room in stock.rooms.values())


async def test_sockets_that_leave_take_only_their_own_rooms_with_them(server, event):
    staying = await joined(server, event["code"])
    leaving = [await joined(server, event["code"]) for _ in range(3)]
    manager = server.app[SIO].manager
    assert len(manager.joined["/"]) == 4
    for client in leaving:
        await client.close()
    deadline = time.monotonic() + 5
    while len(manager.joined["/"]) > 1:
        assert time.monotonic() < deadline, "the leaving sockets were not disconnected"
        await asyncio.sleep(0.02)
    ((sid, rooms),) = manager.joined["/"].items()
    assert set(rooms) == {r for r, members in manager.rooms["/"].items() if sid in members}
    assert len(manager.rooms["/"]) == len(rooms)  # the leavers' own rooms are gone
    await staying.ask("Who is still here after the others left?")
    await staying.wait_for(lambda m: m["type"] == "question")
    await staying.close()


def test_text_frame_lengths():
    assert direct.frame("42") == b"\x81\x0242"
    assert direct.frame("x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert direct.frame("x" * 70000)[:10] == b"\x81\x7f" + (70000).to_bytes(8, "big")


def _frames(monkeypatch) -> list[int]:
    """Count frames built by the direct path (one per broadcast per server, not per socket)."""
    built = []
    real = direct.frame

    def counting(text: str) -> bytes:
        if text.startswith('42["update",'):  # not the moderators' news
            built.append(len(text))
        return real(text)

    monkeypatch.setattr(direct, "frame", counting)
    return built


async def test_websocket_and_polling_clients_get_every_broadcast_in_order(server, event, monkeypatch):
    built = _frames(monkeypatch)
    asker = await joined(server, event["code"])
    polling = await Client(server, event["code"], transport="polling").connect()
    host, port = server.url.removeprefix("http://").split(":")
    raw = [await open_client(host, int(port), event["code"]) for _ in range(5)]
    assert all(c.inflater is None for c in raw), "permessage-deflate must not be negotiated"
    sio = server.app[SIO]
    assert isinstance(sio.manager, broadcast.DirectManager)
    assert sum(getattr(s, "direct_transport", None) is not None
               for s in sio.eio.sockets.values()) == 6  # the websockets, not the polling one

    texts = ["When will the new bridge open?", "Who pays for school meals?",
             "Can the library stay open on Sundays?"]
    for text in texts:
        await asker.ask(text, allow_duplicate=True)
    for client in (asker, polling):
        for text in texts:
            await client.wait_for(lambda m, t=text: m["type"] == "question"
                                  and m["question"]["text"] == t)
        seqs = [m["seq"] for m in client.updates]
        assert seqs == sorted(seqs) and len(seqs) == 3
    deadline = time.monotonic() + 5
    while any(c.last_seq < seqs[-1] for c in raw):
        assert time.monotonic() < deadline, [c.last_seq for c in raw]
        await asyncio.sleep(0.02)
    assert all(c.gaps == 0 and c.stale == 0 for c in raw)
    assert len(built) == 3
    await asker.close()
    await polling.sio.eio.disconnect(abort=True)  # a graceful polling close waits for the long poll
    for c in raw:
        c.close()


async def test_a_socket_that_stops_reading_is_dropped(server, event):
    asker = await joined(server, event["code"])
    host, port = server.url.removeprefix("http://").split(":")
    stuck = await open_client(host, int(port), event["code"])
    stuck.transport.pause_reading()
    sio = server.app[SIO]
    socket = list(sio.eio.sockets.values())[-1]  # the last one to connect

    class Backlogged:
        """The real transport, reporting the backlog of a client that stopped reading."""

        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def get_write_buffer_size(self):
            return direct.SLOW_CONSUMER_BYTES + 1

    socket.direct_transport = Backlogged(socket.direct_transport)
    await asker.ask("Does a stuck phone slow the room down?")
    deadline = time.monotonic() + 5
    while not socket.closed:
        assert time.monotonic() < deadline, "the stuck socket was not dropped"
        await asyncio.sleep(0.02)
    await asker.wait_for(lambda m: m["type"] == "question")
    await asker.close()


async def test_broadcasts_cross_workers_through_redis_on_the_direct_path(
    settings, redis_url, monkeypatch
):
    built = _frames(monkeypatch)
    shared = settings.model_copy(update={"redis_url": redis_url})
    async with running_server(shared) as a, running_server(shared) as b:
        assert isinstance(a.app[SIO].manager, broadcast.DirectRedisManager)
        code = (await a.create_event("Two workers"))["event"]["code"]
        on_a = await joined(a, code)
        on_b = await joined(b, code)
        await asyncio.sleep(0.3)  # both managers are subscribed
        asked = await on_a.ask("Does this reach the other worker?")
        for client in (on_a, on_b):
            msg = await client.wait_for(lambda m: m["type"] == "question", timeout=5)
            assert msg["question"]["id"] == asked["id"]
        assert len(built) == 2  # encoded once per worker, delivered directly by each
        await on_a.close()
        await on_b.close()


async def test_a_client_that_stops_reading_is_dropped_at_the_named_limit(server, event, monkeypatch):
    """Real backpressure, a lowered limit: the stuck socket goes, the reading one gets everything."""
    monkeypatch.setattr(direct, "SLOW_CONSUMER_BYTES", 16 * 1024)
    reading = await Follower(server, event["code"]).connect()
    host, port = server.url.removeprefix("http://").split(":")
    stuck = await open_client(host, int(port), event["code"])
    stuck.transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.transport.pause_reading()
    sio = server.app[SIO]
    stuck_socket = list(sio.eio.sockets.values())[-1]  # the last one to connect
    stuck_socket.direct_transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    started = time.monotonic()
    sent = 0
    while not stuck_socket.closed:
        assert sent < 200, "the stuck socket was never dropped"
        status, _ = await server.api("PATCH", f"/api/events/{event['code']}", {
            "title": f"Edition {sent}", "description": "A long description. " * 90})
        assert status == 200
        sent += 1
    await reading.wait_for(lambda m: m.get("event", {}).get("title") == f"Edition {sent - 1}")
    assert [m["seq"] for m in reading.updates] == list(range(1, sent + 1))
    assert time.monotonic() - started < 10
    await reading.close()
    stuck.close()


async def test_a_broadcast_that_yields_between_writes_still_reaches_everyone_in_order(
    server, event, monkeypatch
):
    """WRITES_PER_TURN lowered to 2: the loop runs other work between writes, and a socket that
    leaves meanwhile does not break the broadcast."""
    monkeypatch.setattr(broadcast, "WRITES_PER_TURN", 2)
    asker = await joined(server, event["code"])
    host, port = server.url.removeprefix("http://").split(":")
    raw = [await open_client(host, int(port), event["code"]) for _ in range(7)]
    leaving = raw.pop()
    first = await asker.ask("Is the new ward opening in spring?")
    leaving.close()
    await asker.ask("Will the car park be free for visitors?")
    last = await asker.ask("Can carers stay overnight?")
    final = (await asker.wait_for(lambda m: m.get("question", {}).get("id") == last["id"]))["seq"]
    deadline = time.monotonic() + 5
    while any(c.last_seq < final for c in raw):
        assert time.monotonic() < deadline, [c.last_seq for c in raw]
        await asyncio.sleep(0.02)
    assert all(c.gaps == 0 and c.stale == 0 for c in raw)
    assert first["id"] < last["id"]
    await asker.close()
    for c in raw:
        c.close()


async def test_a_broadcast_queues_for_long_polling_sockets_in_place(server, event):
    asker = await joined(server, event["code"])
    loop = asyncio.get_running_loop()
    made: list[str] = []

    def counting(loop, coro, **kwargs):
        made.append(coro.__qualname__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    async with aiohttp.ClientSession() as http:
        sessions = [await Polling(http, server).open(event["code"]) for _ in range(5)]
        loop.set_task_factory(counting)
        try:
            await asker.ask("Will the library keep its Sunday hours?")
            for session in sessions:
                texts = [t for t in await session.get() if t.startswith('42["update",')]
                assert len(texts) == 1 and "Sunday hours" in texts[0], texts
        finally:
            loop.set_task_factory(None)
    assert "AsyncServer._send_eio_packet" not in made, "a task for each polling socket"
    await asker.close()

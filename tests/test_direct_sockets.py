"""Settled websockets write straight to the wire and read in one task: no writer, per-message
read or ping task per socket, and nothing of aiohttp's request kept."""

import asyncio
import contextlib
import gc
import json
import random
import time

import aiohttp
import pytest
from aiohttp import web, web_protocol
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

import socketio

from bench.wsclient import _frame, open_client
from live.app import SIO
from live.transport import direct
from support import RECORD_SEPARATOR, Client, Polling, joined

#: Coroutines that stock engine.io keeps alive per websocket (its writer, its per-message read
#: and its sleeping ping); a direct socket has none of them.
PER_SOCKET_TASKS = {"writer", "websocket_wait", "_send_ping"}


def per_socket_tasks() -> list[str]:
    names = (task.get_coro().__qualname__.rsplit(".", 1)[-1] for task in asyncio.all_tasks())
    return [name for name in names if name in PER_SOCKET_TASKS]


def address(server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


async def test_many_settled_websockets_have_no_writer_read_or_ping_task(server, event):
    asker = await joined(server, event["code"])
    raw = [await open_client(*address(server), event["code"]) for _ in range(20)]
    for client in raw:
        _, reply = await client.call("join", {"attendance": "remote"})
        assert reply["ok"], reply
    question = await asker.ask("Will the clinic open on Saturdays?")
    _, vote = await raw[0].call("upvote", {"question_id": question["id"]})
    assert vote["ok"] and vote["data"]["votes"] == 1
    sockets = list(server.app[SIO].eio.sockets.values())
    assert len(sockets) == 21
    assert all(isinstance(s, direct.DirectSocket) and s.direct_transport for s in sockets)
    assert per_socket_tasks() == []
    assert all(isinstance(s.queue, direct.LightQueue) and s.queue.empty() for s in sockets)
    assert all(s.queue._items is None and s.queue._getters is None for s in sockets)
    await asker.close()
    for client in raw:
        client.close()


async def _queue_story(queue, seed: int) -> list:
    """A random run of what engine.io does with a socket's queue; what every step saw."""
    rng = random.Random(seed)
    seen: list = []
    pending: list[asyncio.Task] = []
    for step in range(200):
        action = rng.choice(["put", "put", "get_nowait", "get", "get", "cancel", "put_cancel",
                             "task_done", "join"])
        if action == "put":
            queue.put_nowait(step)
        elif action == "put_cancel" and pending:  # a woken getter cancelled before it runs
            queue.put_nowait(step)
            pending.pop(0).cancel()
        elif action == "get_nowait":
            try:
                seen.append(("now", queue.get_nowait()))
            except asyncio.QueueEmpty:
                seen.append(("empty",))
        elif action == "get":
            pending.append(asyncio.create_task(queue.get()))
        elif action == "cancel" and pending:
            pending.pop(rng.randrange(len(pending))).cancel()
        elif action == "task_done":
            try:
                queue.task_done()
                seen.append(("done",))
            except ValueError:
                seen.append(("too many",))
        elif action == "join":
            joined_ = asyncio.create_task(queue.join())
            await asyncio.sleep(0)
            seen.append(("joined", joined_.done()))
            joined_.cancel()
        await asyncio.sleep(0)
        seen.append(("state", queue.qsize(), queue.empty(),
                     [t.result() if t.done() and not t.cancelled() else None for t in pending]))
    for task in pending:
        task.cancel()
    return seen


@pytest.mark.parametrize("seed", range(20))
async def test_the_light_queue_behaves_as_asyncios_queue(seed):
    assert await _queue_story(direct.LightQueue(), seed) == await _queue_story(asyncio.Queue(), seed)


async def upgraded_client(server, code: str) -> Client:
    """A python-socketio client that opened on long-polling and has moved to a websocket."""
    client = Client(server, code)
    await client.sio.connect(server.url, auth={"event": code},
                             transports=["polling", "websocket"], wait_timeout=10)
    deadline = time.monotonic() + 5
    while client.sio.transport() != "websocket":
        assert time.monotonic() < deadline, "the client never upgraded"
        await asyncio.sleep(0.02)
    return client


async def test_a_socket_upgraded_from_long_polling_goes_direct_and_keeps_order(server, event):
    asker = await joined(server, event["code"])
    upgraded = await upgraded_client(server, event["code"])
    await upgraded.join("remote")
    sockets = list(server.app[SIO].eio.sockets.values())
    assert all(s.direct_transport is not None for s in sockets)
    texts = [f"Question number {n} about the new hospital wing?" for n in range(5)]
    for text in texts:
        await asker.ask(text, allow_duplicate=True)
    replies = await asyncio.gather(*(upgraded.call("snapshot", {"sort": "recent"})
                                     for _ in range(5)))
    assert all(r["ok"] for r in replies)
    await upgraded.wait_for(lambda m: m.get("question", {}).get("text") == texts[-1])
    seqs = [m["seq"] for m in upgraded.updates]
    assert seqs == sorted(seqs) and len(seqs) == 5
    assert [m["question"]["text"] for m in upgraded.updates] == texts
    await upgraded.close()
    await asker.close()


async def test_a_client_that_stops_answering_pings_is_dropped(server, event):
    eio = server.app[SIO].eio
    eio.ping_interval, eio.ping_timeout = 0.2, 0.3  # lowered before engine.io's watch starts
    alive = await joined(server, event["code"])
    silent = await open_client(*address(server), event["code"])
    silent.transport.pause_reading()  # it never sees the ping, so never answers it
    socket = list(eio.sockets.values())[-1]
    deadline = time.monotonic() + 5
    while not socket.closed:
        assert time.monotonic() < deadline, "the silent client was never dropped"
        await asyncio.sleep(0.05)
    assert socket.direct_transport is None
    assert alive.sio.connected
    assert (await alive.ask("Is the silent phone gone?"))["text"] == "Is the silent phone gone?"
    await alive.close()
    silent.close()


async def test_a_server_side_disconnect_ends_the_connection_after_the_close_packet(server, event):
    client = await joined(server, event["code"])
    closed = asyncio.Event()
    client.sio.on("disconnect", lambda *reason: closed.set())
    sio = server.app[SIO]
    await sio.disconnect(client.sio.get_sid("/"))
    await asyncio.wait_for(closed.wait(), 5)
    assert not client.sio.connected


async def test_socketio_client_round_trip_over_a_direct_socket(server, event):
    """A plain python-socketio client: every ack comes back, in order, for pipelined calls."""
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(server.url, auth={"event": event["code"]}, transports=["websocket"])
    joined_reply = await sio.call("join", {"attendance": "in_room"}, timeout=5)
    assert joined_reply["ok"]
    replies = await asyncio.gather(*(sio.call("ask", {"text": f"Pipelined question {n}?",
                                                      "allow_duplicate": True}, timeout=5)
                                     for n in range(3)))
    assert [r["ok"] for r in replies] == [True, True, True]
    ids = [r["data"]["question"]["id"] for r in replies]
    assert ids == sorted(ids)
    await sio.disconnect()


async def test_sockets_that_leave_at_once_finish_leaving_a_few_per_turn(server, event,
                                                                       monkeypatch):
    monkeypatch.setattr(direct, "LEAVES_PER_TURN", 2)
    raw = [await open_client(*address(server), event["code"]) for _ in range(12)]
    for client in raw:
        _, reply = await client.call("join", {"attendance": "remote"})
        assert reply["ok"], reply
    sockets = server.app[SIO].eio.sockets
    assert len(sockets) == 12
    loop = asyncio.get_running_loop()
    counts: list[int] = []

    def tick() -> None:
        counts.append(len(sockets))
        if sockets:
            loop.call_soon(tick)

    tick()
    for client in raw:
        client.close()
    deadline = time.monotonic() + 10
    while sockets:
        assert time.monotonic() < deadline, "the sockets never left"
        await asyncio.sleep(0.02)
    assert counts[-1] == 0
    assert max(a - b for a, b in zip(counts, counts[1:])) <= 2, counts


# ---- settled websockets detached from aiohttp -----------------------------------------------

def held_by_aiohttp() -> tuple[int, int]:
    """aiohttp's request handlers alive in this process, and their tasks."""
    gc.collect()
    handlers = sum(1 for o in gc.get_objects() if isinstance(o, web_protocol.RequestHandler))
    tasks = sum(1 for t in asyncio.all_tasks()
                if t.get_coro().__qualname__ == "RequestHandler.start")
    return handlers, tasks


async def test_settled_websockets_keep_nothing_of_aiohttps_request(server, event):
    """Once settled, a websocket's connection is its socket's alone: aiohttp keeps no request
    handler or handler task for it, and its environ still answers what handlers read."""
    handlers, tasks = held_by_aiohttp()
    raw = [await open_client(*address(server), event["code"]) for _ in range(20)]
    for client in raw:
        _, reply = await client.call("join", {"attendance": "remote"})
        assert reply["ok"], reply
    after = held_by_aiohttp()
    assert after[0] <= handlers and after[1] <= tasks, (handlers, tasks, after)
    sio = server.app[SIO]
    sockets = list(sio.eio.sockets.values())
    assert len(sockets) == 20
    for socket in sockets:
        assert socket._reading is not None and not socket._reading.done()
        environ = sio.environ[socket.sid]
        request = environ["aiohttp.request"]
        assert isinstance(request, direct.SettledRequest)
        assert request.remote.startswith("127.") and request.method == "GET"
        assert environ["QUERY_STRING"] == "EIO=4&transport=websocket"
        assert environ["HTTP_UPGRADE"] == "websocket"
    for client in raw:
        client.close()


async def test_a_session_lets_go_of_its_opening_request_once_polled_or_upgraded(server, event):
    """python-socketio keeps the opening request's environ for the session's life: once the
    session has been polled, or has moved to a websocket, it holds what it answers, not the
    request (and through it the keep-alive connection's handler)."""
    sio = server.app[SIO]
    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        upgraded = await upgraded_client(server, event["code"])
        assert len(sio.eio.sockets) == 2
        for sid in sio.eio.sockets:
            environ = sio.environ[sid]
            assert isinstance(environ["aiohttp.request"], direct.SettledRequest)
            assert "transport=polling" in environ["QUERY_STRING"]
            assert environ["HTTP_HOST"] == server.url.removeprefix("http://")
        await upgraded.join("remote")
        assert await polling.post('421["snapshot",{}]') == (200, "OK")
        assert (await polling.ack(1))[0]["ok"]
        await upgraded.close()


async def test_a_detached_websocket_answers_pings_and_a_close(server, event):
    async with aiohttp.ClientSession() as http:
        url = server.url + "/socket.io/?EIO=4&transport=websocket"
        async with http.ws_connect(url, autoping=False) as ws:
            assert (await ws.receive_str()).startswith("0")
            await ws.send_str("40" + json.dumps({"event": event["code"]}))
            assert (await ws.receive_str()).startswith("40{")
            await ws.ping(b"still there?")
            msg = await asyncio.wait_for(ws.receive(), 5)
            assert msg.type is aiohttp.WSMsgType.PONG and msg.data == b"still there?"
            await ws.send_str('421["snapshot",{}]')
            reply = await asyncio.wait_for(ws.receive_str(), 5)
            assert reply.startswith('431[{"ok":true')
            await asyncio.wait_for(ws.close(), 5)
            assert ws.close_code == aiohttp.WSCloseCode.OK
    sockets = server.app[SIO].eio.sockets
    deadline = time.monotonic() + 10
    while sockets:
        assert time.monotonic() < deadline, "the socket never left"
        await asyncio.sleep(0.02)


async def test_a_detached_websocket_reads_a_frame_that_arrives_a_byte_at_a_time(server, event):
    client = await open_client(*address(server), event["code"])
    _, reply = await client.call("join", {"attendance": "remote"})
    assert reply["ok"], reply
    loop = asyncio.get_running_loop()
    answer = loop.create_future()
    ack = client.expect(answer)
    for byte in _frame(f'42{ack}["snapshot",{{"sort":"recent"}}]'.encode()):
        client.transport.write(bytes((byte,)))
        await asyncio.sleep(0.002)
    _, raw = await asyncio.wait_for(answer, 5)
    assert json.loads(raw)[0]["ok"]
    client.close()


async def test_a_detached_websocket_stops_reading_while_its_commands_wait(server, event):
    """A client that sends faster than its commands are answered is paused at the socket's
    queue limit, as through aiohttp, and gets every answer in order."""
    client = await open_client(*address(server), event["code"])
    _, reply = await client.call("join", {"attendance": "remote"})
    assert reply["ok"], reply
    socket, = server.app[SIO].eio.sockets.values()
    transport = socket.direct_transport
    loop = asyncio.get_running_loop()
    paused: list[bool] = []

    def watch() -> None:
        paused.append(not transport.is_reading())
        if not transport.is_closing():
            loop.call_soon(watch)

    count = 2000
    padding = " " * 300  # inside the event's JSON array: more bytes, the same command
    answered: list[int] = []
    done = loop.create_future()

    def acked(sent: int):
        def record(latency: float, raw: bytes) -> None:
            answered.append(sent)
            if len(answered) == count:
                done.set_result(None)
        return record

    watch()
    for sent in range(count):
        ack = client.expect(acked(sent))
        client.send_text(f'42{ack}["upvote",{{"question_id":999999999}}{padding}]'.encode())
    await asyncio.wait_for(done, 60)
    assert answered == list(range(count))
    assert any(paused), "reading never paused"
    assert not paused[-1]
    client.close()


# ---- long-polling straight to the socket ----------------------------------------------------

def stock_calls(monkeypatch, eio) -> list[str]:
    """The query strings of the GETs engine.io's own handler answered from now on."""
    calls: list[str] = []
    real = eio.handle_request

    async def counted(request):
        if request.method == "GET":
            calls.append(request.query_string)
        return await real(request)

    monkeypatch.setattr(eio, "handle_request", counted)
    return calls


async def test_waiting_polls_are_answered_from_their_request_alone(server, event, monkeypatch):
    eio = server.app[SIO].eio
    asker = await joined(server, event["code"])
    async with aiohttp.ClientSession() as http:
        sessions = [await Polling(http, server).open(event["code"]) for _ in range(5)]
        stock = stock_calls(monkeypatch, eio)
        polls = [asyncio.create_task(s.get()) for s in sessions]
        deadline = time.monotonic() + 5
        while sum(eio.sockets[s.sid].queue._getters is not None for s in sessions) < 5:
            assert time.monotonic() < deadline, "the polls never arrived"
            await asyncio.sleep(0.02)
        waiting = [task.get_coro().__qualname__ for task in asyncio.all_tasks()]
        assert "LightQueue.get" not in waiting, "a poll waits in a task of its own"
        await asker.ask("Will the night buses run during the roadworks?")
        for texts in await asyncio.gather(*polls):
            assert any(t.startswith('42["update",') and "night buses" in t for t in texts), texts
        assert stock == []
    await asker.close()


async def test_a_direct_poll_answers_as_engineio_does(server, event, monkeypatch):
    eio = server.app[SIO].eio
    asker = await joined(server, event["code"])
    for n in range(5):
        await asker.ask(f"Question {n}: how will the new clinic's opening hours be decided, and"
                        " who will be asked before the evening and weekend hours are set?",
                        allow_duplicate=True)
    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        stock = stock_calls(monkeypatch, eio)

        async def answer(extra: dict) -> tuple[int, dict[str, str], list[str]]:
            assert await polling.post('421["snapshot",{}]') == (200, "OK")
            async with http.get(polling.url, headers={"Accept-Encoding": "gzip", **extra}) as res:
                return res.status, dict(res.headers), (await res.text()).split(RECORD_SEPARATOR)

        status, direct_headers, texts = await answer({})
        assert stock == []
        assert status == 200 and texts[0].startswith("431[")
        stock_status, stock_headers, stock_texts = await answer({"Origin": server.url})
        assert len(stock) == 1, "a poll with an Origin goes through engine.io's checks"
        assert stock_status == 200 and stock_texts[0].startswith("431[")
        assert len(texts[0]) > eio.compression_threshold
        assert stock_headers.pop("Access-Control-Allow-Origin") == server.url
        ignored = {"Date", "Content-Length"}
        for headers in (direct_headers, stock_headers):
            for name in ignored:
                headers.pop(name)
        assert direct_headers == stock_headers
        assert direct_headers["Content-Encoding"] == "gzip"
        assert direct_headers["Access-Control-Allow-Credentials"] == "true"
        assert direct_headers["X-Content-Type-Options"] == "nosniff"
    await asker.close()


async def test_a_poll_that_nothing_answers_in_time_ends_its_session(server, event, monkeypatch):
    eio = server.app[SIO].eio
    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        socket = eio.sockets[polling.sid]
        stock = stock_calls(monkeypatch, eio)
        monkeypatch.setattr(eio, "ping_interval", 0.1)  # the poll waits interval + timeout
        monkeypatch.setattr(eio, "ping_timeout", 0.1)
        async with http.get(polling.url, timeout=aiohttp.ClientTimeout(total=5)) as res:
            assert res.status == 400 and await res.text() == '"Bad Request"'
        assert stock == []
        assert socket.closed and polling.sid not in eio.sockets
        assert polling.sid not in server.app[SIO].environ
        assert await polling.ended()


def test_the_environ_reads_what_engineios_driver_copies():
    from engineio.async_drivers import aiohttp as driver

    request = make_mocked_request(
        "GET", "/socket.io/?EIO=4&transport=polling&sid=abc",
        headers=CIMultiDict([("Host", "example.org"), ("Cookie", "a=1"), ("Accept", "text/plain"),
                             ("Accept", "*/*"), ("Content-Type", "text/plain"),
                             ("Content-Length", "12"), ("X-Forwarded-Proto", "https"),
                             ("Sec-WebSocket-Key", "k")]),
    )
    environ = direct.RequestEnviron(request)
    assert dict(environ) == driver.translate_request(request)
    assert environ["HTTP_ACCEPT"] == "text/plain,*/*"
    assert "HTTP_ORIGIN" not in environ and environ.get("HTTP_ORIGIN") is None
    assert "HTTP_CONTENT_TYPE" not in environ and environ["CONTENT_LENGTH"] == "12"
    assert len(environ) == len(driver.translate_request(request))


HANDSHAKES = [
    {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"},  # RFC 6455
    {"Sec-WebSocket-Key": "AQIDBAUGBwgJCgsMDQ4PEA==", "Sec-WebSocket-Version": "8"},
    {"Sec-WebSocket-Key": "AQIDBAUGBwgJCgsMDQ4PEA==", "Sec-WebSocket-Version": "13",
     "Sec-WebSocket-Protocol": "chat", "Sec-WebSocket-Extensions": "permessage-deflate"},
    {"Sec-WebSocket-Key": "AQIDBAUGBwgJCgsMDQ4PEA==", "Sec-WebSocket-Version": "12"},
    {"Sec-WebSocket-Key": "AQIDBAUGBwgJCgsMDQ4PEA==", "Sec-WebSocket-Version": " 13"},
    {"Sec-WebSocket-Key": "AQIDBAUGBwgJCgsMDQ4P", "Sec-WebSocket-Version": "13"},
    {"Sec-WebSocket-Key": "not base64!", "Sec-WebSocket-Version": "13"},
    {"Sec-WebSocket-Key": "", "Sec-WebSocket-Version": "13"},
    {"Sec-WebSocket-Version": "13"},
    {"Sec-WebSocket-Key": "AQIDBAUGBwgJCgsMDQ4PEA=="},
]


@pytest.mark.parametrize("headers", HANDSHAKES)
def test_a_handshake_is_accepted_or_refused_as_aiohttps_websocket_does(headers):
    request = make_mocked_request("GET", "/socket.io/?EIO=4&transport=websocket", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", **headers})
    try:
        stock = aiohttp.web.WebSocketResponse()._handshake(request)[0]["Sec-WebSocket-Accept"]
    except web.HTTPBadRequest as exc:
        with pytest.raises(web.HTTPBadRequest) as refused:
            direct.accept_key(request)
        assert refused.value.text == exc.text
    else:
        assert direct.accept_key(request).decode() == stock
    if headers.get("Sec-WebSocket-Key") == "dGhlIHNhbXBsZSBub25jZQ==":
        assert direct.accept_key(request) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


async def raw_handshake(server, headers: str, then: bytes = b"") -> tuple[bytes, bytes]:
    """Send a websocket upgrade request (and `then`, in the same write) on a bare connection;
    the response's head, and whatever came after it within a moment."""
    reader, writer = await asyncio.open_connection(*address(server))
    writer.write(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\n"
                 b"Upgrade: websocket\r\nConnection: Upgrade\r\n" + headers.encode()
                 + b"\r\n" + then)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    rest = b""
    with contextlib.suppress(TimeoutError):
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), 0.5)
            if not chunk:
                break
            rest += chunk
    writer.close()
    return head, rest


async def test_frames_sent_with_the_handshake_are_read(server, event):
    connect = _frame(("40" + json.dumps({"event": event["code"]})).encode())
    head, rest = await raw_handshake(
        server, "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 13\r\n",
        then=connect)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"\r\nSec-WebSocket-Accept: " + direct.accept_key(make_mocked_request(
        "GET", "/", headers={"Sec-WebSocket-Key": "AQIDBAUGBwgJCgsMDQ4PEA==",
                             "Sec-WebSocket-Version": "13"})) + b"\r\n" in head
    assert b'\x81' in rest and b'40{"sid":' in rest, rest  # the OPEN, then the CONNECT's answer


async def test_a_refused_handshake_leaves_no_session_behind(server, event):
    head, _ = await raw_handshake(
        server, "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 12\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert server.app[SIO].eio.sockets == {}

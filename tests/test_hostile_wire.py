"""Hostile frames and requests on the Socket.IO endpoint: refused clearly, nothing held or lost."""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bench.wsclient import open_client
from live.app import MAX_SOCKET_MESSAGE, SIO
from live.settings import Settings
from live.transport import direct
from support import ORGANISER_TOKEN, Polling, joined, running_server

WEBSOCKET = "/socket.io/?EIO=4&transport=websocket"


@contextlib.asynccontextmanager
async def raw_websocket(server, code: str) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A websocket connected to the default namespace by hand-written frames."""
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(server.url + WEBSOCKET) as ws:
            assert (await ws.receive_str()).startswith("0")
            await ws.send_str("40" + json.dumps({"event": code}))
            assert (await ws.receive_str()).startswith("40{")
            yield ws


async def next_text(ws: aiohttp.ClientWebSocketResponse, prefix: str) -> str:
    """The next text message starting with prefix, answering pings meanwhile."""
    while True:
        text = await asyncio.wait_for(ws.receive_str(), 5)
        if text == "2":
            await ws.send_str("3")
        elif text.startswith(prefix):
            return text


async def ack(ws: aiohttp.ClientWebSocketResponse, ack_id: int) -> list:
    text = await next_text(ws, f"43{ack_id}[")
    return json.loads(text[len(f"43{ack_id}"):])


async def until_closed(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read until the server ends the connection (generously bounded: not a timing claim)."""
    deadline = time.monotonic() + 5
    while True:
        msg = await asyncio.wait_for(ws.receive(), max(0.0, deadline - time.monotonic()))
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
            return


async def still_serves(server, code: str) -> None:
    """Everyone else is unaffected: a fresh participant can join and ask."""
    other = await joined(server, code)
    assert (await other.ask("Is the library open on Sundays?"))["text"]
    await other.close()


# ---- 5. binary attachments ------------------------------------------------------------------

@pytest.mark.parametrize("announcement", [
    '451-["ask",{"_placeholder":true,"num":0}]',
    '4599999-["ask",{"_placeholder":true,"num":0}]',
    '461-1[{"_placeholder":true,"num":0}]',
])
async def test_announcing_attachments_closes_the_websocket(server, event, announcement):
    async with raw_websocket(server, event["code"]) as ws:
        await ws.send_str(announcement)
        await until_closed(ws)
    assert server.app[SIO]._binary_packet == {}
    await still_serves(server, event["code"])


async def test_a_binary_frame_closes_the_websocket(server, event):
    async with raw_websocket(server, event["code"]) as ws:
        await ws.send_bytes(b"\x00" * 1000)
        await until_closed(ws)
    await still_serves(server, event["code"])


@pytest.mark.parametrize("payload", ['451-["ask",{"_placeholder":true,"num":0}]', "bAAAA"])
async def test_binary_over_long_polling_closes_the_session(server, event, payload):
    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        await polling.post(payload)
        assert await polling.ended()
    assert server.app[SIO]._binary_packet == {}
    await still_serves(server, event["code"])


# ---- 6. long-polling limits -----------------------------------------------------------------

@pytest.mark.parametrize("size", [70_000, 1_000_000])
async def test_an_oversize_long_polling_post_gets_413_and_ends_the_session(server, event, size):
    sio = server.app[SIO]
    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        status, _ = await polling.post("4" + "x" * size)
        assert status == 413
        socket = sio.eio.sockets.get(polling.sid)
        assert socket is None or socket.closed
    await still_serves(server, event["code"])


async def test_many_oversize_posts_are_all_answered_and_nothing_is_left(server, event):
    sio = server.app[SIO]
    async with aiohttp.ClientSession() as http:
        sessions = [await Polling(http, server).open(event["code"]) for _ in range(10)]
        replies = await asyncio.gather(*(s.post("4" + "x" * MAX_SOCKET_MESSAGE) for s in sessions))
    assert {status for status, _ in replies} == {413}
    assert all(sio.eio.sockets.get(s.sid) is None or sio.eio.sockets[s.sid].closed
               for s in sessions)
    assert not sio.manager.rooms.get("/", {}).get(None)


async def test_a_long_polling_post_of_unknown_length_gets_411(server, event):
    async def chunks() -> AsyncIterator[bytes]:
        yield b'421["snapshot",{}]'

    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        status, _ = await polling.post(chunks())
        assert status == 411
        assert await polling.ended()


async def test_a_post_at_the_limit_is_served(server, event):
    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        head, tail = '421["ask",{"text":"', '"}]'
        body = head + "x" * (MAX_SOCKET_MESSAGE - len(head) - len(tail)) + tail
        assert await polling.post(body) == (200, "OK")
        (reply,) = await polling.ack(1)
        assert reply["error"]["code"] == "invalid"


async def test_a_long_polling_session_that_stops_polling_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(direct, "SLOW_CONSUMER_BYTES", 3_000)
    settings = Settings(db=tmp_path / "q.db", organiser_token=ORGANISER_TOKEN, ask_limit=100)
    async with running_server(settings) as server:
        code = (await server.create_event())["event"]["code"]
        sio = server.app[SIO]
        async with aiohttp.ClientSession() as http:
            polling = await Polling(http, server).open(code)
            socket = sio.eio.sockets[polling.sid]
            askers = [await joined(server, code) for _ in range(4)]
            for n in range(20):  # the session does not poll while the news piles up
                await askers[n % 4].ask(f"Question {n}: " + "why " * 100, allow_duplicate=True)
                if socket.closed:
                    break
            assert socket.closed, "a session that stopped polling kept its queue"
            assert socket.queue.qsize() <= 1  # only the CLOSE it will read if it comes back
            assert await polling.ended()
            for asker in askers:
                await asker.close()


# ---- 7. events that must always be answered -------------------------------------------------

#: Events with ack id 1 that no handler may see: each is answered `invalid`.
MALFORMED = {
    "nested 30,000 deep": "421" + "[" * 30_000 + "]" * 30_000,
    "not JSON": '421["snapshot",',
    "a number for a name": "421[17,{}]",
    "no name": "421[]",
    "an object": '421{"event":"snapshot"}',
    "no payload at all": "421",
    "the name connect": '421["connect",{"event":"ABCDEF"}]',
    "the name disconnect": '421["disconnect"]',
    "the name *": '421["*",{}]',
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_events_are_answered_invalid_over_websocket(server, event, text):
    async with raw_websocket(server, event["code"]) as ws:
        await ws.send_str(text)
        (reply,) = await ack(ws, 1)
        assert reply["ok"] is False and reply["error"]["code"] == "invalid", reply
        assert reply["error"]["message"]
        await ws.send_str('422["join",{"attendance":"remote"}]')
        (joined_reply,) = await ack(ws, 2)
        assert joined_reply["ok"], joined_reply


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_events_are_answered_invalid_over_long_polling(server, event, text):
    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        assert await polling.post(text) == (200, "OK")
        (reply,) = await polling.ack(1)
        assert reply["ok"] is False and reply["error"]["code"] == "invalid", reply
        assert await polling.post('422["join",{"attendance":"remote"}]') == (200, "OK")
        (joined_reply,) = await polling.ack(2)
        assert joined_reply["ok"], joined_reply


async def test_an_event_named_disconnect_keeps_the_identity(server, event):
    async with raw_websocket(server, event["code"]) as ws:
        await ws.send_str('421["join",{"attendance":"in_room"}]')
        assert (await ack(ws, 1))[0]["ok"]
        await ws.send_str('422["disconnect","client namespace disconnect"]')
        assert (await ack(ws, 2))[0]["error"]["code"] == "invalid"
        await ws.send_str('423["ask",{"text":"Do I still count as me?"}]')
        (asked,) = await ack(ws, 3)
        assert asked["ok"], asked


async def test_malformed_events_without_an_ack_id_leave_the_connection_serving(
    server, event, caplog
):
    async with raw_websocket(server, event["code"]) as ws:
        for text in ('42["snapshot",', '42["connect",{}]', '42["disconnect"]', "42[17]", "42"):
            await ws.send_str(text)
        await ws.send_str('421["join",{"attendance":"remote"}]')
        assert (await ack(ws, 1))[0]["ok"]
    assert not [r for r in caplog.records if r.exc_info], "hostile input is not a server error"


async def test_invalid_utf8_closes_only_that_websocket(server, event):
    """RFC 6455 §8.1: a text frame that is not UTF-8 fails the connection; nothing can be read."""
    host, port = server.url.removeprefix("http://").split(":")
    client = await open_client(host, int(port), event["code"])
    client.send_text(b'421["ask",{"text":"\xff\xfe"}]')
    deadline = time.monotonic() + 5
    while not client.closed:
        assert time.monotonic() < deadline, "the connection was left open"
        await asyncio.sleep(0.02)
    await still_serves(server, event["code"])


async def test_invalid_utf8_over_long_polling_is_a_bad_request(server, event):
    async with aiohttp.ClientSession() as http:
        polling = await Polling(http, server).open(event["code"])
        status, _ = await polling.post(b'421["ask",{"text":"\xff\xfe"}]')
        assert status == 400
        assert await polling.ended()
    await still_serves(server, event["code"])


# ---- 13. an unknown namespace ---------------------------------------------------------------

async def test_an_unknown_namespace_is_refused_with_a_message(server, event):
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(server.url + WEBSOCKET) as ws:
            await ws.receive_str()
            await ws.send_str('40/nowhere,{"event":"%s"}' % event["code"])
            text = await next_text(ws, "44/nowhere,")
    refusal = json.loads(text.removeprefix("44/nowhere,"))
    assert isinstance(refusal, dict) and refusal["message"], refusal
    assert refusal["data"]["code"] == "not_found"
    assert refusal["data"]["message"] == refusal["message"]

"""A settled websocket's events are read in one step, and answered as the stock path would."""

import asyncio
import json

import pytest

from bench.wsclient import open_client
from live.app import SIO
from support import Client, joined


def address(server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def count_stock_messages(server, monkeypatch) -> list[str]:
    """Every message that reaches python-socketio's own dispatch (engine.io's "message" handler)."""
    eio = server.app[SIO].eio
    stock = eio.handlers["message"]
    seen: list[str] = []

    async def counting(eio_sid, data):
        seen.append(data)
        return await stock(eio_sid, data)

    monkeypatch.setitem(eio.handlers, "message", counting)
    return seen


async def test_commands_on_a_settled_websocket_skip_the_stock_layers(server, event, monkeypatch):
    seen = count_stock_messages(server, monkeypatch)
    voter = await joined(server, event["code"])
    asker = await joined(server, event["code"])
    question = await asker.ask("Can the night buses run every half hour?")
    assert (await voter.ok("upvote", {"question_id": question["id"]}))["votes"] == 1
    assert seen and all(data.startswith("0") for data in seen), seen  # their CONNECTs only

    polling = await Client(server, event["code"], transport="polling").connect()
    await polling.join()
    assert (await polling.ok("upvote", {"question_id": question["id"]}))["votes"] == 2
    assert [data.split(",")[0] for data in seen if data.startswith("2")] == [
        '21["join"', '22["upvote"']  # long-polling keeps the stock path
    for client in (voter, asker):
        await client.close()
    await polling.sio.eio.disconnect(abort=True)


#: Packets sent as text after "42<ack id>": the reader's own cases and the ones it leaves alone.
CASES = [
    ["snapshot", {}],
    ["snapshot"],
    ["upvote", {"question_id": 999_999}],
    ["upvote", {"question_id": "seven"}],
    ["upvote", {"question_id": 1}, {"extra": True}],
    ["upvote", None],
    ["no_such_command", {}],
    ["join", {"attendance": "on the moon"}],
]


async def test_the_reader_answers_every_case_as_the_stock_path_does(server, event):
    direct_client = await open_client(*address(server), event["code"])
    stock_client = await open_client(*address(server), event["code"])
    sockets = server.app[SIO].eio.sockets
    stock_socket = list(sockets.values())[-1]  # the last one to connect
    assert stock_socket.events is not None
    stock_socket.events = None  # this socket reads every message through engine.io's receive
    for client in (direct_client, stock_client):
        _, reply = await client.call("join", {"attendance": "remote"})
        assert reply["ok"], reply
    for case in CASES:
        assert _but_me(await _call(direct_client, case)) == _but_me(
            await _call(stock_client, case)), case
    direct_client.close()
    stock_client.close()


def _but_me(ack: list) -> list:
    """The ack without the part that differs between the two participants."""
    data = ack[0].get("data") if ack and isinstance(ack[0], dict) else None
    if isinstance(data, dict):
        data.pop("me", None)
    return ack


async def _call(client, case: list) -> list:
    """An event with any number of arguments (the generator's `call` sends exactly one); the
    ack's arguments."""
    future = asyncio.get_running_loop().create_future()
    ack = client.expect(future)
    client.send_text(b"42" + str(ack).encode() + json.dumps(case).encode())
    _, raw = await asyncio.wait_for(future, 10)
    return json.loads(raw)


@pytest.mark.parametrize("raw", [
    b'42["snapshot",{}]',  # no ack id: handled, nothing to answer
    b'421["snapshot",',  # not JSON
    b'42\xd9\xa3["snapshot",{}]',  # a digit, but not an ASCII one
    b'42{"not":"a list"}',
    b'42[17]',
    b"421" + b"[" * 5000 + b"]" * 5000,  # nested deeper than the JSON decoder goes
    b"42" + b"9" * 20 + b'["snapshot",{}]',  # an ack id python-socketio refuses
    b'42/screen,["snapshot",{}]',  # a namespace this socket never joined
])
async def test_odd_packets_leave_the_connection_serving(server, event, raw):
    client = await open_client(*address(server), event["code"])
    client.send_text(raw)
    _, reply = await client.call("join", {"attendance": "remote"})
    assert reply["ok"], reply
    client.close()


async def test_a_handler_that_raises_is_logged_and_the_connection_keeps_serving(
    server, event, caplog
):
    sio = server.app[SIO]

    async def broken(sid, payload):
        raise RuntimeError("a handler bug")

    sio.on("broken", broken)
    client = await open_client(*address(server), event["code"])
    future = asyncio.get_running_loop().create_future()
    client.emit("broken", {}, future)
    _, reply = await client.call("join", {"attendance": "remote"})
    assert reply["ok"], reply
    assert not future.done(), "a failed handler has no result to acknowledge"
    assert any("handler error" in r.getMessage() and r.exc_info for r in caplog.records)
    client.close()

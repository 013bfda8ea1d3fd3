"""The big screen: opened only by its token, read-only, fed by the room's broadcasts; a real QR code."""

import asyncio
import io

import aiohttp
import pytest
import segno
import socketio

from live.app import describe
from live.services.events import CreatedEvent
from moderators import moderator
from support import joined


async def screen(server, code: str, token: str) -> tuple[socketio.AsyncClient, list[dict]]:
    sio = socketio.AsyncClient(reconnection=False)
    updates: list[dict] = []
    sio.on("update", updates.append, namespace="/screen")
    await sio.connect(server.url, auth={"event": code, "token": token}, namespaces=["/screen"],
                      transports=["websocket"], wait_timeout=5)
    return sio, updates


async def test_a_screen_needs_its_token_and_only_reads(server):
    created = await server.create_event("On screen")
    code = created["event"]["code"]
    for auth in ({"event": code}, {"event": code, "token": "wrong"}, {"event": code, "token": created["moderator_secret"]}):
        sio = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(server.url, auth=auth, namespaces=["/screen"], transports=["websocket"], wait_timeout=5)

    sio, updates = await screen(server, code, created["screen_token"])
    mod = await moderator(server, created)
    author = await joined(server, code, "in_room", "Lee")
    question = await author.ask("What is being done about staff burnout?")
    seen = await mod.question(question["id"])
    await mod.ok("focus", {"question_id": seen["id"], "version": seen["version"]})
    snapshot = (await sio.call("snapshot", namespace="/screen", timeout=5))["data"]
    assert snapshot["stage"]["focus"] == question["id"]
    assert snapshot["questions"][0]["attendance"] == "in_room"
    assert [m["type"] for m in updates][-2:] == ["question", "stage"]
    refused = await sio.call("ask", {"text": "Hi"}, namespace="/screen", timeout=5)
    assert refused["error"]["code"] == "forbidden"
    await sio.disconnect()
    await mod.close()
    await author.close()


async def test_the_qr_code_is_an_svg_of_the_participant_link(server, event):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/e/{event['code']}/qr.svg") as res:
            assert res.status == 200 and res.content_type == "image/svg+xml"
            body = await res.text()
        async with http.get(f"{server.url}/e/NOPE99/qr.svg") as missing:
            assert missing.status == 404
    assert body.startswith("<svg")
    expected = io.BytesIO()
    segno.make(f"{server.settings.base_url()}/e/{event['code']}", error="m").save(
        expected, kind="svg", scale=10, border=2, xmldecl=False
    )
    assert expected.getvalue().decode() == body


def test_the_printed_screen_link_carries_the_token_in_the_fragment(settings):
    created = CreatedEvent({"code": "ABCD", "title": "T"}, "mod-secret", "screen-token", "steward-secret")
    printed = describe(settings, created)
    assert f"{settings.base_url()}/e/ABCD/screen#token=screen-token" in printed


async def test_a_moderator_puts_the_balance_of_voices_on_screen(server):
    created = await server.create_event("Balance")
    code = created["event"]["code"]
    mod = await moderator(server, created)
    sio, updates = await screen(server, code, created["screen_token"])
    room = await joined(server, code, "in_room")
    online = await joined(server, code, "remote")
    question = await room.ask("From the room")
    await online.ok("upvote", {"question_id": question["id"]})
    await online.ask("From the stream, about something else entirely")

    assert (await sio.call("snapshot", namespace="/screen", timeout=5))["data"]["stage"]["balance"] is False
    reply = await mod.call("screen_balance", {"show": True})
    assert reply["ok"] and reply["data"]["stage"]["balance"] is True
    for _ in range(50):
        if any(u["type"] == "stage" and u["stage"]["balance"] for u in updates):
            break
        await asyncio.sleep(0.05)
    assert any(u["type"] == "stage" and u["stage"]["balance"] for u in updates)
    balance = (await sio.call("balance", namespace="/screen", timeout=5))["data"]
    assert balance["in_room"]["questions"] == 1 and balance["remote"]["questions"] == 1
    assert balance["remote"]["votes"] == 1 and balance["in_room"]["votes"] == 0
    log = (await mod.call("snapshot", {}))["data"]["log"]
    assert log[0]["action"] == "balance_on_screen" and log[0]["moderator"] == "Mod"

    refused = await room.call("screen_balance", {"show": False})
    assert refused["ok"] is False
    assert (await mod.call("screen_balance", {"show": False}))["data"]["stage"]["balance"] is False
    assert (await mod.call("screen_balance", {"show": "yes"}))["error"]["code"] == "invalid"
    for client in (room, online):
        await client.close()
    await sio.disconnect()
    await mod.close()


async def test_a_moderator_chooses_what_the_screen_shows(server):
    created = await server.create_event("Screen modes")
    code = created["event"]["code"]
    mod = await moderator(server, created, "Priya")
    sio, updates = await screen(server, code, created["screen_token"])
    assert (await sio.call("snapshot", namespace="/screen", timeout=5))["data"]["stage"]["screen"] == "auto"

    for mode in ("both", "focus", "poll", "auto"):
        reply = await mod.call("screen_mode", {"screen": mode})
        assert reply["ok"] and reply["data"]["stage"]["screen"] == mode, reply
    for _ in range(50):
        if [u["stage"]["screen"] for u in updates if u["type"] == "stage"] == ["both", "focus", "poll", "auto"]:
            break
        await asyncio.sleep(0.05)
    assert [u["stage"]["screen"] for u in updates if u["type"] == "stage"] == ["both", "focus", "poll", "auto"]
    log = (await mod.ok("snapshot"))["log"]
    assert [(e["action"], e["details"], e["moderator"]) for e in log[:2]] == [
        ("screen_mode", {"screen": "auto"}, "Priya"), ("screen_mode", {"screen": "poll"}, "Priya"),
    ]
    unchanged = len(log)
    assert (await mod.call("screen_mode", {"screen": "auto"}))["data"]["stage"]["screen"] == "auto"
    assert len((await mod.ok("snapshot"))["log"]) == unchanged

    for bad in ({"screen": "everything"}, {"screen": 1}, {}, {"screen": "both", "extra": True}):
        reply = await mod.call("screen_mode", bad)
        assert reply["ok"] is False and reply["error"]["code"] == "invalid", (bad, reply)
    room = await joined(server, code, "in_room")
    assert (await room.call("screen_mode", {"screen": "poll"}))["ok"] is False
    await room.close()
    await sio.disconnect()
    await mod.close()

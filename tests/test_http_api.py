"""The organiser API, the public routes and the pages' security headers."""

import aiohttp
import pytest

from support import Client


async def test_organiser_creates_lists_updates_and_closes_events(server):
    created = await server.create_event("Day one", code="day-xyz", description="First day")
    event = created["event"]
    assert event["code"] == "DAYXYZ"
    assert event["state"] == "open"
    assert event["links"]["participant"].endswith("/e/DAYXYZ")
    assert created["moderator_secret"] and created["screen_token"]

    status, body = await server.api("GET", "/api/events")
    assert status == 200 and [e["code"] for e in body["data"]] == ["DAYXYZ"]
    assert "moderator_secret" not in body["data"][0]

    watcher = await Client(server, "dayxyz").connect()
    status, body = await server.api(
        "PATCH", "/api/events/DAYXYZ", {"title": "Day one (morning)", "stream_url": "https://example.org/s"}
    )
    assert status == 200 and body["data"]["title"] == "Day one (morning)"
    msg = await watcher.wait_for(lambda m: m["type"] == "event")
    assert msg["event"]["stream_url"] == "https://example.org/s"
    status, body = await server.api("PATCH", "/api/events/DAYXYZ", {"stream_url": None})
    assert body["data"]["stream_url"] is None

    status, body = await server.api("POST", "/api/events/DAYXYZ/close")
    assert status == 200 and body["data"]["state"] == "closed"
    status, body = await server.api("POST", "/api/events/DAYXYZ/open")
    assert body["data"]["state"] == "open"
    await watcher.close()


async def test_public_event_info(server, event):
    status, body = await server.api("GET", f"/api/events/{event['code'].lower()}", token=None)
    assert status == 200
    assert set(body["data"]) == {
        "code", "title", "description", "stream_url", "state", "starts_at", "ends_at",
        "advance_questions", "captions_url", "sign_language_url",
    }
    status, body = await server.api("GET", "/api/events/NOPE22", token=None)
    assert status == 404 and body["error"]["code"] == "not_found"


@pytest.mark.parametrize("token", [None, "wrong", ""])
async def test_organiser_routes_need_the_token(server, event, token):
    for method, path in [
        ("GET", "/api/events"),
        ("POST", "/api/events"),
        ("PATCH", f"/api/events/{event['code']}"),
        ("POST", f"/api/events/{event['code']}/close"),
    ]:
        status, body = await server.api(method, path, {"title": "x"}, token=token)
        assert status == 403, (method, path)
        assert body["error"]["code"] == "forbidden"
    status, body = await server.api("GET", f"/api/events/{event['code']}", token=None)
    assert body["data"]["state"] == "open"


@pytest.mark.parametrize(
    ("payload", "code", "status"),
    [
        ({}, "invalid", 400),
        ({"title": ""}, "invalid", 400),
        ({"title": "   "}, "invalid", 400),
        ({"title": "t" * 201}, "invalid", 400),
        ({"title": "ok", "code": "O0I1"}, "invalid", 400),
        ({"title": "ok", "code": "AB"}, "invalid", 400),
        ({"title": "ok", "stream_url": "javascript:alert(1)"}, "invalid", 400),
        ({"title": "ok", "surprise": True}, "invalid", 400),
        ({"title": 5}, "invalid", 400),
    ],
)
async def test_bad_event_payloads(server, payload, code, status):
    got, body = await server.api("POST", "/api/events", payload)
    assert got == status and body["error"]["code"] == code
    _, listing = await server.api("GET", "/api/events")
    assert listing["data"] == []


async def test_duplicate_code_is_a_conflict(server):
    await server.create_event("First", code="SAME22")
    status, body = await server.api("POST", "/api/events", {"title": "Second", "code": "same22"})
    assert status == 409 and body["error"]["code"] == "conflict"


async def test_malformed_and_oversized_bodies(server):
    headers = {"Authorization": "Bearer organiser-test-token", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        for data in (b"{not json", b"\xff\xfe", b"[1, 2]", b"x" * 70_000):
            async with http.post(server.url + "/api/events", data=data, headers=headers) as res:
                body = await res.json()
                assert res.status in (400, 413), data[:10]
                if res.status == 400:
                    assert body["error"]["code"] == "invalid"


async def test_pages_and_headers(server, event):
    async with aiohttp.ClientSession() as http:
        for path in ("/", f"/e/{event['code']}", f"/e/{event['code'].lower()}"):
            async with http.get(server.url + path) as res:
                assert res.status == 200
                assert res.content_type == "text/html"
                csp = res.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "default-src 'none'" in csp
                assert res.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(server.url + "/e/NOPE22") as res:
            assert res.status == 404
            assert "No event has the code NOPE22" in await res.text()
        async with http.get(server.url + "/healthz") as res:
            assert (await res.json()) == {"ok": True, "data": {"database": "ok", "redis": "off"}}
        async with http.get(server.url + "/static/vendor/socket.io-client/socket.io.min.js") as res:
            assert res.status == 200


async def test_foreign_origins_are_refused_at_the_handshake(server, event):
    async with aiohttp.ClientSession() as http:
        async with http.get(
            server.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://evil.example"}
        ) as res:
            assert res.status == 400
        async with http.get(
            server.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": server.url}
        ) as res:
            assert res.status == 200

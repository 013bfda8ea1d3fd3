"""Abuse from one address: guessing secrets is cut short."""

import aiohttp
import pytest
import socketio

from live.services import limits
from live.settings import Settings
from live.transport.http import SIGNINS
from support import ORGANISER_TOKEN, Server, running_server

#: The whole of 127.0.0.0/8 is loopback on Linux: a test may speak from a second "network".
OTHER_NETWORK = "127.0.0.2"


def session_from(address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


def lowered(tmp_path, **limits_) -> Settings:
    return Settings(db=tmp_path / "abuse.db", organiser_token=ORGANISER_TOKEN, **limits_)


async def sign_in_from(server: Server, code: str, secret: str, address: str) -> aiohttp.ClientResponse:
    async with session_from(address) as http:
        async with http.post(
            f"{server.url}/e/{code}/moderate",
            data={"secret": secret, "pseudonym": "Mod"},
            allow_redirects=False,
        ) as res:
            await res.read()
            return res


async def test_guessing_the_moderator_secret_is_refused_even_the_right_one(tmp_path):
    async with running_server(lowered(tmp_path, signin_limit=3)) as server:
        created = await server.create_event()
        code, secret = created["event"]["code"], created["moderator_secret"]
        for _ in range(3):
            wrong = await sign_in_from(server, code, "not-the-secret", "127.0.0.1")
            assert wrong.status == 303 and "failed=forbidden" in wrong.headers["Location"]
        limited = await sign_in_from(server, code, secret, "127.0.0.1")
        assert limited.status == 303 and "failed=rate_limited" in limited.headers["Location"]
        assert 0 < int(limited.headers["Retry-After"]) <= 60
        assert f"live_mod_{code}" not in limited.cookies
        elsewhere = await sign_in_from(server, code, secret, OTHER_NETWORK)
        assert elsewhere.status == 303 and f"live_mod_{code}" in elsewhere.cookies


async def test_guesses_from_many_addresses_are_limited_per_event(tmp_path):
    async with running_server(lowered(tmp_path, signin_limit=10, signin_event_limit=3)) as server:
        created = await server.create_event()
        other = await server.create_event("Another event")
        code, secret = created["event"]["code"], created["moderator_secret"]
        for n in range(3):
            wrong = await sign_in_from(server, code, "guess", f"127.0.0.{10 + n}")
            assert "failed=forbidden" in wrong.headers["Location"]
        limited = await sign_in_from(server, code, secret, OTHER_NETWORK)
        assert "failed=rate_limited" in limited.headers["Location"]
        fine = await sign_in_from(
            server, other["event"]["code"], other["moderator_secret"], OTHER_NETWORK
        )
        assert f"live_mod_{other['event']['code']}" in fine.cookies


async def screen_refusal(server: Server, code: str, token: str) -> dict | None:
    sio = socketio.AsyncClient(reconnection=False)
    refusals: list[object] = []
    sio.on("connect_error", refusals.append, namespace="/screen")
    try:
        await sio.connect(server.url, auth={"event": code, "token": token}, namespaces=["/screen"],
                          transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return refusals[0]["data"]
    await sio.disconnect()
    return None


async def test_guessing_the_screen_token_is_refused_even_the_right_one(tmp_path):
    async with running_server(lowered(tmp_path, signin_limit=3)) as server:
        created = await server.create_event()
        code = created["event"]["code"]
        for _ in range(3):
            assert (await screen_refusal(server, code, "wrong"))["code"] == "forbidden"
        limited = await screen_refusal(server, code, created["screen_token"])
        assert limited["code"] == "rate_limited", limited
        assert 0 < limited["details"]["retry_after"] <= 60


async def test_guessing_the_organiser_token_is_refused_even_the_right_one(tmp_path):
    async with running_server(lowered(tmp_path, signin_limit=3)) as server:
        for _ in range(3):
            status, body = await server.api("GET", "/api/events", token="guess")
            assert status == 403, body
        async with aiohttp.ClientSession() as http:
            async with http.get(
                f"{server.url}/api/events", headers={"Authorization": f"Bearer {ORGANISER_TOKEN}"}
            ) as res:
                body = await res.json()
                assert res.status == 429 and body["error"]["code"] == "rate_limited", body
                assert 0 < int(res.headers["Retry-After"]) <= 60


async def test_tracked_addresses_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TRACKED_KEYS", 4)
    async with running_server(lowered(tmp_path, signin_limit=1)) as server:
        code = (await server.create_event())["event"]["code"]
        for n in range(12):
            await sign_in_from(server, code, "guess", f"127.0.0.{20 + n}")
        assert server.app[SIGNINS].tracked() <= 2 * 4

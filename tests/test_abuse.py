"""Abuse from one address: vote stuffing is limited and shown to moderators; guessing secrets is cut short."""

import asyncio
import json

import aiohttp
import pytest
import socketio

from live.domain import integrity
from live.services import limits
from live.services import moderation as moderation_service
from live.settings import Settings
from live.store import integrity as integrity_store
from live.transport.http import SIGNINS
from moderators import Moderator, moderator
from support import ORGANISER_TOKEN, Client, Server, StoreSQL, joined, running_server

#: The whole of 127.0.0.0/8 is loopback on Linux: a test may speak from a second "network".
OTHER_NETWORK = "127.0.0.2"


def session_from(address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


class ClientFrom(Client):
    """A participant whose connections come from a chosen loopback address."""

    def __init__(self, server: Server, code: str, address: str) -> None:
        super().__init__(server, code)
        self.http = session_from(address)
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.sio.on("update", self._on_update)

    async def close(self) -> None:
        await super().close()
        await self.http.close()


async def joined_from(server: Server, code: str, address: str) -> ClientFrom:
    client = await ClientFrom(server, code, address).connect()
    await client.join("in_room")
    return client


def lowered(tmp_path, **limits_) -> Settings:
    return Settings(db=tmp_path / "abuse.db", organiser_token=ORGANISER_TOKEN, **limits_)


async def test_new_participants_from_one_address_are_limited_not_others(tmp_path):
    async with running_server(lowered(tmp_path, join_limit=3)) as server:
        code = (await server.create_event())["event"]["code"]
        crowd = [await joined(server, code) for _ in range(3)]
        late = await Client(server, code).connect()
        reply = await late.call("join", {"attendance": "in_room"})
        assert reply["ok"] is False and reply["error"]["code"] == "rate_limited", reply
        assert 0 < reply["error"]["details"]["retry_after"] <= 60
        elsewhere = await joined_from(server, code, OTHER_NETWORK)
        returning = await Client(server, code, token=crowd[0].token).connect()
        again = await returning.ok("join", {"attendance": "remote"})
        assert again["me"]["id"] == crowd[0].me["id"]
        for client in [*crowd, late, elsewhere, returning]:
            await client.close()


async def test_the_address_salt_is_read_once_per_process(tmp_path):
    """Each join hashes its address with the server's salt, read from the store once: changing
    the stored salt behind the server's back leaves the join limit counting as before."""
    async with running_server(lowered(tmp_path, join_limit=2)) as server:
        code = (await server.create_event())["event"]["code"]
        crowd = [await joined(server, code) for _ in range(2)]
        StoreSQL(server.settings).execute(
            "UPDATE meta SET value = ? WHERE key = ?", ("0" * 64, integrity_store.ADDRESS_SALT_KEY)
        )
        late = await Client(server, code).connect()
        reply = await late.call("join", {"attendance": "in_room"})
        assert reply["ok"] is False and reply["error"]["code"] == "rate_limited", reply
        for client in [*crowd, late]:
            await client.close()


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


async def stuffed(server: Server, code: str, voters: int) -> tuple[dict, list[Client]]:
    """One honest asker and voter on 127.0.0.1; many new participants from another address."""
    asker = await joined(server, code)
    question = await asker.ask("Will the bus route be restored?")
    honest = await joined(server, code)
    await honest.ok("upvote", {"question_id": question["id"]})
    crowd = []
    for _ in range(voters):
        voter = await joined_from(server, code, OTHER_NETWORK)
        await voter.ok("upvote", {"question_id": question["id"]})
        crowd.append(voter)
    return question, [asker, honest, *crowd]


async def test_moderators_see_a_stuffing_address_flagged_and_hashed(server):
    created = await server.create_event()
    code = created["event"]["code"]
    question, clients = await stuffed(server, code, integrity.BURST_VOTES + 2)
    mod: Moderator = await moderator(server, created)
    view = await mod.ok("integrity")
    assert OTHER_NETWORK not in json.dumps(view)
    [flagged] = view["flagged"]
    assert flagged["participants"] == integrity.BURST_VOTES + 2
    assert flagged["votes"] == integrity.BURST_VOTES + 2
    assert flagged["reasons"] == ["vote_burst"]
    assert flagged["questions"] == [
        {"question_id": question["id"], "votes": integrity.BURST_VOTES + 2, "burst": True}
    ]
    assert len(flagged["address"]) == integrity.SHORT_HASH
    await mod.close()
    for client in clients:
        await client.close()


async def test_many_participants_behind_one_address_are_flagged(server, monkeypatch):
    monkeypatch.setattr(integrity, "MANY_PARTICIPANTS", 3)
    created = await server.create_event()
    code = created["event"]["code"]
    crowd = [await joined_from(server, code, OTHER_NETWORK) for _ in range(4)]
    mod = await moderator(server, created)
    [flagged] = (await mod.ok("integrity"))["flagged"]
    assert flagged["participants"] == 4 and flagged["reasons"] == ["many_participants"]
    await mod.close()
    for client in crowd:
        await client.close()


async def test_the_public_record_counts_votes_from_flagged_addresses(server):
    created = await server.create_event()
    code = created["event"]["code"]
    _, clients = await stuffed(server, code, integrity.BURST_VOTES)
    status, body = await server.api("GET", f"/api/events/{code}/record", token=None)
    assert status == 200
    assert body["data"]["votes_from_flagged_addresses"] == integrity.BURST_VOTES
    for client in clients:
        await client.close()


@pytest.mark.parametrize("width", [360, 1280])
async def test_the_integrity_panel_lists_flagged_addresses(server, browser, width, tmp_path):
    created = await server.create_event("Transport consultation")
    code = created["event"]["code"]
    _, clients = await stuffed(server, code, integrity.BURST_VOTES)
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await page.goto(f"{server.url}/e/{code}/moderate")
    await page.fill("#pseudonym", "Sam")
    await page.fill("#secret", created["moderator_secret"])
    await page.click("#login button[type=submit]")
    await page.click("#integrity-refresh")
    table = page.locator("#integrity-table")
    await table.locator("tbody tr").first.wait_for()
    assert await table.locator("caption").inner_text()
    assert await table.locator("tbody tr").count() == 1
    await page.locator("#integrity-panel").screenshot(path=f"/tmp/abuse-integrity-{width}.png")
    await page.close()
    for client in clients:
        await client.close()


async def test_behind_a_trusted_proxy_the_join_limit_counts_each_forwarded_client(tmp_path):
    settings = lowered(tmp_path, join_limit=2, trusted_proxies="127.0.0.1")
    async with running_server(settings) as server:
        code = (await server.create_event())["event"]["code"]

        async def join_as(forwarded_for: str) -> dict:
            client = Client(server, code)
            client.sio = socketio.AsyncClient(reconnection=False)
            await client.sio.connect(
                server.url, auth={"event": code}, transports=["websocket"],
                headers={"X-Forwarded-For": forwarded_for},
            )
            try:
                return await client.call("join", {"attendance": "in_room"})
            finally:
                await client.sio.disconnect()

        first = [await join_as("198.51.100.7") for _ in range(3)]
        assert [r["ok"] for r in first] == [True, True, False], first
        assert first[2]["error"]["code"] == "rate_limited"
        assert (await join_as("203.0.113.9"))["ok"] is True


async def test_guesses_sent_all_at_once_are_limited_before_they_are_hashed(tmp_path):
    """Guesses in flight count: a burst cannot slip past the limit while the first ones hash."""
    async with running_server(lowered(tmp_path, signin_limit=5)) as server:
        created = await server.create_event()
        code = created["event"]["code"]
        burst = await asyncio.gather(
            *(sign_in_from(server, code, f"guess-{n}", "127.0.0.1") for n in range(40))
        )
        outcomes = [res.headers["Location"].split("failed=")[1].split("&")[0] for res in burst]
        assert outcomes.count("forbidden") == 5 and outcomes.count("rate_limited") == 35, outcomes
        right = await sign_in_from(server, code, created["moderator_secret"], OTHER_NETWORK)
        assert f"live_mod_{code}" in right.cookies


async def test_the_public_record_counts_flagged_votes_at_most_once_per_interval(server, monkeypatch):
    """Counting them reads every vote of the event: anyone asking for the record must not be able
    to make the server do that at will."""
    created = await server.create_event()
    code = created["event"]["code"]
    question, clients = await stuffed(server, code, integrity.BURST_VOTES)

    async def flagged_votes() -> int:
        status, body = await server.api("GET", f"/api/events/{code}/record", token=None)
        assert status == 200
        return body["data"]["votes_from_flagged_addresses"]

    assert await flagged_votes() == integrity.BURST_VOTES
    late = await joined_from(server, code, OTHER_NETWORK)
    await late.ok("upvote", {"question_id": question["id"]})
    assert await flagged_votes() == integrity.BURST_VOTES  # counted a moment ago: not again yet
    monkeypatch.setattr(moderation_service, "FLAGGED_REFRESH", 0.0)
    assert await flagged_votes() == integrity.BURST_VOTES + 1
    for client in [*clients, late]:
        await client.close()

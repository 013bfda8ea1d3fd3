"""The Socket.IO origin check and forwarded headers, over plain HTTP on a real server."""

import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pydantic
import pytest
from aiohttp import web

from live.app import create_app
from live.settings import Settings
from live.transport.proxy import client_address
from support import running_server

POLLING = "/socket.io/?EIO=4&transport=polling"
WEBSOCKET = "/socket.io/?EIO=4&transport=websocket"


async def polling_status(url: str, headers: dict[str, str]) -> int:
    """The status of a long-polling handshake sent with these headers."""
    async with aiohttp.ClientSession() as http, http.get(url + POLLING, headers=headers) as res:
        return res.status


async def websocket_status(url: str, headers: dict[str, str]) -> int:
    """101 when a websocket handshake with these headers is accepted, else the refusal's status."""
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(url + WEBSOCKET, headers=headers) as ws:
                await ws.close()
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


async def statuses(url: str, headers: dict[str, str]) -> set[int]:
    """The handshake's outcome on both transports; one value when they agree."""
    return {
        200 if await polling_status(url, headers) == 200 else 400,
        200 if await websocket_status(url, headers) == 101 else 400,
    }


@pytest.fixture
def configure(settings):
    def configured(**fields) -> Settings:
        return settings.model_copy(update=fields)

    return configured


async def test_the_public_url_is_the_allowed_origin_whatever_the_host(configure):
    async with running_server(configure(public_url="https://live.example.org/")) as server:
        assert await statuses(server.url, {"Origin": "https://live.example.org"}) == {200}
        assert await statuses(server.url, {"Origin": "https://evil.example"}) == {400}
        assert await statuses(server.url, {"Origin": "http://live.example.org"}) == {400}
        assert await statuses(server.url, {"Origin": server.url}) == {400}


async def test_allowed_origins_add_to_the_public_url(configure):
    settings = configure(public_url="https://live.example.org",
                         allowed_origins="https://embed.example")
    async with running_server(settings) as server:
        assert await statuses(server.url, {"Origin": "https://live.example.org"}) == {200}
        assert await statuses(server.url, {"Origin": "https://embed.example"}) == {200}
        assert await statuses(server.url, {"Origin": "https://evil.example"}) == {400}


async def test_allowed_origins_keep_the_servers_own_origin(configure):
    settings = configure(allowed_origins="https://embed.example, https://b.example")
    async with running_server(settings) as server:
        assert await statuses(server.url, {"Origin": server.url}) == {200}
        assert await statuses(server.url, {"Origin": "https://embed.example"}) == {200}
        assert await statuses(server.url, {"Origin": "https://b.example"}) == {200}
        assert await statuses(server.url, {"Origin": "https://evil.example"}) == {400}


async def test_without_a_public_url_the_requests_own_origin_is_allowed(server):
    assert await statuses(server.url, {"Origin": server.url}) == {200}
    assert await statuses(server.url, {"Origin": "https://evil.example"}) == {400}


FORWARDED_HTTPS = {"Host": "live.test", "X-Forwarded-Proto": "https", "Origin": "https://live.test"}


async def test_forwarded_proto_from_an_untrusted_peer_is_ignored(server):
    assert await statuses(server.url, FORWARDED_HTTPS) == {400}
    assert await statuses(server.url, {**FORWARDED_HTTPS, "Origin": "http://live.test"}) == {200}


async def test_forwarded_proto_from_a_proxy_not_listed_is_ignored(configure):
    async with running_server(configure(trusted_proxies="10.0.0.0/8, ::1")) as server:
        assert await statuses(server.url, FORWARDED_HTTPS) == {400}


async def test_forwarded_proto_and_host_from_a_trusted_proxy_are_honoured(configure):
    async with running_server(configure(trusted_proxies="127.0.0.0/8")) as server:
        assert await statuses(server.url, FORWARDED_HTTPS) == {200}
        assert await statuses(server.url, {**FORWARDED_HTTPS, "Origin": "http://live.test"}) == {400}
        forwarded_host = {"X-Forwarded-Host": "live.test", "X-Forwarded-Proto": "https",
                          "Origin": "https://live.test"}
        assert await statuses(server.url, forwarded_host) == {200}


@contextlib.asynccontextmanager
async def echoing_address(settings: Settings) -> AsyncIterator[str]:
    """The real app, plus one route that answers with the client address other code would see."""

    async def address(request: web.Request) -> web.Response:
        return web.Response(text=client_address(request))

    app = create_app(settings)
    app.router.add_get("/test/address", address)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/test/address"
    finally:
        await runner.cleanup()


async def fetch_address(url: str, forwarded_for: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"X-Forwarded-For": forwarded_for}) as res:
            return await res.text()


async def test_the_client_address_comes_from_x_forwarded_for_only_through_a_trusted_proxy(configure):
    async with echoing_address(configure()) as url:
        assert await fetch_address(url, "203.0.113.9") == "127.0.0.1"
    async with echoing_address(configure(trusted_proxies="127.0.0.1, 192.0.2.0/24")) as url:
        assert await fetch_address(url, "203.0.113.9") == "203.0.113.9"
        # A client may send its own X-Forwarded-For: the last address no trusted proxy owns counts.
        assert await fetch_address(url, "198.51.100.7, 203.0.113.9, 192.0.2.1") == "203.0.113.9"
        assert await fetch_address(url, "garbage, 203.0.113.9") == "203.0.113.9"
        assert await fetch_address(url, "203.0.113.9, garbage") == "127.0.0.1"


def test_trusted_proxies_must_be_addresses_or_networks():
    with pytest.raises(pydantic.ValidationError, match="trusted_proxies"):
        Settings(trusted_proxies="127.0.0.1, proxy.example")


@pytest.mark.parametrize("url", ["live.example.org", "ftp://live.example.org", "https://"])
def test_the_public_url_must_be_an_http_url(url):
    with pytest.raises(pydantic.ValidationError, match="public_url"):
        Settings(public_url=url)

"""Reverse proxies: forwarded headers believed only from the proxies the operator listed."""

import ipaddress
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from live.settings import Network

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
SCHEMES = ("http", "https")


def client_address(request: web.BaseRequest) -> str:
    """Who sent the request, for rate limits and logs: the peer, or the client a trusted proxy
    named in X-Forwarded-For (the `forwarded` middleware has already put it in `remote`)."""
    return request.remote or ""


def _trusted(address: str | None, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _last(values: list[str]) -> str:
    """The value the nearest proxy added: the last of a header's comma-separated values."""
    items = [item.strip() for value in values for item in value.split(",")]
    return items[-1] if items else ""


def _forwarded_client(values: list[str], peer: str, networks: Sequence[Network]) -> str:
    """The last address in X-Forwarded-For that no trusted proxy owns: the ones before it were
    written by the client itself and prove nothing."""
    client = peer
    for item in reversed([item.strip() for value in values for item in value.split(",")]):
        try:
            client = str(ipaddress.ip_address(item))
        except ValueError:
            break
        if not _trusted(client, networks):
            break
    return client


def forwarded(networks: Sequence[Network]) -> Middleware:
    """Middleware giving handlers the scheme, host and client address a trusted proxy forwarded."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.remote
        if not _trusted(peer, networks):
            return await handler(request)
        headers = request.headers
        changes: dict[str, str] = {}
        scheme = _last(headers.getall("X-Forwarded-Proto", [])).lower()
        if scheme in SCHEMES:
            changes["scheme"] = scheme
        host = _last(headers.getall("X-Forwarded-Host", []))
        if host:
            changes["host"] = host
        client = _forwarded_client(headers.getall("X-Forwarded-For", []), peer or "", networks)
        if client != peer:
            changes["remote"] = client
        return await handler(request.clone(**changes) if changes else request)

    return middleware

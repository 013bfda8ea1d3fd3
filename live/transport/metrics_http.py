"""GET /metrics for Prometheus, for the token holder and the listed addresses only."""

import hmac
import ipaddress

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from live.metrics import Metrics
from live.settings import Network, Settings
from live.transport.proxy import client_address

METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
BEARER = "bearer "


def _allowed(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _bearer(request: web.Request) -> bytes:
    """The presented Bearer token as bytes (empty when none), for a constant-time compare."""
    header = request.headers.get("Authorization", "")
    if header[: len(BEARER)].lower() != BEARER:
        return b""
    return header[len(BEARER):].strip().encode("utf-8", "surrogateescape")


def handler(settings: Settings):
    """Check the address, then the token; a scrape needs each one that is configured."""
    token = settings.metrics_token.encode("utf-8")
    networks = settings.metrics_networks()

    async def metrics(request: web.Request) -> web.Response:
        if networks and not _allowed(client_address(request), networks):
            raise web.HTTPForbidden(text="This address may not read the metrics.")
        if token and not hmac.compare_digest(_bearer(request), token):
            raise web.HTTPUnauthorized(
                text="Send the metrics token as a Bearer token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body = generate_latest(request.app[METRICS].registry)
        return web.Response(body=body, headers={
            "Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})

    return metrics


def add_routes(app: web.Application, settings: Settings) -> None:
    """Unconfigured, /metrics does not exist: its 404 is any unknown path's."""
    if settings.metrics_token or settings.metrics_allow:
        app.router.add_get("/metrics", handler(settings))

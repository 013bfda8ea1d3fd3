"""Where a request comes from: decided in one place, for rate limits and the integrity view."""

from aiohttp import web


def client_address(request: web.Request) -> str:
    """The peer's address; a trusted proxy's forwarded address belongs here, once configured."""
    return request.remote or ""

"""Who an organiser request speaks for: a console session cookie, or the API's organiser token."""

from aiohttp import web

from live.services.organisers import Organiser, OrganiserService
from live.services.record import ORGANISER
from live.transport.http import _require_organiser

ORGANISERS: web.AppKey[OrganiserService] = web.AppKey("organisers", OrganiserService)
COOKIE = "live_organiser"


async def signed_in(request: web.Request) -> Organiser | None:
    return await request.app[ORGANISERS].session(request.cookies.get(COOKIE, ""))


async def organiser_name(request: web.Request) -> str:
    """A console session's organiser, else "organiser" for the API token; refused without either."""
    if request.cookies.get(COOKIE) and (organiser := await signed_in(request)) is not None:
        return organiser.name
    await _require_organiser(request)
    return ORGANISER

"""HTTP for moderation: moderator sign-in, session revocation, the public record, the QR code."""

import io
from urllib.parse import urlencode

import segno
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import ValidationError

from live.domain import codes, errors
from live.domain.errors import LiveError
from live.services.moderation import ModerationService
from live.transport import moderation_schemas as schemas
from live.transport.proxy import client_address
from live.transport.http import EVENTS, SETTINGS, SIGNINS, _require_organiser, api, event_page
from live.transport.http import links, reply, retry_after, set_private_cookie
from live.transport.moderate import session_cookie

MODERATION: web.AppKey[ModerationService] = web.AppKey("moderation", ModerationService)
QR_SCALE = 10
#: What aiohttp raises reading a form body that is not well formed (a multipart body without its
#: boundary, a part without a name, an unknown transfer encoding, a bad part header).
MALFORMED_FORM = (ValueError, TypeError, RuntimeError, AssertionError, HttpProcessingError)


def moderator_target(code: str) -> str:
    """The sign-in target of an event's moderator secret, limited apart from its screen token."""
    return f"moderator:{code}"


async def moderator_login(request: web.Request) -> web.StreamResponse:
    """The sign-in form posts here; success sets the session cookie, failure says so on the page."""
    code = codes.normalise_code(request.match_info["code"])
    page = f"/e/{code}/moderate"
    invalid = f"{page}?{urlencode({'failed': 'invalid'})}"
    try:
        fields = dict(await request.post())
    except MALFORMED_FORM as exc:
        raise web.HTTPSeeOther(invalid) from exc
    try:
        form = schemas.ModeratorLogin.model_validate(fields)
        event, token = await request.app[SIGNINS].attempt(
            client_address(request),
            moderator_target(code),
            lambda: request.app[MODERATION].login(code, form.secret, form.pseudonym),
            costly=True,
        )
    except ValidationError:
        raise web.HTTPSeeOther(invalid)
    except LiveError as exc:
        if exc.code == errors.NOT_FOUND:
            raise web.HTTPNotFound()
        query = {"failed": exc.code, **(exc.details or {})}
        raise web.HTTPSeeOther(f"{page}?{urlencode(query)}", headers=retry_after(exc.details))
    response = web.HTTPSeeOther(page)
    set_private_cookie(response, request, session_cookie(event["code"]), token)
    raise response


@api
async def list_sessions(request: web.Request) -> web.Response:
    await _require_organiser(request)
    return reply(await request.app[MODERATION].sessions(request.match_info["code"]))


@api
async def revoke_session(request: web.Request) -> web.Response:
    await _require_organiser(request)
    try:
        session_id = int(request.match_info["session_id"])
    except ValueError as exc:
        raise LiveError(errors.NOT_FOUND, "No such moderator session.") from exc
    return reply(await request.app[MODERATION].revoke(request.match_info["code"], session_id))


@api
async def record(request: web.Request) -> web.Response:
    return reply(await request.app[MODERATION].record(request.match_info["code"]))


async def qr_code(request: web.Request) -> web.StreamResponse:
    """The participant link as an SVG QR code, for the big screen and printed posters."""
    try:
        event = await request.app[EVENTS].event(request.match_info["code"])
    except LiveError as exc:
        raise web.HTTPNotFound() from exc
    url = links(request.app[SETTINGS], event["code"])["participant"]
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=QR_SCALE, border=2, xmldecl=False)
    return web.Response(
        body=svg.getvalue(), content_type="image/svg+xml", headers={"Cache-Control": "no-cache"}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/e/{code}/moderate", event_page("moderate.html"))
    app.router.add_post("/e/{code}/moderate", moderator_login)
    app.router.add_get("/e/{code}/qr.svg", qr_code)
    app.router.add_get("/api/events/{code}/record", record)
    app.router.add_get("/api/events/{code}/moderator-sessions", list_sessions)
    app.router.add_delete("/api/events/{code}/moderator-sessions/{session_id}", revoke_session)

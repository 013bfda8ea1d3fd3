"""HTTP for stewards: plain form posts (Post/Redirect/Get) that work on any phone, with or
without JavaScript; a script may ask for the envelope instead with Accept: application/json."""

import logging
from urllib.parse import urlencode

from aiohttp import web
from pydantic import ValidationError

from live.domain import codes, errors
from live.domain.errors import LiveError
from live.domain.model import Attendance, Channel
from live.services.steward import Entry, Steward, StewardService
from live.transport import messages
from live.transport import moderation_schemas as schemas
from live.transport.http import MAX_BODY, SIGNINS, _require_organiser, api, event_page
from live.transport.http import refuse, reply, retry_after, set_private_cookie
from live.transport.moderation_http import MALFORMED_FORM
from live.transport.proxy import client_address

log = logging.getLogger(__name__)

STEWARDS: web.AppKey[StewardService] = web.AppKey("stewards", StewardService)


def steward_cookie(code: str) -> str:
    """One cookie per event, apart from the moderator's: a steward secret opens nothing else."""
    return f"live_steward_{code}"


def steward_target(code: str) -> str:
    """The sign-in target of an event's steward secret, limited apart from its moderators'."""
    return f"steward:{code}"


def _page(code: str, **query: object) -> str:
    page = f"/e/{code}/steward"
    return f"{page}?{urlencode(query)}" if query else page


async def _form(request: web.Request) -> dict:
    try:
        return dict(await request.post())
    except MALFORMED_FORM as exc:
        raise LiveError(errors.INVALID, "The form could not be read.") from exc
    except web.HTTPRequestEntityTooLarge as exc:
        raise LiveError(errors.INVALID, f"The form is larger than {MAX_BODY} bytes.") from exc


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


async def _steward(request: web.Request, code: str) -> Steward:
    return await request.app[STEWARDS].authenticate(code, request.cookies.get(steward_cookie(code)))


async def steward_login(request: web.Request) -> web.StreamResponse:
    """The sign-in form posts here; success sets the session cookie, failure says so on the page."""
    code = codes.normalise_code(request.match_info["code"])
    try:
        form = schemas.ModeratorLogin.model_validate(await _form(request))
        event, token = await request.app[SIGNINS].attempt(
            client_address(request),
            steward_target(code),
            lambda: request.app[STEWARDS].login(code, form.secret, form.pseudonym),
            costly=True,
        )
    except ValidationError:
        raise web.HTTPSeeOther(_page(code, failed=errors.INVALID))
    except LiveError as exc:
        if exc.code == errors.NOT_FOUND:
            raise web.HTTPNotFound()
        query = {"failed": exc.code, **(exc.details or {})}
        raise web.HTTPSeeOther(_page(code, **query), headers=retry_after(exc.details))
    response = web.HTTPSeeOther(_page(event["code"]))
    set_private_cookie(response, request, steward_cookie(event["code"]), token)
    raise response


async def enter(request: web.Request) -> web.StreamResponse:
    """One question from the entry form: the envelope for a script, else back to the page."""
    code = codes.normalise_code(request.match_info["code"])
    try:
        steward = await _steward(request, code)
        form = schemas.EntryForm.model_validate(await _form(request))
        data = await request.app[STEWARDS].enter(
            steward,
            Entry(
                text=form.text,
                channel=Channel(form.channel),
                attendance=Attendance(form.attendance),
                name=form.name,
                anonymous=not form.show_name,
                allow_duplicate=form.allow_duplicate,
            ),
        )
    except ValidationError as exc:
        if _wants_json(request):
            return web.json_response(messages.invalid(exc), status=400)
        raise web.HTTPSeeOther(_page(code, failed=errors.INVALID))
    except LiveError as exc:
        if _wants_json(request):
            return refuse(exc.code, exc.message, exc.details)
        if exc.code == errors.NOT_FOUND:
            raise web.HTTPNotFound()
        raise web.HTTPSeeOther(_page(code, failed=exc.code), headers=retry_after(exc.details))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("entering a question for %s failed", code, extra={"event": code})
        if _wants_json(request):
            return refuse(errors.INTERNAL, messages.INTERNAL_MESSAGE)
        raise web.HTTPSeeOther(_page(code, failed=errors.INTERNAL))
    if _wants_json(request):
        return reply(data)
    raise web.HTTPSeeOther(_page(code, entered=data["question"]["id"]))


async def sign_out(request: web.Request) -> web.StreamResponse:
    """End this browser's steward session and forget its cookie."""
    code = codes.normalise_code(request.match_info["code"])
    try:
        await request.app[STEWARDS].sign_out(await _steward(request, code))
    except LiveError as exc:
        if exc.code == errors.NOT_FOUND:
            raise web.HTTPNotFound()
    response = web.HTTPSeeOther(_page(code, signed_out=1))
    response.del_cookie(steward_cookie(code), path="/")
    raise response


@api
async def entries(request: web.Request) -> web.Response:
    code = codes.normalise_code(request.match_info["code"])
    return reply(await request.app[STEWARDS].entries(await _steward(request, code)))


@api
async def rotate_secret(request: web.Request) -> web.Response:
    await _require_organiser(request)
    secret = await request.app[STEWARDS].rotate_secret(request.match_info["code"])
    return reply({"steward_secret": secret})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/e/{code}/steward", event_page("steward.html"))
    app.router.add_post("/e/{code}/steward", steward_login)
    app.router.add_post("/e/{code}/steward/questions", enter)
    app.router.add_post("/e/{code}/steward/sign-out", sign_out)
    app.router.add_get("/api/events/{code}/steward/questions", entries)
    app.router.add_post("/api/events/{code}/steward-secret", rotate_secret)

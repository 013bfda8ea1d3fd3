"""The organisers' console at /organise: server-rendered forms over the services the API uses."""

import hmac
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from multidict import MultiDict

from live.domain import errors
from live.domain.errors import LiveError
from live.domain.text import clean
from live.services.organisers import Organiser, OrganiserService
from live.transport.http import SETTINGS, SIGNINS, STATUS_OF, retry_after
from live.transport.moderation_http import MALFORMED_FORM
from live.transport.proxy import client_address

log = logging.getLogger(__name__)

ORGANISE_TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey(
    "organise_templates", jinja2.Environment
)
ORGANISERS: web.AppKey[OrganiserService] = web.AppKey("organisers", OrganiserService)
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
COOKIE = "live_organiser"
CONSOLE = "/organise"
#: Longest name or password a sign-in form may send: argon2 hashes whatever it is given.
SIGN_IN_FIELD_MAX = 1024

Form = MultiDict[str]
Page = Callable[[web.Request, Organiser], Awaitable[web.StreamResponse]]
Action = Callable[[web.Request, Organiser, Form], Awaitable[web.StreamResponse]]


def render(
    request: web.Request, name: str, context: dict, status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A console page; never cached, since most show what only a signed-in organiser may see."""
    response = aiohttp_jinja2.render_template(
        f"organise/{name}", request, context, app_key=ORGANISE_TEMPLATES, status=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def refusal(
    request: web.Request, status: int, title: str, message: str,
    organiser: Organiser | None = None,
) -> web.Response:
    return render(
        request, "refused.html",
        {"title": title, "message": message, "organiser": organiser}, status,
    )


async def signed_in(request: web.Request) -> Organiser | None:
    return await request.app[ORGANISERS].session(request.cookies.get(COOKIE, ""))


async def read_form(request: web.Request) -> Form:
    """The form's text fields; a body that is not a well-formed form raises LiveError."""
    try:
        fields = await request.post()
    except MALFORMED_FORM as exc:
        raise LiveError(errors.INVALID, "The form could not be read.") from exc
    return MultiDict((k, v) for k, v in fields.items() if isinstance(v, str))


def _answering(handler: Callable[..., Awaitable[web.StreamResponse]]):
    """Every console route answers with a page, even when something unforeseen went wrong."""

    async def run(request: web.Request, *args: object) -> web.StreamResponse:
        try:
            return await handler(request, *args)
        except (web.HTTPException, ConnectionError):
            raise
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return refusal(
                request, 500, "Something went wrong",
                "The server could not do that. Nothing was changed; try again in a moment.",
            )

    return run


def page(handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A page for signed-in organisers; anyone else is sent to the sign-in form."""

    @_answering
    async def run(request: web.Request) -> web.StreamResponse:
        organiser = await signed_in(request)
        if organiser is None:
            raise web.HTTPSeeOther(CONSOLE)
        return await handler(request, organiser)

    return run


def action(handler: Action) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A state-changing form: a live session and that session's CSRF token, or a 403 page."""

    @_answering
    async def run(request: web.Request) -> web.StreamResponse:
        organiser = await signed_in(request)
        if organiser is None:
            return refusal(
                request, 403, "You are signed out",
                "Your console session has ended or was signed out. Sign in again, then repeat "
                "what you were doing.",
            )
        try:
            form = await read_form(request)
        except LiveError as exc:
            return refusal(request, 400, "The form could not be read", exc.message, organiser)
        if not hmac.compare_digest(form.popall("csrf", [""])[0].encode(), organiser.csrf.encode()):
            return refusal(
                request, 403, "This form has expired",
                "It did not come from your current console session, so nothing was changed. "
                "Go back, reload the page and try again.",
                organiser,
            )
        return await handler(request, organiser, form)

    return run


@_answering
async def console(request: web.Request) -> web.StreamResponse:
    """The sign-in form, or for a signed-in organiser the list of events."""
    organiser = await signed_in(request)
    if organiser is None:
        notice = "You are signed out." if "signed_out" in request.query else None
        return render(request, "sign_in.html", {"name": "", "notice": notice})
    return render(request, "events.html", {"organiser": organiser})


@_answering
async def sign_in(request: web.Request) -> web.StreamResponse:
    """Name and password for a session cookie; rate-limited per address and per account."""
    try:
        form = await read_form(request)
    except LiveError as exc:
        return render(request, "sign_in.html", {"name": "", "error": exc.message}, 400)
    name, password = form.get("name", ""), form.get("password", "")
    shown = name[:SIGN_IN_FIELD_MAX]
    if not clean(name) or not password or max(len(name), len(password)) > SIGN_IN_FIELD_MAX:
        return render(
            request, "sign_in.html", {"name": shown, "error": "Give your name and password."}, 400
        )
    try:
        _, token = await request.app[SIGNINS].attempt(
            client_address(request),
            f"organiser:{clean(name).casefold()}",
            lambda: request.app[ORGANISERS].sign_in(name, password),
            costly=True,
        )
    except LiveError as exc:
        return render(
            request, "sign_in.html", {"name": shown, "error": exc.message},
            STATUS_OF.get(exc.code, 400), retry_after(exc.details),
        )
    response = web.HTTPSeeOther(CONSOLE)
    response.set_cookie(
        COOKIE, token, path="/", httponly=True, samesite="Strict",
        secure=request.app[SETTINGS].base_url().startswith("https://"),
    )
    raise response


def _signed_out() -> web.HTTPSeeOther:
    response = web.HTTPSeeOther(f"{CONSOLE}?signed_out=1")
    response.del_cookie(COOKIE, path="/")
    return response


@action
async def sign_out(request: web.Request, organiser: Organiser, form: Form) -> web.StreamResponse:
    await request.app[ORGANISERS].sign_out(organiser)
    raise _signed_out()


@action
async def sign_out_everywhere(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    """For a lost phone or a shared computer: every session of this account ends."""
    await request.app[ORGANISERS].sign_out_everywhere(organiser)
    raise _signed_out()


def setup(app: web.Application) -> None:
    """The console's own template environment, apart from the participant pages' one."""
    aiohttp_jinja2.setup(
        app,
        app_key=ORGANISE_TEMPLATES,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(default=True),
    )
    app.router.add_get(CONSOLE, console)
    app.router.add_post(f"{CONSOLE}/sign-in", sign_in)
    app.router.add_post(f"{CONSOLE}/sign-out", sign_out)
    app.router.add_post(f"{CONSOLE}/sign-out-everywhere", sign_out_everywhere)

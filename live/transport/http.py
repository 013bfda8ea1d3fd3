"""HTTP: the pages, the public event info, the organiser API and the health check."""

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import hdrs, web
from pydantic import ValidationError

from live.domain import errors
from live.domain.errors import LiveError
from live.domain.model import EventState, ModerationMode
from live.domain.schedule import FIELDS as SCHEDULE_FIELDS
from live.domain.views import public_event
from live.domain.polls import Audience, PollState, ResultsVisibility
from live.domain.stream import Embed, EmbedKind
from live.services.events import EventService
from live.services.limits import SignInGuard
from live.services.polls import PollService
from live.services.qa import QAService
from live.settings import Settings
from live.transport import messages, schemas
from live.transport.assets import StaticFiles, accepted_codings
from live.transport.proxy import client_address
from live.transport.wire import SOCKET_PATH

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
MAX_BODY = 64 * 1024
#: Below this a gzipped body saves nothing worth the client's work.
MIN_COMPRESSED_SIZE = 256
#: The content types gzip shrinks; images and fonts here are already compressed.
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")

CSP_DIRECTIVES = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(CSP_DIRECTIVES)
#: The directive that lets a page play an embedded stream, by the kind of player.
STREAM_DIRECTIVE = {EmbedKind.FRAME: "frame-src", EmbedKind.VIDEO: "media-src"}

STATUS_OF = {
    errors.INVALID: 400,
    errors.FORBIDDEN: 403,
    errors.NOT_FOUND: 404,
    errors.CONFLICT: 409,
    errors.CLOSED: 409,
    errors.NOT_STARTED: 409,
    errors.RATE_LIMITED: 429,
    errors.INTERNAL: 500,
    errors.UNAVAILABLE: 503,
}

EVENTS: web.AppKey[EventService] = web.AppKey("events", EventService)
POLLS: web.AppKey[PollService] = web.AppKey("polls", PollService)
QA: web.AppKey[QAService] = web.AppKey("qa", QAService)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
SIGNINS: web.AppKey[SignInGuard] = web.AppKey("signins", SignInGuard)
ASSETS: web.AppKey[StaticFiles] = web.AppKey("assets", StaticFiles)
#: The sign-in target the organiser token guards: the whole organiser API.
ORGANISER_TARGET = "organiser"
#: "off" (one process), "ok" or "down": whether this worker hears the others through Redis.
REDIS_STATUS: web.AppKey[Callable[[], str]] = web.AppKey("redis_status")
#: The "no event has this code" page, in the visitor's language (set by the pages module).
NOT_FOUND: web.AppKey[Callable[[web.Request, str], web.Response]] = web.AppKey("not_found")


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response as it is prepared: a streamed one has sent its headers before its
    handler returns, too early for a middleware."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")


async def revalidate_documents(request: web.Request, response: web.StreamResponse) -> None:
    """An HTML document carries live state: a browser asks again before showing it, whoever
    rendered it (the static files it refers to are cached by their versioned URLs)."""
    if response.content_type == "text/html":
        response.headers.setdefault(hdrs.CACHE_CONTROL, "no-cache")


@web.middleware
async def compress(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Gzip every text response that is whole when its handler returns. A streamed one is on
    the wire already, and engine.io compresses its own long-polling replies."""
    response = await handler(request)
    if (
        isinstance(response, web.Response)
        and not response.prepared
        and not request.path.startswith(SOCKET_PATH)
        and hdrs.CONTENT_ENCODING not in response.headers
        and response.content_type.startswith(COMPRESSIBLE)
        and (response.content_length or 0) >= MIN_COMPRESSED_SIZE
    ):
        vary = response.headers.get(hdrs.VARY)
        response.headers[hdrs.VARY] = f"{vary}, {hdrs.ACCEPT_ENCODING}" if vary else hdrs.ACCEPT_ENCODING
        if "gzip" in accepted_codings(request):
            response.enable_compression(web.ContentCoding.gzip)
    return response


def content_security_policy(stream: Embed | None) -> str:
    """The policy, allowing exactly the origin of the stream the page plays, if any."""
    if stream is None:
        return CONTENT_SECURITY_POLICY
    return "; ".join((*CSP_DIRECTIVES, f"{STREAM_DIRECTIVE[stream.kind]} {stream.origin}"))


def set_private_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, *,
    samesite: str = "Strict", max_age: int | None = None,
) -> None:
    """A cookie scripts cannot read, sent over https only when the server is reached by https."""
    response.set_cookie(
        name, value, path="/", max_age=max_age, httponly=True, samesite=samesite,
        secure=request.app[SETTINGS].base_url().startswith("https://"),
    )


def reply(data: object, status: int = 200) -> web.Response:
    return web.json_response(messages.ok(data), status=status)


def refuse(code: str, message: str, details: dict | None = None) -> web.Response:
    return web.json_response(
        messages.error(code, message, details),
        status=STATUS_OF.get(code, 400),
        headers=retry_after(details),
    )


def retry_after(details: dict | None) -> dict[str, str]:
    """A rate limit's wait as the Retry-After header, for clients that read only headers."""
    if details and "retry_after" in details:
        return {"Retry-After": str(details["retry_after"])}
    return {}


def api(handler: Callable[[web.Request], Awaitable[web.Response]]):
    """Turn validation and domain errors into the envelope with a matching HTTP status, and a
    server fault (a full disk) into the `internal` envelope rather than aiohttp's text page."""

    async def run(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ValidationError as exc:
            return web.json_response(messages.invalid(exc), status=400)
        except LiveError as exc:
            return refuse(exc.code, exc.message, exc.details)
        except (web.HTTPException, ConnectionError):
            raise
        except Exception:
            log.exception("%s %s failed", request.method, request.path,
                          extra={"event": request.match_info.get("code")})
            return refuse(errors.INTERNAL, messages.INTERNAL_MESSAGE)

    return run


async def _json_body(request: web.Request) -> object:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise LiveError(errors.INVALID, f"The request body is larger than {MAX_BODY} bytes.")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise LiveError(errors.INVALID, f"The request body is larger than {MAX_BODY} bytes.")
    try:
        return json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise LiveError(errors.INVALID, "The request body is not valid JSON.") from exc


async def _require_organiser(request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    settings = request.app[SETTINGS]
    refusal = LiveError(errors.FORBIDDEN, "A valid organiser token is required.")
    if scheme.lower() != "bearer" or not token.strip():
        raise refusal

    async def check() -> None:
        events = request.app[EVENTS]
        if not await events.organiser_token_ok(token.strip(), settings.organiser_token):
            raise refusal

    await request.app[SIGNINS].attempt(client_address(request), ORGANISER_TARGET, check)


def links(settings: Settings, code: str) -> dict:
    base = settings.base_url()
    return {
        "participant": f"{base}/e/{code}",
        "moderator": f"{base}/e/{code}/moderate",
        "screen": f"{base}/e/{code}/screen",
        "steward": f"{base}/e/{code}/steward",
    }


def organiser_view(settings: Settings, event: dict) -> dict:
    return {**public_event(event), "seq": event["seq"], "links": links(settings, event["code"])}


@api
async def create_event(request: web.Request) -> web.Response:
    await _require_organiser(request)
    payload = schemas.EventCreate.model_validate(await _json_body(request))
    created = await request.app[EVENTS].create(
        title=payload.title,
        code=payload.code,
        description=payload.description,
        stream_url=payload.stream_url,
        moderation=ModerationMode(payload.moderation),
        schedule={name: getattr(payload, name) for name in SCHEDULE_FIELDS},
    )
    data = {
        "event": organiser_view(request.app[SETTINGS], created.event),
        "moderator_secret": created.moderator_secret,
        "screen_token": created.screen_token,
        "steward_secret": created.steward_secret,
    }
    return reply(data, status=201)


@api
async def list_events(request: web.Request) -> web.Response:
    await _require_organiser(request)
    events = await request.app[EVENTS].all()
    return reply([organiser_view(request.app[SETTINGS], e) for e in events])


@api
async def get_event(request: web.Request) -> web.Response:
    event = await request.app[EVENTS].event(request.match_info["code"])
    return reply(public_event(event))


@api
async def update_event(request: web.Request) -> web.Response:
    await _require_organiser(request)
    payload = schemas.EventUpdate.model_validate(await _json_body(request))
    fields = {
        name: getattr(payload, name)
        for name in payload.model_fields_set
        if getattr(payload, name) is not None or name in schemas.CLEARABLE
    }
    event = await request.app[EVENTS].update(request.match_info["code"], fields)
    return reply(organiser_view(request.app[SETTINGS], event))


def _set_state(state: EventState):
    @api
    async def handler(request: web.Request) -> web.Response:
        await _require_organiser(request)
        event = await request.app[EVENTS].set_state(request.match_info["code"], state)
        return reply(organiser_view(request.app[SETTINGS], event))

    return handler


async def health(request: web.Request) -> web.Response:
    """503 only when the database cannot be read or cannot take writes: without Redis a worker
    still serves its own clients."""
    try:
        await request.app[EVENTS].all()
        problem = await request.app[EVENTS].cannot_write()
    except Exception as exc:
        problem = str(exc)
    if problem is not None:
        return web.json_response(
            messages.error(errors.UNAVAILABLE, f"database: {problem}"), status=503
        )
    return reply({"database": "ok", "redis": request.app[REDIS_STATUS]()})


async def favicon(request: web.Request) -> web.StreamResponse:
    return await request.app[ASSETS].response(request, "favicon.svg")


def event_page(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Serve an event's page only when the code exists, so typos get a clear 404."""

    async def serve(request: web.Request) -> web.StreamResponse:
        try:
            await request.app[EVENTS].event(request.match_info["code"])
        except LiveError:
            return request.app[NOT_FOUND](request, request.match_info["code"])
        return request.app[ASSETS].page(name)

    return serve


@api
async def create_poll(request: web.Request) -> web.Response:
    await _require_organiser(request)
    payload = schemas.PollCreate.model_validate(await _json_body(request))
    event = await request.app[EVENTS].event(request.match_info["code"])
    poll = await request.app[POLLS].create(
        event["id"],
        schemas.poll_spec(payload),
        Audience(payload.audience),
        ResultsVisibility(payload.visibility),
    )
    return reply(poll, status=201)


@api
async def list_polls(request: web.Request) -> web.Response:
    await _require_organiser(request)
    event = await request.app[EVENTS].event(request.match_info["code"])
    return reply(await request.app[POLLS].for_staff(event["id"]))


def _poll_state(state: PollState):
    @api
    async def handler(request: web.Request) -> web.Response:
        await _require_organiser(request)
        event = await request.app[EVENTS].event(request.match_info["code"])
        try:
            poll_id = int(request.match_info["poll_id"])
        except ValueError as exc:
            raise LiveError(errors.NOT_FOUND, "No such poll.") from exc
        return reply(await request.app[POLLS].set_state(event["id"], poll_id, state))

    return handler


def add_routes(app: web.Application) -> None:
    app[ASSETS] = StaticFiles(STATIC_DIR)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/healthz", health)
    app.router.add_get("/api/events", list_events)
    app.router.add_post("/api/events", create_event)
    app.router.add_get("/api/events/{code}", get_event)
    app.router.add_patch("/api/events/{code}", update_event)
    app.router.add_post("/api/events/{code}/close", _set_state(EventState.CLOSED))
    app.router.add_post("/api/events/{code}/open", _set_state(EventState.OPEN))
    app.router.add_get("/api/events/{code}/polls", list_polls)
    app.router.add_post("/api/events/{code}/polls", create_poll)
    app.router.add_post("/api/events/{code}/polls/{poll_id}/open", _poll_state(PollState.OPEN))
    app.router.add_post("/api/events/{code}/polls/{poll_id}/close", _poll_state(PollState.CLOSED))
    app.router.add_get("/static/{path:.+}", app[ASSETS].serve)

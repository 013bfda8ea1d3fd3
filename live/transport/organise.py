"""The organisers' console at /organise: server-rendered forms over the services the API uses."""

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from multidict import MultiDict
from pydantic import ValidationError

from live import strings
from live.domain import errors, schedule
from live.domain.errors import LiveError
from live.domain.export import TABLES
from live.domain.model import EventState, ModerationMode
from live.domain.polls import Audience, PollState, ResultsVisibility
from live.domain.text import clean
from live.services.organisers import Organiser
from live.transport import record_schemas, schemas
from live.transport.http import EVENTS, POLLS, SETTINGS, SIGNINS, STATUS_OF, links, retry_after
from live.transport.http import set_private_cookie
from live.transport.moderation_http import MALFORMED_FORM, MODERATION
from live.transport.organiser_session import COOKIE, ORGANISERS, signed_in
from live.transport.proxy import client_address
from live.transport.record_http import RECORD
from live.transport.schedule_page import when
from live.transport.screen import ScreenSockets

log = logging.getLogger(__name__)

ORGANISE_TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey(
    "organise_templates", jinja2.Environment
)
SCREENS: web.AppKey[ScreenSockets] = web.AppKey("screens", ScreenSockets)
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
CONSOLE = "/organise"
#: Longest name or password a sign-in form may send: argon2 hashes whatever it is given.
SIGN_IN_FIELD_MAX = 1024

#: What each filter of schemas.FilterName holds back, in the words of docs/MODERATION.md.
FILTERS = {
    "flood": "Flooding: many questions from one person in a short time",
    "offensive": "Offensive words",
    "blocked_term": "This event's blocked terms",
    "personal_data": "Personal data (phone numbers, email addresses)",
    "link": "Links",
    "shouting": "Shouting (mostly capital letters)",
    "repetition": "Repeated characters or words",
    "duplicate": "Near-duplicates of a question already asked",
}
MODES = {
    "post": "Post-moderation: published at once unless a filter holds a question",
    "pre": "Pre-moderation: every question waits for a moderator",
}
POLL_KINDS = {
    "single": "Single choice",
    "multiple": "Multiple choice",
    "rating": "Rating scale",
    "word_cloud": "Word cloud",
    "open_text": "Open text",
    "ranking": "Ranking",
}
AUDIENCES = {"everyone": "Everyone", "in_room": "Only people in the room"}
VISIBILITIES = {
    "live": "Shown to everyone as answers come in",
    "after_close": "Shown to everyone once the poll closes",
    "staff": "Shown only to moderators and organisers",
}
OUTCOMES = {
    "answered_live": "Answered live",
    "answered_in_writing": "Answered in writing",
    "referred": "Referred to another body",
    "declined": "Declined, with a reason",
    "open": "No outcome yet",
}
DISPOSE_FIELDS = ("disposition", "response", "referred_to", "due_date", "stream_time")
#: What one outcome given to several questions at once may carry: no single time in the stream.
BULK_FIELDS = ("disposition", "response", "referred_to", "due_date")
#: The public record's words, from its English table: the preview shows what the public reads.
RECORD_WORDS = strings.STRINGS["en"]["record"]
POLL_NUMBERS = ("max_choices", "scale_min", "scale_max", "max_entries")
POLL_DEFAULTS = {
    "kind": "single", "question": "", "options": "", "audience": "everyone", "visibility": "live",
    **{name: str(schemas.PollCreate.model_fields[name].default) for name in POLL_NUMBERS},
}

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


def acted(organiser: Organiser, what: str) -> None:
    """Every change made from the console names who made it, in the server's log."""
    log.info("organiser %r %s", organiser.name, what)


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
            log.exception("%s %s failed", request.method, request.path,
                          extra={"event": request.match_info.get("code")})
            return refusal(
                request, 500, "Something went wrong",
                "The server could not do that. Check whether it was done, then try again.",
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


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Each field's first problem, in words, to show beside it."""
    found: dict[str, str] = {}
    for problem in exc.errors(include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else "form"
        message = problem["msg"].removeprefix("Value error, ")
        found.setdefault(field, message[:1].upper() + message[1:] + ".")
    return found


def lines(text: str) -> list[str]:
    """A textarea's non-blank lines: one option, one blocked term per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


#: The schedule's fields as the event forms send them: text inputs and one checkbox.
SCHEDULE_INPUTS = ("starts_at", "ends_at", "captions_url", "sign_language_url")


def schedule_form(form: Form, zone: ZoneInfo) -> tuple[dict, dict, dict[str, str]]:
    """The schedule's part of an event form: as sent (to show again), as the payload model takes
    it (times read in the console's time zone), and any time that could not be read."""
    kept: dict = {name: form.get(name, "") for name in SCHEDULE_INPUTS}
    kept["advance_questions"] = form.get("advance_questions") == "1"
    data = dict(kept)
    problems: dict[str, str] = {}
    for name in ("starts_at", "ends_at"):
        try:
            data[name] = schedule.from_local(kept[name], zone)
        except ValueError as exc:
            problems[name] = f"{str(exc).capitalize()}."
    return kept, data, problems


def event_fields(event: dict, zone: ZoneInfo) -> dict:
    """An event's editable fields as its edit form shows them."""
    return {
        "title": event["title"],
        "description": event["description"],
        "stream_url": event["stream_url"] or "",
        "starts_at": schedule.local_input(event["starts_at"], zone),
        "ends_at": schedule.local_input(event["ends_at"], zone),
        "advance_questions": bool(event["advance_questions"]),
        "captions_url": event["captions_url"] or "",
        "sign_language_url": event["sign_language_url"] or "",
        "blocked_terms": "\n".join(json.loads(event["blocked_terms"])),
        "disabled_filters": json.loads(event["disabled_filters"]),
        "moderation": event["moderation_mode"],
    }


async def _events_page(
    request: web.Request, organiser: Organiser, status: int = 200, **context: object
) -> web.Response:
    events = await request.app[EVENTS].all()
    return render(request, "events.html", {
        "organiser": organiser,
        "events": list(reversed(events)),
        "modes": MODES,
        "create": {**dict.fromkeys(("title", "code", "description", "stream_url"), ""),
                   **dict.fromkeys(SCHEDULE_INPUTS, ""), "advance_questions": False,
                   "moderation": "post"},
        "zone": request.app[SETTINGS].time_zone,
        "create_errors": {},
        **context,
    }, status)


async def _event_page(
    request: web.Request, organiser: Organiser, status: int = 200, **context: object
) -> web.Response:
    event = await request.app[EVENTS].event(request.match_info["code"])
    polls = await request.app[POLLS].for_staff(event["id"])
    notice = {"saved": "Saved.", "poll": "Poll prepared: open it when the room is ready.",
              "closed": "The event is closed: it can be read but not changed.",
              "opened": "The event is open again."}.get(request.query.get("done", ""))
    return render(request, "event.html", {
        "organiser": organiser,
        "event": event,
        "links": links(request.app[SETTINGS], event["code"]),
        "polls": polls,
        "filters": FILTERS,
        "modes": MODES,
        "kinds": POLL_KINDS,
        "audiences": AUDIENCES,
        "visibilities": VISIBILITIES,
        "edit": event_fields(event, request.app[SETTINGS].zone),
        "zone": request.app[SETTINGS].time_zone,
        "edit_errors": {},
        "poll": POLL_DEFAULTS,
        "poll_errors": {},
        "notice": notice,
        "error": None,
        **context,
    }, status)


def _event_url(code: str, done: str = "", anchor: str = "") -> str:
    return f"{CONSOLE}/events/{code}" + (f"?done={done}" if done else "") + anchor


def event_route(handler: Callable[..., Awaitable[web.StreamResponse]]):
    """An event's page or form: an unknown code gets a 404 page, a refusal (a closed event, a
    poll already closed) the event's page with the reason on top."""

    async def run(request: web.Request, organiser: Organiser, *args: object) -> web.StreamResponse:
        try:
            return await handler(request, organiser, *args)
        except LiveError as exc:
            if exc.code != errors.NOT_FOUND:
                return await _event_page(
                    request, organiser, STATUS_OF.get(exc.code, 400), error=exc.message
                )
            return refusal(request, 404, "Not found", exc.message, organiser)

    return run


@_answering
async def console(request: web.Request) -> web.StreamResponse:
    """The sign-in form, or for a signed-in organiser the list of events."""
    organiser = await signed_in(request)
    if organiser is None:
        notice = "You are signed out." if "signed_out" in request.query else None
        return render(request, "sign_in.html", {"name": "", "notice": notice})
    return await _events_page(request, organiser)


@action
async def create_event(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    """A new event; its moderator secret and screen token are on this page and nowhere else."""
    kept = {name: form.get(name, "") for name in ("title", "code", "description", "stream_url")}
    kept["moderation"] = form.get("moderation", "post")
    timing, timing_data, unreadable = schedule_form(form, request.app[SETTINGS].zone)
    data = {**kept, **timing_data, "code": clean(kept["code"]) or None}
    kept.update(timing)
    try:
        if unreadable:
            return await _events_page(request, organiser, 400, create=kept, create_errors=unreadable)
        payload = schemas.EventCreate.model_validate(data)
        created = await request.app[EVENTS].create(
            title=payload.title,
            code=payload.code,
            description=payload.description,
            stream_url=payload.stream_url,
            moderation=ModerationMode(payload.moderation),
            schedule={name: getattr(payload, name) for name in schedule.FIELDS},
        )
    except ValidationError as exc:
        return await _events_page(
            request, organiser, 400, create=kept, create_errors=field_errors(exc)
        )
    except LiveError as exc:  # the code: malformed, taken, or no free one found
        return await _events_page(
            request, organiser, STATUS_OF.get(exc.code, 400), create=kept,
            create_errors={"code": exc.message},
        )
    acted(organiser, f"created event {created.event['code']}")
    return render(request, "created.html", {
        "organiser": organiser,
        "event": created.event,
        "links": links(request.app[SETTINGS], created.event["code"]),
        "moderator_secret": created.moderator_secret,
        "screen_token": created.screen_token,
    }, 201)


@page
@event_route
async def event_page(request: web.Request, organiser: Organiser) -> web.StreamResponse:
    return await _event_page(request, organiser)


@action
@event_route
async def edit_event(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    code = request.match_info["code"]
    kept = {name: form.get(name, "") for name in ("title", "description", "stream_url")}
    kept["blocked_terms"] = form.get("blocked_terms", "")
    enabled = form.getall("enabled_filters", [])
    kept["disabled_filters"] = [name for name in FILTERS if name not in enabled]
    timing, timing_data, unreadable = schedule_form(form, request.app[SETTINGS].zone)
    data = {**kept, **timing_data, "blocked_terms": lines(kept["blocked_terms"])}
    kept.update(timing)
    mode = form.get("moderation")
    if mode is not None:
        kept["moderation"] = mode
        if mode not in MODES:
            unreadable["moderation"] = "Choose pre-moderation or post-moderation."
    if unreadable:
        return await _event_page(request, organiser, 400, edit=kept, edit_errors=unreadable)
    try:
        payload = schemas.EventUpdate.model_validate(data)
        await request.app[EVENTS].update(
            code, {name: getattr(payload, name) for name in schemas.EventUpdate.model_fields}
        )
        if mode is not None:
            await request.app[MODERATION].set_mode_for_organiser(
                code, ModerationMode(mode), organiser.name
            )
    except ValidationError as exc:
        return await _event_page(request, organiser, 400, edit=kept, edit_errors=field_errors(exc))
    except LiveError as exc:  # the end put before the start kept: shown beside the form
        if exc.code != errors.INVALID:
            raise
        return await _event_page(request, organiser, 400, edit=kept, edit_errors={"form": exc.message})
    acted(organiser, f"edited event {code}: {', '.join(sorted(data))}")
    raise web.HTTPSeeOther(_event_url(code, "saved", "#edit"))


def _set_state(state: EventState):
    @action
    @event_route
    async def handler(request: web.Request, organiser: Organiser, form: Form) -> web.StreamResponse:
        code = request.match_info["code"]
        await request.app[EVENTS].set_state(code, state)
        acted(organiser, f"{'closed' if state is EventState.CLOSED else 'reopened'} event {code}")
        done = "closed" if state is EventState.CLOSED else "opened"
        raise web.HTTPSeeOther(_event_url(code, done))

    return handler


@action
@event_route
async def create_poll(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    """Prepare a poll ahead as a draft; the room sees it only once it is opened."""
    code = request.match_info["code"]
    kept = {name: form.get(name, POLL_DEFAULTS[name]) for name in POLL_DEFAULTS}
    data: dict = {**kept, "options": lines(kept["options"])}
    problems: dict[str, str] = {}
    for name in POLL_NUMBERS:
        try:
            data[name] = int(kept[name])
        except ValueError:
            problems[name] = "A whole number."
    try:
        if problems:
            raise LiveError(errors.INVALID, "Some fields need a whole number.")
        payload = schemas.PollCreate.model_validate(data)
        event = await request.app[EVENTS].event(code)
        poll = await request.app[POLLS].create(
            event["id"],
            schemas.poll_spec(payload),
            Audience(payload.audience),
            ResultsVisibility(payload.visibility),
        )
    except ValidationError as exc:
        return await _event_page(request, organiser, 400, poll=kept, poll_errors=field_errors(exc))
    except LiveError as exc:
        if exc.code == errors.NOT_FOUND:
            raise
        return await _event_page(
            request, organiser, STATUS_OF.get(exc.code, 400), poll=kept,
            poll_errors={**problems, "form": exc.message},
        )
    acted(organiser, f"prepared poll {poll['id']} in event {code}")
    raise web.HTTPSeeOther(_event_url(code, "poll", "#polls"))


def _poll_state(state: PollState):
    @action
    @event_route
    async def handler(request: web.Request, organiser: Organiser, form: Form) -> web.StreamResponse:
        code = request.match_info["code"]
        event = await request.app[EVENTS].event(code)
        poll_id = int(request.match_info["poll_id"])
        await request.app[POLLS].set_state(event["id"], poll_id, state)
        moved = "opened" if state is PollState.OPEN else "closed"
        acted(organiser, f"{moved} poll {poll_id} in event {code}")
        raise web.HTTPSeeOther(_event_url(code, anchor="#polls"))

    return handler


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
    set_private_cookie(response, request, COOKIE, token)
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


@action
@event_route
async def rotate_moderator_secret(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    """For a secret that leaked or a moderator who left: the old one and its sessions end."""
    event, secret = await request.app[EVENTS].rotate_moderator_secret(
        request.match_info["code"], organiser.name
    )
    acted(organiser, f"replaced the moderator secret of event {event['code']}")
    return render(request, "rotated.html", {
        "organiser": organiser, "event": event, "what": "moderator secret", "secret": secret,
        "links": links(request.app[SETTINGS], event["code"]),
    })


@action
@event_route
async def rotate_screen_token(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    """For a screen link that leaked: screens open with the old token are closed."""
    event, token = await request.app[EVENTS].rotate_screen_token(
        request.match_info["code"], organiser.name
    )
    await request.app[SCREENS].sign_out(event["id"])
    acted(organiser, f"replaced the screen token of event {event['code']}")
    return render(request, "rotated.html", {
        "organiser": organiser, "event": event, "what": "screen token", "secret": token,
        "links": links(request.app[SETTINGS], event["code"]),
    })


@page
@event_route
async def poster(request: web.Request, organiser: Organiser) -> web.StreamResponse:
    """An A4 sheet for the doors and tables: scan the code, or type the short address."""
    event = await request.app[EVENTS].event(request.match_info["code"])
    base = request.app[SETTINGS].base_url()
    return render(request, "poster.html", {
        "organiser": organiser, "event": event,
        "short": base.split("://", 1)[-1], "link": links(request.app[SETTINGS], event["code"]),
    })


def stream_seconds(text: str) -> int | None:
    """A time in the stream as typed, "1:02:03", "62:03" or "3723", in seconds."""
    if not text.strip():
        return None
    parts = text.strip().split(":")
    if len(parts) > 3 or not all(p.isdigit() and len(p) <= 6 for p in parts):
        raise ValueError("a time in the stream looks like 1:02:03, 62:03 or 3723")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds


async def _after_page(
    request: web.Request, organiser: Organiser, status: int = 200, **context: object
) -> web.Response:
    record = await request.app[RECORD].questions(request.match_info["code"])
    failed, kept = context.pop("failed", None), context.pop("kept", {})
    questions = sorted(record["questions"], key=lambda q: (-q["votes"], q["id"]))
    for question in questions:
        question["form"] = kept if question["id"] == failed else outcome_fields(question)
    notice = {"disposed": "Outcome saved."}.get(request.query.get("done", ""))
    if request.query.get("done") == "disposed_many":
        count = request.query.get("n", "")
        notice = f"Outcome saved for {count if count.isdigit() else 'the chosen'} questions."
    bulk = context.pop("bulk", None) or {
        **dict.fromkeys(BULK_FIELDS, ""),
        "chosen": [q["id"] for q in questions if q["disposition"] == "open"]
        if request.query.get("select") == "all" else [],
    }
    return render(request, "after.html", {
        "bulk": bulk,
        "bulk_errors": {},
        "organiser": organiser,
        "event": await request.app[EVENTS].event(request.match_info["code"]),
        "waiting": [q for q in questions if q["disposition"] == "open"],
        "settled": [q for q in questions if q["disposition"] != "open"],
        "outcomes": OUTCOMES,
        "given": {name: label for name, label in OUTCOMES.items() if name != "open"},
        "tables": list(TABLES),
        "failed": failed,
        "errors": {},
        "notice": notice,
        **context,
    }, status)


def outcome_fields(question: dict) -> dict:
    """A question's outcome as its form shows it, the time in the stream as h:mm:ss."""
    seconds = question["stream_time"]
    shown = "" if seconds is None else (
        f"{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}"
    )
    return {
        "disposition": question["disposition"],
        "response": question["response"] or "",
        "referred_to": question["referred_to"] or "",
        "due_date": question["due_date"] or "",
        "stream_time": shown,
    }


@page
@event_route
async def after_session(request: web.Request, organiser: Organiser) -> web.StreamResponse:
    """After the session: the questions still without an outcome, the record and the exports."""
    return await _after_page(request, organiser)


@action
@event_route
async def dispose(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    """Give one question its outcome, by the rules the API and the moderators follow."""
    code = request.match_info["code"]
    question_id = int(request.match_info["question_id"])
    kept = {name: form.get(name, "") for name in DISPOSE_FIELDS}
    data: dict = {name: kept[name] or None for name in DISPOSE_FIELDS}
    data["question_id"] = question_id
    try:
        data["stream_time"] = stream_seconds(kept["stream_time"])
        payload = record_schemas.Dispose.model_validate(data)
        event = await request.app[RECORD].event(code)
        await request.app[RECORD].dispose(
            event["id"], organiser.name, question_id, None, payload.outcome()
        )
    except ValueError as exc:
        problems = field_errors(exc) if isinstance(exc, ValidationError) else {
            "stream_time": str(exc)[:1].upper() + str(exc)[1:] + "."
        }
        return await _after_page(
            request, organiser, 400, failed=question_id, kept=kept, errors=problems
        )
    except LiveError as exc:
        if exc.code == errors.NOT_FOUND:
            raise
        return await _after_page(
            request, organiser, STATUS_OF.get(exc.code, 400), failed=question_id, kept=kept,
            errors={"form": exc.message},
        )
    acted(organiser, f"gave question {question_id} of {code} the outcome {payload.disposition}")
    raise web.HTTPSeeOther(f"{CONSOLE}/events/{code}/after?done=disposed#waiting-heading")


async def _series_page(
    request: web.Request, organiser: Organiser, status: int = 200, **context: object
) -> web.Response:
    event = await request.app[EVENTS].event(request.match_info["code"])
    members = await request.app[RECORD].series(event["series"]) if event["series"] else []
    known = sorted({e["series"] for e in await request.app[EVENTS].all() if e["series"]})
    done = request.query.get("done", "")
    count = request.query.get("n", "")
    notice = {
        "filed": f"Filed in the series {event['series']}." if event["series"] else "",
        "unfiled": "No longer in a series.",
        "carried": (f"Carried {count} {'question' if count == '1' else 'questions'} over "
                    f"from {request.query.get('from', 'the earlier event')[:32]}."
                    if count.isdigit() else ""),
    }.get(done) or None
    return render(request, "series.html", {
        "organiser": organiser,
        "event": event,
        "known": known,
        "sources": [m for m in members if m["id"] != event["id"]],
        "series": {"series": event["series"] or ""},
        "series_errors": {},
        "notice": notice,
        "error": None,
        **context,
    }, status)


@page
@event_route
async def series_page(request: web.Request, organiser: Organiser) -> web.StreamResponse:
    """The event's series, and carrying the unanswered questions of another of its events over."""
    return await _series_page(request, organiser)


@action
@event_route
async def set_series(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    """File the event in a series by name (a new name starts one), or take it out of its series."""
    code = request.match_info["code"]
    kept = {"series": form.get("series", "")}
    try:
        payload = record_schemas.SetSeries.model_validate(
            {"series": kept["series"].strip() or None}
        )
    except ValidationError as exc:
        return await _series_page(
            request, organiser, 400, series=kept, series_errors=field_errors(exc)
        )
    await request.app[RECORD].set_series(code, payload.series)
    acted(organiser, f"put event {code} in the series {payload.series}" if payload.series
          else f"took event {code} out of its series")
    done = "filed" if payload.series else "unfiled"
    raise web.HTTPSeeOther(f"{CONSOLE}/events/{code}/series?done={done}")


@action
@event_route
async def carry(request: web.Request, organiser: Organiser, form: Form) -> web.StreamResponse:
    """Copy another event's unanswered questions into this one, by the API's rules."""
    code = request.match_info["code"]
    try:
        payload = record_schemas.Carry.model_validate({"from_event": form.get("from_event", "")})
        result = await request.app[RECORD].carry(payload.from_event, code, organiser.name)
    except ValidationError:
        return await _series_page(request, organiser, 400, error="Choose the event to carry from.")
    except LiveError as exc:
        return await _series_page(
            request, organiser, STATUS_OF.get(exc.code, 400), error=exc.message
        )
    count = len(result["carried"])
    acted(organiser, f"carried {count} questions from event {payload.from_event} into {code}")
    raise web.HTTPSeeOther(
        f"{CONSOLE}/events/{code}/series?done=carried&n={count}&from={payload.from_event}"
    )


@page
@event_route
async def record_preview(request: web.Request, organiser: Organiser) -> web.StreamResponse:
    """The public record as the public will read it, with the words its page uses."""
    code = request.match_info["code"]
    record = await request.app[MODERATION].record(code)
    listed = await request.app[RECORD].questions(code)
    return render(request, "record.html", {
        "organiser": organiser,
        "event": await request.app[EVENTS].event(code),
        "record": record,
        "figures": RECORD_WORDS["figures"],
        "reasons": RECORD_WORDS["reasons"],
        "outcomes": RECORD_WORDS["dispositions"],
        "questions": sorted(listed["questions"], key=lambda q: (-q["votes"], q["id"])),
    })


def chosen_ids(form: Form) -> list[int]:
    """The ticked questions' ids, each once, in the order shown; anything else is ignored."""
    found: list[int] = []
    for value in form.getall("question_id", []):
        if value.isdigit() and len(value) <= 15 and int(value) not in found:
            found.append(int(value))
    return found


@action
@event_route
async def dispose_many(
    request: web.Request, organiser: Organiser, form: Form
) -> web.StreamResponse:
    """One outcome for every ticked question, in one write: all are saved, or none is."""
    code = request.match_info["code"]
    chosen = chosen_ids(form)
    bulk = {**{name: form.get(name, "") for name in BULK_FIELDS}, "chosen": chosen}
    data: dict = {name: bulk[name] or None for name in BULK_FIELDS}
    event = await request.app[RECORD].event(code)
    try:
        if not chosen:
            raise LiveError(errors.INVALID, "Tick at least one question to give it this outcome.")
        payloads = [
            record_schemas.Dispose.model_validate({**data, "question_id": question_id})
            for question_id in chosen
        ]
        await request.app[RECORD].dispose_many(
            event["id"], organiser.name, chosen, payloads[0].outcome()
        )
    except ValidationError as exc:
        return await _after_page(request, organiser, 400, bulk=bulk, bulk_errors=field_errors(exc))
    except LiveError as exc:
        return await _after_page(
            request, organiser, STATUS_OF.get(exc.code, 400), bulk=bulk,
            bulk_errors={"form": exc.message},
        )
    for question_id in chosen:
        acted(organiser, f"gave question {question_id} of {code} the outcome {data['disposition']}")
    raise web.HTTPSeeOther(
        f"{CONSOLE}/events/{code}/after?done=disposed_many&n={len(chosen)}#waiting-heading"
    )


def setup(app: web.Application) -> None:
    """The console's own template environment, apart from the participant pages' one."""
    environment = aiohttp_jinja2.setup(
        app,
        app_key=ORGANISE_TEMPLATES,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(default=True),
    )
    zone = app[SETTINGS].zone
    environment.filters["when"] = lambda instant: when(instant, zone)
    environment.filters["utc_time"] = lambda seconds: time.strftime("%H:%M:%S", time.gmtime(seconds))
    app.router.add_get(CONSOLE, console)
    app.router.add_post(f"{CONSOLE}/sign-in", sign_in)
    app.router.add_post(f"{CONSOLE}/sign-out", sign_out)
    app.router.add_post(f"{CONSOLE}/sign-out-everywhere", sign_out_everywhere)
    app.router.add_post(f"{CONSOLE}/events", create_event)
    app.router.add_get(f"{CONSOLE}/events/{{code}}", event_page)
    app.router.add_post(f"{CONSOLE}/events/{{code}}", edit_event)
    app.router.add_post(f"{CONSOLE}/events/{{code}}/close", _set_state(EventState.CLOSED))
    app.router.add_post(f"{CONSOLE}/events/{{code}}/open", _set_state(EventState.OPEN))
    app.router.add_post(f"{CONSOLE}/events/{{code}}/polls", create_poll)
    app.router.add_post(f"{CONSOLE}/events/{{code}}/moderator-secret", rotate_moderator_secret)
    app.router.add_post(f"{CONSOLE}/events/{{code}}/screen-token", rotate_screen_token)
    app.router.add_get(f"{CONSOLE}/events/{{code}}/poster", poster)
    app.router.add_get(f"{CONSOLE}/events/{{code}}/after", after_session)
    app.router.add_post(
        f"{CONSOLE}/events/{{code}}/questions/{{question_id:\\d{{1,15}}}}/disposition", dispose
    )
    app.router.add_post(f"{CONSOLE}/events/{{code}}/outcomes", dispose_many)
    app.router.add_get(f"{CONSOLE}/events/{{code}}/record", record_preview)
    app.router.add_get(f"{CONSOLE}/events/{{code}}/series", series_page)
    app.router.add_post(f"{CONSOLE}/events/{{code}}/series", set_series)
    app.router.add_post(f"{CONSOLE}/events/{{code}}/carry", carry)
    poll = f"{CONSOLE}/events/{{code}}/polls/{{poll_id:\\d{{1,15}}}}"
    app.router.add_post(f"{poll}/open", _poll_state(PollState.OPEN))
    app.router.add_post(f"{poll}/close", _poll_state(PollState.CLOSED))

"""The participant page, server-rendered: readable before scripts load, and usable without them.

Its forms post here, go through the same services and payload models as the socket commands and
redirect back (Post/Redirect/Get); a refusal re-renders the page with the error beside its form
and the person's text kept. The device is the HttpOnly device cookie, the one the socket reads.
"""

import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import hdrs, web
from markupsafe import Markup
from multidict import MultiDict, MultiDictProxy
from pydantic import ValidationError

from live import strings
from live.domain import codes, errors, tokens
from live.domain.errors import LiveError
from live.domain.model import Attendance, EventState, Sort
from live.domain.polls import Audience, PollState
from live.domain.stream import embed
from live.services.qa import Identity, QAService
from live.transport import messages, schemas
from live.transport.http import ASSETS, EVENTS, NOT_FOUND, POLLS, QA, SETTINGS, STATUS_OF
from live.transport.http import content_security_policy, set_private_cookie
from live.transport.moderation_http import MALFORMED_FORM
from live.transport.proxy import client_address
from live.transport.schedule_page import schedule_context
from live.transport.socket import device_cookie

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
#: A device cookie outlives any event series a person follows from one phone.
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600
NUMBER = re.compile(r"-?[0-9]{1,10}")
LANGUAGE_COOKIE = "lang"
#: A section's strings that only its template uses, left out of what its scripts get.
HTML_ONLY = "html"
#: The language a person chose stays chosen as long as their device cookie.
LANGUAGE_COOKIE_MAX_AGE = DEVICE_COOKIE_MAX_AGE
#: After these, focus is put in the Ask box (as the script does), not left on the reloaded page's body.
ASK_NEXT = {"joined", "asked", "asked_for_review"}


def setup(app: web.Application) -> None:
    """Jinja2 with autoescaping on: user text can only ever be text on these pages."""
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["static_url"] = app[ASSETS].url
    app[NOT_FOUND] = _not_found
    app.router.add_get("/", landing_page)
    app.router.add_get("/e", find_event)
    app.router.add_get("/e/{code}", participant_page)
    for name in SCRIPTED_PAGES:
        app.router.add_get(f"/e/{{code}}/{name}", _scripted_page(name))
    for name, form in FORMS.items():
        app.router.add_post(f"/e/{{code}}/{name}", _form_route(name, form))


def qa(request: web.Request) -> QAService:
    return request.app[QA]


def language(request: web.Request) -> str:
    return strings.negotiate(request.query.get("lang"), request.cookies.get(LANGUAGE_COOKIE),
                             request.headers.get(hdrs.ACCEPT_LANGUAGE, ""))


def _island(section: dict) -> Markup:
    """A page's strings for its scripts, as JSON in the page itself: no request of its own on a
    poor line, and not the ones only its template uses (`html`). `<` is escaped so no text can
    close the script element."""
    scripts = {key: value for key, value in section.items() if key != HTML_ONLY}
    data = json.dumps(scripts, ensure_ascii=False, separators=(",", ":"))
    return Markup(data.replace("<", "\\u003c"))


def render_page(
    request: web.Request, template: str, section: str, context: Mapping[str, object], *,
    path: str, status: int = 200,
) -> web.Response:
    """An audience page in the language chosen for this request, with links to the others that
    keep the rest of the query; choosing one by `?lang=` is kept in a cookie."""
    lang = language(request)
    table = strings.STRINGS[lang]
    query = [(k, v) for k, v in request.query.items() if k not in ("lang", "done", "at")]
    speech = {
        "lang": lang,
        "S": table[section],
        "C": table["common"],
        "languages": [
            {"code": code, "name": other.name, "href": f"{path}?{urlencode([*query, ('lang', code)])}"}
            for code, other in strings.LANGUAGES.items() if code != lang
        ],
        "fmt": lambda template, **values: strings.fill(template, values),
        "plural": lambda forms, count, **values: strings.plural(lang, forms, count, **values),
        "strings_json": _island(table[section]),
    }
    response = aiohttp_jinja2.render_template(template, request, {**speech, **context}, status=status)
    response.headers[hdrs.VARY] = "Accept-Language, Cookie"
    if request.query.get("lang") == lang and request.cookies.get(LANGUAGE_COOKIE) != lang:
        set_private_cookie(response, request, LANGUAGE_COOKIE, lang, samesite="Lax",
                           max_age=LANGUAGE_COOKIE_MAX_AGE)
    return response


async def landing_page(request: web.Request) -> web.Response:
    return render_page(request, "index.html", "index", {}, path="/")


#: Pages their scripts fill in, rendered here so they are in the visitor's language from the start.
SCRIPTED_PAGES = ("record", "report", "screen")


def _scripted_page(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        code = codes.normalise_code(request.match_info["code"])
        try:
            event = await request.app[EVENTS].event(code)
        except LiveError:
            return _not_found(request, code)
        return render_page(request, f"{name}.html", name, {"event": event}, path=request.path)

    return serve


async def find_event(request: web.Request) -> web.StreamResponse:
    """The landing page's code form, without scripts: to the event, or to a page that says why."""
    code = codes.normalise_code(request.query.get("code", "")[:32])
    try:
        event = await request.app[EVENTS].event(code)
    except LiveError:
        return _not_found(request, code)
    raise web.HTTPSeeOther(f"/e/{event['code']}")


def _not_found(request: web.Request, code: str) -> web.Response:
    path = request.path if request.method == hdrs.METH_GET else "/"
    return render_page(request, "404.html", "notFound", {"code": code}, path=path, status=404)


@dataclass(frozen=True)
class Visit:
    """One request to an event's page: the event, who it is for, and its device cookie."""

    event: dict
    identity: Identity
    device: str
    fresh: bool  # the device cookie is new: it goes out with the response


async def _visit(request: web.Request) -> Visit | None:
    """The event named in the path and this browser's device, or None for an unknown event."""
    code = codes.normalise_code(request.match_info["code"])
    cookie = request.cookies.get(device_cookie(code), "")
    fresh = not schemas.valid_device_token(cookie)
    device = tokens.new_token() if fresh else cookie
    try:
        event, identity = await qa(request).identify_device(code, device)
    except LiveError:
        return None
    return Visit(event, replace(identity, address=client_address(request)), device, fresh)


def _with_cookie(response: web.StreamResponse, request: web.Request, visit: Visit) -> None:
    if visit.fresh:
        set_private_cookie(response, request, device_cookie(visit.event["code"]), visit.device,
                           samesite="Lax", max_age=DEVICE_COOKIE_MAX_AGE)


async def participant_page(request: web.Request) -> web.StreamResponse:
    visit = await _visit(request)
    if visit is None:
        return _not_found(request, codes.normalise_code(request.match_info["code"]))
    done = request.query.get("done", "")
    notice = strings.STRINGS[language(request)]["event"]["html"]["notices"].get(done)
    return await _render(request, visit, notice=notice, ask_next=done in ASK_NEXT, acted=_acted(request))


@dataclass(frozen=True)
class Refusal:
    """A form's refusal, shown beside it with what the person sent."""

    where: str
    message: str
    fields: Mapping[str, str]
    duplicate: dict | None = None


async def _render(
    request: web.Request,
    visit: Visit,
    *,
    status: int = 200,
    notice: str | None = None,
    refusal: Refusal | None = None,
    ask_next: bool = False,
    acted: str = "",
) -> web.Response:
    sort = Sort.RECENT if request.query.get("sort") == Sort.RECENT else Sort.TOP
    snapshot, polls = await qa(request).snapshot_with(
        visit.identity, sort, request.app[POLLS].audience_reading(visit.identity))
    me = snapshot["me"]
    event = snapshot["event"]
    answers = {int(k): v["value"] for k, v in polls["answers"].items()}
    answered = set(answers)
    kept = refusal.fields if refusal else {}
    if refusal and refusal.where.startswith("poll-"):
        poll_id = int(refusal.where.removeprefix("poll-"))
        answers[poll_id] = _kept_answer(_poll(polls["polls"], poll_id), kept)
    is_open = event["state"] == EventState.OPEN
    stream = embed(event["stream_url"])
    context = {
        "event": event,
        "sort": sort.value,
        "questions": snapshot["questions"],
        "me": me,
        "votes": set(me["votes"]) if me else set(),
        "mine": {q["id"] for q in me["questions"]} if me else set(),
        "own": [q for q in reversed(me["questions"]) if q["status"] != "withdrawn"] if me else [],
        "polls": sorted(polls["polls"], key=lambda p: (
            p["state"] != PollState.OPEN, p["id"] in answered, -p["id"])),
        "waiting_polls": sum(1 for p in polls["polls"] if _waiting(p, me, answered)),
        "answers": answers,
        "can_act": me is not None and is_open,
        "is_open": is_open,
        "profile": request.query.get("profile") == "1" or (refusal and refusal.where == "join"),
        "csrf": tokens.form_token(visit.device),
        "op_id": tokens.new_token(12),
        "notice": notice,
        "ask_next": ask_next or (refusal is not None and refusal.where == "ask"),
        "acted": acted,
        "refusal": refusal,
        "kept": kept,
        "result_rows": result_rows,
        "can_answer": lambda poll: _can_answer(poll, me, is_open),
        "stream": stream,
        "schedule": schedule_context(visit.event, request.app[SETTINGS].zone),
    }
    response = render_page(request, "event.html", "event", context, path=f"/e/{event['code']}",
                           status=status)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = content_security_policy(stream)
    _with_cookie(response, request, visit)
    return response


def _can_answer(poll: dict, me: dict | None, is_open: bool) -> bool:
    return (
        is_open
        and me is not None
        and poll["state"] == PollState.OPEN
        and (poll["audience"] == Audience.EVERYONE or me["attendance"] == "in_room")
    )


def _waiting(poll: dict, me: dict | None, answered: set[int]) -> bool:
    """An open poll this person may answer and has not: what the switcher counts as "open"."""
    excluded = me is not None and poll["audience"] == Audience.IN_ROOM and me["attendance"] != "in_room"
    return poll["state"] == PollState.OPEN and poll["id"] not in answered and not excluded


def result_rows(poll: dict) -> list[tuple[str, int, int, int]]:
    """A poll's results as [label, everyone, in the room, online] rows, as poll-results.js has them."""
    r = poll["results"]
    parts = ("all", "in_room", "remote")
    kind = poll["kind"]
    if kind in ("single", "multiple"):
        return [(o, *(r[p]["counts"][i] for p in parts)) for i, o in enumerate(poll["options"])]
    if kind == "rating":
        return [(str(s), *(r[p]["counts"][i] for p in parts))
                for i, s in enumerate(r["all"]["scale"])]
    if kind == "ranking":
        rows = [(o, *(r[p]["scores"][i] for p in parts)) for i, o in enumerate(poll["options"])]
        return sorted(rows, key=lambda row: -row[1])
    if kind == "word_cloud":
        def count(part: str, word: str) -> int:
            return dict(map(tuple, r[part]["words"])).get(word, 0)

        return [(w, n, count("in_room", w), count("remote", w)) for w, n in r["all"]["words"]]
    return []


def _number(raw: object) -> object:
    """A form field that holds a whole number as that number; anything else as sent, for the
    strict payload model to refuse in its own words."""
    if isinstance(raw, str) and NUMBER.fullmatch(raw):
        return int(raw)
    return raw


def _first(fields: MultiDictProxy[str], consumed: set[str]) -> dict[str, str]:
    """The fields a form route does not read itself (the first of each name): the payload model
    refuses them, as it refuses extra fields on the socket."""
    return {k: fields[k] for k in fields.keys() if k not in consumed}


Handler = Callable[[web.Request, Identity, MultiDictProxy[str]], Awaitable[str]]


class FormProblem(LiveError):
    """A refusal the form route finds itself, worded by its key in the page's string table."""

    def __init__(self, key: str, **values: object) -> None:
        default = strings.STRINGS[strings.DEFAULT]["event"]["errors"][key]
        super().__init__(errors.INVALID, strings.fill(default, values))
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Form:
    """A form route: where its errors show on the page, and what it does."""

    where: Callable[[MultiDictProxy[str]], str]
    run: Handler


async def _join(request: web.Request, identity: Identity, fields: MultiDictProxy[str]) -> str:
    if not fields.get("attendance"):
        raise FormProblem("chooseWhere")
    payload = schemas.Join.model_validate(
        {"name": fields.get("name") or None, **_first(fields, {"csrf", "name"})}
    )
    await qa(request).join(identity, Attendance(payload.attendance), payload.name)
    return "joined"


def _flag(raw: str | None) -> object:
    return {None: False, "1": True}.get(raw, raw)


async def _ask(request: web.Request, identity: Identity, fields: MultiDictProxy[str]) -> str:
    rest = _first(fields, {"csrf", "anonymous", "allow_duplicate", "op_id"})
    payload = schemas.Ask.model_validate({
        **rest,
        "anonymous": _flag(fields.get("anonymous")),
        "allow_duplicate": _flag(fields.get("allow_duplicate")),
        "op_id": fields.get("op_id") or None,
    })
    result = await qa(request).ask(
        identity, payload.text, payload.anonymous, payload.op_id, payload.allow_duplicate
    )
    return "asked_for_review" if result["mine"]["status"] == "pending" else "asked"


async def _vote(request: web.Request, identity: Identity, fields: MultiDictProxy[str]) -> str:
    direction = fields.get("vote")
    if direction not in ("up", "down"):
        raise LiveError(errors.INVALID, "vote: up or down.")
    payload = schemas.Vote.model_validate({
        **_first(fields, {"csrf", "vote", "question_id", "op_id"}),
        "question_id": _number(fields.get("question_id")),
        "op_id": fields.get("op_id") or None,
    })
    result = await qa(request).vote(identity, payload.question_id, direction == "up", payload.op_id)
    return "voted" if result["voted"] else "unvoted"


async def _withdraw(request: web.Request, identity: Identity, fields: MultiDictProxy[str]) -> str:
    payload = schemas.QuestionRef.model_validate({
        **_first(fields, {"csrf", "question_id"}),
        "question_id": _number(fields.get("question_id")),
    })
    await qa(request).withdraw(identity, payload.question_id)
    return "withdrawn"


def _poll(polls: list[dict], poll_id: int) -> dict:
    for poll in polls:
        if poll["id"] == poll_id:
            return poll
    raise LiveError(errors.NOT_FOUND, f"No poll {poll_id} is open in this event.")


def _kept_answer(poll: dict, fields: Mapping[str, str]) -> object:
    """What the person chose, to show again beside a refusal: the form's value as best read."""
    try:
        return _answer_value(poll, fields)
    except LiveError:
        return None


def _answer_value(poll: dict, fields: Mapping[str, str]) -> object:
    """The form's answer in the shape the socket's `answer` carries for this kind of poll."""
    kind = poll["kind"]
    if kind == "ranking":
        count = len(poll["options"])
        places = [_number(fields.get(f"place-{i}", "")) for i in range(count)]
        if not all(isinstance(p, int) for p in places) or sorted(places) != list(range(1, count + 1)):
            raise FormProblem("places", count=count)
        return sorted(range(count), key=lambda i: places[i])
    getall = getattr(fields, "getall", None)
    values = getall("value", []) if getall else [fields.get("value", "")]
    values = [v for v in values if v.strip()]
    if not values:
        raise FormProblem("answerFirst")
    if kind in ("single", "rating"):
        return _number(values[0])
    if kind == "multiple":
        return [_number(v) for v in values]
    if kind == "word_cloud":
        return values
    return values[0]


async def _answer(request: web.Request, identity: Identity, fields: MultiDictProxy[str]) -> str:
    poll_id = _number(fields.get("poll_id"))
    if not isinstance(poll_id, int):
        raise LiveError(errors.INVALID, "poll_id: a poll's number.")
    polls = await request.app[POLLS].for_audience(identity)
    payload = schemas.Answer.model_validate({
        "poll_id": poll_id,
        "value": _answer_value(_poll(polls["polls"], poll_id), fields),
        "op_id": fields.get("op_id") or None,
    })
    result = await request.app[POLLS].answer(identity, payload.poll_id, payload.value, payload.op_id)
    return "answered" if result["counted"] else "answer_held"


def _question_where(fields: MultiDictProxy[str]) -> str:
    found = _number(fields.get("question_id"))
    return f"q-{found}" if isinstance(found, int) else "questions"


def _poll_where(fields: MultiDictProxy[str]) -> str:
    found = _number(fields.get("poll_id"))
    return f"poll-{found}" if isinstance(found, int) else "polls"


FORMS = {
    "join": Form(lambda _: "join", _join),
    "ask": Form(lambda _: "ask", _ask),
    "vote": Form(_question_where, _vote),
    "withdraw": Form(_question_where, _withdraw),
    "answer": Form(_poll_where, _answer),
}
#: Where a form's redirect lands; join and ask land on the top, where the notice and the Ask box are.
ANCHORS = {"withdraw": "questions"}
#: After these, focus goes back to the control the person used, by autofocus (which a fragment
#: in the URL would cancel), so it never falls to the reloaded page's body.
REFOCUS = {"vote", "answer"}
ACTED = re.compile(r"(q|poll)-[0-9]{1,10}")


def _acted(request: web.Request) -> str:
    """The question or poll a form just acted on, named by the redirect's `at`."""
    at = request.query.get("at", "")
    return at if ACTED.fullmatch(at) else ""


def _said(said: Mapping[str, str], exc: LiveError) -> str:
    """A refusal in the page's language: by its own key, or by its code with the protocol's
    (English) message for the table to quote or replace."""
    if isinstance(exc, FormProblem):
        return strings.fill(said[exc.key], exc.values)
    return strings.fill(said.get(exc.code, "{message}"), {"message": exc.message})


def _form_route(name: str, form: Form) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def post(request: web.Request) -> web.StreamResponse:
        said = strings.STRINGS[language(request)]["event"]["errors"]
        visit = await _visit(request)
        if visit is None:
            return _not_found(request, codes.normalise_code(request.match_info["code"]))
        try:
            fields = await request.post()
        except MALFORMED_FORM:
            return await _render(request, visit, status=400, notice=said["unreadable"])
        expected = tokens.form_token(visit.device)
        if visit.fresh or not hmac.compare_digest(fields.get("csrf", ""), expected):
            return await _render(request, visit, status=403, notice=said["expired"])
        where = form.where(fields)
        try:
            done = await form.run(request, visit.identity, fields)
        except ValidationError as exc:
            message = strings.fill(said[errors.INVALID], messages.invalid(exc)["error"])
            refusal = Refusal(where, message, _kept(fields))
            return await _render(request, visit, status=400, refusal=refusal)
        except LiveError as exc:
            duplicate = (exc.details or {}).get("duplicate_of") if exc.code == errors.CONFLICT else None
            refusal = Refusal(where, _said(said, exc), _kept(fields), duplicate)
            return await _render(request, visit, status=STATUS_OF.get(exc.code, 400), refusal=refusal)
        query = {"done": done, **({"at": where} if name in REFOCUS else {})}
        fragment = f"#{ANCHORS[name]}" if ANCHORS.get(name) else ""
        raise web.HTTPSeeOther(f"/e/{visit.event['code']}?{urlencode(query)}{fragment}")

    return post


def _kept(fields: MultiDictProxy[str]) -> MultiDict[str]:
    """The sent fields (all values of a repeated one, for answers), to fill the form again."""
    return MultiDict((k, v) for k, v in fields.items() if k != "csrf" and isinstance(v, str))

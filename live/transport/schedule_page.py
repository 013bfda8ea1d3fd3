"""What an event's page says of its schedule before the start, and its calendar file (RFC 5545)."""

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
from aiohttp import web

from live.domain import codes
from live.domain.errors import LiveError
from live.domain.schedule import asking_closed, iso, not_started
from live.transport.http import EVENTS, SETTINGS, links


def when(instant: float, zone: ZoneInfo) -> str:
    """"Thursday 10 December 2026, 09:30 GMT", as the (English) console lists an event's start."""
    moment = datetime.fromtimestamp(instant, zone)
    return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M %Z}"


def parts(instant: float | None, zone: ZoneInfo) -> dict | None:
    """An instant's date and time in pieces, for a page to name the day and month in its language."""
    if instant is None:
        return None
    moment = datetime.fromtimestamp(instant, zone)
    return {"weekday": moment.weekday(), "day": moment.day, "month": moment.month,
            "year": moment.year, "time": f"{moment:%H:%M}", "zone": moment.tzname()}


def schedule_context(event: dict, zone: ZoneInfo, now: float | None = None) -> dict:
    """The schedule's part of the participant page, from the event's stored row."""
    now = time.time() if now is None else now
    starts, ends = event["starts_at"], event["ends_at"]
    return {
        "starts": iso(starts),
        "starts_parts": parts(starts, zone),
        "ends": iso(ends),
        "ends_parts": parts(ends, zone),
        "before_start": not_started(event, now),
        "asking_closed": asking_closed(event, now),
        "captions_url": event["captions_url"],
        "sign_language_url": event["sign_language_url"],
    }


def calendar_file(event: dict, url: str, host: str) -> bytes:
    """One VEVENT whose UID stays the same for the event, so a second download updates the first."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//live//event calendar//EN")
    calendar.add("version", "2.0")
    entry = icalendar.Event()
    entry.add("uid", f"event-{event['id']}-{event['code']}@{host}")
    entry.add("dtstamp", datetime.now(UTC))
    entry.add("dtstart", datetime.fromtimestamp(event["starts_at"], UTC))
    if event["ends_at"] is not None:
        entry.add("dtend", datetime.fromtimestamp(event["ends_at"], UTC))
    entry.add("summary", event["title"])
    about = event["description"].strip()
    entry.add("description", f"{about}\n\n{url} (code {event['code']})".strip())
    entry.add("url", url)
    calendar.add_component(entry)
    return calendar.to_ical()


async def event_calendar(request: web.Request) -> web.Response:
    code = codes.normalise_code(request.match_info["code"])
    try:
        event = await request.app[EVENTS].event(code)
    except LiveError:
        raise web.HTTPNotFound(text=f"No event has the code {code}.") from None
    if event["starts_at"] is None:
        raise web.HTTPNotFound(text="This event has no scheduled start yet.")
    settings = request.app[SETTINGS]
    url = links(settings, event["code"])["participant"]
    body = calendar_file(event, url, settings.base_url().partition("://")[2] or "live")
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event["code"]}.ics"',
            "Cache-Control": "no-cache",
        },
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/e/{code}/event.ics", event_calendar)

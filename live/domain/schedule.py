"""An event's schedule: instants in UTC, whether it has started, and when asking opens."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

#: The fields that say when an event runs and what goes with its stream.
FIELDS = ("starts_at", "ends_at", "advance_questions", "captions_url", "sign_language_url")
#: Years a scheduled instant may fall in: outside them it is a typing slip, not a plan.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


def parse_instant(raw: str) -> float:
    """An ISO 8601 date and time with its offset ("2026-12-10T09:30:00Z") as seconds since 1970."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(
            "a scheduled time is an ISO 8601 date and time with its offset, "
            "such as 2026-12-10T09:30:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ValueError("a scheduled time needs its offset from UTC, such as Z or +01:00")
    if not EARLIEST_YEAR <= moment.astimezone(UTC).year <= LATEST_YEAR:
        raise ValueError(f"a scheduled time falls between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return moment.timestamp()


def from_local(raw: str, zone: ZoneInfo) -> str:
    """A form's datetime-local value ("2026-12-10T09:30"), read in the given time zone, as ISO
    8601 with its offset; an empty field stays empty."""
    if not raw.strip():
        return ""
    unreadable = ValueError("a scheduled time is a date and a time, such as 2026-12-10 09:30")
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise unreadable from None
    if moment.tzinfo is not None:
        raise unreadable
    return moment.replace(tzinfo=zone).isoformat()


def iso(instant: float | None) -> str | None:
    """Seconds since 1970 as the API writes them: UTC, to the second, ending in Z."""
    if instant is None:
        return None
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_input(instant: float | None, zone: ZoneInfo) -> str:
    """The value a datetime-local input shows for an instant, in the given time zone."""
    if instant is None:
        return ""
    return datetime.fromtimestamp(instant, zone).strftime("%Y-%m-%dT%H:%M")


def check_order(starts_at: float | None, ends_at: float | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValueError("an event ends after it starts")


def not_started(event: dict, now: float) -> bool:
    return event["starts_at"] is not None and now < event["starts_at"]


def asking_closed(event: dict, now: float) -> bool:
    """Before its start an event takes questions only if its organisers allowed them in advance."""
    return not_started(event, now) and not event["advance_questions"]

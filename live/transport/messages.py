"""The one envelope every ack and every API reply uses."""

import logging
from collections.abc import Awaitable, Callable

import socketio
from pydantic import ValidationError

from live.domain import errors
from live.domain.errors import LiveError

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Something went wrong on the server."


def ok(data: object = None) -> dict:
    return {"ok": True, "data": data}


def error(code: str, message: str, details: dict | None = None) -> dict:
    body: dict = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"ok": False, "error": body}


def invalid(exc: ValidationError) -> dict:
    """Summarise pydantic's complaints in one readable line, with the full list as details."""
    problems = []
    for item in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "payload"
        # Our validators' ValueErrors are sentences already; pydantic would prefix "Value error, ".
        said = str(item["ctx"]["error"]) if item["type"] == "value_error" else item["msg"]
        problems.append({"field": where, "message": said})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:3])
    return error(errors.INVALID, summary or "Invalid payload.", {"problems": problems})


async def settle(run: Callable[[], Awaitable[object]], name: str) -> dict:
    """Run one command and wrap its outcome, or its refusal, in the envelope."""
    try:
        return ok(await run())
    except ValidationError as exc:
        return invalid(exc)
    except LiveError as exc:
        return error(exc.code, exc.message, exc.details)
    except Exception:
        log.exception("%s failed", name)
        return error(errors.INTERNAL, INTERNAL_MESSAGE)


def refused(exc: ValidationError | LiveError) -> socketio.exceptions.ConnectionRefusedError:
    """A refused Socket.IO connection carrying {code, message, details} as data, like any ack."""
    if isinstance(exc, ValidationError):
        body = invalid(exc)["error"]
    else:
        body = error(exc.code, exc.message, exc.details)["error"]
    return socketio.exceptions.ConnectionRefusedError(body["message"], body)

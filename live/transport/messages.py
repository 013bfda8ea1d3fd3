"""The one envelope every ack and every API reply uses."""

from pydantic import ValidationError

from live.domain import errors


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
    for item in exc.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in item["loc"]) or "payload"
        problems.append({"field": where, "message": item["msg"]})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:3])
    return error(errors.INVALID, summary or "Invalid payload.", {"problems": problems})

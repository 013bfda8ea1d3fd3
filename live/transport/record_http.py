"""HTTP for after the stream: dispositions, the public list of questions, series and carry-over."""

import contextlib
import logging

from aiohttp import web

from live.domain import errors
from live.domain.errors import LiveError
from live.services.export import ExportService
from live.services.qa import Identity
from live.services.record import ORGANISER, RecordService
from live.transport import record_schemas as schemas
from live.transport.http import POLLS, _json_body, _require_organiser, api, reply
from live.transport.organiser_session import organiser_name

log = logging.getLogger(__name__)

RECORD: web.AppKey[RecordService] = web.AppKey("record", RecordService)
EXPORT: web.AppKey[ExportService] = web.AppKey("export", ExportService)
MEDIA = {"json": "application/json", "csv": "text/csv"}


@api
async def dispose(request: web.Request) -> web.Response:
    await _require_organiser(request)
    try:
        question_id = int(request.match_info["question_id"])
    except ValueError as exc:
        raise LiveError(errors.NOT_FOUND, "No such question.") from exc
    body = await _json_body(request)
    payload = schemas.Dispose.model_validate(
        {**body, "question_id": question_id} if isinstance(body, dict) else body
    )
    service = request.app[RECORD]
    event = await service.event(request.match_info["code"])
    return reply(
        await service.dispose(
            event["id"], ORGANISER, payload.question_id, payload.version, payload.outcome()
        )
    )


@api
async def questions(request: web.Request) -> web.Response:
    return reply(await request.app[RECORD].questions(request.match_info["code"]))


@api
async def balance(request: web.Request) -> web.Response:
    await _require_organiser(request)
    service = request.app[RECORD]
    event = await service.event(request.match_info["code"])
    return reply(await service.balance(event["id"]))


@api
async def report(request: web.Request) -> web.Response:
    """Public counts for the printable report, and the poll results the audience may see."""
    service = request.app[RECORD]
    event = await service.event(request.match_info["code"])
    audience = await request.app[POLLS].for_audience(Identity(event["id"]))
    return reply({**await service.report(event["id"]), "polls": audience["polls"]})


@api
async def set_series(request: web.Request) -> web.Response:
    await _require_organiser(request)
    payload = schemas.SetSeries.model_validate(await _json_body(request))
    return reply(await request.app[RECORD].set_series(request.match_info["code"], payload.series))


@api
async def carry(request: web.Request) -> web.Response:
    await _require_organiser(request)
    payload = schemas.Carry.model_validate(await _json_body(request))
    return reply(
        await request.app[RECORD].carry(payload.from_event, request.match_info["code"]), status=201
    )


async def _event_ids(request: web.Request) -> tuple[list[int], str]:
    """The events an export covers, and the name its file is saved under."""
    service = request.app[RECORD]
    if "series" in request.match_info:
        payload = schemas.SetSeries.model_validate({"series": request.match_info["series"]})
        events = await service.series(payload.series or "")
        return [e["id"] for e in events], payload.series or ""
    event = await service.event(request.match_info["code"])
    return [event["id"]], event["code"]


@api
async def export(request: web.Request) -> web.StreamResponse:
    """Stream the export: personal data (names) only when the organiser asks with names=true.
    The console's session cookie opens it too, so its download links work in a browser."""
    who = await organiser_name(request)
    ids, name = await _event_ids(request)
    names = request.query.get("names", "false").lower() in {"1", "true", "yes"}
    kind = request.match_info["format"]
    if kind == "csv":
        table = request.query.get("table", "questions")
        chunks = request.app[EXPORT].csv(ids, table, names)
        filename = f"{name}-{table}.csv"
    else:
        chunks = request.app[EXPORT].json(ids, names)
        filename = f"{name}.json"
    log.info("organiser %r downloaded %s%s", who, filename, " with names" if names else "")
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{MEDIA[kind]}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        }
    )
    # However the stream ends (the client gone, the handler cancelled), the generator is closed
    # at once, and with it the snapshot's connection and its read transaction.
    async with contextlib.aclosing(chunks):
        await response.prepare(request)
        async for chunk in chunks:
            await response.write(chunk)
    await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/events/{code}/questions/{question_id}/disposition", dispose)
    app.router.add_get("/api/events/{code}/record/questions", questions)
    app.router.add_get("/api/events/{code}/balance", balance)
    app.router.add_get("/api/events/{code}/report", report)
    app.router.add_put("/api/events/{code}/series", set_series)
    app.router.add_post("/api/events/{code}/carry", carry)
    app.router.add_get("/api/events/{code}/export.{format:json|csv}", export)
    app.router.add_get("/api/series/{series}/export.{format:json|csv}", export)

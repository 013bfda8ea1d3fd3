"""The evidence export: an event or a series as JSON or CSV, produced row by row as it is sent."""

import csv
import io
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator

from live.domain import errors
from live.domain import export as shape
from live.domain.errors import LiveError
from live.store import Database
from live.store import export as export_store

#: Rows encoded per chunk handed to the network: fewer, larger writes without holding much.
ROWS_PER_CHUNK = 200


class ExportService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _sections(
        self, snap: export_store.Snapshot, event: dict, names: bool
    ) -> AsyncIterator[tuple[str, dict]]:
        """Every exported row of one event, tagged with its table, in the documented order."""
        code = event["code"]
        async for row in snap.questions(event["id"]):
            yield "questions", shape.question(code, row, names)
        async for row in snap.polls(event["id"]):
            yield "polls", shape.poll(code, row, await snap.responses(row["id"]))
        async for row in snap.moderation_log(event["id"]):
            yield "moderation_log", shape.log_entry(code, row)
        async for row in snap.participation(event["id"]):
            yield "participation", shape.participation(code, row)

    async def json(self, event_ids: list[int], names: bool) -> AsyncGenerator[bytes, None]:
        """One JSON document (docs/EXPORT.md), written piece by piece."""
        head = {
            "format": shape.FORMAT,
            "version": shape.VERSION,
            "generated_at": time.time(),
            "names_included": names,
        }
        async with export_store.snapshot(self.db) as snap:
            yield (json.dumps(head)[:-1] + ', "events": [').encode()
            for number, event in enumerate(await snap.events(event_ids)):
                opening = json.dumps(shape.event_header(event))[:-1]
                yield (("," if number else "") + opening).encode()
                table, buffer = None, []
                async for name, row in self._sections(snap, event, names):
                    if name != table:
                        buffer.append(_between(table, name))
                        table, first = name, True
                    buffer.append(("" if first else ",") + json.dumps(row))
                    first = False
                    if len(buffer) >= ROWS_PER_CHUNK:
                        yield "".join(buffer).encode()
                        buffer.clear()
                buffer.append(_between(table, None))
                yield "".join(buffer).encode()
            yield b"]}"

    def csv(self, event_ids: list[int], table: str, names: bool) -> AsyncGenerator[bytes, None]:
        """One table of the export as CSV, a header row first; an unknown table is refused now."""
        fields = shape.TABLES.get(table)
        if fields is None:
            raise LiveError(
                errors.INVALID, f"No export table {table!r}; try {', '.join(shape.TABLES)}."
            )
        return self._csv(event_ids, table, fields, names)

    async def _csv(
        self, event_ids: list[int], table: str, fields: tuple[str, ...], names: bool
    ) -> AsyncGenerator[bytes, None]:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        async with export_store.snapshot(self.db) as snap:
            for event in await snap.events(event_ids):
                rows = 0
                async for name, row in self._sections(snap, event, names):
                    if name != table:
                        continue
                    for flat in shape.poll_rows(row) if table == "polls" else [row]:
                        writer.writerow({k: _cell(v) for k, v in flat.items()})
                        rows += 1
                    if rows >= ROWS_PER_CHUNK:
                        yield out.getvalue().encode()
                        out.seek(0)
                        out.truncate()
                        rows = 0
        yield out.getvalue().encode()


def _between(done: str | None, next_table: str | None) -> str:
    """Close one table's array, give each table skipped an empty one, open the next (or end)."""
    order = list(shape.TABLES)
    start = order.index(done) + 1 if done else 0
    end = order.index(next_table) if next_table else len(order)
    text = "]" if done else ""
    text += "".join(f', "{name}": []' for name in order[start:end])
    return text + (f', "{next_table}": [' if next_table else "}")


def _cell(value: object) -> object:
    """Structured values go into a CSV cell as JSON, and yes or no as JSON's true or false."""
    return json.dumps(value) if isinstance(value, dict | list | bool) else value

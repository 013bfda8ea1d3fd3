"""`live db copy`: every table of a SQLite file into an empty PostgreSQL database, ids kept."""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from live.domain import errors
from live.domain.errors import LiveError
from live.store.db import Database
from live.store.dialect import IDENTITY_TABLES
from live.store.pg import WRITE_LOCK, PgDatabase

#: Rows sent to PostgreSQL per COPY; bounds memory whatever the file's size.
CHUNK = 5000


@dataclass
class Table:
    name: str
    columns: list[str]
    #: Nullable references to itself or to a table copied later: copied as NULL, then set.
    deferred: list[str]


def plan(conn: sqlite3.Connection) -> list[Table]:
    """Every table, each after the tables it references where a cycle allows (events and
    questions point at each other), always after those its required references point to."""
    names = [
        row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    columns = {
        name: [
            (row[1], bool(row[3]) or row[5] > 0) for row in conn.execute(f"PRAGMA table_info({name})")
        ]
        for name in names
    }
    references = {
        name: {row[3]: row[2] for row in conn.execute(f"PRAGMA foreign_key_list({name})")}
        for name in names
    }
    ordered: list[Table] = []
    done: set[str] = set()

    def ready(name: str, required_only: bool) -> bool:
        return all(
            target == name or target in done
            for column, target in references[name].items()
            if not required_only or dict(columns[name])[column]
        )

    while len(ordered) < len(names):
        waiting = [name for name in names if name not in done]
        name = next((n for n in waiting if ready(n, False)), None) or next(
            (n for n in waiting if ready(n, True)), None
        )
        if name is None:
            raise RuntimeError("the tables' required references form a cycle")
        deferred = [
            column for column, target in references[name].items()
            if target == name or target not in done
        ]
        ordered.append(Table(name, [c for c, _ in columns[name]], deferred))
        done.add(name)
    return ordered


async def copy(source: Path, url: str) -> list[tuple[str, int]]:
    """Copy every row in one transaction and check the counts; (table, rows) in copy order.

    The file is migrated first, so both sides have the same schema; a target holding any row
    is refused, for a copy must not mix two events' worth of ids."""
    if not Path(source).exists():
        raise LiveError(errors.NOT_FOUND, f"There is no SQLite file at {source}.")
    sqlite_db = Database(source)
    await sqlite_db.open()
    await sqlite_db.close()
    target = PgDatabase(url)
    await target.open()
    await target.close()
    reader = sqlite3.connect(Path(source).resolve().as_uri() + "?mode=ro", uri=True)
    conn = await asyncpg.connect(url)
    try:
        tables = plan(reader)
        async with conn.transaction():
            await conn.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            filled = [t.name for t in tables if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t.name})")]
            if filled:
                raise LiveError(
                    errors.CONFLICT,
                    f"The PostgreSQL database is not empty (rows in {', '.join(filled)}); "
                    "copy into a new, empty database.",
                )
            copied = [(table.name, await _copy_table(reader, conn, table)) for table in tables]
            for table in tables:
                await _set_deferred(reader, conn, table)
                if table.name in IDENTITY_TABLES:
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"coalesce(max(id), 0) + 1, false) FROM {table.name}"
                    )
            for name, count in copied:
                stored = await conn.fetchval(f"SELECT count(*) FROM {name}")
                if stored != count:
                    raise LiveError(
                        errors.INTERNAL, f"{name}: {count} rows read but {stored} stored"
                    )
        # Statistics for the planner at once: without them an export of a big event right after
        # the copy plans its per-question counts as scans (minutes instead of a second), until
        # autovacuum comes by.
        await conn.execute("ANALYZE")
        return copied
    finally:
        reader.close()
        await conn.close()


async def _copy_table(reader: sqlite3.Connection, conn: asyncpg.Connection, table: Table) -> int:
    picks = ", ".join("NULL" if c in table.deferred else c for c in table.columns)
    cursor = reader.execute(f"SELECT {picks} FROM {table.name}")
    count = 0
    while rows := cursor.fetchmany(CHUNK):
        await conn.copy_records_to_table(table.name, records=rows, columns=table.columns)
        count += len(rows)
    return count


async def _set_deferred(reader: sqlite3.Connection, conn: asyncpg.Connection, table: Table) -> None:
    for column in table.deferred:
        rows = reader.execute(
            f"SELECT id, {column} FROM {table.name} WHERE {column} IS NOT NULL"
        ).fetchall()
        if rows:
            await conn.executemany(
                f"UPDATE {table.name} SET {column} = $2 WHERE id = $1", rows
            )

"""SQLite through aiosqlite: one writer connection running units of work, one reader connection."""

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager

from live.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
Work = Callable[[aiosqlite.Connection], Awaitable[T]]

BUSY_TIMEOUT_MS = 5000
#: Attempts at BEGIN IMMEDIATE after SQLite's own busy wait gave up (another worker held the write
#: lock longer than BUSY_TIMEOUT_MS); nothing has run yet, so a retry never loses or doubles a write.
BUSY_RETRIES = 3
#: Units of work committed together at most; bounds how long a batch holds the write lock.
MAX_BATCH = 256


class _Fetched:
    """A statement's rows, row count and last row id, all read in one trip to the thread."""

    __slots__ = ("_rows", "rowcount", "lastrowid")

    def __init__(self, rows: list[sqlite3.Row], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    async def fetchone(self) -> sqlite3.Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchall(self) -> list[sqlite3.Row]:
        rows, self._rows = self._rows, []
        return rows


def _run(conn: sqlite3.Connection, sql: str, parameters: Any) -> _Fetched:
    cursor = conn.execute(sql, parameters)
    try:
        return _Fetched(cursor.fetchall(), cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


def _run_each(conn: sqlite3.Connection, statements: tuple[str, ...]) -> None:
    for sql in statements:
        conn.execute(sql)


class _Connection(aiosqlite.Connection):
    """aiosqlite's connection, where a statement and its results cost one trip to its thread.

    Stock `execute` takes three (execute, fetch, close cursor); at thousands of statements a
    second the trips, not SQLite, are the cost. The store only uses fetchone, fetchall, rowcount
    and lastrowid, and every query it runs is small.
    """

    @contextmanager
    async def execute(self, sql: str, parameters: Any = None) -> _Fetched:
        return await self._execute(_run, self._conn, sql, () if parameters is None else parameters)

    async def execute_each(self, *statements: str) -> None:
        """Run several statements without parameters in one trip."""
        await self._execute(_run_each, self._conn, statements)


async def _connect(path: Path) -> _Connection:
    conn = await _Connection(lambda: sqlite3.connect(path, isolation_level=None), 64)
    conn.row_factory = aiosqlite.Row
    await conn.execute_each(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA foreign_keys = ON")
    return conn


async def _begin(conn: _Connection) -> None:
    """Take the write lock and open the first unit's savepoint, retrying on SQLITE_BUSY."""
    for attempt in range(BUSY_RETRIES + 1):
        try:
            await conn.execute_each("BEGIN IMMEDIATE", "SAVEPOINT unit")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode == sqlite3.SQLITE_BUSY and not conn.in_transaction
            if not busy or attempt == BUSY_RETRIES:
                raise
            log.warning("database busy: another process holds the write lock; retrying")


def _new_future() -> asyncio.Future:
    return asyncio.get_running_loop().create_future()


@dataclass
class _Unit:
    """One queued unit of work, its callback and the future its caller awaits."""

    work: Work[Any]
    then: Callable[[Any], Any] | None
    future: asyncio.Future = field(default_factory=_new_future)
    result: Any = None
    error: BaseException | None = None


class Database:
    """Owns the connections; writes queued together commit in one BEGIN IMMEDIATE … COMMIT."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._writer: _Connection | None = None
        self._reader: _Connection | None = None
        self._queue: deque[_Unit] = deque()
        self._writing: asyncio.Task | None = None
        self._read_lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await _connect(self.path)
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self._writer.execute("PRAGMA synchronous = NORMAL")
        await self._migrate(self._writer)
        self._reader = await _connect(self.path)

    async def close(self) -> None:
        if self._writing is not None:
            await self._writing
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        async with conn.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            log.info("applying database migration %d", number)
            try:
                await conn.executescript(
                    f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;"
                )
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise

    async def write(self, work: Work[T], then: Callable[[T], R] | None = None) -> T | R:
        """Run one unit of work; it is committed, and `then` has run, before this returns.

        Units queued while a batch is in flight share the next transaction, each inside its own
        savepoint: a unit that raises is undone alone and its caller gets the exception. The
        `then` callbacks run after the commit, in queue order, before the next batch begins, so
        whatever they publish leaves in commit order.
        """
        assert self._writer is not None, "database is not open"
        unit = _Unit(work, then)
        self._queue.append(unit)
        if self._writing is None:
            self._writing = asyncio.create_task(self._drain(), name="database writer")
        return await asyncio.shield(unit.future)

    async def _drain(self) -> None:
        """Commit batches until the queue is empty; the only task that uses the writer."""
        try:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
                try:
                    await self._commit(batch)
                finally:
                    for unit in batch:
                        _settle(unit)
        except BaseException as exc:
            while self._queue:
                _fail(self._queue.popleft(), exc)
            raise
        finally:
            self._writing = None

    async def _commit(self, batch: list[_Unit]) -> None:
        """Run the batch in one transaction; on a failure outside a unit, every unit fails."""
        conn = self._writer
        assert conn is not None
        try:
            await _begin(conn)
            for number, unit in enumerate(batch):
                if number:
                    await conn.execute_each("RELEASE unit", "SAVEPOINT unit")
                try:
                    unit.result = await unit.work(conn)
                except Exception as exc:
                    unit.error = exc
                    await conn.execute("ROLLBACK TO unit")
            await conn.execute_each("RELEASE unit", "COMMIT")
        except BaseException as exc:
            for unit in batch:
                unit.error = exc
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            if not isinstance(exc, Exception):
                raise

    async def read(self, work: Work[T]) -> T:
        """Run reads in one transaction so they see a single consistent state."""
        assert self._reader is not None, "database is not open"
        async with self._read_lock:
            await self._reader.execute("BEGIN")
            try:
                return await work(self._reader)
            finally:
                await self._reader.execute("COMMIT")


def _settle(unit: _Unit) -> None:
    """Hand the caller its result, through `then`, or its exception."""
    if unit.error is not None:
        _fail(unit, unit.error)
        return
    try:
        outcome = unit.result if unit.then is None else unit.then(unit.result)
    except Exception as exc:
        unit.future.set_exception(exc)
    else:
        unit.future.set_result(outcome)


def _fail(unit: _Unit, exc: BaseException) -> None:
    if isinstance(exc, Exception):
        unit.future.set_exception(exc)
    else:
        unit.future.cancel()

"""PostgreSQL through an asyncpg pool: the same units of work and batches as SQLite, for several
hosts sharing one database.

Each process's writer runs one batch at a time in one READ COMMITTED transaction that first takes
a transaction-level advisory lock, so writes from every host are serialised as SQLite's BEGIN
IMMEDIATE serialises them on one host: every unit sees all that was committed before it, and the
event's seq, the derived counts, op_id idempotency, moderators' versions and one response per poll
hold for the same reasons on both stores. The writer has a thread, an event loop and a connection
of its own (`_Writer`), as SQLite's writer connection has its thread; a storm's votes are one
statement per batch (`db.Call`). Reads run concurrently on pooled connections, each in one
REPEATABLE READ READ ONLY transaction.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from live.domain import errors
from live.domain.errors import LiveError
from live.store.db import Call, DatabaseUnavailable, Store, Work, _Fetched, _Unit
from live.store.dialect import POSTGRESQL, WRITE_LOCK, postgres, returning
from live.store.migrations import MIGRATIONS, script

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The advisory lock held while migrating, so hosts starting together migrate once.
MIGRATION_LOCK = WRITE_LOCK + 1
#: Units of work committed together at most. Four times SQLite's: each batch costs three round
#: trips whose answers wait for a turn of a busy event loop, and a storm's votes run as one
#: statement, so a bigger batch buys throughput while holding the lock about as long.
MAX_BATCH = 1024
#: Connections per process: one for the writer (in its own thread), the rest for concurrent reads
#: and exports.
POOL_SIZE = 8
#: Seconds to open a connection or to wait for a free one before the store counts as unreachable.
CONNECT_TIMEOUT = 5.0
#: Seconds one statement may run; a database that stops answering counts as unreachable.
STATEMENT_TIMEOUT = 15.0
#: Whole-batch re-runs after a serialisation failure or a deadlock (an outside writer not taking
#: the write lock, such as an operator's own transaction, can cause either).
RETRIES = 3
_RETRIED = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
#: What says the database, not the statement, failed: no connection, a server shutting down or
#: starting, a connection lost, a timeout.
_UNREACHABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
)
UNAVAILABLE_MESSAGE = "The database cannot be reached just now; please try again in a moment."


def unavailable(exc: BaseException) -> LiveError:
    """The refusal every caller gets while PostgreSQL cannot be reached."""
    log.warning("database unreachable: %s", exc)
    return LiveError(errors.UNAVAILABLE, UNAVAILABLE_MESSAGE)


class _Pending:
    """A statement on its way: awaited, or used as `async with`, like SQLite's cursor."""

    __slots__ = ("_coro",)

    def __init__(self, coro) -> None:
        self._coro = coro

    def __await__(self):
        return self._coro.__await__()

    async def __aenter__(self) -> _Fetched:
        return await self._coro

    async def __aexit__(self, *exc: object) -> None:
        return None


class OnWire:
    """What a unit of work is given on PostgreSQL: the same `execute` as SQLite's `InThread`,
    each statement translated once by `dialect.postgres`."""

    __slots__ = ("_conn",)
    dialect = POSTGRESQL

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Any = ()) -> _Pending:
        return _Pending(self._run(sql, parameters))

    async def updated(self, update: str, select: str, parameters: Any = ()) -> Any:
        """What SQLite's connection reads back with `select` after `update`, in one round trip."""
        return await self._conn.fetchval(returning(update, select), *parameters)

    async def _run(self, sql: str, parameters: Any) -> _Fetched:
        text, returns_id = postgres(sql)
        rows = await self._conn.fetch(text, *parameters)
        lastrowid = rows[0][0] if returns_id and rows else None
        return _Fetched(rows, len(rows), lastrowid)


class _Writer:
    """The writer's own thread and event loop, holding its own connection: a batch's round trips
    are answered there at once, not after a turn of the server's busy loop, and the server's loop
    is woken once per batch (as SQLite's writer thread wakes it). Units of work already run off
    the server's loop on SQLite: they await only the database."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="postgresql writer", daemon=True
        )
        self._thread.start()

    async def run(self, coro: Awaitable[T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self.loop.close()


class PgDatabase(Store):
    """PostgreSQL: writes queued together commit in one transaction under the write lock."""

    dialect = POSTGRESQL
    max_batch = MAX_BATCH

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._pool: asyncpg.Pool | None = None
        self._writer: _Writer | None = None
        self._writer_pool: asyncpg.Pool | None = None

    def _ready(self) -> bool:
        return self._pool is not None and self._writer_pool is not None

    async def _connect_pool(self, size: int = POOL_SIZE - 1) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=size,
            timeout=CONNECT_TIMEOUT,
            command_timeout=STATEMENT_TIMEOUT,
        )

    async def open(self) -> None:
        """Connect and migrate; a server that cannot be reached stops the process with why."""
        try:
            self._pool = await self._connect_pool()
            await self.migrate()
            self._writer = _Writer()
            self._writer_pool = await self._writer.run(self._connect_pool(1))
        except BaseException as exc:
            await self.close()
            if isinstance(exc, (*_UNREACHABLE, asyncpg.PostgresError)):
                raise DatabaseUnavailable(f"cannot open the database: {exc}") from exc
            raise

    async def close(self) -> None:
        if self._writing is not None:
            await self._writing
        if self._writer is not None:
            if self._writer_pool is not None:
                await self._writer.run(self._writer_pool.close())
            await self._writer.stop()
        if self._pool is not None:
            await self._pool.close()
        self._pool = self._writer = self._writer_pool = None

    async def migrate(self) -> tuple[int, list[int]]:
        """Apply what is missing under the migration lock: the version found and those applied."""
        pool = self._pool or await self._connect_pool()
        try:
            async with pool.acquire() as conn:
                await conn.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
                try:
                    return await _migrate(conn)
                finally:
                    await conn.execute(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
        finally:
            if pool is not self._pool:
                await pool.close()

    async def _commit(self, batch: list[_Unit]) -> None:
        assert self._writer is not None
        await self._writer.run(self._commit_here(batch))

    async def _commit_here(self, batch: list[_Unit]) -> None:
        """In the writer's thread: run the batch in one transaction under the write lock.

        Optimistically without savepoints (each costs a round trip): when a unit raises, the
        batch is rolled back and run again with a savepoint per unit, so that unit alone is
        undone. A batch that meets a serialisation failure or a deadlock is run again whole, one
        whose connection the pool kept from before a server restart is run again on a fresh one
        (it failed before anything ran), and an unreachable database fails every unit with
        `unavailable`.
        """
        guarded, attempts = False, 0
        while True:
            try:
                await self._commit_once(batch, guarded)
                return
            except _Guard:
                guarded = True
                continue
            except _RETRIED + (_NotBegun,) as exc:
                attempts += 1
                if attempts > RETRIES:
                    cause = exc if isinstance(exc, _RETRIED) else unavailable(exc.__cause__ or exc)
                    _fail_all(batch, cause)
                    return
                if isinstance(exc, _RETRIED):
                    log.warning("write conflict (%s); running the batch again", exc.sqlstate)
            except _UNREACHABLE as exc:
                _fail_all(batch, unavailable(exc))
                return
            except Exception as exc:
                _fail_all(batch, exc)
                return

    async def _commit_once(self, batch: list[_Unit], guarded: bool) -> None:
        """Unguarded, calls that join go together (`_calls`), and a batch of them alone is one
        statement without a transaction around it (a storm's votes: one round trip); guarded,
        each unit after the first costs one round trip more than its statements: releasing the
        previous unit's savepoint and opening its own go together."""
        assert self._writer_pool is not None
        async with self._writer_pool.acquire(timeout=CONNECT_TIMEOUT) as conn:
            pipelined, guarded = not guarded, guarded and len(batch) > 1
            first = batch[0].work
            if pipelined and isinstance(first, Call) and all(first.joins(u.work) for u in batch):
                batch[0].result, batch[0].error = None, None
                await _calls(conn, batch, 0, alone=True)
                return
            await _begin(conn, "; SAVEPOINT unit" if guarded else "")
            view = OnWire(conn)
            try:
                index = 0
                while index < len(batch):
                    unit = batch[index]
                    unit.result, unit.error = None, None
                    if pipelined and isinstance(unit.work, Call):
                        index = await _calls(conn, batch, index)
                        continue
                    try:
                        unit.result = await unit.work(view)
                    except Exception as exc:
                        if isinstance(exc, _RETRIED + _UNREACHABLE):
                            raise
                        if len(batch) > 1 and not guarded:
                            raise _Guard from exc
                        unit.error = exc
                        if guarded:
                            await conn.execute("ROLLBACK TO SAVEPOINT unit")
                    if guarded and index < len(batch) - 1:
                        await conn.execute("RELEASE SAVEPOINT unit; SAVEPOINT unit")
                    index += 1
                await conn.execute("ROLLBACK" if len(batch) == 1 and batch[0].error else "COMMIT")
            except BaseException:
                if not conn.is_closed():
                    with contextlib.suppress(*_UNREACHABLE, asyncpg.PostgresError):
                        await conn.execute("ROLLBACK")
                raise

    async def read(self, work: Work[T]) -> T:
        """One REPEATABLE READ READ ONLY transaction on a pooled connection: one consistent state."""
        assert self._pool is not None, "database is not open"
        try:
            async with self._pool.acquire(timeout=CONNECT_TIMEOUT) as conn:
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    return await work(OnWire(conn))
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc

    async def cannot_write(self) -> str | None:
        """Why the database cannot take writes now, or None: a write that changes nothing, under
        the write lock, proves the server reachable and writable."""
        try:
            await self.write(_touch)
        except LiveError as exc:
            return exc.message
        except asyncpg.PostgresError as exc:
            return str(exc)
        return None

    @contextlib.asynccontextmanager
    async def snapshot(self, make: Callable, chunk: int) -> AsyncIterator[Any]:
        """A pooled connection in one REPEATABLE READ READ ONLY transaction, read by cursors."""
        assert self._pool is not None, "database is not open"
        try:
            conn = await self._pool.acquire(timeout=CONNECT_TIMEOUT)
        except _UNREACHABLE as exc:
            raise unavailable(exc) from exc
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):

                async def rows(sql: str, parameters: tuple) -> AsyncIterator[dict]:
                    text, _ = postgres(sql)
                    async for row in conn.cursor(text, *parameters, prefetch=chunk):
                        yield dict(row)

                yield make(rows)
        finally:
            await self._pool.release(conn)


class _Guard(Exception):
    """A unit raised in a batch run without savepoints: run the batch again with them."""


class _NotBegun(Exception):
    """The batch may run again at once on a fresh connection: its transaction could not even
    begin (nothing ran), or a batch of calls alone met a lost connection (calls are idempotent)."""


async def _calls(
    conn: asyncpg.Connection, batch: list[_Unit], start: int, alone: bool = False
) -> int:
    """Run the calls that join the one at `start` as one statement; the index after them. A
    refused call fails alone (its statement changed nothing for it); a statement that fails runs
    the batch again guarded, each unit alone. `alone`, the statement is the whole transaction:
    one that met a lost connection may have committed or not, and runs again on a fresh one,
    which calls allow (votes are idempotent, and an op_id's ack is kept)."""
    first = batch[start].work
    end = start + 1
    while end < len(batch) and first.joins(batch[end].work):
        batch[end].result, batch[end].error = None, None
        end += 1
    run = batch[start:end]
    try:
        rows = await conn.fetch(postgres(first.sql)[0], *Call.parameters([u.work for u in run]))
    except Exception as exc:
        if alone and isinstance(exc, _UNREACHABLE):
            raise _NotBegun(exc) from exc
        if isinstance(exc, _RETRIED + _UNREACHABLE):
            raise
        raise _Guard from exc
    assert len(rows) == len(run), "a call must read one row per element"
    for unit, row in zip(run, rows):
        try:
            unit.result = unit.work.finish(row)
        except Exception as exc:
            unit.error = exc
    return end


async def _begin(conn: asyncpg.Connection, then: str) -> None:
    """Open the transaction and take the write lock (and open the first unit's savepoint) in one
    round trip."""
    try:
        await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK}){then}")
    except _UNREACHABLE as exc:
        raise _NotBegun(exc) from exc


async def _touch(conn: OnWire) -> None:
    await conn.execute("UPDATE meta SET value = value WHERE key = ''")


async def _migrate(conn: asyncpg.Connection) -> tuple[int, list[int]]:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
    )
    version = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
    applied = []
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        log.info("applying database migration %d", number)
        async with conn.transaction():
            await conn.execute(script(migration, POSTGRESQL))
            await conn.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                number, time.time(),
            )
        applied.append(number)
    return version, applied


def _fail_all(batch: list[_Unit], exc: BaseException) -> None:
    for unit in batch:
        unit.result, unit.error = None, exc

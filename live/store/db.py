"""SQLite through aiosqlite: one writer connection running batches of units of work, one reader,
and a read-only connection in the event loop's thread for small reads (`Database.glance`).

Each batch and each read is one trip to its connection's thread (see `InThread`)."""

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from live.domain import errors
from live.domain.errors import LiveError
from live.store.dialect import SQLITE
from live.store.migrations import MIGRATIONS, script

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
Work = Callable[["InThread"], Awaitable[T]]

BUSY_TIMEOUT_MS = 5000
#: Attempts at BEGIN IMMEDIATE after SQLite's own busy wait gave up (another worker held the write
#: lock longer than BUSY_TIMEOUT_MS); nothing has run yet, so a retry never loses or doubles a write.
BUSY_RETRIES = 3
#: Units of work committed together at most; bounds how long a batch holds the write lock.
MAX_BATCH = 256
#: Seconds a write that failed for want of space or permission still counts against the health
#: check: a full disk may take the check's one page while the writes people make fail.
WRITE_FAILURE_WINDOW = 60.0
#: Primary SQLite result codes that say the file cannot take writes, not that a write was refused.
CANNOT_WRITE = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_PERM,
    }
)


class _Fetched:
    """A statement's rows, row count and last row id, all read before the statement returns."""

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


class _Ready:
    """An awaitable (and async context manager) whose value is already there: awaiting it never
    suspends, so a unit of work made only of such awaits runs to its end in one `send`."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self):
        return self.value
        yield  # a generator that finishes at once

    async def __aenter__(self) -> Any:
        return self.value

    async def __aexit__(self, *exc: object) -> None:
        return None


class InThread:
    """What a unit of work is given: the SQLite connection, inside the thread that owns it.

    The store's functions are written `await conn.execute(...)`; here each statement runs on the
    spot, so a whole batch of units (or a whole read) costs one trip to the thread instead of one
    per statement, and the event loop never waits on SQLite. The store only uses `execute`, then
    fetchone, fetchall, rowcount and lastrowid, and every query it runs is small.
    """

    __slots__ = ("_conn",)
    dialect = SQLITE

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Any = ()) -> _Ready:
        cursor = self._conn.execute(sql, parameters)
        try:
            return _Ready(_Fetched(cursor.fetchall(), cursor.rowcount, cursor.lastrowid))
        finally:
            cursor.close()

    def updated(self, update: str, select: str, parameters: Any = ()) -> _Ready:
        """The first value `select` reads after `update` (both taking `parameters`): two
        statements here, for RETURNING costs SQLite an ephemeral table, three times a SELECT;
        PostgreSQL's connection makes it one UPDATE … RETURNING."""
        self._conn.execute(update, parameters).close()
        row = self._conn.execute(select, parameters).fetchone()
        return _Ready(None if row is None else row[0])

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


class Call:
    """A unit of work for PostgreSQL that is one statement on arrays: the `shared` parameters,
    then an array for each of the `each` parameters, reading one row per element in order. The
    statement takes the write lock itself (`dialect.WRITE_LOCK`) and may run again after a lost
    connection (it is idempotent); `finish` makes the unit's result from its row, raising to
    refuse only where the statement changed nothing.

    The PostgreSQL writer runs a batch's consecutive calls of one statement with equal shared
    parameters as one statement, and a batch of nothing else without a transaction around it:
    one round trip for the batch (`pg.PgDatabase`). Run alone, a call is its statement on one
    element."""

    __slots__ = ("sql", "shared", "each", "finish")

    def __init__(
        self, sql: str, shared: tuple, each: tuple, finish: Callable[[Any], Any]
    ) -> None:
        self.sql = sql
        self.shared = shared
        self.each = each
        self.finish = finish

    def joins(self, other: Any) -> bool:
        return isinstance(other, Call) and self.sql == other.sql and self.shared == other.shared

    @staticmethod
    def parameters(calls: list["Call"]) -> tuple:
        """The statement's parameters for these calls together: shared, then one array each."""
        return (*calls[0].shared, *(list(column) for column in zip(*(c.each for c in calls))))

    async def __call__(self, conn: "InThread") -> Any:
        cur = await conn.execute(self.sql, Call.parameters([self]))
        return self.finish(await cur.fetchone())


def _complete(work: Work[T], conn: InThread) -> T:
    """Run a unit of work to its end without an event loop: it may await only the database."""
    steps = work(conn).__await__()
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value
    steps.close()
    raise RuntimeError("a unit of work awaited something other than the database")


def _begin(conn: sqlite3.Connection) -> None:
    """Take the write lock, retrying on SQLITE_BUSY; nothing has run yet, so a retry is safe."""
    for attempt in range(BUSY_RETRIES + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode == sqlite3.SQLITE_BUSY and not conn.in_transaction
            if not busy or attempt == BUSY_RETRIES:
                raise
            log.warning("database busy: another process holds the write lock; retrying")


def _commit_batch(conn: sqlite3.Connection, batch: list["_Unit"]) -> None:
    """In the writer's thread: the batch in one transaction, each unit in its own savepoint."""
    view = InThread(conn)
    try:
        _begin(conn)
        for unit in batch:
            conn.execute("SAVEPOINT unit")
            try:
                unit.result = _complete(unit.work, view)
            except Exception as exc:
                unit.error = exc
                conn.execute("ROLLBACK TO unit")
            conn.execute("RELEASE unit")
        conn.execute("COMMIT")
    except BaseException as exc:
        for unit in batch:
            unit.error = exc
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if not isinstance(exc, Exception):
            raise


def _read(conn: sqlite3.Connection, work: Work[T]) -> T:
    """The whole read in one transaction, so it sees one state."""
    conn.execute("BEGIN")
    try:
        return _complete(work, InThread(conn))
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def _locked(exc: sqlite3.OperationalError) -> bool:
    return (exc.sqlite_errorcode & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _cannot_write(exc: BaseException | None) -> bool:
    return isinstance(exc, sqlite3.Error) and (exc.sqlite_errorcode & 0xFF) in CANNOT_WRITE


async def _rewrite_version(conn: InThread) -> None:
    """A real one-page write that changes nothing: the schema version written back as it is."""
    (version,) = await (await conn.execute("PRAGMA user_version")).fetchone()
    await conn.execute(f"PRAGMA user_version = {int(version)}")


class DatabaseUnavailable(Exception):
    """The database file cannot be opened, set up or migrated: nothing can be served."""


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, iter_chunk_size=64)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


def _connect_here(path: Path) -> sqlite3.Connection:
    """A read-only connection for the event loop's thread, which never waits for a lock."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


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


#: Called after each batch with its seconds, its number of units and how many of them failed for
#: a reason other than a refusal (a LiveError): the one place to time the store, on both dialects.
Observer = Callable[[float, int, int], None]


class Store:
    """What both stores share: units of work queued into batches, each batch committed by one
    task, the `then` callbacks run in commit order."""

    dialect: str
    max_batch = MAX_BATCH

    def __init__(self) -> None:
        self._queue: deque[_Unit] = deque()
        self._writing: asyncio.Task | None = None
        self.observe: Observer | None = None

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def read(self, work: Work[T]) -> T:
        raise NotImplementedError

    async def glance(self, work: Work[T]) -> T:
        """A small read on a hot path (a socket's identity, a participant's view): `read`,
        unless the store can do it more cheaply (SQLite: in the event loop's own thread)."""
        return await self.read(work)

    async def cannot_write(self) -> str | None:
        raise NotImplementedError

    async def migrate(self) -> tuple[int, list[int]]:
        """Apply what is missing, for `live db migrate`: the version found and the numbers applied."""
        raise NotImplementedError

    async def _commit(self, batch: list[_Unit]) -> None:
        raise NotImplementedError

    def _note_failures(self, batch: list[_Unit]) -> None:
        return None

    def _ready(self) -> bool:
        raise NotImplementedError

    async def write(self, work: Work[T], then: Callable[[T], R] | None = None) -> T | R:
        """Run one unit of work; it is committed, and `then` has run, before this returns.

        Units queued while a batch is in flight share the next transaction, each inside its own
        savepoint: a unit that raises is undone alone and its caller gets the exception. The
        `then` callbacks run after the commit, in queue order, before the next batch begins, so
        whatever they publish leaves in commit order. A unit may await only the database.
        """
        assert self._ready(), "database is not open"
        unit = _Unit(work, then)
        self._queue.append(unit)
        if self._writing is None:
            self._writing = asyncio.create_task(self._drain(), name="database writer")
        return await unit.future

    async def _drain(self) -> None:
        """Commit batches until the queue is empty; the only task that uses the writer."""
        try:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
                started = time.perf_counter()
                try:
                    await self._commit(batch)
                finally:
                    self._note_failures(batch)
                    if self.observe is not None:
                        self.observe(time.perf_counter() - started, len(batch), _faults(batch))
                    for unit in batch:
                        _settle(unit)
        except BaseException as exc:
            while self._queue:
                _fail(self._queue.popleft(), exc)
            raise
        finally:
            self._writing = None


class Database(Store):
    """SQLite: writes queued together commit in one BEGIN IMMEDIATE … COMMIT."""

    dialect = SQLITE

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        #: The connection `glance` reads on, in the event loop's thread.
        self._here: sqlite3.Connection | None = None
        self._write_failure: tuple[float, str] | None = None

    def _ready(self) -> bool:
        return self._writer is not None

    async def open(self) -> None:
        """Open, set up and migrate; a failure leaves nothing open, for a connection's thread
        left running would keep the process from ever exiting."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await _connect(self.path)
            await self._writer.execute("PRAGMA journal_mode = WAL")
            await self._writer.execute("PRAGMA synchronous = NORMAL")
            await self._migrate(self._writer)
            self._reader = await _connect(self.path)
            self._here = _connect_here(self.path)
            await self.write(_rewrite_version)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, OSError | sqlite3.Error):
                raise DatabaseUnavailable(f"cannot open the database {self.path}: {exc}") from exc
            raise

    async def close(self) -> None:
        if self._writing is not None:
            await self._writing
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        if self._here is not None:
            self._here.close()
        self._reader = self._writer = self._here = None

    async def _migrate(self, conn: aiosqlite.Connection) -> list[int]:
        async with conn.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()
        applied = []
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            log.info("applying database migration %d", number)
            try:
                await conn.executescript(
                    f"BEGIN IMMEDIATE; {script(migration, SQLITE)}; "
                    f"PRAGMA user_version = {number}; COMMIT;"
                )
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
            applied.append(number)
        return applied

    async def migrate(self) -> tuple[int, list[int]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await _connect(self.path)
        try:
            async with conn.execute("PRAGMA user_version") as cur:
                (version,) = await cur.fetchone()
            return version, await self._migrate(conn)
        finally:
            await conn.close()

    async def _commit(self, batch: list[_Unit]) -> None:
        """Run the batch in one transaction, in one trip to the writer's thread; on a failure
        outside a unit, every unit fails."""
        conn = self._writer
        assert conn is not None
        await conn._execute(_commit_batch, conn._conn, batch)

    def _note_failures(self, batch: list[_Unit]) -> None:
        for unit in batch:
            if _cannot_write(unit.error):
                self._write_failure = (time.monotonic(), str(unit.error))

    async def cannot_write(self) -> str | None:
        """Why the database cannot take writes now, or None: a write that changes nothing proves
        the file writable, and a real write that failed lately proves there is no room."""
        try:
            await self.write(_rewrite_version)
        except sqlite3.Error as exc:
            return str(exc)
        if self._write_failure is not None:
            at, reason = self._write_failure
            if time.monotonic() - at < WRITE_FAILURE_WINDOW:
                return reason
        return None

    async def read(self, work: Work[T]) -> T:
        """Run reads in one transaction so they see a single consistent state; the reader's
        thread runs one whole read at a time, so reads never interleave."""
        conn = self._reader
        assert conn is not None, "database is not open"
        return await conn._execute(_read, conn._conn, work)

    async def glance(self, work: Work[T]) -> T:
        """A small read in the event loop's own thread. A read's Python holds the interpreter
        lock in either thread, and for a small one the trip to the reader's thread and back
        (two wake-ups, the thread's lock hand-offs) cost more than SQLite's part: it took a join
        from 16 context switches to 7. The connection never waits for a lock: a read that meets
        one (another process's exclusive lock, a WAL recovery) goes to the reader's thread,
        which waits as `read` does, and the loop goes on serving every other socket."""
        conn = self._here
        assert conn is not None, "database is not open"
        try:
            return _read(conn, work)
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
        return await self.read(work)


def _faults(batch: list[_Unit]) -> int:
    return sum(
        1 for unit in batch
        if unit.error is not None
        and (not isinstance(unit.error, LiveError) or unit.error.code == errors.UNAVAILABLE)
    )


def _settle(unit: _Unit) -> None:
    """Run `then` and hand the caller its outcome, or its exception.

    A caller that was cancelled meanwhile has no one to hand it to, but its unit was committed
    all the same, so `then` (which publishes) still runs.
    """
    if unit.error is not None:
        _fail(unit, unit.error)
        return
    try:
        outcome = unit.result if unit.then is None else unit.then(unit.result)
    except Exception as exc:
        if not unit.future.done():
            unit.future.set_exception(exc)
    else:
        if not unit.future.done():
            unit.future.set_result(outcome)


def _fail(unit: _Unit, exc: BaseException) -> None:
    if unit.future.done():
        return
    if isinstance(exc, Exception):
        unit.future.set_exception(exc)
    else:
        unit.future.cancel()

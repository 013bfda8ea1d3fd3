"""Group commit: units queued together share a transaction, yet each succeeds or fails alone,
on both stores."""

import asyncio
import sqlite3
import threading

import pytest

from live.store import Database, open_store
from live.store.db import Call
from live.store.dialect import WRITE_LOCK


@pytest.fixture
async def db(tmp_path, database_url):
    database = open_store(database_url, tmp_path / "batch.db")
    await database.open()
    await database.write(lambda conn: conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    yield database
    await database.close()


def insert(n: int, fail: bool = False):
    async def work(conn):
        await conn.execute("INSERT INTO t (n) VALUES (?)", (n,))
        if fail:
            raise ValueError(n)
        return n

    return work


async def select_all(conn):
    return await (await conn.execute("SELECT n FROM t ORDER BY n")).fetchall()


async def stored(database: Database) -> list[int]:
    rows = await database.read(lambda conn: select_all(conn))
    return [row[0] for row in rows]


async def test_concurrent_units_share_transactions_and_all_commit(db, monkeypatch):
    transactions = 0
    commit = type(db)._commit

    async def counting(self, batch):
        nonlocal transactions
        transactions += 1
        await commit(self, batch)

    monkeypatch.setattr(type(db), "_commit", counting)
    results = await asyncio.gather(*(db.write(insert(n)) for n in range(100)))
    assert results == list(range(100))
    assert transactions < 100
    assert await stored(db) == list(range(100))


async def test_a_failing_unit_is_undone_alone_and_its_caller_gets_the_exception(db):
    outcomes = await asyncio.gather(
        *(db.write(insert(n, fail=n % 3 == 0)) for n in range(30)), return_exceptions=True
    )
    for n, outcome in enumerate(outcomes):
        if n % 3 == 0:
            assert isinstance(outcome, ValueError) and outcome.args == (n,)
        else:
            assert outcome == n
    assert await stored(db) == [n for n in range(30) if n % 3]


async def test_then_callbacks_run_in_unit_order_and_give_the_callers_their_results(db):
    seen = []

    def then(n):
        seen.append(n)
        return -n

    results = await asyncio.gather(*(db.write(insert(n), then=then) for n in range(50)))
    assert results == [-n for n in range(50)]
    assert seen == list(range(50))


@pytest.mark.sqlite_only
async def test_then_sees_the_commit_and_runs_before_the_next_batch(db, monkeypatch):
    monkeypatch.setattr(Database, "max_batch", 4)
    events = []
    commit = Database._commit

    async def tracing(self, batch):
        events.append(("commit", len(batch)))
        await commit(self, batch)

    monkeypatch.setattr(Database, "_commit", tracing)

    def then(n):
        committed = db._writer is not None and not db._writer.in_transaction
        events.append(("then", n) if committed else ("uncommitted", n))
        return n

    await asyncio.gather(*(db.write(insert(n), then=then) for n in range(10)))
    assert [e for e in events if e[0] == "commit"] == [("commit", 4), ("commit", 4), ("commit", 2)]
    assert events[:5] == [("commit", 4), ("then", 0), ("then", 1), ("then", 2), ("then", 3)]
    assert [n for kind, n in events if kind == "then"] == list(range(10))


async def test_a_raising_then_fails_only_its_own_caller(db):
    def boom(n):
        raise RuntimeError(n)

    outcomes = await asyncio.gather(
        db.write(insert(1)), db.write(insert(2), then=boom), db.write(insert(3)),
        return_exceptions=True,
    )
    assert outcomes[0] == 1 and outcomes[2] == 3
    assert isinstance(outcomes[1], RuntimeError)
    assert await stored(db) == [1, 2, 3]


async def test_a_cancelled_caller_still_commits_and_publishes(db):
    published = []
    task = asyncio.ensure_future(db.write(insert(7), then=published.append))
    await asyncio.sleep(0)
    task.cancel()
    await db.write(insert(8))
    assert published == [7]
    assert await stored(db) == [7, 8]


async def test_everything_acknowledged_is_there_after_reopening(tmp_path):
    path = tmp_path / "reopen.db"
    database = Database(path)
    await database.open()
    await database.write(lambda conn: conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    outcomes = await asyncio.gather(
        *(database.write(insert(n, fail=n % 7 == 0)) for n in range(300)), return_exceptions=True
    )
    acknowledged = [n for n in outcomes if isinstance(n, int)]
    await database.close()

    again = Database(path)
    await again.open()
    assert await stored(again) == acknowledged == [n for n in range(300) if n % 7]
    await again.close()


@pytest.mark.sqlite_only
async def test_a_unit_that_awaits_anything_but_the_database_fails_alone(db):
    async def sleeps(conn):
        await conn.execute("INSERT INTO t (n) VALUES (99)")
        await asyncio.sleep(0)

    outcomes = await asyncio.gather(
        db.write(insert(1)), db.write(sleeps), db.write(insert(2)), return_exceptions=True
    )
    assert outcomes[0] == 1 and outcomes[2] == 2
    assert isinstance(outcomes[1], RuntimeError)
    assert await stored(db) == [1, 2]


@pytest.mark.parametrize("kind", ["read", "glance"])
async def test_reads_run_whole_and_concurrent_reads_each_see_one_state(db, kind):
    read = getattr(db, kind)

    async def twice(conn):
        first = await (await conn.execute("SELECT count(*) FROM t")).fetchone()
        second = await (await conn.execute("SELECT count(*) FROM t")).fetchone()
        return first[0], second[0]

    writes = [db.write(insert(n)) for n in range(50)]
    reads = [read(twice) for _ in range(50)]
    outcomes = await asyncio.gather(*writes, *reads)
    assert all(first == second for first, second in outcomes[50:])
    assert await stored(db) == list(range(50))
    assert await read(twice) == (50, 50)


async def where(conn) -> int:
    await conn.execute("SELECT 1")
    return threading.get_ident()


async def test_a_glance_on_sqlite_runs_in_the_loops_thread_never_waits_and_never_writes(tmp_path):
    db = Database(tmp_path / "glance.db")
    await db.open()
    try:
        assert await db.glance(where) == threading.get_ident()
        assert await db.read(where) != threading.get_ident()
        assert db._here.execute("PRAGMA busy_timeout").fetchone()[0] == 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.glance(lambda conn: conn.execute("PRAGMA user_version = 99"))
    finally:
        await db.close()


class Locked(sqlite3.Connection):
    """A connection whose next statement meets another process's lock (SQLITE_BUSY), as a WAL
    recovery or an exclusive lock elsewhere makes it."""

    locks = 1

    def execute(self, sql, *args):
        if self.locks and not sql.startswith(("BEGIN", "COMMIT", "PRAGMA")):
            self.locks -= 1
            busy = sqlite3.OperationalError("database is locked")
            busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise busy
        return super().execute(sql, *args)


async def test_a_glance_that_meets_a_lock_is_read_in_the_readers_thread(tmp_path):
    db = Database(tmp_path / "locked.db")
    await db.open()
    try:
        db._here.close()
        db._here = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, factory=Locked)
        assert await db.glance(where) != threading.get_ident()
        assert not db._here.in_transaction
        assert await db.glance(where) == threading.get_ident()
    finally:
        await db.close()



#: Adds every element to the counter at once, under the write lock as calls must, reading back
#: the running total after each.
ADD_ALL = """
CREATE FUNCTION add_all(p_lock BIGINT, p_ks INTEGER[]) RETURNS TABLE (total INTEGER)
LANGUAGE plpgsql AS $$
DECLARE
    before INTEGER;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    UPDATE counter SET total = counter.total + (SELECT sum(k) FROM unnest(p_ks) k) WHERE id = 1
        RETURNING counter.total - (SELECT sum(k) FROM unnest(p_ks) k) INTO before;
    RETURN QUERY SELECT (before + sum(k) OVER (ORDER BY ord))::INTEGER
        FROM unnest(p_ks) WITH ORDINALITY AS u(k, ord) ORDER BY ord;
END $$
"""


@pytest.fixture
async def counter(postgres, tmp_path):
    """Calls take arrays, which only PostgreSQL has: a store on a database of its own."""
    url = postgres.create_database()
    database = open_store(url, tmp_path / "unused.db")
    await database.open()
    await database.write(lambda conn: conn.execute(
        "CREATE TABLE counter (id INTEGER PRIMARY KEY, total INTEGER CHECK (total < 100000))"
    ))
    await database.write(lambda conn: conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    await database.write(lambda conn: conn.execute("INSERT INTO counter (id, total) VALUES (1, 0)"))
    await database.write(lambda conn: conn.execute(ADD_ALL))
    yield database
    await database.close()
    postgres.release(url)


def add(k: int, refuse: bool = False) -> Call:
    """One element adding k, refused (by its finish) when asked, as a call may only be where it
    changed nothing: with k = 0."""

    def finish(row):
        if refuse:
            raise ValueError(k)
        return row["total"]

    return Call("SELECT total FROM add_all(?, ?::integer[])", (WRITE_LOCK,), (k,), finish)


async def total(database) -> int:
    async def read(conn):
        return await (await conn.execute("SELECT total FROM counter WHERE id = 1")).fetchone()

    return (await database.read(read))[0]


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """Every statement the PostgreSQL store sends, as sent."""
    import asyncpg

    sent = []
    for name in ("fetch", "execute"):
        original = getattr(asyncpg.Connection, name)

        def spy(self, query, *args, _original=original, **kwargs):
            sent.append((query, args))
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, name, spy)
    return sent


async def test_calls_queued_together_are_one_statement_without_a_transaction(counter, statements):
    results = await asyncio.gather(*(counter.write(add(k)) for k in range(1, 101)))
    assert results == [k * (k + 1) // 2 for k in range(1, 101)]
    calls = [args[1] for query, args in statements if "add_all" in query]
    assert sum(len(ks) for ks in calls) == 100 and len(calls) < 100, calls
    assert not any(query.startswith("BEGIN") for query, _ in statements)
    assert await total(counter) == 5050


async def test_calls_among_other_units_keep_their_order_in_one_transaction(counter, statements):
    outcomes = await asyncio.gather(
        counter.write(add(1)), counter.write(add(2)), counter.write(insert(5)),
        counter.write(add(4)), counter.write(add(8)),
    )
    assert outcomes == [1, 3, 5, 7, 15]
    assert await total(counter) == 15 and await stored(counter) == [5]


async def test_a_call_alone_runs_on_one_element(counter):
    assert await counter.write(add(5)) == 5
    assert await total(counter) == 5


async def test_a_refused_call_fails_alone(counter):
    outcomes = await asyncio.gather(
        counter.write(add(1)), counter.write(add(0, refuse=True)), counter.write(add(2)),
        counter.write(insert(5)), counter.write(add(0, refuse=True)), counter.write(add(4)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], ValueError) and isinstance(outcomes[4], ValueError)
    assert (outcomes[0], outcomes[2], outcomes[3], outcomes[5]) == (1, 3, 5, 7)
    assert await total(counter) == 7


async def test_a_call_whose_statement_fails_fails_alone(counter):
    outcomes = await asyncio.gather(
        counter.write(add(1)), counter.write(add(200000)), counter.write(add(2)),
        return_exceptions=True,
    )
    assert outcomes[0] == 1 and outcomes[2] == 3
    assert isinstance(outcomes[1], Exception)
    assert await total(counter) == 3

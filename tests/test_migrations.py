"""Every migration applies to both stores, and each data fix gives PostgreSQL what it gives SQLite."""

import asyncio
import json
import sqlite3

import asyncpg

from live.store.dialect import POSTGRESQL, SQLITE
from live.store.migrations import MIGRATIONS, script
from live.store.pg import PgDatabase

#: The last schema before operations recorded their command (migration 6).
BEFORE_COMMANDS = 5
ACKS = {
    "ask": {"question": {"id": 1}},
    "answer": {"poll_id": 3, "value": 0},
    "upvote": {"voted": True, "votes": 1},
    "unvote": {"voted": False, "votes": 0},
    "": {"unknown": 1},
}


def _insert_operations() -> list[str]:
    return [
        "INSERT INTO events (id, code, title, moderator_secret_hash, screen_token_hash, created_at) "
        "VALUES (1, 'OLD1', 'Old', 'x', 'y', 1.0)",
        "INSERT INTO participants (id, event_id, token_hash, attendance, created_at) "
        "VALUES (1, 1, 't', 'remote', 1.0)",
        *(
            "INSERT INTO operations (participant_id, op_id, result, created_at) "
            f"VALUES (1, 'op-{command or 'none'}', '{json.dumps(result)}', 1.0)"
            for command, result in ACKS.items()
        ),
    ]


def test_the_command_of_old_acks_is_derived_alike_on_sqlite(tmp_path):
    db = sqlite3.connect(tmp_path / "old.db")
    for migration in MIGRATIONS[:BEFORE_COMMANDS]:
        db.executescript(script(migration, SQLITE))
    for statement in _insert_operations():
        db.execute(statement)
    for migration in MIGRATIONS[BEFORE_COMMANDS:]:
        db.executescript(script(migration, SQLITE))
    found = dict(db.execute("SELECT op_id, command FROM operations").fetchall())
    assert found == {f"op-{c or 'none'}": c for c in ACKS}


async def test_the_command_of_old_acks_is_derived_alike_on_postgresql(postgres):
    url = postgres.create_database(empty=True)
    try:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "CREATE TABLE schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
            )
            for number, migration in enumerate(MIGRATIONS[:BEFORE_COMMANDS], start=1):
                await conn.execute(script(migration, POSTGRESQL))
                await conn.execute("INSERT INTO schema_migrations VALUES ($1, 0)", number)
            for statement in _insert_operations():
                await conn.execute(statement)
            found, applied = await PgDatabase(url).migrate()
            assert (found, applied) == (BEFORE_COMMANDS, list(range(BEFORE_COMMANDS + 1, len(MIGRATIONS) + 1)))
            rows = dict(await conn.fetch("SELECT op_id, command FROM operations"))
            assert rows == {f"op-{c or 'none'}": c for c in ACKS}
        finally:
            await conn.close()
    finally:
        postgres.drop_database(url)

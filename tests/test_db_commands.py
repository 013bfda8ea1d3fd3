"""`live db migrate` and `live db copy`: the schema applied explicitly, a SQLite file moved whole."""

import asyncio
import os
import sqlite3
import subprocess
import sys

import asyncpg
import pytest

from live.settings import Settings
from live.store.migrations import MIGRATIONS
from moderators import moderator
from support import ORGANISER_TOKEN, joined, running_server


def live(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "live", *args],
        env={**os.environ, "LIVE_ORGANISER_TOKEN": ORGANISER_TOKEN, **(env or {})},
        capture_output=True, text=True, timeout=60,
    )


async def rows_of(url: str, table: str) -> list[tuple]:
    conn = await asyncpg.connect(url)
    try:
        return sorted(tuple(r) for r in await conn.fetch(f"SELECT * FROM {table}"))
    finally:
        await conn.close()


async def never_analyzed(url: str, tables: list[str]) -> list[str]:
    """The tables PostgreSQL has no statistics for yet (reltuples is -1 until an ANALYZE)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT relname FROM pg_class WHERE relname = ANY($1) AND reltuples < 0", tables
        )
        return sorted(r[0] for r in rows)
    finally:
        await conn.close()


def sqlite_tables(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )]
        return {name: sorted(db.execute(f"SELECT * FROM {name}").fetchall()) for name in names}


def fill_the_rest(path, question_id: int) -> None:
    """Rows for the tables the scenario above does not reach, as other days of use leave them."""
    with sqlite3.connect(path) as db:
        event_id, participant_id = db.execute(
            "SELECT event_id, participant_id FROM questions WHERE id = ?", (question_id,)
        ).fetchone()
        steward = db.execute(
            "INSERT INTO steward_sessions (event_id, token_hash, pseudonym, created_at) "
            "VALUES (?, 'steward-hash', 'Door', 1.5)", (event_id,),
        ).lastrowid
        db.execute(
            "INSERT INTO entries (question_id, event_id, steward_session_id, created_at) "
            "VALUES (?, ?, ?, 2.25)", (question_id, event_id, steward),
        )
        db.execute(
            "INSERT INTO receipt_addresses (participant_id, email, created_at) "
            "VALUES (?, 'amal@example.org', 3.125)", (participant_id,),
        )
        db.execute(
            "INSERT INTO organiser_sessions (organiser_id, token_hash, created_at) "
            "SELECT id, 'console-hash', 4.0 FROM organisers"
        )


def test_migrate_applies_what_is_missing_and_says_so_on_sqlite(tmp_path):
    db = tmp_path / "fresh.db"
    first = live("db", "migrate", "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert f"was at version 0; applied 1, 2," in first.stdout
    assert f"now at version {len(MIGRATIONS)}." in first.stdout
    again = live("db", "migrate", "--db", str(db))
    assert again.returncode == 0
    assert f"already at version {len(MIGRATIONS)}; nothing to apply." in again.stdout


def test_migrate_applies_what_is_missing_and_says_so_on_postgresql(postgres):
    url = postgres.create_database(empty=True)
    try:
        first = live("db", "migrate", env={"LIVE_DATABASE_URL": url})
        assert first.returncode == 0, first.stderr
        assert "PostgreSQL 127.0.0.1" in first.stdout and "was at version 0; applied 1, 2," in first.stdout
        again = live("db", "migrate", env={"LIVE_DATABASE_URL": url})
        assert f"already at version {len(MIGRATIONS)}; nothing to apply." in again.stdout
    finally:
        postgres.drop_database(url)


async def test_copy_moves_every_table_with_its_ids_and_the_server_goes_on_from_there(tmp_path, postgres):
    path = tmp_path / "event.db"
    settings = Settings(db=path, port=0, organiser_token=ORGANISER_TOKEN)
    async with running_server(settings) as server:
        created = await server.create_event("Before the move", moderation="post")
        code = created["event"]["code"]
        asker = await joined(server, code, "in_room", name="Amal")
        voter = await joined(server, code, "remote")
        mod = await moderator(server, created)
        first = await asker.ask("Which wards will close over the winter?")
        duplicate = await voter.ask("Where can we send written comments afterwards?")
        await voter.ok("upvote", {"question_id": first["id"]})
        await asker.ok("upvote", {"question_id": duplicate["id"]})
        await mod.act("merge", await mod.question(duplicate["id"]), into=first["id"])
        await mod.ok("focus", {"question_id": first["id"], "version": (await mod.question(first["id"]))["version"]})
        status, body = await server.api(
            "POST", f"/api/events/{code}/polls", {"kind": "single", "question": "Clear?", "options": ["Yes", "No"]}
        )
        poll = body["data"]
        await server.api("POST", f"/api/events/{code}/polls/{poll['id']}/open")
        await voter.ok("answer", {"poll_id": poll["id"], "value": 1, "op_id": "answer-1"})
        seq_before = (await voter.snapshot())["seq"]
        for client in (asker, voter, mod):
            await client.close()
    assert live("organiser", "add", "Sam", "--db", str(path)).returncode == 0
    fill_the_rest(path, first["id"])
    before = sqlite_tables(path)

    url = postgres.create_database(empty=True)
    try:
        copied = live("db", "copy", "--db", str(path), "--to", url)
        assert copied.returncode == 0, copied.stdout + copied.stderr
        assert "every count checked" in copied.stdout
        for table, rows in before.items():
            assert rows, f"the scenario leaves {table} empty, so its copy is untested"
            assert await rows_of(url, table) == rows, table
        assert await never_analyzed(url, list(before)) == [], "the planner has no statistics"

        refused = live("db", "copy", "--db", str(path), "--to", url)
        assert refused.returncode == 2
        assert "not empty" in refused.stdout and "new, empty database" in refused.stdout

        async with running_server(Settings(db=tmp_path / "unused.db", database_url=url, port=0,
                                           organiser_token=ORGANISER_TOKEN)) as server:
            again = await joined(server, code, "remote")
            snapshot = await again.snapshot()
            assert snapshot["seq"] == seq_before
            assert [q["id"] for q in snapshot["questions"]] == [first["id"]]
            assert snapshot["questions"][0]["votes"] == 1
            later = await again.ask("And after the move?")
            assert later["id"] == max(r[0] for r in before["questions"]) + 1
            assert (await again.snapshot())["seq"] > seq_before
            await again.close()
    finally:
        postgres.drop_database(url)


def test_copy_refuses_what_is_not_a_postgresql_url_or_a_missing_file(tmp_path):
    wrong = live("db", "copy", "--db", str(tmp_path / "x.db"), "--to", "mysql://me:hunter2@somewhere/db")
    assert wrong.returncode == 2 and "postgresql:// URL" in wrong.stdout and "hunter2" not in wrong.stdout
    unset = live("serve", "--db", str(tmp_path / "x.db"), env={"LIVE_DATABASE_URL": "mysql://me:hunter2@db/x"})
    assert unset.returncode == 2 and "LIVE_DATABASE_URL" in unset.stdout and "hunter2" not in unset.stdout
    missing = live("db", "copy", "--db", str(tmp_path / "none.db"), "--to", "postgresql://127.0.0.1:1/x")
    assert missing.returncode == 2 and "There is no SQLite file" in missing.stdout


def test_copy_into_a_server_that_does_not_answer_is_a_clear_error(tmp_path):
    assert live("db", "migrate", "--db", str(tmp_path / "x.db")).returncode == 0
    unreachable = live("db", "copy", "--db", str(tmp_path / "x.db"), "--to", "postgresql://127.0.0.1:1/x")
    assert unreachable.returncode == 2 and "cannot" in unreachable.stdout
    assert "Traceback" not in unreachable.stderr

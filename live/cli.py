"""The `live` command: serve, and manage events from the shell."""

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from aiohttp import web
from pydantic import ValidationError

from live import logs
from live.app import announce, create_app, describe
from live.domain import errors
from live.domain.errors import LiveError
from live.domain.model import ModerationMode
from live.heap import Heap
from live.services.events import EventService
from live.services.organisers import OrganiserService
from live.settings import Settings
from live.store import DatabaseUnavailable, open_store
from live.store import copy as store_copy

SHUTDOWN_TIMEOUT = 5.0
#: Seconds the first worker may take to start listening (migrations, organiser token) before the
#: others start, so exactly one of them does that work.
FIRST_WORKER_TIMEOUT = 30.0
#: Seconds to wait before starting a worker again after it died.
RESTART_DELAY = 1.0


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name in ("host", "port", "db", "workers")
        if (value := getattr(args, name, None)) is not None
    }
    return Settings(**overrides)


def serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    logs.configure(settings)
    asyncio.run(_check_database(settings))
    if settings.workers > 1:
        return _supervise(args, settings)
    app = create_app(settings, demo=args.demo)
    app.cleanup_ctx.append(_heap)
    announce(f"live is serving on http://{settings.host}:{settings.port} ({store_label(settings)})")
    web.run_app(
        app, host=settings.host, port=settings.port, print=None, shutdown_timeout=SHUTDOWN_TIMEOUT,
        reuse_port=args.reuse_port or None,
    )
    return 0


def _worker_command(args: argparse.Namespace, settings: Settings, first: bool) -> list[str]:
    command = [
        sys.executable, "-m", "live", "serve", "--reuse-port", "--workers", "1",
        "--host", settings.host, "--port", str(settings.port), "--db", str(settings.db),
    ]
    return command + ["--demo"] if args.demo and first else command


def _listening(settings: Settings) -> bool:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    with contextlib.suppress(OSError), socket.create_connection((host, settings.port), 0.2):
        return True
    return False


def _supervise(args: argparse.Namespace, settings: Settings) -> int:
    """Run N workers on one port (SO_REUSEPORT), restart any that dies, drain all on SIGTERM.

    The kernel spreads connections over the workers without stickiness, so this suits
    websocket-only clients; long-polling needs a sticky proxy in front (docs/DEPLOY.md).
    """
    if not settings.redis_url:
        logging.getLogger(__name__).warning(
            "--workers without LIVE_REDIS_URL: each worker only reaches its own clients"
        )
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = [subprocess.Popen(_worker_command(args, settings, first=True))]
    deadline = time.monotonic() + FIRST_WORKER_TIMEOUT
    while not stopping and not _listening(settings) and workers[0].poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    workers += [
        subprocess.Popen(_worker_command(args, settings, first=False))
        for _ in range(settings.workers - 1)
    ]
    while not stopping:
        time.sleep(0.2)
        for i, worker in enumerate(workers):
            if worker.poll() is not None and not stopping:
                announce(f"worker {worker.pid} exited with {worker.returncode}; starting another")
                time.sleep(RESTART_DELAY)
                workers[i] = subprocess.Popen(_worker_command(args, settings, first=False))
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(SHUTDOWN_TIMEOUT * 2)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


async def _heap(app: web.Application) -> AsyncIterator[None]:
    """Keep full collections cheap while the server runs (live/heap.py)."""
    heap = Heap()
    heap.start()
    yield
    heap.stop()


async def _check_database(settings: Settings) -> None:
    """Open (and migrate) the database once before saying anything is served, so a file that
    cannot be used stops `serve` with its reason instead of a server that never answers."""
    db = open_store(settings.database_url, settings.db)
    await db.open()
    await db.close()


async def _with_events(settings: Settings, action) -> object:
    db = open_store(settings.database_url, settings.db)
    await db.open()
    try:
        return await action(EventService(db, lambda changes: None))
    finally:
        await db.close()


def event_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    created = asyncio.run(
        _with_events(
            settings,
            lambda events: events.create(
                title=args.title,
                code=args.code,
                description=args.description,
                stream_url=args.stream_url,
                moderation=ModerationMode(args.moderation),
            ),
        )
    )
    announce(describe(settings, created))
    return 0


def event_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    events = asyncio.run(_with_events(settings, lambda events: events.all()))
    if not events:
        announce("No events yet. Create one with: live event create --title '...'")
    for event in events:
        announce(f"{event['code']}  {event['state']:<6}  {event['title']}")
    return 0


def organiser_token(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = asyncio.run(_with_events(settings, lambda events: events.reset_organiser_token()))
    announce(f"New organiser token (shown once, the old one no longer works): {token}")
    return 0


async def _with_organisers(settings: Settings, action) -> object:
    db = open_store(settings.database_url, settings.db)
    await db.open()
    try:
        return await action(OrganiserService(db))
    finally:
        await db.close()


def organiser_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    organiser, password = asyncio.run(
        _with_organisers(settings, lambda organisers: organisers.add(args.name))
    )
    announce(f"Organiser {organiser['name']} added. Sign in at {settings.base_url()}/organise")
    announce(f"  Password (shown once, keep it safe): {password}")
    return 0


def store_label(settings: Settings) -> str:
    """Which store a command uses, without the URL's password."""
    if not settings.database_url:
        return f"SQLite file {settings.db}"
    parts = urllib.parse.urlsplit(settings.database_url)
    return f"PostgreSQL {parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def db_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings.database_url, settings.db)
    try:
        found, applied = asyncio.run(store.migrate())
    except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(f"cannot migrate {store_label(settings)}: {exc}") from exc
    if applied:
        numbers = ", ".join(str(n) for n in applied)
        announce(f"{store_label(settings)}: was at version {found}; applied {numbers}; "
                 f"now at version {applied[-1]}.")
    else:
        announce(f"{store_label(settings)}: already at version {found}; nothing to apply.")
    return 0


def db_copy(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        Settings(database_url=args.to)
    except ValidationError:
        raise LiveError(errors.INVALID, "--to must be a postgresql:// URL.") from None
    target = store_label(Settings(database_url=args.to))
    try:
        copied = asyncio.run(store_copy.copy(settings.db, args.to))
    except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(f"cannot copy into {target}: {exc}") from exc
    for table, rows in copied:
        announce(f"  {table:<20} {rows:>9} rows")
    total = sum(rows for _, rows in copied)
    announce(f"Copied {total} rows in {len(copied)} tables from {settings.db} into {target}; "
             "every count checked. Serve from it with LIVE_DATABASE_URL.")
    return 0


def organiser_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    organisers = asyncio.run(_with_organisers(settings, lambda organisers: organisers.all()))
    if not organisers:
        announce("No organiser accounts yet. Add one with: live organiser add NAME")
    for organiser in organisers:
        added = time.strftime("%Y-%m-%d %H:%M", time.localtime(organiser["created_at"]))
        announce(f"{organiser['name']}  (added {added})")
    return 0


def organiser_remove(args: argparse.Namespace) -> int:
    settings = _settings(args)
    organiser = asyncio.run(
        _with_organisers(settings, lambda organisers: organisers.remove(args.name))
    )
    announce(f"Organiser {organiser['name']} removed; their console sessions are signed out.")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="live", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", type=Path, help="SQLite database file (LIVE_DB, default live.db)")
        return p

    run = with_db(commands.add_parser("serve", help="run the server"))
    run.add_argument("--host", help="address to listen on (LIVE_HOST, default 127.0.0.1)")
    run.add_argument("--port", type=int, help="port to listen on (LIVE_PORT, default 8080)")
    run.add_argument("--demo", action="store_true", help="create a demo event and print its links")
    run.add_argument(
        "--workers", type=int,
        help="worker processes sharing the port (LIVE_WORKERS, default 1; SO_REUSEPORT, so "
        "websocket-only without a sticky proxy; needs LIVE_REDIS_URL; see docs/DEPLOY.md)",
    )
    run.add_argument(
        "--reuse-port", action="store_true",
        help="let other processes listen on the same port (what --workers gives each worker)",
    )
    run.set_defaults(func=serve)

    event = commands.add_parser("event", help="manage events").add_subparsers(
        dest="event_command", required=True
    )
    create = with_db(event.add_parser("create", help="create an event and print its links"))
    create.add_argument("--title", required=True)
    create.add_argument("--code", help="join code (default: a random one)")
    create.add_argument("--description", default="")
    create.add_argument("--stream-url", help="the livestream's URL, shown to participants")
    create.add_argument(
        "--moderation",
        choices=[m.value for m in ModerationMode],
        default=ModerationMode.POST.value,
        help="pre: every question waits for a moderator; post (default): published at once "
        "unless a filter holds it. Moderators can switch it live.",
    )
    create.set_defaults(func=event_create)
    with_db(event.add_parser("list", help="list events")).set_defaults(func=event_list)

    organiser = commands.add_parser(
        "organiser", help="manage the organisers' console accounts"
    ).add_subparsers(dest="organiser_command", required=True)
    add = with_db(organiser.add_parser("add", help="add an account and print its password once"))
    add.add_argument("name", help="the organiser's name, shown in the log of what they do")
    add.set_defaults(func=organiser_add)
    with_db(organiser.add_parser("list", help="list the accounts")).set_defaults(
        func=organiser_list
    )
    remove = with_db(organiser.add_parser("remove", help="remove an account, signing it out"))
    remove.add_argument("name")
    remove.set_defaults(func=organiser_remove)

    database = commands.add_parser("db", help="manage the database").add_subparsers(
        dest="db_command", required=True
    )
    with_db(database.add_parser(
        "migrate", help="apply the schema migrations the database lacks (LIVE_DATABASE_URL, "
        "else the SQLite file) and say which"
    )).set_defaults(func=db_migrate)
    copy = with_db(database.add_parser(
        "copy", help="copy every table of the SQLite file into an empty PostgreSQL database"
    ))
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://… of the target")
    copy.set_defaults(func=db_copy)

    token = commands.add_parser("organiser-token", help="manage the organiser API token")
    with_db(token.add_subparsers(dest="token_command", required=True).add_parser(
        "reset", help="replace the organiser token and print the new one"
    )).set_defaults(func=organiser_token)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except LiveError as exc:
        announce(f"error: {exc.message}")
        return 2
    except DatabaseUnavailable as exc:
        announce(f"error: {exc}")
        return 2
    except ValidationError as exc:  # a setting from the environment or a flag
        for problem in exc.errors(include_url=False):
            name = ".".join(str(part) for part in problem["loc"])
            announce(f"error: LIVE_{name.upper()}: {problem['msg'].removeprefix('Value error, ')}")
        return 2

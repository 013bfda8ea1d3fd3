"""Test clients and servers: the real server on a free port, real Socket.IO clients over TCP."""

import asyncio
import concurrent.futures
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import socketio
from aiohttp import web

from live.app import SIO, create_app
from live.settings import Settings

ORGANISER_TOKEN = "organiser-test-token"
POLLING = "/socket.io/?EIO=4&transport=polling"
#: engine.io's separator between the packets of one long-polling payload.
RECORD_SEPARATOR = "\x1e"
VISIBLE = {"published", "answered"}  # mirrors VISIBLE_STATUSES in live/domain/model.py


class Postgres:
    """Throwaway databases on a PostgreSQL server, each a copy of one migrated template (a copy
    takes a tenth of a second; migrating takes several)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.template = f"live_tpl_{secrets.token_hex(4)}"
        self._dropper = concurrent.futures.ThreadPoolExecutor(1)
        self._released: list[concurrent.futures.Future] = []

    def _at(self, name: str) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))

    def admin(self, *statements: str) -> None:
        """Run statements on the server's own database, from a thread with its own loop (the
        test's loop may be running)."""

        async def run() -> None:
            conn = await asyncpg.connect(self.url, timeout=5)
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run()).result()

    def unreachable(self) -> str | None:
        try:
            self.admin("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
            return str(exc) or type(exc).__name__
        return None

    def make_template(self) -> None:
        from live.store.pg import PgDatabase

        self.admin(f"CREATE DATABASE {self.template}")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, PgDatabase(self._at(self.template)).migrate()).result()

    def drop_template(self) -> None:
        """Drop the template once the tests' databases are dropped (see `release`)."""
        self._dropper.shutdown(wait=True)
        for dropped in self._released:
            dropped.result()
        self.admin(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")

    def create_database(self, empty: bool = False) -> str:
        """A new database holding the migrated schema (or nothing at all) and no rows; its URL."""
        name = f"live_test_{secrets.token_hex(6)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else self.template}")
        return self._at(name)

    def drop_database(self, url: str) -> None:
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def release(self, url: str) -> None:
        """Drop a test's database in the background while the next test runs: waiting for each
        drop would add a tenth of a second to every test."""
        self._released.append(self._dropper.submit(self.drop_database, url))


class StoreSQL:
    """The server's database for a test to read or change behind the server's back, on either
    store: SQLite's SQL (the store's own dialect), run on whichever the settings name."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def execute(self, sql: str, parameters: tuple = ()) -> list:
        if not self.settings.database_url:
            with contextlib.closing(sqlite3.connect(self.settings.db)) as db, db:
                db.row_factory = sqlite3.Row
                return db.execute(sql, parameters).fetchall()
        from live.store.dialect import postgres

        async def run() -> list:
            conn = await asyncpg.connect(self.settings.database_url, timeout=5)
            try:
                return await conn.fetch(postgres(sql)[0], *parameters)
            finally:
                await conn.close()

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, run()).result()


class Cluster:
    """A PostgreSQL cluster of the test's own in a temporary folder, which it may stop and start
    (the machine's own server is never touched); owned by the postgres account when run as root,
    for PostgreSQL refuses to run as root (so the folder is outside pytest's root-only one)."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="live-test-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if self._as:
            shutil.chown(self.dir, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"),
            "-w", "start", "-o",
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off",
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "stop", "-m", "fast")

    def remove(self) -> None:
        """Stop the server if it runs, and delete the folder."""
        if (self.dir / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _postgres_bin() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not candidates:
        raise FileNotFoundError("initdb")
    return candidates[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    settings: Settings
    app: web.Application | None = None

    async def api(self, method: str, path: str, json: object = None, token: str | None = ORGANISER_TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as http:
            async with http.request(method, self.url + path, json=json, headers=headers) as res:
                return res.status, await res.json()

    async def create_event(self, title: str = "Assembly", **fields) -> dict:
        status, body = await self.api("POST", "/api/events", {"title": title, **fields})
        assert status == 201, body
        return body["data"]


@contextlib.asynccontextmanager
async def running_server(settings: Settings, port: int = 0):
    """The whole app, in this process, listening on a real loopback port: any free one, or the
    one given (for a test whose settings must name it, such as an allowed origin)."""
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Server(f"http://127.0.0.1:{port}", settings, app)
    finally:
        await _let_disconnects_land(app)
        await runner.cleanup()


async def _let_disconnects_land(app: web.Application, timeout: float = 1.0) -> None:
    """Give the server a moment to see clients the test already closed, so teardown is quick."""
    deadline = time.monotonic() + timeout
    while app[SIO].eio.sockets and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


class ServerProcess:
    """The `live serve` command in its own process, for restarts and kill -9."""

    def __init__(self, db: Path, env: dict[str, str] | None = None) -> None:
        self.db = db
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = db.with_suffix(f".{self.port}.log")
        #: Where stderr goes when it must be read apart from stdout; None: into the log.
        self.errors: Path | None = None
        self.start_args: list[str] = []

    def start(self) -> None:
        env = {**os.environ, "LIVE_ORGANISER_TOKEN": ORGANISER_TOKEN, **self.env}
        with open(self.log, "ab") as log, open(self.errors or os.devnull, "ab") as errors:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "live", "serve",
                    "--port", str(self.port), "--db", str(self.db), *self.start_args,
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT if self.errors is None else errors,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def server(self) -> Server:
        return Server(self.url, Settings(organiser_token=ORGANISER_TOKEN))


class RedisProcess:
    """A real redis-server on a free loopback port (never 6379) that a test can stop and restart."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("redis-server")
        assert exe is not None, "redis-server is not installed"
        self.exe = exe
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class Replica:
    """The protocol's client rules, as a reference: snapshot at a seq, then ordered broadcasts."""

    seq: int = -1
    event: dict | None = None
    stage: dict | None = None
    questions: dict[int, dict] = field(default_factory=dict)
    polls: dict[int, dict] = field(default_factory=dict)

    def load(self, snapshot: dict) -> None:
        self.seq = snapshot["seq"]
        self.event = snapshot["event"]
        self.stage = snapshot.get("stage")
        self.questions = {q["id"]: q for q in snapshot["questions"]}
        self.polls = {p["id"]: p for p in snapshot.get("polls", [])}

    def apply(self, msg: dict) -> str:
        if msg["seq"] <= self.seq:
            return "stale"
        if msg["prev"] > self.seq:
            return "gap"
        if msg["type"] == "question":
            q = msg["question"]
            if q["status"] in VISIBLE:
                self.questions[q["id"]] = q
            else:
                self.questions.pop(q["id"], None)
        elif msg["type"] == "votes":
            for qid, votes in msg["counts"]:
                if qid in self.questions:
                    self.questions[qid] = {**self.questions[qid], "votes": votes}
            for poll in msg.get("polls", []):
                if poll["id"] in self.polls:
                    self.polls[poll["id"]] = {**self.polls[poll["id"]], "results": poll["results"]}
        elif msg["type"] == "poll":
            self.polls[msg["poll"]["id"]] = msg["poll"]
        elif msg["type"] == "event":
            self.event = msg["event"]
        elif msg["type"] == "stage":
            self.stage = msg["stage"]
        self.seq = msg["seq"]
        return "applied"

    def view(self) -> dict:
        return {
            "event": self.event,
            "stage": self.stage,
            "questions": self.questions,
            "polls": self.polls,
        }


class Client:
    """A real python-socketio client that records every broadcast it receives."""

    def __init__(self, server: Server, code: str, token: str | None = None, transport: str = "websocket") -> None:
        self.server = server
        self.code = code
        self.token = token
        self.transport = transport
        self.sio = socketio.AsyncClient(reconnection=False)
        self.updates: list[dict] = []
        self.mine: list[dict] = []
        self.connect_errors: list[object] = []
        self._arrived = asyncio.Event()
        self.sio.on("update", self._on_update)
        self.sio.on("mine", self._on_mine)
        self.sio.on("connect_error", self.connect_errors.append)
        self.sio.on("resync", self._on_resync)
        self.resyncs = 0
        self.me: dict | None = None

    async def _on_resync(self, msg: object = None) -> None:
        self.resyncs += 1

    async def _on_update(self, msg: dict) -> None:
        self.updates.append(msg)
        self._arrived.set()

    async def _on_mine(self, msg: dict) -> None:
        self.mine.append(msg)
        self._arrived.set()

    async def connect(self) -> "Client":
        auth = {"event": self.code}
        if self.token:
            auth["token"] = self.token
        await self.sio.connect(self.server.url, auth=auth, transports=[self.transport], wait_timeout=10)
        return self

    async def call(self, name: str, payload: object = None) -> dict:
        if payload is None:
            return await self.sio.call(name, timeout=10)
        return await self.sio.call(name, payload, timeout=10)

    async def ok(self, name: str, payload: object = None) -> object:
        reply = await self.call(name, payload)
        assert reply["ok"], reply
        return reply["data"]

    async def join(self, attendance: str = "in_room", name: str | None = None) -> dict:
        data = await self.ok("join", {"attendance": attendance, "name": name})
        self.token = data.get("token", self.token)
        self.me = data["me"]
        return data

    async def ask(self, text: str, **extra) -> dict:
        return (await self.ok("ask", {"text": text, **extra}))["question"]

    async def snapshot(self, sort: str = "top") -> dict:
        return await self.ok("snapshot", {"sort": sort})

    async def wait_for(self, predicate, timeout: float = 5.0, among: str = "updates") -> dict:
        """Wait until a message (a broadcast, or among="mine" an author notice) satisfies predicate."""
        deadline = time.monotonic() + timeout
        while True:
            for msg in getattr(self, among):
                if predicate(msg):
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching broadcast in {timeout}s; got {self.updates}")
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def close(self) -> None:
        if self.transport == "polling":
            # python-socketio's client waits for its pending long-poll (up to 25 s) before
            # disconnecting; the server notices the abandoned session by itself.
            await self.sio.eio.disconnect(abort=True)
            return
        await self.sio.disconnect()


async def joined(server: Server, code: str, attendance: str = "in_room", name: str | None = None) -> Client:
    client = await Client(server, code).connect()
    await client.join(attendance, name)
    return client


async def connect_refusal(server: Server, auth: object) -> dict:
    """Try to connect with these credentials; return the error the server refused them with."""
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[object] = []
    sio.on("connect_error", errors.append)
    try:
        await sio.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        assert errors and isinstance(errors[0], dict), errors
        return errors[0]["data"]
    await sio.disconnect()
    raise AssertionError(f"connection with {auth!r} was accepted")


class Follower(Client):
    """A client that keeps its view by the protocol's rules: snapshot at connect, on a gap, and
    when the server says `resync`; updates that arrive meanwhile are buffered, then replayed."""

    def __init__(self, server: Server, code: str, token: str | None = None) -> None:
        super().__init__(server, code, token)
        self.replica = Replica()
        self._buffer: list[dict] | None = None
        self._sync_task: asyncio.Task | None = None
        self.snapshots = 0

    async def connect(self) -> "Follower":
        await super().connect()
        self.resync()
        return self

    async def _on_update(self, msg: dict) -> None:
        await super()._on_update(msg)
        if self._buffer is not None:
            self._buffer.append(msg)
        elif self.replica.apply(msg) == "gap":
            self.resync()

    async def _on_resync(self, msg: object = None) -> None:
        await super()._on_resync(msg)
        self.resync()

    def resync(self) -> None:
        if self._buffer is None:
            self._buffer = []
            self._sync_task = asyncio.create_task(self._sync())

    async def _sync(self) -> None:
        try:
            snap = await self.snapshot()
        except Exception:
            self._buffer = None
            return
        self.snapshots += 1
        self.replica.load(snap)
        pending, self._buffer = self._buffer or [], None
        for msg in pending:
            if self.replica.apply(msg) == "gap":
                self.resync()
                return

    def votes(self) -> dict[int, int]:
        return {qid: q["votes"] for qid, q in self.replica.questions.items()}

    async def close(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
        await super().close()


class Polling:
    """A long-polling session driven by hand: GETs and POSTs of engine.io payloads."""

    def __init__(self, http: aiohttp.ClientSession, server) -> None:
        self.http = http
        self.server = server
        self.sid = ""

    @property
    def url(self) -> str:
        return f"{self.server.url}{POLLING}&sid={self.sid}"

    async def open(self, code: str) -> "Polling":
        async with self.http.get(self.server.url + POLLING) as res:
            self.sid = json.loads((await res.text())[1:])["sid"]
        assert await self.post("40" + json.dumps({"event": code})) == (200, "OK")
        assert (await self.get())[0].startswith("40{")
        return self

    async def post(self, body: str | bytes | AsyncIterator[bytes]) -> tuple[int, str]:
        async with self.http.post(self.url, data=body,
                                  timeout=aiohttp.ClientTimeout(total=5)) as res:
            return res.status, await res.text()

    async def get(self) -> list[str]:
        async with self.http.get(self.url, timeout=aiohttp.ClientTimeout(total=5)) as res:
            assert res.status == 200, await res.text()
            return (await res.text()).split(RECORD_SEPARATOR)

    async def ended(self) -> bool:
        """Whether the session is over: a poll gets engine.io's CLOSE, or the session is gone."""
        async with self.http.get(self.url, timeout=aiohttp.ClientTimeout(total=5)) as res:
            text = await res.text()
        return res.status == 400 or "1" in text.split(RECORD_SEPARATOR)

    async def ack(self, ack_id: int) -> list:
        while True:
            for text in await self.get():
                if text.startswith(f"43{ack_id}["):
                    return json.loads(text[len(f"43{ack_id}"):])

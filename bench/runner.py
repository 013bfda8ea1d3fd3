"""Start a target server, drive it with generator workers, measure, and report.

Every process it starts is pinned (server to one core, generator to the other, where `taskset`
and two cores exist), bounded by a deadline, and stopped in a `finally`.
"""

import asyncio
import contextlib
import fcntl
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
#: The bench's thousands of participants all come from one loopback address, as no audience does.
LIVE_ENV = {
    "LIVE_ASK_LIMIT": "1000000",
    "LIVE_ASK_WINDOW": "1",
    "LIVE_JOIN_LIMIT": "1000000",
    "LIVE_LOG_LEVEL": "WARNING",
    "LIVE_ORGANISER_TOKEN": "bench-organiser-token",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinning() -> tuple[list[str], list[str]]:
    """taskset prefixes for the server (core 0) and the generator (the other cores)."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if shutil.which("taskset") and len(cores) >= 2:
        rest = ",".join(str(c) for c in cores[1:])
        return ["taskset", "-c", str(cores[0])], ["taskset", "-c", rest]
    return [], []


def raise_fd_limit(wanted: int = 65536) -> int:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limit in (wanted, hard):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, max(limit, hard)))
            return limit
    return soft


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def machine() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with contextlib.suppress(OSError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem,
            "python": platform.python_version(), "kernel": platform.release()}


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


# ---- targets ---------------------------------------------------------------------------------
class Target:
    name = "?"
    code = ""

    def __init__(self, pin: list[str]) -> None:
        self.pin = pin
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-"))
        self.log = self.tmp / "server.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _spawn(self, argv: list[str], env: dict[str, str]) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.pin + argv, env={**os.environ, **env}, cwd=ROOT,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def database(self) -> dict | None:
        return None


class LiveTarget(Target):
    """`live serve` on SQLite, or with `postgres` (a server's URL) on a throwaway PostgreSQL
    database of its own, created at start and dropped at stop."""

    name = "live"

    def __init__(self, pin: list[str], env: dict[str, str] | None = None, postgres: str = "") -> None:
        super().__init__(pin)
        self.env = {**LIVE_ENV, **(env or {})}
        self.db = self.tmp / "bench.db"
        self.postgres = postgres
        if postgres:
            self.name = "live-pg"
            self.database_name = f"live_bench_{os.getpid()}_{self.port}"
            self.env["LIVE_DATABASE_URL"] = _with_database(postgres, self.database_name)

    def start(self) -> None:
        if self.postgres:
            _on_postgres(self.postgres, f"CREATE DATABASE {self.database_name}")
        out = subprocess.run(
            [sys.executable, "-m", "live", "event", "create", "--title", "Benchmark assembly",
             "--db", str(self.db)],
            env={**os.environ, **self.env}, cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout
        self.code = re.search(r"Event (\S+):", out).group(1)
        self._spawn([sys.executable, "-m", "live", "serve", "--port", str(self.port),
                     "--db", str(self.db)], self.env)

    def stop(self) -> None:
        super().stop()
        if self.postgres:
            _on_postgres(self.postgres, f"DROP DATABASE IF EXISTS {self.database_name} WITH (FORCE)")

    def database(self) -> dict:
        """The truth after a run, read straight from the SQLite file or the PostgreSQL database."""
        event = "SELECT id, seq FROM events WHERE code = ?"
        counted = ("SELECT q.id, (SELECT count(*) FROM votes v WHERE v.question_id = q.id)"
                   " FROM questions q WHERE q.event_id = ?")
        stored = "SELECT id, votes FROM questions WHERE event_id = ?"
        if self.postgres:
            url = self.env["LIVE_DATABASE_URL"]
            (event_id, seq), = _on_postgres(url, event, self.code)
            return {"seq": seq, "votes": dict(_on_postgres(url, counted, event_id)),
                    "stored": dict(_on_postgres(url, stored, event_id))}
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as conn:
            (event_id, seq), = conn.execute(event, (self.code,))
            return {"seq": seq, "votes": dict(conn.execute(counted, (event_id,))),
                    "stored": dict(conn.execute(stored, (event_id,)))}


def _with_database(url: str, name: str) -> str:
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _on_postgres(url: str, sql: str, *args: object) -> list[tuple]:
    """One statement (in SQLite's SQL, as the store writes it), from a thread with its own loop,
    for the caller may be inside a running one."""
    import concurrent.futures

    import asyncpg

    from live.store.dialect import postgres

    async def run() -> list[tuple]:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return [tuple(r) for r in await conn.fetch(postgres(sql)[0], *args)]
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


class BaselineTarget(Target):
    name = "baseline"
    code = "BASELINE"

    def start(self) -> None:
        self._spawn([sys.executable, "-m", "bench.baseline_server", "--port", str(self.port)], {})


NODE_DIR = ROOT / "bench" / "node"
NPM_CI_SECONDS = 300


def node_missing() -> str | None:
    """Why the Node reference target cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    if not (NODE_DIR / "node_modules" / "socket.io").is_dir() and shutil.which("npm") is None:
        return "npm is not installed (apt-get install npm) to install bench/node's socket.io"
    return None


def install_node_modules() -> None:
    """Install the pinned socket.io from bench/node's lock file when it is not there yet; runs
    at once (the test suite's processes) take turns on a lock on that file."""
    with open(NODE_DIR / "package-lock.json") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (NODE_DIR / "node_modules" / "socket.io").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True,
                           stdout=subprocess.DEVNULL, timeout=NPM_CI_SECONDS)


def node_versions() -> dict[str, str]:
    """Node's and the installed socket.io's versions, recorded with every result."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    package = json.loads((NODE_DIR / "node_modules" / "socket.io" / "package.json").read_text())
    return {"node": node.stdout.strip().lstrip("v"), "socket.io": package["version"]}


class NodeTarget(Target):
    """Node's own socket.io (bench/node/server.js): the reference implementation of the protocol."""

    name = "node"
    code = "NODE"

    def start(self) -> None:
        install_node_modules()
        self._spawn(["node", str(NODE_DIR / "server.js"), "--port", str(self.port)], {})


# ---- generator -------------------------------------------------------------------------------
@dataclass
class Generator:
    port: int
    workers: int
    pin: list[str]
    deadline: float
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)
    pending: dict[int, asyncio.Future] = field(default_factory=dict)
    readers: list[asyncio.Task] = field(default_factory=list)
    next_id: int = 0

    async def start(self) -> None:
        for _ in range(self.workers):
            self.procs.append(await asyncio.create_subprocess_exec(
                *self.pin, sys.executable, "-m", "bench.loadgen", "--port", str(self.port),
                "--deadline", str(self.deadline), cwd=ROOT, limit=2**26,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            ))
            self.readers.append(asyncio.create_task(self._read(len(self.procs) - 1)))

    async def _read(self, i: int) -> None:
        proc = self.procs[i]
        while line := await proc.stdout.readline():
            reply = json.loads(line)
            fut = self.pending.pop(reply.pop("id"), None)
            if fut is not None and not fut.done():
                fut.set_result(reply)
        for fut in list(self.pending.values()):
            if not fut.done():
                fut.set_exception(RuntimeError(f"generator worker {i} exited"))

    async def one(self, i: int, cmd: str, timeout: float = 300, **args) -> dict:
        self.next_id += 1
        fut = self.pending[self.next_id] = asyncio.get_running_loop().create_future()
        proc = self.procs[i]
        proc.stdin.write(json.dumps({"id": self.next_id, "cmd": cmd, **args}).encode() + b"\n")
        await proc.stdin.drain()
        reply = await asyncio.wait_for(fut, timeout)
        if not reply.pop("ok"):
            raise RuntimeError(f"generator worker {i}: {cmd}: {reply['error']}")
        return reply

    async def all(self, cmd: str, per_worker=None, timeout: float = 300, first: int | None = None,
                  **args) -> list[dict]:
        """Send cmd to every worker (or the `first` few); per_worker(i) may add worker-specific
        arguments."""
        return list(await asyncio.gather(*(
            self.one(i, cmd, timeout, **args, **(per_worker(i) if per_worker else {}))
            for i in range(self.workers if first is None else first)
        )))

    def share(self, n: int, i: int, among: int | None = None) -> int:
        """Worker i's part of n clients spread over all workers (or the first `among`)."""
        among = among or self.workers
        return n // among + (1 if i < n % among else 0)

    def prioritise(self, i: int, niceness: int = -10) -> bool:
        """Let worker i run first on the generator's core(s): what it measures is then not
        held up by the other workers' parsing. False where the system does not allow it."""
        try:
            os.setpriority(os.PRIO_PROCESS, self.procs[i].pid, niceness)
        except OSError:
            return False
        return True

    async def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()

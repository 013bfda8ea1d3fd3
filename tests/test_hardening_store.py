"""The store under abuse: abandoned exports, a database that cannot be opened or written."""

import asyncio
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from support import ORGANISER_TOKEN, ServerProcess, free_port
from test_export import generate

#: Downloads a test abandons: each one leaked a connection and an open read transaction.
ABANDONED = 50
#: Bytes read of each download before the client goes away.
READ_BEFORE_LEAVING = 4096
#: Descriptors the server may hold beyond its count before the downloads (a client or two of its
#: own still closing); a leak is two per abandoned download.
FD_SLACK = 4
#: Seconds `live serve` may take to give up on a database; it used to wait forever.
STARTUP_BOUND = 15
#: Bytes the server's files may still grow by once its disk is "full".
DISK_ROOM = 256 * 1024
#: Events created at most to fill that room (a few pages each).
MAX_WRITES_TO_FILL = 500


@pytest.fixture
def process(tmp_path):
    proc = ServerProcess(tmp_path / "live.db")
    yield proc
    proc.stop()


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def abandon(port: int, path: str) -> None:
    """Start a download with a small receive window, read the first bytes, and hang up."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, READ_BEFORE_LEAVING)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {ORGANISER_TOKEN}\r\n\r\n".encode()
        )
        received = 0
        while received < READ_BEFORE_LEAVING:
            chunk = sock.recv(READ_BEFORE_LEAVING - received)
            assert chunk, "the server closed the download early"
            received += len(chunk)


async def test_abandoned_exports_close_their_reader_and_its_transaction(process):
    process.start()
    server = process.server()
    code = (await server.create_event("Large assembly"))["event"]["code"]
    generate(process.db, code, questions=6_000, voters=1_000)
    await server.api("GET", "/api/events")
    before = descriptors(process.proc.pid)

    for number in range(ABANDONED):
        kind = "json" if number % 2 else "csv?table=questions"
        abandon(process.port, f"/api/events/{code}/export.{kind}")
    status, _ = await server.api("GET", "/api/events")
    assert status == 200

    deadline = time.monotonic() + 10
    while descriptors(process.proc.pid) > before + FD_SLACK and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert descriptors(process.proc.pid) <= before + FD_SLACK, (before, ABANDONED)
    with sqlite3.connect(process.db) as db:
        db.execute("PRAGMA busy_timeout = 0")
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0, "a read transaction is still open"
    assert os.path.getsize(f"{process.db}-wal") == 0


def _garbage(db: Path) -> None:
    db.parent.mkdir()
    db.write_bytes(b"not a database, whatever its name says " * 100)


def _wal_is_a_directory(db: Path) -> None:
    db.parent.mkdir()
    Path(f"{db}-wal").mkdir()


def _parent_is_a_file(db: Path) -> None:
    db.parent.write_text("a file where the database's directory should be")


def refused(db: Path, *wrapper: str) -> str:
    """Run `live serve` on this database and return what it said, checking that it gave up."""
    started = time.monotonic()
    done = subprocess.run(
        [*wrapper, sys.executable, "-m", "live", "serve", "--port", str(free_port()), "--db", str(db)],
        env={**os.environ, "LIVE_ORGANISER_TOKEN": ORGANISER_TOKEN},
        capture_output=True, text=True, timeout=STARTUP_BOUND,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert time.monotonic() - started < STARTUP_BOUND
    assert "live is serving" not in output
    assert f"error: cannot open the database {db}" in output, output
    assert "Traceback" not in output, output
    return output


# Each fails for root too, which ignores permission bits: a mode 0444 file would not do.
@pytest.mark.parametrize("spoil", [_garbage, _wal_is_a_directory, _parent_is_a_file])
def test_serve_refuses_a_database_it_cannot_open(tmp_path, spoil):
    db = tmp_path / "data" / "live.db"
    spoil(db)
    refused(db)


def test_serve_refuses_a_read_only_database(tmp_path):
    """Root ignores a file's mode; without CAP_DAC_OVERRIDE it is held to it like anyone."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    db = tmp_path / "live.db"
    listed = subprocess.run(
        [sys.executable, "-m", "live", "event", "list", "--db", str(db)],
        capture_output=True, text=True, timeout=STARTUP_BOUND,
    )
    assert listed.returncode == 0, listed.stderr
    db.chmod(0o444)
    output = refused(db, "setpriv", "--inh-caps=-dac_override", "--bounding-set=-dac_override")
    assert "readonly" in output


async def test_healthz_reports_a_database_that_cannot_take_writes(process):
    """A full disk, made real for the server alone: its files may grow only a little more."""
    process.start()
    server = process.server()
    assert (await server.api("GET", "/healthz", token=None))[0] == 200
    files = [process.db, Path(f"{process.db}-wal"), process.log]
    room = max(path.stat().st_size for path in files) + DISK_ROOM
    resource.prlimit(process.proc.pid, resource.RLIMIT_FSIZE, (room, room))
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {ORGANISER_TOKEN}"}) as http:
        for _ in range(MAX_WRITES_TO_FILL):
            async with http.post(f"{server.url}/api/events", json={"title": "Fills the disk"}) as res:
                if res.status != 201:
                    refused = await res.json()
                    break
        else:
            pytest.fail(f"{MAX_WRITES_TO_FILL} events fitted in {DISK_ROOM} bytes")
    assert res.status == 500 and refused["error"]["code"] == "internal", refused
    status, body = await server.api("GET", "/healthz", token=None)
    assert status == 503, body
    assert body["error"]["code"] == "unavailable" and "database" in body["error"]["message"]

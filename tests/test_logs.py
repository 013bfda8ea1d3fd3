"""LIVE_LOG_FORMAT=json: one object per line, and never a secret, a token, an email or a message."""

import datetime
import json
import logging
import resource
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from live import logs
from live.settings import Settings
from moderators import sign_in
from support import ORGANISER_TOKEN, Client, ServerProcess, free_port

EMAIL = "ada.lovelace+votes@example.org"
LOOKS_SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
QUESTION = f"Will the council publish the budget? Reply to {EMAIL}, my key is {LOOKS_SECRET}"
METRICS_TOKEN = "scrape-me-7Hc2-Lq9x0Wz5"
#: Bytes the server's files may still grow by once its disk is "full" (as test_hardening_store).
DISK_ROOM = 256 * 1024
MAX_WRITES_TO_FILL = 500


def record(message: str, *args: object, exc_info=None, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("live.test", logging.ERROR, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


@pytest.mark.parametrize("text", [
    f"sending to {EMAIL} failed",
    f"Authorization: Bearer {LOOKS_SECRET}",
    "token=abc123 and secret: 'hunter2' and password=swordfish",
    f"?t={LOOKS_SECRET}",
    "moderator secret Qm9keS1zZWNyZXQx",
])
def test_redaction_masks_addresses_credentials_and_token_like_strings(text):
    masked = logs.redact(text)
    for secret in (EMAIL, LOOKS_SECRET, "abc123", "hunter2", "swordfish", "Qm9keS1zZWNyZXQx"):
        assert secret not in masked, masked


def test_redaction_keeps_ordinary_words_paths_and_codes():
    text = "organiser 'Ada' closed event K7PQ2M; GET /api/events/K7PQ2M failed in live/store/db.py"
    assert logs.redact(text) == text


def test_a_json_line_has_time_level_logger_message_event_and_exception():
    try:
        raise RuntimeError(f"could not reach {EMAIL}")
    except RuntimeError:
        made = record("entering a question for %s failed", "K7PQ2M", exc_info=sys.exc_info(),
                      event="K7PQ2M")
    assert logs.Redact().filter(made)
    line = json.loads(logs.JsonFormatter().format(made))
    assert set(line) == {"time", "level", "logger", "message", "event", "exception"}
    assert line["time"].endswith("Z")
    assert datetime.datetime.fromisoformat(line["time"]).tzinfo == datetime.UTC
    assert (line["level"], line["logger"], line["event"]) == ("ERROR", "live.test", "K7PQ2M")
    assert line["message"] == "entering a question for K7PQ2M failed"
    assert "RuntimeError: could not reach [email]" in line["exception"]
    assert EMAIL not in json.dumps(line)


@pytest.mark.parametrize("form", ["text", "json"])
def test_both_formats_mask_what_a_log_call_lets_slip(form, capsys):
    touched = [logging.getLogger(name) for name in ("", "aiohttp.access", "aiosqlite")]
    kept = [(logger.handlers[:], logger.level) for logger in touched]
    try:
        logs.configure(Settings(log_format=form))
        logging.getLogger("live.test").warning("receipt for %s refused", EMAIL)
    finally:
        for logger, (handlers, level) in zip(touched, kept):
            logger.handlers[:] = handlers
            logger.setLevel(level)
    written = capsys.readouterr().err
    assert "receipt for [email] refused" in written and EMAIL not in written
    assert written.startswith("{") == (form == "json")


def test_text_stays_the_default_format():
    assert Settings().log_format == "text"
    with pytest.raises(ValueError):
        Settings(log_format="xml")


def garbage_request(port: int) -> None:
    """Bytes that are not HTTP, then a header too large: aiohttp's own parser refuses both."""
    for data in (b"\x16\x03\x01 not http at all\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), 5) as sock:
            sock.sendall(data)
            sock.recv(4096)


async def drive(proc: ServerProcess) -> tuple[str, dict[str, str]]:
    """The event's code, and everything the test must not find in the log: what each step sent
    or was given."""
    server = proc.server()
    status, created = await server.api("POST", "/api/events", {"title": "Budget night"})
    assert status == 201, created
    data = created["data"]
    code = data["event"]["code"]
    client = await Client(server, code).connect()
    await client.join("remote", "Ada")
    await client.ask(QUESTION)
    assert (await client.call("receipt_set", {"email": EMAIL}))["ok"] is False  # no SMTP here
    assert (await client.call("ask", {"text": "x" * 10_000}))["error"]["code"] == "invalid"
    await client.close()
    assert (await sign_in(server, code, data["moderator_secret"])).status == 303
    await sign_in(server, code, "wrong-" + data["moderator_secret"])
    assert (await server.api("GET", f"/api/events/{code}"))[0] == 200
    assert (await server.api("PATCH", f"/api/events/{code}", {"title": "Budget night, live"}))[0] == 200
    assert (await server.api("GET", "/api/events", token="not-the-token"))[0] == 403
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/events", data=b"{not json",
                             headers={"Authorization": f"Bearer {ORGANISER_TOKEN}"}) as res:
            assert res.status == 400
        async with http.get(f"{server.url}/metrics",
                            headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as res:
            assert res.status == 200
        async with http.get(f"{server.url}/metrics?token={METRICS_TOKEN}") as res:
            assert res.status == 401
    garbage_request(proc.port)
    fill_the_disk(proc)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {ORGANISER_TOKEN}"}) as http:
        for n in range(MAX_WRITES_TO_FILL):
            async with http.patch(f"{server.url}/api/events/{code}",
                                  json={"title": f"Fills the disk {n}"}) as res:
                if res.status != 200:
                    break
        assert res.status == 500, "the disk never filled"
    return code, {
        "organiser token": ORGANISER_TOKEN,
        "moderator secret": data["moderator_secret"],
        "screen token": data["screen_token"],
        "steward secret": data["steward_secret"],
        "device token": client.token or "",
        "metrics token": METRICS_TOKEN,
        "email": EMAIL,
        "secret-looking string": LOOKS_SECRET,
        "question": QUESTION,
        "question's opening": "Will the council publish",
    }


def fill_the_disk(proc: ServerProcess) -> None:
    """A full disk for the server alone: its files may grow only a little more."""
    assert proc.proc is not None and proc.errors is not None
    files = [proc.db, Path(f"{proc.db}-wal"), proc.log, proc.errors]
    room = max(path.stat().st_size for path in files) + DISK_ROOM
    resource.prlimit(proc.proc.pid, resource.RLIMIT_FSIZE, (room, room))


async def test_a_json_logging_server_writes_only_json_and_no_secret(tmp_path):
    proc = ServerProcess(tmp_path / "live.db", env={
        "LIVE_LOG_FORMAT": "json",
        "LIVE_LOG_LEVEL": "DEBUG",
        "LIVE_METRICS_TOKEN": METRICS_TOKEN,
        "LIVE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nobody there: an error logged
    })
    proc.errors = tmp_path / "stderr.log"
    proc.start()
    try:
        code, secrets = await drive(proc)
    finally:
        proc.stop()
    lines = proc.errors.read_text().splitlines()
    assert lines, "the server logged nothing"
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    for line in parsed:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert line["time"].endswith("Z")
    levels = {line["level"] for line in parsed}
    assert {"DEBUG", "INFO", "ERROR"} <= levels, levels
    assert any("exception" in line for line in parsed), "the failed write left no traceback"
    assert any(line.get("event") == code and "exception" in line for line in parsed)
    assert any("Redis unavailable" in line["message"] for line in parsed)
    text = "\n".join(lines)
    for what, secret in secrets.items():
        assert secret and secret not in text, f"the log holds the {what}"

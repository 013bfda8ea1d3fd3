"""The `live` command, and the documentation that promises what it does."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from live.settings import Settings
from support import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def live(*args: str, db: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "live", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def test_event_create_prints_links_and_secrets_once(tmp_path):
    db = tmp_path / "cli.db"
    out = live("event", "create", "--title", "Development day 1", "--code", "devxyz", db=db)
    assert "Event DEVXYZ: Development day 1" in out
    assert "http://127.0.0.1:8080/e/DEVXYZ" in out
    assert "/e/DEVXYZ/moderate" in out and "/e/DEVXYZ/screen" in out
    assert re.search(r"Moderator secret \(shown once\): \S{12,}", out)
    assert re.search(r"Steward secret \(shown once\): +\S{12,}", out) and "/e/DEVXYZ/steward" in out
    listing = live("event", "list", db=db)
    assert "DEVXYZ" in listing and "open" in listing and "Development day 1" in listing
    assert "secret" not in listing


def test_event_create_refuses_a_bad_code(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "live", "event", "create", "--title", "x", "--code", "OIL0", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "error:" in done.stdout


def wait_for_output(log: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text() if log.exists() else ""
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not printed: {log.read_text()}")


def test_serve_demo_prints_the_organiser_token_once(tmp_path):
    db = tmp_path / "demo.db"
    first = ServerProcess(db, env={"LIVE_ORGANISER_TOKEN": ""})
    first.start_args = ["--demo"]
    first.start()
    try:
        out = wait_for_output(first.log, "Big screen:")
    finally:
        first.stop()
    assert "Organiser token (shown once" in out
    code = re.search(r"Event (\w+): Demo", out).group(1)
    assert "Moderator secret (shown once)" in out

    second = ServerProcess(db, env={"LIVE_ORGANISER_TOKEN": ""})
    second.start_args = ["--demo"]
    second.start()
    try:
        again = wait_for_output(second.log, "Big screen:")
    finally:
        second.stop()
    assert "Organiser token" not in again
    assert f"Event {code}: Demo" in again
    assert "Moderator secret" not in again


def test_every_setting_is_documented_in_the_readme():
    for name in Settings.model_fields:
        assert f"`LIVE_{name.upper()}`" in README, f"LIVE_{name.upper()} is not documented"


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.+?)\n```", README, re.S)
    run_command, test_command = commands[0], commands[1]
    assert "live serve" in run_command
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test_command


def test_procfile_serves_on_the_platform_port():
    assert (ROOT / "Procfile").read_text().strip() == "web: live serve --host 0.0.0.0 --port $PORT"


def test_serve_refuses_a_setting_it_cannot_use_with_a_clear_error(tmp_path):
    """A Redis URL of no known scheme used to start a listener spinning at full CPU for ever."""
    done = subprocess.run(
        [sys.executable, "-m", "live", "serve", "--db", str(tmp_path / "cli.db"), "--port", "0"],
        capture_output=True, text=True, timeout=30,
        env={**os.environ, "LIVE_REDIS_URL": "bogus://127.0.0.1"},
    )
    assert done.returncode == 2, done
    assert "LIVE_REDIS_URL" in done.stdout and "redis://" in done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr and "serving" not in done.stdout

import os
import shutil

import pytest

from live.domain import tokens
from live.settings import Settings
from support import ORGANISER_TOKEN, RedisProcess, running_server


@pytest.fixture(autouse=True)
def cheap_secret_hashing(monkeypatch):
    """scrypt at production cost would add ~60 ms to every event created; hashes carry their cost."""
    monkeypatch.setattr(tokens, "SCRYPT_N", 2**4)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        db=tmp_path / "live.db",
        port=0,
        organiser_token=ORGANISER_TOKEN,
        vote_flush_interval=0.05,
    )


@pytest.fixture
async def server(settings):
    async with running_server(settings) as srv:
        yield srv


@pytest.fixture
async def event(server) -> dict:
    return (await server.create_event("Development day 1"))["event"]


@pytest.fixture
def redis(tmp_path):
    """A real redis-server on a free port, stopped after the test."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI: .ci/run installs the Debian package")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis) -> str:
    return redis.url


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser():
    """Headless Debian Chromium driven by Playwright; skipped locally without it, required in CI."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI: .ci/run installs the Debian package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()

import os
import shutil

import pytest

from live.domain import tokens
from live.settings import Settings
from support import ORGANISER_TOKEN, Postgres, RedisProcess, running_server

#: The PostgreSQL server the PostgreSQL variants use: each test gets its own database on it.
POSTGRES_URL = os.environ.get(
    "LIVE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only: the test reads the SQLite file itself, so it runs on SQLite alone"
    )


def pytest_generate_tests(metafunc):
    """Every test that uses the server's database runs on both stores; browser tests (which
    exercise the pages, not the store) and tests reading the SQLite file itself run on SQLite."""
    if "store" not in metafunc.fixturenames:
        return
    both = "browser" not in metafunc.fixturenames and not metafunc.definition.get_closest_marker(
        "sqlite_only"
    )
    metafunc.parametrize("store", ["sqlite", "postgresql"] if both else ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def postgres():
    """The PostgreSQL server, with a migrated template database made once per session; the
    PostgreSQL variants skip without one, except under CI, where .ci/run starts one."""
    server = Postgres(POSTGRES_URL)
    problem = server.unreachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI ({POSTGRES_URL}): {problem}")
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL} (set LIVE_TEST_POSTGRES): {problem}")
    server.make_template()
    try:
        yield server
    finally:
        server.drop_template()


@pytest.fixture
def store(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_url(request, store) -> str:
    """Empty for SQLite; for PostgreSQL the URL of a throwaway database, dropped at the end."""
    if store == "sqlite":
        yield ""
        return
    server = request.getfixturevalue("postgres")
    url = server.create_database()
    try:
        yield url
    finally:
        server.release(url)


@pytest.fixture(autouse=True)
def cheap_secret_hashing(monkeypatch):
    """scrypt at production cost would add ~60 ms to every event created; hashes carry their cost."""
    monkeypatch.setattr(tokens, "SCRYPT_N", 2**4)


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        db=tmp_path / "live.db",
        database_url=database_url,
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

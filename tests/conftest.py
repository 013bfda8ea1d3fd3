import pytest

from live.settings import Settings
from support import ORGANISER_TOKEN, running_server


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

"""GET /metrics: who may read it, and that its numbers follow what the server really did."""

import asyncio
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from live.app import DATABASE, SIO
from live.domain import errors
from live.domain.errors import LiveError
from live.metrics import Metrics
from live.store import Database
from live.transport import direct
from live.transport.metrics_http import METRICS
from support import ORGANISER_TOKEN, Client, Server, joined, running_server
from test_abuse import session_from
from test_hostile_wire import (
    test_a_long_polling_session_that_stops_polling_is_dropped as drop_an_unpolled_session,
)

METRICS_TOKEN = "metrics-Zq7-4f1c9e2b8d6a0"
#: Seconds a test waits for the server to notice something (Redis gone) before it fails.
NOTICE_BOUND = 10.0


async def scrape(server: Server, token: str | None = METRICS_TOKEN, address: str = "127.0.0.1",
                 headers: dict | None = None) -> tuple[int, str, dict]:
    if headers is None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session_from(address) as http:
        async with http.get(server.url + "/metrics", headers=headers) as res:
            return res.status, await res.text(), res.headers


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of the exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def guarded(settings):
    return settings.model_copy(update={"metrics_token": METRICS_TOKEN})


@pytest.fixture
async def metered(guarded):
    async with running_server(guarded) as srv:
        yield srv


# ---- who may read it -------------------------------------------------------------------------

async def test_without_configuration_metrics_is_any_unknown_path(server):
    status, body, _ = await scrape(server)
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/no-such-page") as res:
            assert (status, body) == (res.status, await res.text())
    assert status == 404


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Bearer {METRICS_TOKEN}x"},
    {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"},
    {"Authorization": f"Basic {METRICS_TOKEN}"},
    {"Authorization": METRICS_TOKEN},
    {"Authorization": "Bearer \u00e9\u00e9\u00e9"},
    {"Authorization": "Bearer " + "A" * 8000},
], ids=["none", "wrong", "longer", "shorter", "basic", "no scheme", "not ascii", "huge"])
async def test_a_wrong_or_missing_token_is_refused(metered, headers):
    status, body, response = await scrape(metered, headers=headers)
    assert status == 401, body
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "live_" not in body


async def test_the_token_reads_the_metrics_in_prometheus_text_format(metered):
    status, body, headers = await scrape(metered, headers={"Authorization": f"bearer {METRICS_TOKEN}"})
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert headers["Cache-Control"] == "no-store"
    assert "live_sockets" in {family.name for family in text_string_to_metric_families(body)}


async def test_an_address_allow_list_admits_only_its_networks(settings):
    allowed = settings.model_copy(update={"metrics_allow": "127.0.0.2/32, ::1"})
    async with running_server(allowed) as srv:
        assert (await scrape(srv, token=None, address="127.0.0.2"))[0] == 200
        status, body, _ = await scrape(srv, token=None, address="127.0.0.1")
        assert status == 403 and "live_" not in body


async def test_with_both_a_scrape_needs_the_address_and_the_token(settings):
    both = settings.model_copy(
        update={"metrics_allow": "127.0.0.2", "metrics_token": METRICS_TOKEN})
    async with running_server(both) as srv:
        assert (await scrape(srv, address="127.0.0.2"))[0] == 200
        assert (await scrape(srv, token="wrong", address="127.0.0.2"))[0] == 401
        assert (await scrape(srv, address="127.0.0.1"))[0] == 403


async def test_the_allow_list_sees_the_client_a_trusted_proxy_names_and_no_one_else(settings):
    proxied = settings.model_copy(
        update={"metrics_allow": "10.0.0.0/8", "trusted_proxies": "127.0.0.1"})
    async with running_server(proxied) as srv:
        forwarded = {"X-Forwarded-For": "10.1.2.3"}
        assert (await scrape(srv, headers=forwarded))[0] == 200
        assert (await scrape(srv, headers={"X-Forwarded-For": "192.0.2.7"}))[0] == 403
        # From an untrusted peer the header is the client's own claim, and proves nothing.
        assert (await scrape(srv, headers=forwarded, address="127.0.0.2"))[0] == 403


def test_a_malformed_allow_list_is_refused_at_start(settings):
    with pytest.raises(ValueError, match="not an IP address or network"):
        settings.model_validate({**settings.model_dump(), "metrics_allow": "10.0.0.0/33"})


async def test_two_apps_in_one_process_keep_their_own_numbers(guarded):
    async with running_server(guarded) as a, running_server(guarded) as b:
        code = (await a.create_event())["event"]["code"]
        client = await joined(a, code)
        _, text_a, _ = await scrape(a)
        _, text_b, _ = await scrape(b)
        assert value(text_a, "live_commands_total", namespace="/", command="join", code="ok") == 1
        assert value(text_b, "live_commands_total", namespace="/", command="join", code="ok") == 0
        await client.close()


# ---- what it counts --------------------------------------------------------------------------

async def test_commands_are_counted_by_outcome_and_their_acks_timed(metered):
    code = (await metered.create_event())["event"]["code"]
    client = await joined(metered, code, attendance="remote")
    await client.ask("Where does the money go?")
    assert (await client.call("upvote", {"question_id": "seven"}))["error"]["code"] == "invalid"
    assert (await client.call("withdraw", {"question_id": 999_999}))["ok"] is False
    assert (await client.call("no_such_command_" + "x" * 500, {}))["error"]["code"] == "invalid"
    _, text, _ = await scrape(metered)
    counted = {key: n for key, n in samples(text).items() if key[0] == "live_commands_total" and n}
    commands = {dict(labels)["command"]: dict(labels)["code"] for _, labels in counted}
    assert commands == {"join": "ok", "ask": "ok", "upvote": "invalid", "withdraw": "not_found",
                        "(unknown)": "invalid"}, counted
    assert all(n == 1 for n in counted.values())
    assert value(text, "live_ack_seconds_count", namespace="/", command="ask") == 1
    assert value(text, "live_ack_seconds_bucket", namespace="/", command="ask", le="+Inf") == 1
    await client.close()


async def test_sockets_are_counted_by_namespace_attendance_and_transport(metered):
    code = (await metered.create_event())["event"]["code"]
    here = await joined(metered, code, attendance="in_room")
    remote = await joined(metered, code, attendance="remote")
    watching = await Client(metered, code).connect()
    polling = await Client(metered, code, transport="polling").connect()
    _, text, _ = await scrape(metered)
    assert value(text, "live_sockets", namespace="/") == 4
    assert value(text, "live_sockets", namespace="/screen") == 0
    assert value(text, "live_participant_sockets", attendance="in_room") == 1
    assert value(text, "live_participant_sockets", attendance="remote") == 1
    assert value(text, "live_participant_sockets", attendance="unknown") == 2
    assert value(text, "live_sessions", transport="websocket") == 3
    assert value(text, "live_sessions", transport="polling") == 1
    await remote.join("in_room")  # changing where you are moves the socket
    returning = await Client(metered, code, token=here.token).connect()  # known by its token
    _, text, _ = await scrape(metered)
    assert value(text, "live_participant_sockets", attendance="in_room") == 3
    assert value(text, "live_participant_sockets", attendance="remote") == 0
    for client in (here, remote, watching, polling, returning):
        await client.close()


async def test_broadcasts_count_messages_and_the_sockets_they_reach(metered):
    code = (await metered.create_event())["event"]["code"]
    audience = [await Client(metered, code).connect() for _ in range(3)]
    asker = await joined(metered, code)
    _, before, _ = await scrape(metered)
    await asker.ask("Will the minutes be published?")
    await audience[0].wait_for(lambda msg: msg["type"] == "question")
    await asker.wait_for(lambda msg: True, among="mine")
    _, after, _ = await scrape(metered)

    def grew(name: str) -> float:
        return value(after, name, namespace="/") - value(before, name, namespace="/")

    # The question to the event's room (four sockets), its status to its author's (one).
    assert grew("live_broadcasts_total") == 2
    assert grew("live_broadcast_deliveries_total") == 5
    for client in [*audience, asker]:
        await client.close()


async def test_units_of_work_are_timed_and_a_database_failure_counted_as_an_error(tmp_path):
    """The store's observer, on a real database: a refusal is a rule's, not the database's."""
    metrics = Metrics()
    db = Database(tmp_path / "units.db")
    db.observe = metrics.batch
    await db.open()

    async def refused(conn):
        raise LiveError(errors.CONFLICT, "No.")

    async def broken(conn):
        await conn.execute("INSERT INTO no_such_table VALUES (1)")

    async def fine(conn):
        await conn.execute("SELECT 1")

    outcomes = await asyncio.gather(db.write(fine), db.write(refused), db.write(broken),
                                    return_exceptions=True)
    await db.close()
    assert outcomes[0] is None and isinstance(outcomes[1], LiveError)
    registry = metrics.registry
    assert registry.get_sample_value("live_db_units_total", {"outcome": "error"}) == 1
    assert registry.get_sample_value("live_db_units_total", {"outcome": "ok"}) >= 3  # open's too
    assert registry.get_sample_value("live_db_batch_seconds_count") >= 2


async def test_a_live_servers_writes_reach_the_database_metrics(metered):
    await metered.create_event()
    _, text, _ = await scrape(metered)
    assert value(text, "live_db_units_total", outcome="ok") >= 1
    assert value(text, "live_db_batch_seconds_count") >= 1
    assert metered.app[DATABASE].observe == metered.app[METRICS].batch


async def test_a_socket_dropped_for_not_reading_is_counted(tmp_path, monkeypatch):
    before = direct.dropped["polling"]
    await drop_an_unpolled_session(tmp_path, monkeypatch)
    assert direct.dropped["polling"] == before + 1


async def test_redis_is_up_then_down_with_its_lost_news_counted(guarded, redis):
    shared = guarded.model_copy(update={"redis_url": redis.url})
    async with running_server(shared) as srv:
        code = (await srv.create_event())["event"]["code"]
        deadline = time.monotonic() + NOTICE_BOUND
        while value((await scrape(srv))[1], "live_redis_up") != 1:
            assert time.monotonic() < deadline, "never subscribed to Redis"
            await asyncio.sleep(0.05)
        redis.stop()
        while value((text := (await scrape(srv))[1]), "live_redis_up") != 0:
            assert time.monotonic() < deadline, "a dead Redis still counts as up"
            await asyncio.sleep(0.05)
        assert srv.app[SIO].manager.publish_failures == value(
            text, "live_redis_publish_failures_total")
        status, _ = await srv.api("PATCH", f"/api/events/{code}", {"title": "While Redis is down"})
        assert status == 200
        _, after, _ = await scrape(srv)
        assert value(after, "live_redis_publish_failures_total") >= value(
            text, "live_redis_publish_failures_total") + 2  # participants' news and screens'


async def test_without_redis_there_is_no_redis_gauge(metered):
    _, text, _ = await scrape(metered)
    assert "live_redis_up" not in text
    assert ORGANISER_TOKEN not in text

"""A real moderator client: signs in over HTTP like the form does, then speaks on /moderate."""

import asyncio
import contextlib
import time

import aiohttp
import socketio

from support import Server


async def sign_in(server: Server, code: str, secret: str, pseudonym: str = "Mod") -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{server.url}/e/{code}/moderate",
            data={"secret": secret, "pseudonym": pseudonym},
            allow_redirects=False,
        ) as res:
            await res.read()
            return res


class Moderator:
    """Records every moderator notice; acts with the version it last saw, like the console."""

    def __init__(self, server: Server, code: str, cookie: str | None) -> None:
        self.server = server
        self.code = code
        self.cookie = cookie
        self.sio = socketio.AsyncClient(reconnection=False)
        self.notices: list[tuple[str, dict]] = []
        self.disconnected = asyncio.Event()
        self._arrived = asyncio.Event()
        for name in ("question", "stage", "participant", "log"):
            self.sio.on(name, self._recorder(name), namespace="/moderate")
        self.sio.on("disconnect", self.disconnected.set, namespace="/moderate")

    def _recorder(self, name: str):
        async def record(msg: dict) -> None:
            self.notices.append((name, msg))
            self._arrived.set()

        return record

    async def connect(self) -> "Moderator":
        headers = {"Cookie": self.cookie} if self.cookie else {}
        await self.sio.connect(
            self.server.url,
            headers=headers,
            auth={"event": self.code},
            namespaces=["/moderate"],
            transports=["websocket"],
            wait_timeout=10,
        )
        return self

    async def call(self, name: str, payload: object = None) -> dict:
        args = () if payload is None else (payload,)
        return await self.sio.call(name, *args, namespace="/moderate", timeout=10)

    async def ok(self, name: str, payload: object = None) -> dict:
        reply = await self.call(name, payload)
        assert reply["ok"], reply
        return reply["data"]

    async def act(self, name: str, question: dict, **extra) -> dict:
        """Perform an action on a question as last seen (its id and version)."""
        data = await self.ok(name, {"question_id": question["id"], "version": question["version"], **extra})
        return data["question"]

    async def question(self, question_id: int) -> dict:
        snapshot = await self.ok("snapshot")
        return next(q for q in snapshot["questions"] if q["id"] == question_id)

    async def wait_for(self, name: str, predicate, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for got, msg in self.notices:
                if got == name and predicate(msg):
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {name} notice in {timeout}s; got {self.notices}")
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def close(self) -> None:
        await self.sio.disconnect()


async def moderator(server: Server, created: dict, pseudonym: str = "Mod") -> Moderator:
    """Sign in with the event's secret and connect, as a moderator's browser would."""
    code = created["event"]["code"]
    res = await sign_in(server, code, created["moderator_secret"], pseudonym)
    assert res.status == 303, res.status
    morsel = res.cookies[f"live_mod_{code}"]
    return await Moderator(server, code, f"{morsel.key}={morsel.value}").connect()

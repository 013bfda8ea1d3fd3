"""Socket.IO events read at the speed of the socket: a settled websocket's commands, handled the
way python-socketio handles them, without its per-packet layers.

Between a WebSocket message and its handler, engine.io and python-socketio build two packet
objects, look the handler up three times, ask `inspect` whether it is a coroutine function, and
send the ack back through four more calls and two more packets: about 6% of the server's CPU in
a vote storm. `reader(sio)` handles the common case, a default-namespace EVENT in text, in one
step: the same handler lookup, the same connection check, the same ack. Everything else (other
namespaces, binary packets, catch-all and reserved event names, a socket that is not connected,
anything that does not parse) returns False and takes the stock path, which answers it exactly
as before (refusals included: `live.transport.wire`).

Written against python-socketio 5.18.1 (`_handle_eio_message`, `_handle_event`,
`_handle_event_internal`, `_get_event_handler`, `Packet.decode`) and python-engineio 4.15.1
(`AsyncSocket.receive`, `AsyncServer._trigger_event`); `tests/test_fast_broadcast.py` fails if any
of them changes, and `broadcast.install` only uses this path with handlers that run in order
(`async_handlers=False`).
"""

import functools
import inspect
import re
from collections.abc import Awaitable, Callable

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

#: An engine.io MESSAGE holding a Socket.IO EVENT for the default namespace, with an optional ack
#: id (python-socketio refuses longer ones), up to the start of its JSON array.
EVENT = re.compile(r"42(\d{0,15})\[", re.ASCII)
NAMESPACE = "/"

Reader = Callable[[object, str], Awaitable[bool]]


@functools.lru_cache(maxsize=256)
def _is_async(handler: Callable) -> bool:
    return inspect.iscoroutinefunction(handler)


def reader(sio: socketio.AsyncServer) -> Reader:
    """What a `DirectSocket` calls with each text message before the stock path (see the module)."""

    async def read(socket, data: str) -> bool:
        """Handle a default-namespace event as python-socketio would; False: not handled here."""
        match = EVENT.match(data)
        if match is None or socket.sid in sio._binary_packet:
            return False
        try:
            args = sio.packet_class.json.loads(data[match.end() - 1:])
        except (ValueError, RecursionError):  # the stock path refuses it in its own way
            return False
        if not args or not isinstance(args, list) or not isinstance(args[0], str):
            return False
        handler = sio.handlers.get(NAMESPACE, {}).get(args[0])
        if handler is None or args[0] in sio.reserved_events or not _is_async(handler):
            return False
        sid = sio.manager.sid_from_eio_sid(socket.sid, NAMESPACE)
        if sid is None or not sio.manager.is_connected(sid, NAMESPACE):
            return False
        try:
            result = await handler(sid, *args[1:])
        except Exception:  # noqa: BLE001 - as engine.io does: log it, no ack, keep serving
            sio.eio.logger.exception("message async handler error")
            return True
        if match.group(1):
            if result is None:
                result = []
            elif isinstance(result, tuple):
                result = list(result)
            else:
                result = [result]
            ack = sio.packet_class(
                sio_packet.ACK, namespace=NAMESPACE, id=int(match.group(1)), data=result
            ).encode()
            await socket.send(eio_packet.Packet(eio_packet.MESSAGE, ack))
        return True

    return read

"""What a client may put on the Socket.IO wire, and the clear answer when it puts something else.

Stock python-socketio buffers announced binary attachments without limit, hands reserved names
(`connect`, `disconnect`) and non-string names to handlers, and drops an event it cannot parse
without a word, logging a traceback. Our protocol has no binary data and every event is a JSON
array that starts with its name: the server's packet class refuses anything else as it decodes,
and the guard in front of python-socketio's dispatch answers it (the `invalid` envelope when the
event has an ack id) or, for binary, ends the connection, as for an oversize message. Long-polling
POSTs are held to the same message limit before engine.io reads them, and an unknown namespace is
refused with a message, like a known one with bad credentials. A long-polling GET of an open
session is answered straight from its socket, as engine.io answers it, without the environ and
query parsing of engine.io's handler.

Written against python-socketio 5.18.1 (`Packet.decode`, `_handle_eio_message`, `_send_packet`,
`_handle_connect`) and python-engineio 4.15.1 (`handle_request`, `_ok`, `_bad_request`,
`_cors_headers`); `tests/test_fast_broadcast.py` fails if any of them changes.
"""

import json
import logging

import engineio
import socketio
from aiohttp import hdrs, web
from engineio import exceptions as engineio_exceptions
from multidict import CIMultiDictProxy
from socketio import packet as sio_packet

from live.domain import errors
from live.domain.errors import LiveError
from live.transport import direct, messages
from live.transport.fragments import FragmentPacket

log = logging.getLogger(__name__)

#: Where engine.io listens (python-socketio's default path).
SOCKET_PATH = "/socket.io/"
#: Event names no client may send: python-socketio's own and its catch-all key.
RESERVED_EVENTS = frozenset({*socketio.AsyncServer.reserved_events, "*"})
#: Socket.IO packet types a client may send; binary ones are refused apart (`BinaryRefused`).
CLIENT_PACKETS = frozenset({sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT,
                            sio_packet.ACK})
BINARY_PACKETS = frozenset({sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK})


class BinaryRefused(ValueError):
    """A packet that is, or announces, binary data: the protocol has none."""


class Malformed(ValueError):
    """A packet our protocol does not allow; `id` is its ack id when one could be read."""

    def __init__(self, message: str, packet_type: object, namespace: str | None,
                 ack_id: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.packet_type = packet_type
        self.namespace = namespace or "/"
        self.id = ack_id


class Packet(FragmentPacket):
    """The server's packets: decoded as python-socketio does, then held to our protocol."""

    def decode(self, encoded_packet: str | bytes) -> int:
        if not isinstance(encoded_packet, str):
            raise BinaryRefused("binary data")
        try:
            attachments = super().decode(encoded_packet)
        except RecursionError as exc:
            raise self._malformed("The event is nested too deeply.", self.id) from exc
        except json.JSONDecodeError as exc:
            raise self._malformed("The event is not valid JSON.", self.id) from exc
        except ValueError as exc:  # before the ack id was read, or the id itself is too long
            if self.packet_type in BINARY_PACKETS:
                raise BinaryRefused("binary attachments") from exc
            raise self._malformed("The packet cannot be read.", None) from exc
        if attachments or self.packet_type in BINARY_PACKETS:
            raise BinaryRefused("binary attachments")
        if self.packet_type not in CLIENT_PACKETS:
            raise self._malformed("Clients cannot send this packet.", None)
        if self.packet_type == sio_packet.EVENT:
            data = self.data
            if not isinstance(data, list) or not data or not isinstance(data[0], str):
                raise self._malformed("An event is a JSON array that starts with its name.",
                                      self.id)
            if data[0] in RESERVED_EVENTS:
                raise self._malformed(f"{data[0]!r} is reserved: clients cannot send it.",
                                      self.id)
        return attachments

    def _malformed(self, message: str, ack_id: int | None) -> Malformed:
        return Malformed(message, self.packet_type, self.namespace, ack_id)


def guard(sio: socketio.AsyncServer) -> None:
    """Answer what `Packet` refuses, in front of python-socketio's dispatch, and refuse unknown
    namespaces with a message (the server must accept every namespace: `namespaces="*"`)."""
    eio = sio.eio
    dispatch = eio.handlers["message"]

    async def message(eio_sid: str, data: str | bytes) -> None:
        """python-socketio's dispatch, with our refusals answered instead of logged."""
        try:
            await dispatch(eio_sid, data)
        except BinaryRefused:
            socket = eio.sockets.get(eio_sid)
            if socket is not None:
                log.info("closing a connection that sent binary data")
                await socket.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
        except Malformed as refusal:
            if refusal.packet_type == sio_packet.CONNECT:
                await sio._send_packet(eio_sid, sio.packet_class(
                    sio_packet.CONNECT_ERROR, namespace=refusal.namespace,
                    data=messages.refused(LiveError(errors.INVALID, refusal.message)).error_args))
            elif refusal.packet_type == sio_packet.EVENT and refusal.id is not None:
                await _refuse(sio, eio_sid, refusal)

    async def unknown_namespace(namespace: str, sid: str, environ: dict,
                                auth: object = None) -> None:
        raise messages.refused(LiveError(
            errors.NOT_FOUND, f"There is no namespace {namespace[:40]!r} here."))

    eio.on("message", message)
    sio.on("connect", unknown_namespace, namespace="*")


async def _refuse(sio: socketio.AsyncServer, eio_sid: str, refusal: Malformed) -> None:
    """Acknowledge a refused event with the envelope, if its socket is in that namespace."""
    namespace = refusal.namespace
    sid = sio.manager.sid_from_eio_sid(eio_sid, namespace)
    if sid is None or not sio.manager.is_connected(sid, namespace):
        return
    reply = messages.error(errors.INVALID, refusal.message)
    await sio._send_packet(eio_sid, sio.packet_class(
        sio_packet.ACK, namespace=namespace, id=refusal.id, data=[reply]))


def add_routes(app: web.Application, sio: socketio.AsyncServer) -> None:
    """engine.io's routes (what `sio.attach` adds), with long-polling POSTs checked first."""
    eio = sio.eio

    async def post(request: web.Request) -> web.StreamResponse:
        """Refuse a POST too long to read (or of unknown length) without reading it: engine.io
        would disconnect the session and wait, without answering, for a poll that may never come."""
        length = request.content_length
        limit = eio.max_http_buffer_size
        if length is not None and length <= limit:
            return await eio.handle_request(request)
        socket = eio.sockets.get(request.query.get("sid", ""))
        if socket is not None and not socket.upgraded:
            await socket.close(wait=False, reason=eio.reason.TRANSPORT_ERROR)
        if length is None:
            raise web.HTTPLengthRequired(text="A long-polling POST needs a Content-Length.")
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)

    async def get(request: web.Request) -> web.StreamResponse:
        """A long-polling GET of an open session, answered straight from its socket; anything
        else (a handshake, an upgrade, JSONP, an origin or CORS preflight header to check, a
        session not open on long-polling) goes through engine.io's own handler."""
        query = request.query
        socket = eio.sockets.get(query.get("sid", ""))
        headers = request.headers
        if (
            not isinstance(socket, direct.DirectSocket)
            or not socket.takes_polls()
            or query.get("transport") != "polling"
            or "j" in query
            or hdrs.ORIGIN in headers
            or hdrs.UPGRADE in headers
            or hdrs.ACCESS_CONTROL_REQUEST_HEADERS in headers
        ):
            return await eio.handle_request(request)
        try:
            packets = await socket.poll()
        except engineio_exceptions.QueueEmpty:
            await socket.close(wait=False, reason=eio.reason.TRANSPORT_ERROR)
            eio.sockets.pop(socket.sid, None)
            return _polled(eio, eio._bad_request(), headers)
        if socket.closed:
            eio.sockets.pop(socket.sid, None)
        socket.release_handshake()
        return _polled(eio, eio._ok(packets), headers)

    app.router.add_get(SOCKET_PATH, get)
    app.router.add_post(SOCKET_PATH, post)
    app.router.add_route("OPTIONS", SOCKET_PATH, eio.handle_request)


def _polled(eio: engineio.AsyncServer, reply: dict, headers: CIMultiDictProxy) -> web.Response:
    """engine.io's answer to a poll that carried no Origin: its compression, and of the CORS
    headers only the one that does not depend on an origin."""
    body = reply["response"]
    extra = reply["headers"]
    if eio.http_compression and len(body) >= eio.compression_threshold:
        for coding in headers.get(hdrs.ACCEPT_ENCODING, "").split(","):
            coding = coding.split(";")[0].strip()
            if coding in eio.compression_methods:
                body = getattr(eio, "_" + coding)(body)
                extra = [*extra, (hdrs.CONTENT_ENCODING, coding)]
                break
    if eio.cors_credentials:
        extra = [*extra, (hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")]
    return web.Response(body=body, status=int(reply["status"].split()[0]), headers=extra)

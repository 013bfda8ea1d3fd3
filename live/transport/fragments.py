"""JSON encoded once and spliced into many replies: the shared part of a snapshot.

python-socketio walks all of an ack's data looking for binary and JSON-encodes it anew for each
reply; for a 200-question snapshot that is ~3 ms per client, most of the cost of a join. A
`Fragment` is already JSON: the walk sees one opaque object and the encoder splices its text in.
"""

import json
import secrets
from collections import OrderedDict
from collections.abc import Hashable

import socketio

#: Shared values kept encoded at once; the least recently used goes first.
MAX_SHARED = 256
_MARK = f"\x00fragment-{secrets.token_hex(8)}-"


class Fragment:
    """A value encoded once, in the separators python-socketio uses."""

    __slots__ = ("text",)

    def __init__(self, value: object) -> None:
        self.text = json.dumps(value, separators=(",", ":"))


def dumps(obj: object, **kwargs: object) -> str:
    """json.dumps, with each Fragment written as its text (through a marker nobody can send)."""
    fragments: list[str] = []

    def mark(value: object) -> str:
        if not isinstance(value, Fragment):
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        fragments.append(value.text)
        return f"{_MARK}{len(fragments) - 1}"

    text = json.dumps(obj, default=mark, **kwargs)
    for number, fragment in enumerate(fragments):
        text = text.replace(json.dumps(f"{_MARK}{number}"), fragment, 1)
    return text


class _Json:
    dumps = staticmethod(dumps)
    loads = staticmethod(json.loads)


class FragmentPacket(socketio.packet.Packet):
    """Socket.IO packets whose data may hold Fragments.

    We never send binary, so an outgoing packet's data is not walked looking for bytes (python-
    socketio does that for every ack and broadcast otherwise; incoming packets decode as before).
    """

    json = _Json
    uses_binary_events = False


class Shared:
    """Fragments of values many replies share, remade only when the value is a new object."""

    def __init__(self, size: int = MAX_SHARED) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[object, Fragment]] = OrderedDict()

    def __call__(self, key: Hashable, value: object) -> Fragment:
        entry = self._entries.get(key)
        if entry is None or entry[0] is not value:
            entry = self._entries[key] = (value, Fragment(value))
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return entry[1]

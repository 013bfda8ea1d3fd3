"""Error codes shared by every layer; the transport turns them into the ack envelope."""

INVALID = "invalid"
NOT_FOUND = "not_found"
FORBIDDEN = "forbidden"
RATE_LIMITED = "rate_limited"
CLOSED = "closed"
CONFLICT = "conflict"
INTERNAL = "internal"


class LiveError(Exception):
    """A refusal a client can act on: a stable code, a human message and optional details."""

    def __init__(self, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

"""Error codes shared by every layer; the transport turns them into the ack envelope."""

INVALID = "invalid"
NOT_FOUND = "not_found"
FORBIDDEN = "forbidden"
RATE_LIMITED = "rate_limited"
CLOSED = "closed"
CONFLICT = "conflict"
NOT_STARTED = "not_started"
INTERNAL = "internal"
#: The database cannot be reached: the command was not done (or not known to be); retry it.
UNAVAILABLE = "unavailable"


def with_article(word: str) -> str:
    """'An answered question', never 'A answered': many status and kind names start with a vowel."""
    first = word.lstrip("'")[:1].lower()
    return f"{'An' if first and first in 'aeiou' else 'A'} {word}"


class LiveError(Exception):
    """A refusal a client can act on: a stable code, a human message and optional details."""

    def __init__(self, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

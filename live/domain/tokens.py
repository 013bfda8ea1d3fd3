"""Secrets: generated with the OS random source, stored only as hashes, compared in constant time."""

import hashlib
import hmac
import secrets


def new_token(nbytes: int = 24) -> str:
    """A URL-safe random secret (device tokens, organiser and screen tokens, moderator secrets)."""
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    """SHA-256 of a high-entropy token: enough for random secrets, cheap on every reconnect."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored_digest: str) -> bool:
    """Constant-time check of a presented token against its stored digest."""
    return hmac.compare_digest(digest(token), stored_digest)

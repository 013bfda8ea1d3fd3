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


def form_token(device_token: str) -> str:
    """A form's CSRF token, derived from its device's secret: a page can show it, no other site can
    make it, and it reveals nothing of the secret or its stored digest."""
    return hmac.new(device_token.encode("utf-8"), b"live form", hashlib.sha256).hexdigest()


def matches(token: str, stored_digest: str) -> bool:
    """Constant-time check of a presented token against its stored digest."""
    return hmac.compare_digest(digest(token), stored_digest)


#: scrypt cost for the moderator secret, a secret people type (and so may reuse or shorten).
#: The parameters are stored with each hash, so raising them later keeps old hashes valid.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def slow_digest(secret: str) -> str:
    """A salted scrypt hash, `scrypt$n$r$p$salt$hash`; costly on purpose, used only at login."""
    salt = secrets.token_bytes(16)
    derived = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${derived.hex()}"


def slow_matches(secret: str, stored: str) -> bool:
    """Check a secret against a scrypt hash, or a SHA-256 digest stored before migration 2."""
    if not stored.startswith("scrypt$"):
        return matches(secret, stored)
    _, n, r, p, salt, expected = stored.split("$")
    derived = _scrypt(secret, bytes.fromhex(salt), int(n), int(r), int(p))
    return hmac.compare_digest(derived.hex(), expected)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash predates the current scheme or cost, so a login should replace it."""
    return not stored.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")

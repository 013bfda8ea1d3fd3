"""Join codes: short, case-insensitive, without characters people confuse when reading aloud."""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
_AMBIGUOUS = str.maketrans({"0": "O", "1": "I", "L": "I"})


def new_code() -> str:
    """A fresh random code from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_code(raw: str) -> str:
    """Upper-case and strip spaces and dashes, so 'abc-def' finds 'ABCDEF'."""
    return "".join(ch for ch in raw.upper() if ch not in " -")


def is_valid_code(code: str) -> bool:
    """A chosen code must be 4 to 12 characters of the unambiguous alphabet."""
    return 4 <= len(code) <= 12 and all(ch in ALPHABET for ch in code)

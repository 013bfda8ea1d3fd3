"""Normalisation of user text: one place decides what a question or a name may contain."""

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def strip_controls(text: str) -> str:
    """Drop control, format and unassigned characters so hidden text cannot ride along."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\t\n\r" or ch == " ":
            kept.append(" ")
        elif category[0] == "C":
            continue
        else:
            kept.append(ch)
    return "".join(kept)


def clean(text: str) -> str:
    """NFC-normalise, remove control characters and collapse whitespace."""
    text = unicodedata.normalize("NFC", text)
    text = strip_controls(text)
    return _WHITESPACE.sub(" ", text).strip()

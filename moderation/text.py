"""Text normalisation shared by the filters, so that look-alike spellings compare equal."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Cyrillic and Greek letters that look like Latin ones, a common way to slip past word lists.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x",
    }
)  # fmt: skip

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)

# A word may carry leet symbols inside it ("sh!t", "f*ck"), but a trailing "!" is punctuation.
_TOKEN = re.compile(r"(?:[^\W_]|[@$])+(?:[!*]+(?:[^\W_]|[@$])+)*")
_LETTER = re.compile(r"[^\W\d_]")
# Road, vitamin and postcode-district names ("A55", "B12", "SW1") are not leetspeak.
_CODE = re.compile(r"[a-z]{1,2}\d+")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Casefold and drop accents, invisible characters and look-alike letters; keep the rest."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept = "".join(
        c for c in decomposed if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    )
    return kept.translate(_CONFUSABLES)


def deleet(token: str) -> str:
    """Read digits and symbols in a word as the letters they stand for ("sh1t"); numbers stay."""
    if not _LETTER.search(token) or _CODE.fullmatch(token):
        return token
    return token.translate(_LEET)


def tokens(text: str) -> list[str]:
    """Split folded text into words, each with its leetspeak decoded."""
    return [deleet(t) for t in _TOKEN.findall(fold(text))]


def normalize(text: str) -> str:
    """Fold text and decode leetspeak word by word, for matching against word lists."""
    folded = fold(text)
    return _TOKEN.sub(lambda m: deleet(m.group()), folded)

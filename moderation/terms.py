"""Whole-word matching of listed terms, robust to case, accents, leetspeak and spacing."""

from __future__ import annotations

import re
from collections.abc import Iterable

from moderation.text import deleet, fold, tokens

_RUN3 = re.compile(r"(.)\1\1")
_RUN = re.compile(r"(.)\1{2,}")
_MIN_SPELLED_OUT = 3  # "s h i t" is joined back; two letters ("e.g.") are too common to join


def key(term: str) -> str:
    """The normalised form under which a term is listed and looked up."""
    return " ".join(tokens(term))


class TermMatcher:
    """Finds listed words and phrases as whole words, so "Scunthorpe" and "assessment" pass."""

    __slots__ = (
        "_phrases",
        "_starts",
        "_longest",
        "_words_by_length",
        "_word_lengths",
        "_symbols",
        "_roots",
    )

    def __init__(
        self, terms: Iterable[str], *, exclude: Iterable[str] = (), roots: Iterable[str] = ()
    ) -> None:
        """Index terms by normalised key; terms without letters or digits (emoji) are substrings."""
        excluded = {key(t) for t in exclude}
        phrases: set[str] = set()
        symbols: set[str] = set()
        for term in terms:
            k = key(term)
            if k and k not in excluded:
                phrases.add(k)
            elif not k and fold(term).strip():
                symbols.add(fold(term).strip())
        self._phrases = frozenset(phrases)
        self._starts = frozenset(p.split(" ", 1)[0] for p in phrases if " " in p)
        self._longest = max((p.count(" ") + 1 for p in phrases), default=0)
        by_length: dict[int, list[str]] = {}
        for p in phrases:
            if " " not in p:
                by_length.setdefault(len(p), []).append(p)
        self._words_by_length = {n: tuple(sorted(ws)) for n, ws in by_length.items()}
        self._word_lengths = tuple(sorted(n for n in by_length if n >= _MIN_SPELLED_OUT))
        self._symbols = tuple(sorted(symbols))
        self._roots = tuple(key(r) for r in roots if key(r) and key(r) not in excluded)

    def __bool__(self) -> bool:
        """An empty matcher (an event without blocked terms) can be skipped."""
        return bool(self._phrases or self._symbols or self._roots)

    def search(self, text: str) -> str | None:
        """The first listed term found in text, or None."""
        folded = fold(text)
        for symbol in self._symbols:
            if symbol in folded:
                return symbol
        words = tokens(text)
        for i, word in enumerate(words):
            found = self._word(word)
            if found:
                return found
            if word in self._starts:
                for n in range(2, min(self._longest, len(words) - i) + 1):
                    phrase = " ".join(words[i : i + n])
                    if phrase in self._phrases:
                        return phrase
        return self._spelled_out(words)

    def _word(self, word: str) -> str | None:
        """Match one word, also stretched ("shiiit"), plural, or masked with asterisks ("f*ck")."""
        variants = [word]
        if _RUN3.search(word):
            variants += [_RUN.sub(r"\1", word), _RUN.sub(r"\1\1", word)]
        variants += [v[:-1] for v in variants if len(v) > 3 and v.endswith("s")]
        for v in variants:
            if v in self._phrases:
                return v
            for root in self._roots:
                if root in v:
                    return root
        if "*" in word:
            return self._masked(word)
        return None

    def _masked(self, word: str) -> str | None:
        """Match a word whose letters are partly replaced by asterisks, one asterisk per letter."""
        for candidate in self._words_by_length.get(len(word), ()):
            if all(a == b or a == "*" for a, b in zip(word, candidate, strict=True)):
                return candidate
        return None

    def _spelled_out(self, words: list[str]) -> str | None:
        """Match words spelt out letter by letter ("s.h.i.t", "f u c k")."""
        start = 0
        while start < len(words):
            end = start
            while end < len(words) and len(words[end]) == 1:
                end += 1
            if end - start >= _MIN_SPELLED_OUT:
                letters = deleet("".join(words[start:end]))
                for root in self._roots:
                    if root in letters:
                        return root
                for i in range(len(letters) - _MIN_SPELLED_OUT + 1):
                    for n in self._word_lengths:
                        if letters[i : i + n] in self._phrases:
                            return letters[i : i + n]
            start = end + 1
        return None

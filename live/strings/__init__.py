"""The audience pages' words, one table per language, shared by the templates and the scripts.

A table is `<code>.json` beside this module, with a section per page. A string is text with
`{placeholders}`, or a plural: an object keyed by the language's plural categories (CLDR: zero, one,
two, few, many, other) that `plural` picks from by a count.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

TABLES = Path(__file__).resolve().parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CATEGORIES = ("zero", "one", "two", "few", "many", "other")


@dataclass(frozen=True)
class Language:
    """A language the audience pages speak: its own name for itself and its plural rule for whole
    numbers (CLDR's, https://www.unicode.org/cldr/charts/latest/supplemental/language_plural_rules.html)."""

    name: str
    plural: Callable[[int], str]


#: The first is the default, for a browser that asks for none of them.
LANGUAGES: dict[str, Language] = {
    "en": Language("English", lambda n: "one" if n == 1 else "other"),
    "cy": Language("Cymraeg", lambda n: {0: "zero", 1: "one", 2: "two", 3: "few", 6: "many"}.get(n, "other")),
}
DEFAULT = next(iter(LANGUAGES))


def _load(code: str) -> dict:
    with (TABLES / f"{code}.json").open(encoding="utf-8") as table:
        return json.load(table)


STRINGS: dict[str, dict] = {code: _load(code) for code in LANGUAGES}


def categories(code: str) -> set[str]:
    """The plural categories a language uses for whole numbers (its forms every plural must have)."""
    rule = LANGUAGES[code].plural
    return {rule(n) for n in range(1000)}


def is_plural(value: object) -> bool:
    return isinstance(value, Mapping) and "other" in value and set(value) <= set(CATEGORIES)


def fill(template: str, values: Mapping[str, object]) -> str:
    """The text with each {name} replaced, as the scripts' liveI18n.format does."""
    return PLACEHOLDER.sub(lambda m: str(values.get(m[1], "")), template)


def plural(code: str, forms: Mapping[str, str], count: int, **values: object) -> str:
    """The form for this count in this language, filled with {count} and the other values."""
    form = forms.get(LANGUAGES[code].plural(count), forms["other"])
    return fill(form, {"count": count, **values})


def negotiate(asked: str | None, kept: str | None, accept_language: str) -> str:
    """The page's language: `?lang=` first, then the cookie the switch left, then the browser's
    Accept-Language by its q values; the default when none of them names one we have."""
    for code in (asked, kept):
        if code in LANGUAGES:
            return code
    ranked = []
    for position, item in enumerate(accept_language[:1000].split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT

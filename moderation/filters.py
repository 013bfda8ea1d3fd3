"""The automatic filters: each a pure function (text, config, context) -> Verdict."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

from rapidfuzz import fuzz, process

from moderation.config import FilterConfig
from moderation.context import Context
from moderation.terms import TermMatcher
from moderation.text import fold
from moderation.verdict import PUBLISH, Action, Reason, Verdict
from moderation.wordlist import NOT_OFFENSIVE, OFFENSIVE_TERMS, ROOTS

Filter = Callable[[str, FilterConfig, Context], Verdict]


def flood(text: str, config: FilterConfig, context: Context) -> Verdict:
    """Reject questions beyond the per-minute limit, so one author cannot drown the room."""
    if context.recent_count >= config.flood_limit_per_minute:
        return Verdict(Action.REJECT, (Reason.FLOOD,))
    return PUBLISH


# --- words ---------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _offensive_matcher(allowed: tuple[str, ...]) -> TermMatcher:
    """Build the offensive-language matcher once per distinct set of event-allowed terms."""
    return TermMatcher(OFFENSIVE_TERMS, exclude=NOT_OFFENSIVE | set(allowed), roots=ROOTS)


@lru_cache(maxsize=256)
def _blocked_matcher(blocked: tuple[str, ...]) -> TermMatcher:
    """Build an event's blocked-terms matcher once per distinct list."""
    return TermMatcher(blocked)


def offensive(text: str, config: FilterConfig, context: Context) -> Verdict:
    """Send swearing and slurs to a moderator (by default), however they are disguised."""
    if _offensive_matcher(config.allowed_terms).search(text) is None:
        return PUBLISH
    return Verdict(config.offensive_action, (Reason.OFFENSIVE,))


def blocked_term(text: str, config: FilterConfig, context: Context) -> Verdict:
    """Apply the event's own list of terms it does not want on screen."""
    matcher = _blocked_matcher(config.blocked_terms)
    if not matcher or matcher.search(text) is None:
        return PUBLISH
    return Verdict(config.blocked_term_action, (Reason.BLOCKED_TERM,))


# --- personal data -------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Full-width characters as ASCII, invisible ones removed: patterns see what people see."""
    return "".join(
        c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf"
    )


_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
# Digit groups joined by single spaces or hyphens, maybe bracketed: "+44 (0)20 7946 0958".
# Possessive quantifiers keep matching linear on long runs of digits.
_DIGIT_RUN = re.compile(r"(?<![\w])(?:\+|\(\+?)?[0-9]++(?:(?:\)[ -]?|[ -])\(?[0-9]++)*+")
_DIGIT_GROUP = re.compile(r"\+?[0-9]+")
_MAX_PHONE_GROUPS = 6
_NHS_NUMBER = re.compile(r"(?<![\w.,])([0-9]{3})[ -]?([0-9]{3})[ -]?([0-9]{4})(?![\w]|[.,][0-9])")
_POSTCODE = re.compile(
    r"(?<![\w])([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][ABD-HJLNP-UW-Z]{2})(?![\w])"
    r"|(?<![\w])GIR ?0AA(?![\w])",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"[0-9](?:st|nd|rd|th)")


def _is_phone(digits: str) -> bool:
    """Whether digits (with "+" if written) are a UK number or a full international one."""
    if digits.startswith("+44"):
        return len(digits) - 3 in (9, 10)
    if digits.startswith("+"):
        return 8 <= len(digits) - 1 <= 15
    if digits.startswith("00"):
        return 10 <= len(digits) <= 17
    return digits.startswith("0") and len(digits) in (10, 11)


def _has_phone(text: str) -> bool:
    """A phone number among runs of digit groups, which may also hold years or counts next to it."""
    for run in _DIGIT_RUN.finditer(text):
        groups = _DIGIT_GROUP.findall(run.group().replace("(0)", " "))
        for i in range(len(groups)):
            digits = ""
            for group in groups[i : i + _MAX_PHONE_GROUPS]:
                if len(group) < 2:  # people group phone digits; "0 1 2 3 4 5 6 7 8 9" is a list
                    break
                digits += group
                if _is_phone(digits):
                    return True
    return False


def nhs_number_valid(digits: str) -> bool:
    """Modulus 11 check of an NHS number, so random 10-digit numbers are not mistaken for one."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _has_postcode(text: str) -> bool:
    """A full UK postcode; lower-case "m6 4th" style ordinals are road talk, not addresses."""
    for match in _POSTCODE.finditer(text):
        inward = match.group(2)
        if inward is not None and _ORDINAL.fullmatch(inward):
            continue
        return True
    return False


def personal_data(text: str, config: FilterConfig, context: Context) -> Verdict:
    """Hold e-mail addresses, phone and NHS numbers and postcodes: never on a public screen."""
    plain = _plain(text)
    found = (
        _EMAIL.search(plain)
        or _has_phone(plain)
        or any(nhs_number_valid("".join(m.groups())) for m in _NHS_NUMBER.finditer(plain))
        or _has_postcode(plain)
    )
    return Verdict(Action.HOLD, (Reason.PERSONAL_DATA,)) if found else PUBLISH


# --- links ---------------------------------------------------------------------------------------

# Only top-level domains that are not also words run into sentences ("lists.It", "is", "me").
_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|co|uk|ie|eu|de|fr|es|nl|au|ca|ru|cn|ly|tv|app|dev|xyz"
    "|online|site|shop|store|link|click|top"
)
_LINK = re.compile(
    r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://\S"
    r"|(?<![\w@.-])www\.[\w-]"
    rf"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])",
    re.IGNORECASE,
)


def link(text: str, config: FilterConfig, context: Context) -> Verdict:
    """Hold web addresses, so a moderator checks them before everyone is shown them."""
    return Verdict(Action.HOLD, (Reason.LINK,)) if _LINK.search(_plain(text)) else PUBLISH


# --- style ---------------------------------------------------------------------------------------


def shouting(text: str, config: FilterConfig, context: Context) -> Verdict:
    """Hold questions mostly in capitals; short ones and acronyms have too few letters to tell."""
    upper = lower = 0
    for c in text:
        if c.isupper():
            upper += 1
        elif c.islower():
            lower += 1
    cased = upper + lower
    if cased >= config.shouting_min_letters and upper >= config.shouting_upper_ratio * cased:
        return Verdict(Action.HOLD, (Reason.SHOUTING,))
    return PUBLISH


@lru_cache(maxsize=16)
def _run_pattern(min_run: int) -> re.Pattern[str]:
    """The repeated-character pattern for a run length; digits and spaces repeat innocently."""
    return re.compile(rf"([^\s\d])\1{{{min_run - 1},}}")


def repetition(text: str, config: FilterConfig, context: Context) -> Verdict:
    """Hold questions with a character repeated many times ("!!!!!!!", "soooooo")."""
    if _run_pattern(config.repetition_min_run).search(text):
        return Verdict(Action.HOLD, (Reason.REPETITION,))
    return PUBLISH


# --- duplicates ----------------------------------------------------------------------------------

# Question words carry no topic: without them "dental care" and "mental care" stop looking alike.
_STOP_WORDS = frozenset(
    "a an the is are was were be been being am do does did doing done have has had what when where"
    " why how who whom which whose will would shall should can could may might must we you i me my"
    " it its they them their our your us to of in on for at by with about from as that this these"
    " those there here and or but so if not no any some more most very just please also than then"
    " into".split()
)
_MIN_TOPIC_WORDS = 2  # a one-word question ("NHS?") is contained in every question about it


@lru_cache(maxsize=8192)
def _topic(text: str) -> str:
    """The folded words that carry a question's topic; cached, as existing questions recur."""
    return " ".join(w for w in re.findall(r"[^\W_]+", fold(text)) if w not in _STOP_WORDS)


def _best_match(
    text: str, existing: Sequence[tuple[int, str]], threshold: float
) -> tuple[int, float] | None:
    """Id and score of the most similar existing question at or above threshold; first wins ties."""
    query = _topic(text)
    if query.count(" ") + 1 < _MIN_TOPIC_WORDS or not existing:
        return None
    choices = [_topic(t) for _, t in existing]
    best = process.extractOne(query, choices, scorer=fuzz.token_set_ratio, score_cutoff=threshold)
    # rapidfuzz treats a cut-off below its precision as 0; nothing in common is never a duplicate.
    if best is None or best[1] <= 0 or best[1] < threshold:
        return None
    _, score, index = best
    return existing[index][0], float(score)


def duplicate(text: str, config: FilterConfig, context: Context) -> Verdict:
    """Suggest an existing question the author could upvote instead; never blocks."""
    best = _best_match(text, context.existing, config.duplicate_threshold)
    if best is None:
        return PUBLISH
    return Verdict(Action.PUBLISH, duplicate_of=best[0], duplicate_score=best[1])

"""Table-driven tests of each filter alone: what must trigger it, and traps that must not."""

from __future__ import annotations

import pytest

from moderation import Action, Context, FilterConfig, Reason, Verdict
from moderation.filters import (
    blocked_term,
    duplicate,
    flood,
    link,
    nhs_number_valid,
    offensive,
    personal_data,
    repetition,
    shouting,
)

DEFAULT = FilterConfig()
NO_CONTEXT = Context()


def held(reason: Reason) -> Verdict:
    return Verdict(Action.HOLD, (reason,))


PUBLISHED = Verdict()


# --- offensive -----------------------------------------------------------------------------------

OFFENSIVE = [
    "Sh1t",
    "ŞHIT",
    "s.h.i.t",
    "s h 1 t",
    "f u c k this",
    "f.u.c.k.i.n.g useless",
    "What the FUCK is going on?",
    "fuuuuuck",
    "motherfucking managers",
    "they fucked it up",
    "f*ck the board",
    "b!tch",
    "$hit",
    "a$$",
    "@ss",
    "ѕhit",  # Cyrillic dze
    "ｓｈｉｔ",  # full-width
    "sh\u200bit",  # zero-width space
    "wankers, the lot of them",
    "you absolute bellend",
    "piece of shit",
    "what a load of bollocks",
    "🖕",
]

NOT_OFFENSIVE = [
    "Scunthorpe General Hospital",
    "How will assessment work?",
    "class sizes in nursing schools",
    "classic bass guitar",
    "Penistone and Stocksbridge",
    "Middlesex, Sussex and Essex",
    "cocktail of drugs",
    "shiitake mushrooms",
    "analysis of the data",
    "Will my therapist be told?",
    "grape juice",
    "Arsenal fans",
    "title document pass",
    "roadworks on the A55",
    "vitamin B12 and HIV tests",
    "sexual health clinics",
    "funding for rape crisis centres",
    "anal fissure treatment",
    "penis and vagina cancers",
    "rectal bleeding",
    "my GP is tied up with paperwork",
    "finger prick test",
    "cigarette butts outside A&E",
    "costs are snowballing",
    "pegging pay to inflation",
    "Dominic Cummings said",
    "kitchen-cum-diner",
    "XX chromosome",
    "BS 8300 accessibility",
    "patient escort service",
    "a hard core of staff",
    "how to kill bacteria",
    "dirty pillows on the ward",
    "leather restraint in mental health units",
    "panty liners on prescription",
    "smoking fags",
    "a chink in the armour",
    "scissoring gait",
    "snatch squads",
    "2 girls in the family",
    "e.g. i.e. a b c",
    "",
]


@pytest.mark.parametrize("text", OFFENSIVE)
def test_offensive_triggers(text: str) -> None:
    assert offensive(text, DEFAULT, NO_CONTEXT) == held(Reason.OFFENSIVE)


@pytest.mark.parametrize("text", NOT_OFFENSIVE)
def test_offensive_false_positive_traps(text: str) -> None:
    assert offensive(text, DEFAULT, NO_CONTEXT) == PUBLISHED


@pytest.mark.parametrize("action", list(Action))
def test_offensive_action_is_configurable(action: Action) -> None:
    config = FilterConfig(offensive_action=action)
    assert offensive("shit", config, NO_CONTEXT) == Verdict(action, (Reason.OFFENSIVE,))


def test_event_can_allow_a_listed_word() -> None:
    config = FilterConfig(allowed_terms=("Bollocks",))
    assert offensive("what a load of bollocks", config, NO_CONTEXT) == PUBLISHED
    assert offensive("what a load of shit", config, NO_CONTEXT) == held(Reason.OFFENSIVE)
    assert (
        offensive("what the fuck", FilterConfig(allowed_terms=("fuck",)), NO_CONTEXT) == PUBLISHED
    )


# --- blocked terms -------------------------------------------------------------------------------

BLOCKED = FilterConfig(blocked_terms=("Smithson", "big pharma", "Müller"))


@pytest.mark.parametrize(
    ("text", "triggers"),
    [
        ("Why does Smithson keep talking?", True),
        ("Sm1thson!", True),
        ("SMITHSONS everywhere", True),
        ("s.m.i.t.h.s.o.n", True),
        ("smithson's plan", True),
        ("BIG PHARMA again", True),
        ("big   pharma", True),
        ("MULLER said", True),  # accents fold both ways
        ("Mull", False),
        ("The Smithsonian museum", False),
        ("big pharmacy chains", False),
        ("pharma is big", False),
    ],
)
def test_blocked_terms(text: str, triggers: bool) -> None:
    expected = held(Reason.BLOCKED_TERM) if triggers else PUBLISHED
    assert blocked_term(text, BLOCKED, NO_CONTEXT) == expected


def test_no_blocked_terms_blocks_nothing() -> None:
    assert blocked_term("anything at all, even shit", DEFAULT, NO_CONTEXT) == PUBLISHED


def test_blocked_term_action_is_configurable() -> None:
    config = FilterConfig(blocked_terms=("smithson",), blocked_term_action=Action.REJECT)
    assert blocked_term("smithson", config, NO_CONTEXT) == Verdict(
        Action.REJECT, (Reason.BLOCKED_TERM,)
    )


# --- personal data -------------------------------------------------------------------------------

PERSONAL = [
    "email me at jo.bloggs@example.co.uk",
    "JO+NHS@EXAMPLE.COM",
    "call me on 07700 900123",
    "07700900123",
    "07700-900-123",
    "+44 7700 900123",
    "+447700900123",
    "0044 7700 900123",
    "020 7946 0958",
    "(020) 7946 0958",
    "+44 (0)20 7946 0958",
    "0161 496 0000 after six",
    "my number is ０７７００ ９００１２３",  # full-width digits
    "+1 555 010 9999",
    "call 07700 900123 2 times",
    "my NHS number is 943 476 5919",
    "9434765919",
    "943-476-5919",
    "4010232137",
    "I live at SW1A 1AA",
    "M1 1AE",
    "m1 1ae",
    "B33 8TH",
    "CR2 6XH",
    "DN55 1PT",
    "EC1A1BB",
    "GIR 0AA",
]

NOT_PERSONAL = [
    "In 2019, 2020 and 2021",
    "In 2019 2020 and 2021",
    "0 1 2 3 4 5 6 7 8 9",
    "943 476 5918",  # wrong check digit
    "1234567890",  # check digit would be 10
    "a budget of 1000000000",
    "we spent £2,345,678,901",
    "pi is 3.14159265358",
    "call 111 or 999",
    "ref 2023-11-24",
    "opening hours 08:00-20:00",
    "the M6 4th junction",
    "vitamin B12 3rd dose",
    "SW1A is Westminster",
    "BS 8300:2018",
    "email is important",
    "ask @NHSEngland",
    "A&E waits of 12 hours",
    "",
]


@pytest.mark.parametrize("text", PERSONAL)
def test_personal_data_triggers(text: str) -> None:
    assert personal_data(text, DEFAULT, NO_CONTEXT) == held(Reason.PERSONAL_DATA)


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_personal_data_false_positive_traps(text: str) -> None:
    assert personal_data(text, DEFAULT, NO_CONTEXT) == PUBLISHED


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),
        ("4010232137", True),
        ("9434765918", False),
        ("1234567890", False),
        ("943476591", False),
    ],
)
def test_nhs_number_modulus_11(number: str, valid: bool) -> None:
    assert nhs_number_valid(number) is valid


# --- links ---------------------------------------------------------------------------------------

LINKS = [
    "see https://example.com/page",
    "http://x.y",
    "HTTPS://EXAMPLE.ORG",
    "www.example.org",
    "visit example.com",
    "the answer is on nhs.uk",
    "EXAMPLE.CO.UK",
    "see gov.uk/guidance",
    "bit.ly/abc123",
    "example.com.",
    "ftp://files.example",
]

NOT_LINKS = [
    "e.g. this",
    "i.e. that",
    "etc.",
    "3.5 million",
    "waiting lists.It is",
    "U.K. and U.S.",
    "Mr.Smith",
    "node.js",
    "file.txt",
    "A.B.C.",
    "jo@example.com",  # an e-mail address is personal data, not a link
    "",
]


@pytest.mark.parametrize("text", LINKS)
def test_link_triggers(text: str) -> None:
    assert link(text, DEFAULT, NO_CONTEXT) == held(Reason.LINK)


@pytest.mark.parametrize("text", NOT_LINKS)
def test_link_false_positive_traps(text: str) -> None:
    assert link(text, DEFAULT, NO_CONTEXT) == PUBLISHED


# --- shouting and repetition ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "triggers"),
    [
        ("WHY IS THE NHS SO BAD", True),
        ("WHY ARE WAITING LISTS SO LONG?", True),
        ("STOP THE CUTS now", True),
        ("ÉVIDEMMENT TROP TARD", True),
        ("NHS GP A&E ICB", False),  # acronyms: too few letters to tell
        ("WHY?", False),
        ("Please FIX THE NHS", False),  # 10 of 15 letters upper: under 70 %
        ("Why are NHS and A&E waits so long?", False),
        ("為什麼等候時間這麼長為什麼等候時間這麼長", False),  # no case at all
        ("", False),
    ],
)
def test_shouting(text: str, triggers: bool) -> None:
    assert shouting(text, DEFAULT, NO_CONTEXT) == (held(Reason.SHOUTING) if triggers else PUBLISHED)


def test_shouting_thresholds_are_configurable() -> None:
    config = FilterConfig(shouting_min_letters=3, shouting_upper_ratio=0.5)
    assert shouting("WHY?", config, NO_CONTEXT) == held(Reason.SHOUTING)
    assert shouting("Please FIX THE NHS", config, NO_CONTEXT) == held(Reason.SHOUTING)


@pytest.mark.parametrize(
    ("text", "triggers"),
    [
        ("!!!!!!!", True),
        ("soooooo good", True),
        ("why??????", True),
        ("nooooooooo", True),
        ("😡😡😡😡😡😡", True),
        ("sooooo good", False),  # five in a row
        ("£1000000 and 2000000 people", False),  # digits repeat innocently
        ("spaces        between", False),
        ("Really?!?!?!", False),
        ("bookkeeper", False),
        ("", False),
    ],
)
def test_repetition(text: str, triggers: bool) -> None:
    assert repetition(text, DEFAULT, NO_CONTEXT) == (
        held(Reason.REPETITION) if triggers else PUBLISHED
    )


def test_repetition_run_is_configurable() -> None:
    assert repetition("sooo", FilterConfig(repetition_min_run=3), NO_CONTEXT) == held(
        Reason.REPETITION
    )


# --- flood ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "recent", "rejected"),
    [
        (5, 0, False),
        (5, 4, False),
        (5, 5, True),
        (5, 50, True),
        (1, 0, False),
        (1, 1, True),
        (5, -3, False),
    ],
)
def test_flood(limit: int, recent: int, rejected: bool) -> None:
    verdict = flood(
        "a question", FilterConfig(flood_limit_per_minute=limit), Context(recent_count=recent)
    )
    assert verdict == (Verdict(Action.REJECT, (Reason.FLOOD,)) if rejected else PUBLISHED)


# --- duplicates ----------------------------------------------------------------------------------

EXISTING = (
    (11, "What is the government doing about mental health care?"),
    (12, "Why are GP appointments so hard to get?"),
    (13, "Will prescription charges be scrapped in England?"),
    (14, "How do we retain more nurses?"),
    (15, "Why do ambulances take so long to arrive in rural areas?"),
)


@pytest.mark.parametrize(
    ("text", "expected_id"),
    [
        ("Why is it so hard to get a GP appointment?", 12),
        ("why are gp appointments so hard to get", 12),
        ("WHY ARE GP APPOINTMENTS SO HARD TO GET???", 12),
        ("Will prescription charges be scrapped in England", 13),
        ("Will prescription charges be scrapped in Éngland?", 13),
        ("Why do ambulances take so long?", 15),
        ("What is the government doing about dental care?", None),
        ("How do we recruit more nurses?", None),
        ("What is the plan for social care?", None),
        ("NHS?", None),  # one topic word is contained in too many questions to mean anything
        ("", None),
    ],
)
def test_duplicate_suggestion(text: str, expected_id: int | None) -> None:
    verdict = duplicate(text, DEFAULT, Context(existing=EXISTING))
    assert verdict.action is Action.PUBLISH and verdict.reasons == ()
    assert verdict.duplicate_of == expected_id
    if expected_id is not None:
        assert verdict.duplicate_score is not None and 85.0 <= verdict.duplicate_score <= 100.0


def test_duplicate_picks_the_best_match_and_the_first_of_equals() -> None:
    existing = (
        (1, "How will waiting times for hip operations fall?"),
        (2, "Will hip operation waiting times fall?"),
    )
    verdict = duplicate(
        "Will waiting times for hip operations fall?", DEFAULT, Context(existing=existing)
    )
    assert verdict.duplicate_of == 1
    same = (
        (7, "Why are GP appointments so hard to get?"),
        (8, "Why are GP appointments so hard to get?"),
    )
    assert (
        duplicate("GP appointments are hard to get", DEFAULT, Context(existing=same)).duplicate_of
        == 7
    )


def test_duplicate_threshold_is_configurable() -> None:
    strict = FilterConfig(duplicate_threshold=100.0)
    text = "Why is it so hard to get a GP appointment?"
    assert duplicate(text, strict, Context(existing=EXISTING)) == PUBLISHED
    exact = duplicate("Why are GP appointments so hard to get", strict, Context(existing=EXISTING))
    assert (exact.duplicate_of, exact.duplicate_score) == (12, 100.0)


def test_no_existing_questions_means_no_duplicate() -> None:
    assert duplicate("Why are GP appointments so hard to get?", DEFAULT, NO_CONTEXT) == PUBLISHED

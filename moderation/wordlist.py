"""The offensive-language list: glin-profanity's maintained English list, tuned for public services.

Source: the `glin-profanity` package on PyPI (MIT licence, github.com/GLINCKER/glin-profanity),
whose English list extends LDNOOBW (CC-BY-4.0). We use only its word list, through its own
loader, and match it ourselves (`moderation.terms`): whole words, leetspeak- and accent-aware.

The upstream list targets consumer chat. At a health-service assembly people ask about sexual
health, cancer screening, safeguarding and restraint in mental-health units in plain words, and
holding those questions would silence the very people the event is for, so `NOT_OFFENSIVE`
removes clinical, legal and everyday words from it; `ADDED` adds British insults and slurs it
lacks. Entries are compared by normalised key, so case and spelling tricks do not matter here.
"""

from __future__ import annotations

from glin_profanity.data.dictionary import dictionary as _glin_dictionary

UPSTREAM: frozenset[str] = frozenset(_glin_dictionary.get_words("english"))
if len(UPSTREAM) < 100:  # its loader prints a warning and returns [] when its data file is missing
    raise RuntimeError("glin-profanity's English word list did not load; reinstall glin-profanity")

_CLINICAL = (
    "anal anus clitoris ejaculation fecal genitals intercourse masturbate nipple nipples orgasm"
    " penis rectum semen vagina vulva eunuch panty panties"
).split() + ["deep throat"]
# Topics a public-health audience must be able to name: abuse, safeguarding, sexual health.
_TOPICS = (
    "incest rape raping rapist daterape paedophile pedophile sodomy pornography nude nudity"
    " topless undressing sex sexo sexy lovemaking bareback sadism"
).split() + ["date rape", "gay sex", "group sex", "suicide girls"]
# Words and phrases that are innocent far more often than not ("snowballing costs", "tied up").
_EVERYDAY = (
    "butt suck sucks bs xx mf cum cumming domination escort hardcore twinkie santorum pegging"
    " snowballing shrimping scissoring snatch vibrator testbad01"
).split() + [
    "hard core", "tied up", "taste my", "tongue in a", "big black", "tight white", "huge fat",
    "wrapping men", "tainted love", "jelly donut", "make me come", "girl on", "mr hands",
    "strap on", "how to kill", "dirty pillows", "leather restraint", "leather straight jacket",
    "alaskan pipeline", "s&m",
]  # fmt: skip

NOT_OFFENSIVE: frozenset[str] = frozenset(_CLINICAL + _TOPICS + _EVERYDAY)

ADDED: frozenset[str] = frozenset(
    (
        "piss arse turd whore skank wanker wanking bellend knobhead dickhead horseshit gobshite"
        " shitting slag nonce pikey gyppo wog mong"
    ).split()
)

#: Roots offensive inside any word ("fucked", "motherfucking"); no innocent English word has them.
ROOTS: tuple[str, ...] = ("fuck",)

OFFENSIVE_TERMS: frozenset[str] = UPSTREAM | ADDED

"""Signs of vote stuffing: many participants, or bursts of votes, behind one hashed address."""

import hashlib
import hmac
from collections import defaultdict

#: More participants than this behind one address in one event is unusual, though a venue's
#: Wi-Fi can do it: moderators see how many of them said they are in the room.
MANY_PARTICIPANTS = 100
#: This many votes for one question from one address within BURST_WINDOW seconds is a burst.
BURST_VOTES = 10
BURST_WINDOW = 10.0
#: Hex digits of an address's hash that moderators see: enough to tell addresses apart.
SHORT_HASH = 10

MANY = "many_participants"
BURST = "vote_burst"


def address_hash(salt: str, address: str) -> str:
    """A keyed hash, so a stored address cannot be recovered by hashing every possible one."""
    return hmac.new(salt.encode(), address.encode(), hashlib.sha256).hexdigest()


def has_burst(times: list[float]) -> bool:
    """Whether BURST_VOTES of these vote times fall within BURST_WINDOW seconds."""
    times = sorted(times)
    return any(
        times[i + BURST_VOTES - 1] - times[i] <= BURST_WINDOW
        for i in range(len(times) - BURST_VOTES + 1)
    )


def flagged(crowds: list[dict], votes: list[dict]) -> list[dict]:
    """Addresses worth a moderator's look, with the votes they cast, most participants first.

    `crowds` has per address its participants and how many are in the room; `votes` has the
    address, question and time of every vote.
    """
    cast: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for vote in votes:
        cast[vote["address_hash"]][vote["question_id"]].append(vote["created_at"])
    found = []
    for crowd in crowds:
        questions = cast.get(crowd["address_hash"], {})
        bursts = {q for q, times in questions.items() if has_burst(times)}
        reasons = [MANY] if crowd["participants"] > MANY_PARTICIPANTS else []
        reasons += [BURST] if bursts else []
        if not reasons:
            continue
        found.append({
            "address": crowd["address_hash"][:SHORT_HASH],
            "participants": crowd["participants"],
            "in_room": crowd["in_room"],
            "votes": sum(len(times) for times in questions.values()),
            "reasons": reasons,
            "questions": [
                {"question_id": q, "votes": len(times), "burst": q in bursts}
                for q, times in sorted(questions.items(), key=lambda item: (-len(item[1]), item[0]))
            ],
        })
    return sorted(found, key=lambda f: (-f["participants"], f["address"]))

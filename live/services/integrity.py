"""The integrity view: which addresses look like vote stuffing, read in one database pass."""

from live.domain import integrity
from live.store import InThread
from live.store import integrity as integrity_store


async def flagged_addresses(conn: InThread, event_id: int) -> list[dict]:
    """The event's flagged addresses, shortened hashes only, with the votes each one cast."""
    crowds = await integrity_store.crowds(conn, event_id)
    votes = await integrity_store.votes_by_address(conn, event_id)
    return integrity.flagged(crowds, votes)


def thresholds() -> dict:
    """What the view flags, so moderators can judge how unusual a flagged address is."""
    return {
        "many_participants": integrity.MANY_PARTICIPANTS,
        "burst_votes": integrity.BURST_VOTES,
        "burst_window": integrity.BURST_WINDOW,
    }

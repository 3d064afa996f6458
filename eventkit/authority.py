"""Who may decide a MAPPA level: one rule for levels, which records decisions, and meetings, which take them.

MAPPA Guidance ch.7: the MAPPA co-ordinator, a meeting chair or a senior
officer records a level decision; level 3 commits senior oversight and
special resources, so it needs a senior officer as the decider or the
authoriser. Pure, no I/O.
"""

from eventkit.errors import Refused
from schemas.agencies import Role

DECIDING_ROLES = frozenset({Role.MAPPA_COORDINATOR, Role.MEETING_CHAIR, Role.SENIOR_OFFICER})


def may_decide_level(level: int, decided_by: Role, authorised_by: Role | None) -> Refused | None:
    if decided_by not in DECIDING_ROLES:
        return Refused(
            "levels are decided by the MAPPA co-ordinator, a meeting chair or a senior officer",
            authority=True,
        )
    if level == 3 and Role.SENIOR_OFFICER not in (decided_by, authorised_by):
        return Refused("a level 3 decision needs a senior officer's authorisation", authority=True)
    return None

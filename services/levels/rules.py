"""MAPPA levels (MAPPA Guidance ch.7): screening, referrals and level decisions. Pure, no I/O.

A newly categorised case is managed at level 1 until the lead agency's
formal screening: "level 1 pending screening". Screening confirms level 1
or refers the case for level 2 or 3 (the "MAPPA A" referral), which the
MAPPA co-ordinator accepts or declines. A level is raised only on an
accepted referral for at least that level, and level 3 only with a
senior officer's authorisation, since it commits senior oversight and
special resources. Levels may be lowered by decision at any time.
"""

from dataclasses import dataclass
from typing import Literal

from eventkit.authority import may_decide_level
from eventkit.errors import Refused
from schemas.agencies import Role

Level = Literal[1, 2, 3]
Status = Literal["pending-screening", "managed", "closed"]
Outcome = Literal["level-1", "referral"]
# "used" by the raise it allowed; "withdrawn" when a raise or the case's closing overtook it.
ReferralStatus = Literal["open", "accepted", "declined", "used", "withdrawn"]


@dataclass(frozen=True)
class CaseLevel:
    level: Level
    status: Status


def on_categorised(current: CaseLevel | None) -> CaseLevel | None:
    """The level a case takes when the register assigns a category.

    A new case sits at level 1 pending screening; a case already known keeps
    its level (a category change is reviewed, not re-screened from scratch).
    A closed case that comes back into MAPPA is screened again.
    """
    if current is None or current.status == "closed":
        return CaseLevel(level=1, status="pending-screening")
    return None


def may_screen(lead_agency: str | None, agency: str) -> Refused | None:
    """The lead agency screens; while none is known, any Responsible Authority agency may."""
    if lead_agency is not None and agency != lead_agency:
        return Refused(f"the lead agency ({lead_agency}) screens this case", authority=True)
    return None


def screen(case: CaseLevel, outcome: Outcome, level_sought: int | None) -> CaseLevel | Refused:
    """The lead agency's screening: level 1 confirmed, or level 1 while a referral is decided."""
    if case.status == "closed":
        return Refused("the case is closed")
    if case.status != "pending-screening":
        return Refused("the case was screened already: refer it, or decide its level")
    if outcome == "referral" and level_sought not in (2, 3):
        return Refused("a referral names the level sought: 2 or 3")
    if outcome == "level-1" and level_sought is not None:
        return Refused("a level 1 outcome seeks no other level")
    return CaseLevel(level=1, status="managed")


def may_refer(case: CaseLevel, level_sought: int) -> Refused | None:
    if case.status == "closed":
        return Refused("the case is closed")
    if level_sought not in (2, 3):
        return Refused("a referral seeks level 2 or 3")
    if level_sought <= case.level:
        return Refused(f"the case is at level {case.level} already")
    return None


def may_decide_referral(
    case: CaseLevel, status: ReferralStatus, level_sought: int, decided_by: Role, *, accepting: bool
) -> Refused | None:
    """Only the MAPPA co-ordinator decides whether a referral meets the criteria, and only once.

    A referral for a level the case has reached meanwhile may be declined, not accepted.
    """
    if decided_by is not Role.MAPPA_COORDINATOR:
        return Refused("referrals are accepted or declined by the MAPPA co-ordinator", authority=True)
    if case.status == "closed":
        return Refused("the case is closed")
    if status != "open":
        return Refused(f"the referral is {status} already")
    if accepting and level_sought <= case.level:
        return Refused(f"the case is at level {case.level} already: decline the referral")
    return None


@dataclass(frozen=True)
class Decision:
    level: Level
    previous: Level
    kind: Literal["set", "raised", "lowered", "confirmed"]


def decide_level(
    case: CaseLevel,
    level: Level,
    *,
    decided_by: Role,
    authorised_by: Role | None,
    accepted_referral_level: int | None,
    confirmed: bool,
) -> Decision | Refused:
    """Whether a level decision stands, and what kind of change it is.

    ``confirmed`` says whether the case's level was confirmed before (by
    screening or an earlier decision); ``accepted_referral_level`` is the
    level sought by an accepted referral not yet acted on.
    """
    if case.status == "closed":
        return Refused("the case is closed")
    if refused := may_decide_level(level, decided_by, authorised_by):
        return refused
    if level > case.level and (accepted_referral_level or 0) < level:
        return Refused(
            f"raising a case to level {level} needs an accepted referral for level {level} or above"
        )
    if level > case.level:
        return Decision(level, case.level, "raised")
    if level < case.level:
        return Decision(level, case.level, "lowered")
    return Decision(level, case.level, "confirmed" if confirmed else "set")

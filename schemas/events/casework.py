"""MAPPA casework events agencies publish about a case already on the register.

They name the case by its platform id (found through the registry's
audited look-up) and are keyed by it, so one case's screening, referrals
and decisions stay in order. Any agency's case system may publish them on
its own topic: screening and level decisions come from the Responsible
Authority, referrals from any agency.
"""

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from schemas.agencies import Agency, Role
from schemas.contract import Contract
from schemas.dates import Occurred
from schemas.events.common import PlatformId, Rosh


class StaffRef(Contract):
    """A member of staff, by an opaque reference (never a name), and their MAPPA role."""

    staff_ref: str = Field(min_length=1, max_length=64)
    role: Role


class ScreeningRecorded(Contract):
    """The lead agency screened the case: level 1, or a referral for level 2 or 3."""

    EVENT_NAME: ClassVar[str] = "screening-recorded"

    platform_id: PlatformId
    screened_on: Occurred
    outcome: Literal["level-1", "referral"]
    level_sought: Literal[2, 3] | None = None
    screened_by: StaffRef

    @model_validator(mode="after")
    def _level_with_referral(self) -> "ScreeningRecorded":
        if (self.outcome == "referral") != (self.level_sought is not None):
            raise ValueError("a referral, and only a referral, names the level sought")
        return self


class ReferralSubmitted(Contract):
    """A MAPPA A referral: the level sought, why, the current RoSH and what a lower level cannot do."""

    EVENT_NAME: ClassVar[str] = "referral-submitted"

    platform_id: PlatformId
    referral_ref: str = Field(min_length=1, max_length=64, description="The referring agency's reference")
    level_sought: Literal[2, 3]
    referring_agency: Agency
    reasons: str = Field(min_length=1, max_length=2000)
    current_rosh: Rosh
    lower_level_insufficient: str = Field(min_length=1, max_length=2000)
    referred_on: Occurred
    referred_by: StaffRef


class ReferralDecided(Contract):
    """The MAPPA co-ordinator accepted or declined a referral, with the reason."""

    EVENT_NAME: ClassVar[str] = "referral-decided"

    platform_id: PlatformId
    referral_ref: str = Field(min_length=1, max_length=64)
    decision: Literal["accepted", "declined"]
    reason: str = Field(min_length=1, max_length=2000)
    decided_on: Occurred
    decided_by: StaffRef


class LevelDecisionRecorded(Contract):
    """A level set, raised, lowered or confirmed at review, with its rationale and who decided.

    Level 3 needs a senior officer: ``decided_by`` or ``authorised_by``
    has the role ``senior-officer``; without one the decision is refused
    and goes to the dead-letter topic with that reason.
    """

    EVENT_NAME: ClassVar[str] = "level-decision-recorded"

    platform_id: PlatformId
    level: Literal[1, 2, 3]
    rationale: str = Field(min_length=1, max_length=2000)
    decided_on: Occurred
    decided_by: StaffRef
    authorised_by: StaffRef | None = None

"""Payload parts and events that several agencies publish alike."""

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from schemas.agencies import Agency
from schemas.contract import Contract
from schemas.dates import Occurred
from schemas.identifiers import Crn, CroNumber, PncId, PrisonNumber

ResponsibleAuthority = Literal["police", "prison", "probation"]
Rosh = Literal["low", "medium", "high", "very-high"]
# A nominal on the register, by the opaque id the registry gave it.
PlatformId = Annotated[
    str, Field(min_length=1, max_length=64, description="The platform id, from the register")
]


class PersonIdentifiers(Contract):
    """The identifiers the publishing agency holds for the person; at least one."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": [f]} for f in ("pnc_id", "cro_number", "prison_number", "crn")]
        }
    )

    pnc_id: PncId | None = None
    cro_number: CroNumber | None = None
    prison_number: PrisonNumber | None = None
    crn: Crn | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> "PersonIdentifiers":
        if not any((self.pnc_id, self.cro_number, self.prison_number, self.crn)):
            raise ValueError("at least one identifier is required")
        return self


class PersonRef(Contract):
    """Who an event is about: identifiers, and the facts that help confirm them."""

    identifiers: PersonIdentifiers
    family_name: str | None = Field(default=None, min_length=1, max_length=100)
    given_names: list[str] | None = Field(default=None, min_length=1, max_length=5)
    date_of_birth: Occurred | None = None


class RiskAssessmentCompleted(Contract):
    """A risk of serious harm (RoSH) assessment was completed."""

    EVENT_NAME: ClassVar[str] = "risk-assessment-completed"

    person: PersonRef
    completed_on: Occurred
    tool: Literal["OASys", "ARMS", "RM2000", "SARN", "AssetPlus", "HCR-20", "other"]
    rosh: Rosh
    assessor_agency: Agency


class OffenderManagerAllocated(Contract):
    """A named offender manager (by opaque staff reference) now holds the case."""

    EVENT_NAME: ClassVar[str] = "offender-manager-allocated"

    person: PersonRef
    allocated_on: Occurred
    staff_ref: str = Field(min_length=1, max_length=64, description="Opaque staff reference, not a name")
    team_code: str = Field(min_length=1, max_length=16)


class LeadAgencySet(Contract):
    """The Responsible Authority agency that leads the case's management."""

    EVENT_NAME: ClassVar[str] = "lead-agency-set"

    person: PersonRef
    lead_agency: ResponsibleAuthority
    effective_from: date


class CategoryReferralAccepted(Contract):
    """A referral into MAPPA category 3 or 4 was accepted (CJA 2003 s.325, s.327(4A)/(5))."""

    EVENT_NAME: ClassVar[str] = "category-referral-accepted"

    person: PersonRef
    category: Literal[3, 4]
    accepted_on: Occurred
    reason: str = Field(min_length=1, max_length=300)


class CategoryEnded(Contract):
    """The Responsible Authority decided a category 3 or 4 case no longer needs MAPPA management."""

    EVENT_NAME: ClassVar[str] = "category-ended"

    person: PersonRef
    category: Literal[3, 4]
    ended_on: Occurred
    reason: str = Field(min_length=1, max_length=300)


class AreaTransferred(Contract):
    """Management of the case moved to another MAPPA area."""

    EVENT_NAME: ClassVar[str] = "area-transferred"

    person: PersonRef
    from_area: str = Field(pattern=r"^[A-Z0-9]{2,8}$")
    to_area: str = Field(pattern=r"^[A-Z0-9]{2,8}$")
    transferred_on: Occurred

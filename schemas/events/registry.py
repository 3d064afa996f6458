"""Events published by the registry on ``registry.offenders.v1``."""

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.contract import Contract
from schemas.events.common import ResponsibleAuthority, Rosh
from schemas.identifiers import Scheme

# Published events name which kinds of identifier a nominal has, never their values: an
# identifier is personal data, and its holder looks the nominal up through the audited API.
Schemes = Annotated[list[Scheme], Field(max_length=4, description="Identifier schemes, without values")]


class NominalRegistered(Contract):
    """A person entered the register under a new platform id."""

    EVENT_NAME: ClassVar[str] = "nominal-registered"

    platform_id: str = Field(min_length=1, max_length=64)
    schemes: Schemes


class CategoryAssigned(Contract):
    """The register derived a MAPPA category for a nominal."""

    EVENT_NAME: ClassVar[str] = "category-assigned"

    platform_id: str = Field(min_length=1, max_length=64)
    category: Literal[1, 2, 3, 4]
    reason: str = Field(min_length=1, max_length=300)
    legal_basis: str = Field(min_length=1, max_length=100)
    effective_date: date
    area: str | None = Field(
        default=None, max_length=8, description="The MAPPA area managing the case, if known"
    )


class IdentifiersLinked(Contract):
    """Agency identifiers newly linked to a nominal by an exact match."""

    EVENT_NAME: ClassVar[str] = "identifiers-linked"

    platform_id: str = Field(min_length=1, max_length=64)
    schemes: Schemes


class NotificationRequirementSet(Contract):
    """The nominal is subject to notification requirements (SOA 2003 Part 2) for this period."""

    EVENT_NAME: ClassVar[str] = "notification-requirement-set"

    platform_id: str = Field(min_length=1, max_length=64)
    relevant_date: date
    indefinite: bool
    period_months: int | None = Field(default=None, ge=1)
    ends_on: date | None = None
    basis: str = Field(min_length=1, max_length=200)


class RiskAssessed(Contract):
    """A new risk of serious harm level is on the record."""

    EVENT_NAME: ClassVar[str] = "risk-assessed"

    platform_id: str = Field(min_length=1, max_length=64)
    rosh: Rosh
    completed_on: date
    assessor_agency: str = Field(min_length=1, max_length=32)


class OffenderManagerAllocated(Contract):
    """The nominal's offender manager changed (an opaque staff reference, not a name)."""

    EVENT_NAME: ClassVar[str] = "offender-manager-allocated"

    platform_id: str = Field(min_length=1, max_length=64)
    staff_ref: str = Field(min_length=1, max_length=64)
    team_code: str = Field(min_length=1, max_length=16)
    allocated_on: date


class Released(Contract):
    """The nominal left custody."""

    EVENT_NAME: ClassVar[str] = "released"

    platform_id: str = Field(min_length=1, max_length=64)
    released_on: date
    on_licence: bool


class NotificationMade(Contract):
    """The nominal notified the police (initial, change of address or name, periodic)."""

    EVENT_NAME: ClassVar[str] = "notification-made"

    platform_id: str = Field(min_length=1, max_length=64)
    notified_on: date
    overdue_since: date | None = Field(
        default=None,
        description="The deadline still passed after this notification (an initial notification not yet "
        "made, say), if any: None when nothing is overdue any more",
    )


class NotificationOverdue(Contract):
    """A registered sex offender's notification deadline passed without a notification (a breach)."""

    EVENT_NAME: ClassVar[str] = "notification-overdue"

    platform_id: str = Field(min_length=1, max_length=64)
    notification: Literal["initial", "release", "periodic", "weekly", "foreign-travel"]
    deadline: date


class Transferred(Contract):
    """Management of the nominal moved to another MAPPA area."""

    EVENT_NAME: ClassVar[str] = "transferred"

    platform_id: str = Field(min_length=1, max_length=64)
    from_area: str = Field(min_length=2, max_length=8)
    to_area: str = Field(min_length=2, max_length=8)
    transferred_on: date


class ExitedMappa(Contract):
    """The nominal's category ended (CJA 2003 s.327): they are no longer managed under MAPPA."""

    EVENT_NAME: ClassVar[str] = "exited-mappa"

    platform_id: str = Field(min_length=1, max_length=64)
    category: Literal[1, 2, 3, 4]
    reason: str = Field(min_length=1, max_length=300)
    exited_on: date


class ReleaseDateSet(Contract):
    """The prison set (or moved) the nominal's release date."""

    EVENT_NAME: ClassVar[str] = "release-date-set"

    platform_id: str = Field(min_length=1, max_length=64)
    release_date: date


class LeadAgencySet(Contract):
    """The Responsible Authority agency leading the case's management changed."""

    EVENT_NAME: ClassVar[str] = "lead-agency-set"

    platform_id: str = Field(min_length=1, max_length=64)
    lead_agency: ResponsibleAuthority
    effective_from: date


class Charged(Contract):
    """The nominal was charged; a serious further offence is murder or a Schedule 15 offence."""

    EVENT_NAME: ClassVar[str] = "charged"

    platform_id: str = Field(min_length=1, max_length=64)
    charged_on: date
    serious_further_offence: bool


class NominalsMerged(Contract):
    """A co-ordinator decided two nominals are one person: ``absorbed`` now lives on as ``survivor``."""

    EVENT_NAME: ClassVar[str] = "nominals-merged"

    platform_id: str = Field(min_length=1, max_length=64, description="The survivor")
    absorbed_platform_id: str = Field(min_length=1, max_length=64)
    merge_id: int
    schemes: Schemes
    area: str | None = Field(
        default=None, max_length=8, description="The MAPPA area managing the survivor after the merge"
    )


class NominalsUnmerged(Contract):
    """A merge was undone: ``restored`` is a nominal of its own again, with its identifiers."""

    EVENT_NAME: ClassVar[str] = "nominals-unmerged"

    platform_id: str = Field(min_length=1, max_length=64, description="The former survivor")
    restored_platform_id: str = Field(min_length=1, max_length=64)
    merge_id: int
    schemes: Schemes

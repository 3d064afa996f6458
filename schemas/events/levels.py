"""Events published by level management on ``levels.decisions.v1``.

Keyed by platform id. They carry what consumers act on (levels, dates,
roles); the reasons and rationales people write stay in the levels
service, behind its audited API.
"""

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from schemas.agencies import Agency, Role
from schemas.contract import Contract
from schemas.events.common import PlatformId, Rosh

LevelNumber = Literal[1, 2, 3]


class ScreeningDue(Contract):
    """A case awaits MAPPA level screening; it sits at level 1 until then."""

    EVENT_NAME: ClassVar[str] = "screening-due"

    platform_id: PlatformId
    category: Literal[1, 2, 3, 4]
    level: LevelNumber
    status: Literal["pending-screening"]
    since: date
    # With the case, so a reader of this topic alone knows whose area's people to tell.
    area: str | None = Field(
        default=None, max_length=8, description="The MAPPA area managing the case, if the register said"
    )


class ScreeningDone(Contract):
    """The lead agency screened the case: level 1 confirmed, or referred for level 2 or 3."""

    EVENT_NAME: ClassVar[str] = "screening-done"

    platform_id: PlatformId
    outcome: Literal["level-1", "referral"]
    level_sought: Literal[2, 3] | None = None
    screened_on: date


class ReferralMade(Contract):
    """A referral (MAPPA A) asks for the case to be managed at a higher level."""

    EVENT_NAME: ClassVar[str] = "referral-made"

    platform_id: PlatformId
    referral_ref: str = Field(min_length=1, max_length=64)
    level_sought: Literal[2, 3]
    referring_agency: Agency
    current_rosh: Rosh
    referred_on: date


class _ReferralDecision(Contract):
    platform_id: PlatformId
    referral_ref: str = Field(min_length=1, max_length=64)
    level_sought: Literal[2, 3]
    decided_on: date


class ReferralAccepted(_ReferralDecision):
    """The MAPPA co-ordinator found the referral meets the criteria for the level sought."""

    EVENT_NAME: ClassVar[str] = "referral-accepted"


class ReferralDeclined(_ReferralDecision):
    """The MAPPA co-ordinator found the referral does not meet the criteria."""

    EVENT_NAME: ClassVar[str] = "referral-declined"


class _LevelDecision(Contract):
    platform_id: PlatformId
    level: LevelNumber
    decided_on: date
    decided_by_role: Role
    senior_officer_authorised: bool
    next_review_by: date


class LevelSet(_LevelDecision):
    """The case's level was set, or confirmed at a review, by an authorised decision."""

    EVENT_NAME: ClassVar[str] = "level-set"

    kind: Literal["set", "confirmed"]


class LevelChanged(_LevelDecision):
    """The case's level was raised or lowered by an authorised decision."""

    EVENT_NAME: ClassVar[str] = "level-changed"

    previous_level: LevelNumber
    kind: Literal["raised", "lowered"]


class _Review(Contract):
    platform_id: PlatformId
    level: LevelNumber
    review_by: date


class ReviewDue(_Review):
    """The case's review falls due: it must be reviewed by ``review_by``."""

    EVENT_NAME: ClassVar[str] = "review-due"


class ReviewOverdue(_Review):
    """The case was not reviewed by ``review_by``."""

    EVENT_NAME: ClassVar[str] = "review-overdue"


class ReleaseScreeningAlert(Contract):
    """Release from custody is near and no level is confirmed: set one before release."""

    EVENT_NAME: ClassVar[str] = "release-screening-alert"

    platform_id: PlatformId
    release_date: date
    level: LevelNumber


class ConsiderReferral(Contract):
    """RoSH rose to high or very high for a case at level 1: consider referring it."""

    EVENT_NAME: ClassVar[str] = "consider-referral"

    platform_id: PlatformId
    rosh: Literal["high", "very-high"]
    assessed_on: date


class SeriousCaseReviewDue(Contract):
    """A MAPPA case was charged with a serious further offence: the board chair must be told."""

    EVENT_NAME: ClassVar[str] = "serious-case-review-due"

    platform_id: PlatformId
    level: LevelNumber
    charged_on: date
    notify_board_chair_by: date


class CaseClosed(Contract):
    """The case left MAPPA (the register says so), or its record was merged into another's."""

    EVENT_NAME: ClassVar[str] = "case-closed"

    platform_id: PlatformId
    closed_on: date
    reason: Literal["exited-mappa", "merged"]
    merged_into: PlatformId | None = Field(
        default=None, description="With reason merged: the record whose case carries on, at the higher level"
    )


class CaseMerged(Contract):
    """Another record was merged into this one: this case carries on, at the higher level of the two."""

    EVENT_NAME: ClassVar[str] = "case-merged"

    platform_id: PlatformId
    absorbed_platform_id: PlatformId
    merge_id: int
    level: LevelNumber
    previous_level: LevelNumber | None = Field(description="None when this record had no open case")
    merged_on: date


class CaseUnmerged(Contract):
    """A merge was undone: this case is back as it was before the merge (closed, if it had none)."""

    EVENT_NAME: ClassVar[str] = "case-unmerged"

    platform_id: PlatformId
    restored_platform_id: PlatformId
    merge_id: int
    level: LevelNumber
    status: Literal["pending-screening", "managed", "closed"]
    unmerged_on: date


class CaseReopened(Contract):
    """A case closed by a merge is open again: the merge was undone."""

    EVENT_NAME: ClassVar[str] = "case-reopened"

    platform_id: PlatformId
    level: LevelNumber
    status: Literal["pending-screening", "managed"]
    reopened_on: date


class MeetingLevelDecisionRefused(Contract):
    """A MAPPA meeting's level decision that levels could not apply: the case keeps its level.

    The reason is the rule's own words (a raise needs an accepted referral
    for that level, say); the meeting's minutes keep the decision taken.
    """

    EVENT_NAME: ClassVar[str] = "meeting-level-decision-refused"

    platform_id: PlatformId
    meeting_id: str = Field(min_length=1, max_length=64)
    level: LevelNumber
    reason: str = Field(min_length=1, max_length=300)

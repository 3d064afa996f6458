"""MAPPA agencies (CJA 2003 s.325) and their staff's roles: one list for contracts and access rules."""

from enum import StrEnum


class Agency(StrEnum):
    POLICE = "police"
    PRISON = "prison"
    PROBATION = "probation"
    YOT = "yot"
    DWP = "dwp"
    LOCAL_AUTHORITY = "local-authority"
    NHS = "nhs"
    SOCIAL_LANDLORD = "social-landlord"
    ELECTRONIC_MONITORING = "electronic-monitoring"
    UKVI = "ukvi"
    BORDER_FORCE = "border-force"
    IMMIGRATION_ENFORCEMENT = "immigration-enforcement"


# CJA 2003 s.325(1): the Responsible Authority; every other agency has a duty to co-operate.
RESPONSIBLE_AUTHORITY = frozenset({Agency.POLICE, Agency.PRISON, Agency.PROBATION})


class Role(StrEnum):
    """A member of staff's part in MAPPA (MAPPA Guidance), as tokens and casework events state it."""

    OFFENDER_MANAGER = "offender-manager"
    MAPPA_COORDINATOR = "mappa-coordinator"
    MEETING_CHAIR = "meeting-chair"
    # May authorise level 3 management and commit special resources.
    SENIOR_OFFICER = "senior-officer"
    PUBLIC_PROTECTION_OFFICER = "public-protection-officer"
    # A Duty-to-Co-operate agency's named MAPPA contact in the area: its meeting invitations go here.
    SINGLE_POINT_OF_CONTACT = "single-point-of-contact"
    # Chairs the area's Strategic Management Board: told of serious further offences.
    STRATEGIC_BOARD_CHAIR = "strategic-board-chair"
    AUDITOR = "auditor"
    OPERATIONS = "operations"

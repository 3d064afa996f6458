"""The agencies under MAPPA (CJA 2003 s.325): one list for contracts and access rules."""

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

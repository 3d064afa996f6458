"""Events published by police systems on ``agency.police.v1``."""

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from schemas.contract import Contract
from schemas.identifiers import CroNumber, PncId

DisposalType = Literal[
    "custody",
    "suspended-sentence",
    "community-order",
    "conditional-discharge",
    "absolute-discharge",
    "fine",
    "hospital-order",
    "hospital-order-with-restriction",
    "guardianship-order",
    "life-sentence",
    "imprisonment-for-public-protection",
    "detention-and-training-order",
]


class PersonDetails(Contract):
    pnc_id: PncId
    cro_number: CroNumber | None = None
    family_name: str = Field(min_length=1, max_length=100)
    given_names: list[str] = Field(min_length=1, max_length=5)
    date_of_birth: date


class Offence(Contract):
    code: str = Field(pattern=r"^[A-Z]{2}[0-9]{5}[A-Z0-9]?$", description="CJS offence code")
    description: str = Field(min_length=1, max_length=200)
    sexual_offences_act_schedule_3: bool = Field(
        description="Listed in Sexual Offences Act 2003 Schedule 3 (notification requirements)"
    )
    criminal_justice_act_schedule_15: bool = Field(
        description="Listed in Criminal Justice Act 2003 Schedule 15 (specified offences)"
    )


class Disposal(Contract):
    type: DisposalType
    custody_months: int | None = Field(default=None, ge=0, le=1200)
    discharge_months: int | None = Field(default=None, ge=0, le=36)


class ConvictionRecorded(Contract):
    """A court convicted a person; the police record it."""

    EVENT_TYPE: ClassVar[str] = "uk.mappa.police.conviction-recorded.v1"

    person: PersonDetails
    offence: Offence
    conviction_date: date
    age_at_conviction: int = Field(ge=10, le=120)
    disposal: Disposal
    recording_force: str = Field(pattern=r"^[0-9]{2}$", description="Police force code")

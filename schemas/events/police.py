"""Events published by police systems on ``agency.police.v1``."""

from datetime import date
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from schemas.contract import Contract
from schemas.dates import Occurred, age_from_dates
from schemas.events.common import PersonRef
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
    "detention-at-his-majestys-pleasure",
]


class PersonDetails(Contract):
    pnc_id: PncId
    cro_number: CroNumber | None = None
    family_name: str = Field(min_length=1, max_length=100)
    given_names: list[str] = Field(min_length=1, max_length=5)
    date_of_birth: Occurred


class Offence(Contract):
    code: str = Field(
        pattern=r"^[A-Z]{2,4}[0-9]{3,5}[A-Z0-9]?$", description="CJS offence code, e.g. SX03005 or COML025"
    )
    description: str = Field(min_length=1, max_length=200)
    sexual_offences_act_schedule_3: bool = Field(
        description="Listed in Sexual Offences Act 2003 Schedule 3 with its conditions met (the age, sentence"
        " and victim thresholds the Schedule sets), so that notification requirements apply"
    )
    criminal_justice_act_schedule_15: bool = Field(
        description="Listed in Criminal Justice Act 2003 Schedule 15 (specified offences)"
    )
    murder: bool = Field(
        default=False, description="Murder: category 2 under CJA 2003 s.327, though not in Schedule 15"
    )


class LinkedTerm(Contract):
    """A term of custody for another Schedule 3 offence, imposed consecutively or partly concurrently."""

    custody_months: int = Field(ge=1, le=1200)
    overlap_months: int = Field(
        default=0,
        ge=0,
        le=1200,
        description="Months of it served concurrently with this sentence; 0 if consecutive",
    )

    @model_validator(mode="after")
    def _overlap_within_term(self) -> "LinkedTerm":
        if self.overlap_months > self.custody_months:
            raise ValueError("the overlap cannot be longer than the term")
        return self


# Disposals whose notification period depends on a length that must then be given.
TERMS = ("custody", "suspended-sentence", "detention-and-training-order")


class Disposal(Contract):
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"type": {"enum": list(TERMS)}}},
                    "then": {"required": ["custody_months"]},
                },
                {
                    "if": {"properties": {"type": {"const": "conditional-discharge"}}},
                    "then": {"required": ["discharge_months"]},
                },
            ]
        }
    )

    type: DisposalType
    custody_months: int | None = Field(default=None, ge=0, le=1200)
    discharge_months: int | None = Field(default=None, ge=0, le=36)
    linked_terms: list[LinkedTerm] = Field(
        default_factory=list,
        max_length=20,
        description="Other Schedule 3 offences' terms sentenced with this one (SOA 2003 s.82(3)-(4))",
    )

    @model_validator(mode="after")
    def _lengths_given(self) -> "Disposal":
        if self.type in TERMS and self.custody_months is None:
            raise ValueError(f"a {self.type} needs custody_months")
        if self.type == "conditional-discharge" and self.discharge_months is None:
            raise ValueError("a conditional discharge needs discharge_months")
        return self


class ConvictionRecorded(Contract):
    """A court convicted a person; the police record it."""

    EVENT_NAME: ClassVar[str] = "conviction-recorded"

    person: PersonDetails
    offence: Offence
    conviction_date: Occurred
    age_at_conviction: int | None = Field(
        default=None,
        ge=10,
        le=120,
        description="Optional: the age is worked out from the date of birth; if given, it must agree",
    )
    disposal: Disposal
    recording_force: str = Field(pattern=r"^[0-9]{2}$", description="Police force code")

    @model_validator(mode="after")
    def _age_agrees(self) -> "ConvictionRecorded":
        self.age()
        return self

    def age(self) -> int:
        """The age at conviction, from the dates (it decides the under-18 halving of s.82(2))."""
        return age_from_dates(
            self.person.date_of_birth,
            self.conviction_date,
            self.age_at_conviction,
            stated_field="age_at_conviction",
            on_field="conviction_date",
        )


class CautionRecorded(Contract):
    """A person accepted a caution (or reprimand/warning) for an offence."""

    EVENT_NAME: ClassVar[str] = "caution-recorded"

    person: PersonDetails
    offence: Offence
    caution_date: Occurred
    age_at_caution: int | None = Field(
        default=None,
        ge=10,
        le=120,
        description="Optional: the age is worked out from the date of birth; if given, it must agree",
    )
    recording_force: str = Field(pattern=r"^[0-9]{2}$", description="Police force code")

    @model_validator(mode="after")
    def _age_agrees(self) -> "CautionRecorded":
        self.age()
        return self

    def age(self) -> int:
        """The age when cautioned, from the dates."""
        return age_from_dates(
            self.person.date_of_birth,
            self.caution_date,
            self.age_at_caution,
            stated_field="age_at_caution",
            on_field="caution_date",
        )


class ChargeRecorded(Contract):
    """The police charged a person with an offence."""

    EVENT_NAME: ClassVar[str] = "charge-recorded"

    person: PersonRef
    offence: Offence
    charged_on: Occurred
    charging_force: str = Field(pattern=r"^[0-9]{2}$", description="Police force code")


class Address(Contract):
    line1: str = Field(min_length=1, max_length=100)
    town: str = Field(min_length=1, max_length=60)
    postcode: str = Field(pattern=r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


class AddressNotified(Contract):
    """The person notified the police of their home address (SOA 2003 s.83, s.84)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["address"],
                    "properties": {"address": {"type": "object"}, "no_fixed_abode": {"const": False}},
                },
                {
                    "required": ["no_fixed_abode"],
                    "properties": {"address": {"type": "null"}, "no_fixed_abode": {"const": True}},
                },
            ]
        }
    )
    EVENT_NAME: ClassVar[str] = "address-notified"

    person: PersonRef
    notified_on: Occurred
    notification: Literal["initial", "change"]
    address: Address | None = Field(default=None, description="Absent when no_fixed_abode")
    no_fixed_abode: bool = False

    @model_validator(mode="after")
    def _address_or_none(self) -> "AddressNotified":
        if (self.address is None) != self.no_fixed_abode:
            raise ValueError("give an address, or no_fixed_abode, not both")
        return self


class NameNotified(Contract):
    """The person notified a change of name (SOA 2003 s.84(1)(a))."""

    EVENT_NAME: ClassVar[str] = "name-notified"

    person: PersonRef
    notified_on: Occurred
    family_name: str = Field(min_length=1, max_length=100)
    given_names: list[str] = Field(min_length=1, max_length=5)


class PeriodicNotificationMade(Contract):
    """The person made their periodic re-notification (SOA 2003 s.85)."""

    EVENT_NAME: ClassVar[str] = "periodic-notification-made"

    person: PersonRef
    notified_on: Occurred


class ForeignTravelNotified(Contract):
    """The person notified travel abroad (SI 2004/1220 as amended)."""

    EVENT_NAME: ClassVar[str] = "foreign-travel-notified"

    person: PersonRef
    notified_on: Occurred
    departure_date: date
    return_date: date | None = None
    destination_country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")

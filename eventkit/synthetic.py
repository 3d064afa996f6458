"""Synthetic people and events for the demo, the tests and the benchmark.

Names come from Faker; identifiers are random but well-formed, with valid
check characters. Nothing here describes a real person.
"""

import random
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from faker import Faker

from schemas.catalogue import AGENCY_POLICE, Topic
from schemas.contract import Contract
from schemas.dates import age_on
from schemas.envelope import CloudEvent, new_event
from schemas.events.police import ConvictionRecorded, Disposal, Offence, PersonDetails
from schemas.identifiers import format_cro, format_pnc


@dataclass(frozen=True)
class OffenceExample:
    code: str
    description: str
    schedule_3: bool
    schedule_15: bool


# Illustrative offences in CJS code format; the schedule flags are what matters.
SEXUAL_OFFENCE = OffenceExample("SX03005", "Sexual assault (synthetic example)", True, True)
VIOLENT_OFFENCE = OffenceExample("OF61016", "Wounding with intent (synthetic example)", False, True)
OTHER_OFFENCE = OffenceExample("TH68010", "Theft (synthetic example)", False, False)


class Synthetic:
    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)
        self.faker = Faker("en_GB")
        self.faker.seed_instance(seed)

    def pnc_id(self) -> str:
        return format_pnc(self.random.randint(1995, 2025), self.random.randint(1, 9_999_999))

    def cro_number(self) -> str:
        return format_cro(self.random.randint(1, 999_999), self.random.randint(0, 99))

    def prison_number(self) -> str:
        letters = string.ascii_uppercase
        return (
            self.random.choice(letters)
            + f"{self.random.randint(0, 9999):04d}"
            + "".join(self.random.choices(letters, k=2))
        )

    def crn(self) -> str:
        return self.random.choice(string.ascii_uppercase) + f"{self.random.randint(0, 999_999):06d}"

    def person(self, *, age: int) -> PersonDetails:
        born = date.today() - timedelta(days=365 * age + self.random.randint(0, 364))
        return PersonDetails(
            pnc_id=self.pnc_id(),
            cro_number=self.cro_number(),
            family_name=self.faker.last_name(),
            given_names=[self.faker.first_name() for _ in range(self.random.randint(1, 2))],
            date_of_birth=born,
        )

    def conviction(
        self,
        offence: OffenceExample = SEXUAL_OFFENCE,
        *,
        person: PersonDetails | None = None,
        custody_months: int = 18,
        convicted_on: date | None = None,
    ) -> ConvictionRecorded:
        """A conviction within the last month, unless ``convicted_on`` says when."""
        person = person or self.person(age=self.random.randint(19, 70))
        convicted_on = convicted_on or date.today() - timedelta(days=self.random.randint(1, 30))
        return ConvictionRecorded(
            person=person,
            offence=Offence(
                code=offence.code,
                description=offence.description,
                sexual_offences_act_schedule_3=offence.schedule_3,
                criminal_justice_act_schedule_15=offence.schedule_15,
            ),
            conviction_date=convicted_on,
            age_at_conviction=age_on(person.date_of_birth, convicted_on),
            disposal=Disposal(type="custody", custody_months=custody_months),
            recording_force=f"{self.random.randint(1, 50):02d}",
        )

    def agency_event(self, topic: Topic, data: Contract, *, time: datetime | None = None) -> CloudEvent:
        """An agency's event as its own systems would publish it on ``topic`` (at ``time``, or now)."""
        return new_event(topic.type_of(type(data)), data, source=f"/agencies/{topic.producer}", time=time)

    def conviction_event(self, conviction: ConvictionRecorded | None = None) -> CloudEvent:
        conviction = conviction or self.conviction()
        return new_event(
            AGENCY_POLICE.type_of(ConvictionRecorded),
            conviction,
            source=f"/agencies/police/forces/{conviction.recording_force}",
        )

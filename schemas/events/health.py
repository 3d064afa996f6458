"""Events published by NHS bodies on ``agency.health.v1``."""

from typing import ClassVar, Literal

from schemas.contract import Contract
from schemas.dates import Occurred
from schemas.events.common import PersonRef


class HospitalOrderMade(Contract):
    """A court made a hospital or guardianship order (Mental Health Act 1983 s.37, s.41)."""

    EVENT_NAME: ClassVar[str] = "hospital-order-made"

    person: PersonRef
    made_on: Occurred
    order: Literal["hospital-order", "guardianship-order"]
    restriction_order: bool


class HospitalOrderEnded(Contract):
    EVENT_NAME: ClassVar[str] = "hospital-order-ended"

    person: PersonRef
    ended_on: Occurred
    order: Literal["hospital-order", "guardianship-order"]

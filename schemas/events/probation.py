"""Events published by probation systems on ``agency.probation.v1``."""

from datetime import date
from typing import ClassVar

from schemas.contract import Contract
from schemas.events.common import PersonRef


class LicenceEnded(Contract):
    EVENT_NAME: ClassVar[str] = "licence-ended"

    person: PersonRef
    ended_on: date

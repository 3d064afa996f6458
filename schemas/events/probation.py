"""Events published by probation systems on ``agency.probation.v1``."""

from typing import ClassVar

from schemas.contract import Contract
from schemas.dates import Occurred
from schemas.events.common import PersonRef


class LicenceEnded(Contract):
    EVENT_NAME: ClassVar[str] = "licence-ended"

    person: PersonRef
    ended_on: Occurred

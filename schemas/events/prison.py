"""Events published by prison systems on ``agency.prison.v1``."""

from datetime import date
from typing import ClassVar

from pydantic import Field

from schemas.contract import Contract
from schemas.dates import Occurred
from schemas.events.common import PersonRef


class CustodyStarted(Contract):
    EVENT_NAME: ClassVar[str] = "custody-started"

    person: PersonRef
    started_on: Occurred
    establishment: str = Field(pattern=r"^[A-Z]{3}$", description="Prison establishment code")


class ReleaseDateSet(Contract):
    EVENT_NAME: ClassVar[str] = "release-date-set"

    person: PersonRef
    release_date: date


class Released(Contract):
    EVENT_NAME: ClassVar[str] = "released"

    person: PersonRef
    released_on: Occurred
    on_licence: bool
    licence_ends_on: date | None = None

"""Events published by level management on ``levels.decisions.v1``."""

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from schemas.contract import Contract


class ScreeningDue(Contract):
    """A case awaits MAPPA level screening; it sits at level 1 until then."""

    EVENT_NAME: ClassVar[str] = "screening-due"

    platform_id: str = Field(min_length=1, max_length=64)
    category: Literal[1, 2, 3, 4]
    level: Literal[1, 2, 3]
    status: Literal["pending-screening"]
    since: date

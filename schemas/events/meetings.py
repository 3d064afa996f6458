"""Events published by meeting scheduling on ``meetings.schedule.v1``."""

from typing import ClassVar, Literal

from pydantic import Field

from schemas.contract import Contract


class MeetingNotRequired(Contract):
    """No MAPPA meeting is needed: the lead agency manages the case alone."""

    EVENT_NAME: ClassVar[str] = "meeting-not-required"

    platform_id: str = Field(min_length=1, max_length=64)
    level: Literal[1, 2, 3]
    reason: str = Field(min_length=1, max_length=300)

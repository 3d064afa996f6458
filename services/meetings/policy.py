"""The meetings service's area policy: what ``policy.toml`` may set, with its bounds."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from eventkit.calendar import Nation

DEFAULTS = Path(__file__).with_name("policy.toml")


class MeetingsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nation: Nation
    first_meeting_level_2_working_days: int = Field(ge=1, le=60)
    first_meeting_level_3_working_days: int = Field(ge=1, le=60)
    minutes_working_days: int = Field(ge=1, le=60)
    calendar_organizer: str = Field(pattern=r"^mailto:[^@\s]+@[^@\s]+$")

    def first_meeting_working_days(self, level: int) -> int:
        return (
            self.first_meeting_level_3_working_days if level == 3 else self.first_meeting_level_2_working_days
        )

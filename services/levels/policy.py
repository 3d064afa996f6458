"""The levels service's area policy: what ``policy.toml`` may set, with its bounds."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from eventkit.calendar import Nation
from schemas.events.common import ResponsibleAuthority

DEFAULTS = Path(__file__).with_name("policy.toml")
# The lead agency is one of the Responsible Authority.
LeadAgency = ResponsibleAuthority


class LevelsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nation: Nation
    level_1_review_weeks: dict[LeadAgency, int] = Field(min_length=3)
    level_2_review_weeks: int = Field(ge=1, le=52)
    level_3_review_weeks: int = Field(ge=1, le=52)
    review_notice_working_days: int = Field(ge=0, le=60)
    release_window_months: int = Field(ge=1, le=24)
    serious_case_review_working_days: int = Field(ge=1, le=30)

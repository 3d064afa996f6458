"""The registry's area policy: what ``policy.toml`` may set, with its bounds."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULTS = Path(__file__).with_name("policy.toml")


class RegistryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    due_soon_days: int = Field(ge=0, le=90)

"""Base model for every event payload.

Producers write closed payloads: unknown fields are an error. Consumers read
tolerantly: validating with ``context={"tolerant": True}`` drops fields this
version does not know, at every nesting level, so an additive change by a
producer never breaks a consumer.
"""

import functools
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

TOLERANT: dict[str, Any] = {"tolerant": True}


class Contract(BaseModel):
    """A payload. Event payloads name themselves: the producer's topic supplies
    the rest of the type, ``uk.mappa.<producer>.<EVENT_NAME>.v<EVENT_VERSION>``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    EVENT_VERSION: ClassVar[int] = 1

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_when_tolerant(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, dict) and info.context and info.context.get("tolerant"):
            known = _known_fields(cls)
            return {k: v for k, v in value.items() if k in known}
        return value


@functools.cache  # once per model: every event validated tolerantly asks again
def _known_fields(model: type[BaseModel]) -> frozenset[str]:
    fields = model.model_fields
    return frozenset(fields) | {f.alias for f in fields.values() if f.alias is not None}

"""Events published by operations on ``operations.deadletters.v1``: what operators did with dead letters.

Keyed by the dead letter's place (``<dead-letter topic>/<partition>/<offset>``),
so every decision about one message stays in order. They name the
operator by their opaque user id and say why, never what the message held.
"""

from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field

from schemas.contract import Contract

Reason = Annotated[str, Field(min_length=1, max_length=300, description="Why, in the operator's words")]


class _Decision(Contract):
    dead_letter_topic: str = Field(min_length=1, max_length=255)
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    original_topic: str | None = Field(
        default=None, max_length=255, description="None for a dead letter whose headers do not say"
    )
    decided_by: str = Field(min_length=1, max_length=128, description="The operator's opaque user id")
    reason: Reason
    decided_at: AwareDatetime


class DeadLetterReplayed(_Decision):
    """The message was published again to its original topic: consumers that applied it the first time
    see a duplicate; the one that dead-lettered it applies it now, once."""

    EVENT_NAME: ClassVar[str] = "dead-letter-replayed"


class DeadLetterDiscarded(_Decision):
    """The message will not be applied: an operator decided so, and why."""

    EVENT_NAME: ClassVar[str] = "dead-letter-discarded"


def place(dead_letter_topic: str, partition: int, offset: int) -> str:
    """The key of a dead letter's decisions."""
    return f"{dead_letter_topic}/{partition}/{offset}"

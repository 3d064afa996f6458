"""The notifications service's area policy: who is told of what (the routing table), and how hard to try.

``policy.toml`` is the routing file: every platform event a person must act
on has a route, and every other event is listed under ``silent`` with why no
one is told; ``tests/unit/test_notification_routing.py`` checks the two cover
the catalogue between them.
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.agencies import Role
from schemas.events.notifications import Channel

DEFAULTS = Path(__file__).with_name("policy.toml")

# Who a route names: the case's offender manager, the people of a meeting, or a role of the area.
Target = (
    Literal["offender-manager", "attendees", "chair", "action-owner", "agency-contact"]
    | Literal[
        Role.MAPPA_COORDINATOR,
        Role.PUBLIC_PROTECTION_OFFICER,
        Role.SENIOR_OFFICER,
        Role.MEETING_CHAIR,
        Role.STRATEGIC_BOARD_CHAIR,
    ]
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Route(_Strict):
    """Who is told of one event, what it says (Jinja2, over the event's fields) and how urgent it is."""

    to: list[Target] = Field(min_length=1)
    subject: str = Field(min_length=1, max_length=200)
    action: str = Field(min_length=1, max_length=300)
    due: str | None = Field(default=None, description="The date to act by: a template over the event")
    # Only events whose fields have these values (``reason = "uninvited"``).
    when: dict[str, str] = Field(default_factory=dict)
    urgent: bool = False
    escalate_after_hours: float | None = Field(default=None, gt=0, le=24 * 14)
    escalate_to: Role | None = None

    @model_validator(mode="after")
    def _escalation(self) -> "Route":
        if (self.escalate_after_hours is None) != (self.escalate_to is None):
            raise ValueError("escalate_after_hours and escalate_to go together")
        return self


class ChannelPolicy(_Strict):
    """Retries: exponential from ``first_retry_seconds``, capped, with jitter; then failed."""

    max_attempts: int = Field(ge=1, le=20)
    first_retry_seconds: float = Field(gt=0, le=3600)
    max_retry_seconds: float = Field(gt=0, le=86400)
    timeout_seconds: float = Field(gt=0, le=60)


class NotificationsPolicy(_Strict):
    email_from: str = Field(min_length=3, max_length=200)
    # An event about a case the register has not placed in an area waits this long for it, then goes
    # to the co-ordinators of cases in no area.
    area_wait_minutes: float = Field(gt=0, le=24 * 60)
    # After a webhook secret is rotated, the old one still signs for this long.
    webhook_secret_overlap_hours: float = Field(ge=0, le=24 * 30)
    channels: dict[Literal["email", "webhook"], ChannelPolicy]
    routes: dict[str, Route]
    silent: dict[str, str]

    @model_validator(mode="after")
    def _each_event_once(self) -> "NotificationsPolicy":
        if both := self.routes.keys() & self.silent.keys():
            raise ValueError(f"routed and silent at once: {sorted(both)}")
        if "delivery-failed" not in self.routes:
            raise ValueError(
                "the delivery-failed route tells the co-ordinator of a failed delivery: it is required"
            )
        if missing := {"email", "webhook"} - self.channels.keys():
            raise ValueError(f"no retry policy for {sorted(missing)}")
        return self

    def channel(self, channel: Channel) -> ChannelPolicy | None:
        """The retry policy of a channel that sends; None for the inbox, which cannot fail."""
        return None if channel == "inbox" else self.channels[channel]

"""Events published by notifications on ``notifications.deliveries.v1``: each notification's status.

Keyed by platform id, on the trace of the agency event that caused the
notification. They carry ids, roles, the channel and attempt counts only:
never a notification's wording, an address or an endpoint.
"""

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.agencies import Agency, Role
from schemas.contract import Contract
from schemas.events.common import PlatformId

Channel = Literal["inbox", "email", "webhook"]
NotificationId = Annotated[str, Field(min_length=1, max_length=64, description="The notification's id")]
Kind = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9-]{1,63}$",
        description="What the notification is about: the platform event's name (review-overdue), "
        "or delivery-failed",
    ),
]
Redirect = Literal["no-offender-manager", "not-in-directory", "no-area"]


class _Status(Contract):
    notification_id: NotificationId
    platform_id: PlatformId
    kind: Kind
    recipient_role: Role
    recipient_agency: Agency | None = None


class NotificationQueued(_Status):
    """A notification was made for a recipient and queued on each of its channels.

    With ``redirected``, the routing's recipient was not known and the area's
    MAPPA co-ordinator was told instead; ``intended_role`` says who it was for.
    """

    EVENT_NAME: ClassVar[str] = "notification-queued"

    channels: list[Channel] = Field(min_length=1)
    urgent: bool
    redirected: Redirect | None = None
    intended_role: Role | None = None


class _Attempted(_Status):
    channel: Channel
    attempts: int = Field(ge=0)


class NotificationSent(_Attempted):
    """The email was accepted by the SMTP server."""

    EVENT_NAME: ClassVar[str] = "notification-sent"


class NotificationDelivered(_Attempted):
    """The agency system's webhook answered 2xx, or the notification is in the recipient's inbox."""

    EVENT_NAME: ClassVar[str] = "notification-delivered"


class NotificationFailed(_Attempted):
    """A channel gave up after its attempts (or was refused for good); the co-ordinator is told."""

    EVENT_NAME: ClassVar[str] = "notification-failed"

    error: str = Field(min_length=1, max_length=64, description="The error's class, e.g. http-503")


class NotificationAcknowledged(_Status):
    """The recipient acknowledged the notification in their inbox."""

    EVENT_NAME: ClassVar[str] = "notification-acknowledged"


class NotificationEscalated(_Status):
    """An urgent notification was not acknowledged in time: the next role was told."""

    EVENT_NAME: ClassVar[str] = "notification-escalated"

    escalation_id: NotificationId
    escalated_to_role: Role

"""Events published by notifications on ``notifications.deliveries.v1``."""

from typing import ClassVar, Literal

from pydantic import Field

from schemas.contract import Contract


class NotificationRecorded(Contract):
    """A notification for a person's manager was recorded for delivery.

    It carries a reference and what to do, never offence details.
    """

    EVENT_NAME: ClassVar[str] = "notification-recorded"

    notification_id: str = Field(min_length=1, max_length=64)
    platform_id: str = Field(min_length=1, max_length=64)
    recipient_role: Literal["offender-manager", "mappa-coordinator", "meeting-chair"]
    subject: str = Field(min_length=1, max_length=200)
    action: str = Field(min_length=1, max_length=300)
    status: Literal["recorded"]

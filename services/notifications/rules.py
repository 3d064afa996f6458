"""What an offender manager must be told, and nothing more. Pure, no I/O.

Notifications carry a reference and what to do, never offence details.
"""

from dataclasses import dataclass
from typing import Literal

RecipientRole = Literal["offender-manager", "mappa-coordinator", "meeting-chair"]


@dataclass(frozen=True)
class Notice:
    recipient_role: RecipientRole
    subject: str
    action: str


def no_meeting_notice(platform_id: str, level: int) -> Notice:
    return Notice(
        recipient_role="offender-manager",
        subject=f"MAPPA case {platform_id}: managed at level {level}, no MAPPA meeting",
        action="Complete the MAPPA level screening and record its outcome.",
    )

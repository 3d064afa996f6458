"""Whether a case needs MAPPA meetings (MAPPA Guidance ch.7). Pure, no I/O.

Level 1 is ordinary management by the lead agency: no MAPPA meeting.
Levels 2 and 3 are managed through regular multi-agency meetings.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class MeetingDecision:
    required: bool
    reason: str


def meeting_decision(level: int) -> MeetingDecision:
    if level == 1:
        return MeetingDecision(
            required=False,
            reason="Level 1: ordinary agency management by the lead agency, no MAPPA meeting",
        )
    return MeetingDecision(
        required=True,
        reason=f"Level {level}: active multi-agency management through MAPPA meetings",
    )

"""Meeting invitations as iCalendar (RFC 5545) objects, with iTIP methods (RFC 5546), built by ``icalendar``.

One event per meeting with a stable UID, its SEQUENCE raised on every change,
METHOD:REQUEST for an invitation or change and METHOD:CANCEL for a
cancellation, times in Europe/London with the zone's VTIMEZONE. SUMMARY and
DESCRIPTION name the case by its platform id and its level only: never a
person, an offence or anything from the minutes.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from icalendar import CLASS, STATUS, Calendar, Event, vCalAddress

from services.meetings.rules import LONDON

PRODID = "-//MAPPA interoperability platform//meetings//EN"
Method = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True)
class Invite:
    """What an invitation says: ids, times, place, level and who is asked; nothing about the person."""

    meeting_id: str
    platform_id: str
    level: int
    sequence: int
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    video_link: str | None
    organizer: str
    agencies: tuple[str, ...]


def uid(meeting_id: str) -> str:
    return f"{meeting_id}@meetings.mappa"


def build(invite: Invite, method: Method, stamp: datetime) -> str:
    """The calendar object for ``invite``: a request (invitation or change) or a cancellation."""
    title = f"MAPPA level {invite.level} meeting: case {invite.platform_id}"
    event = Event.new(
        uid=uid(invite.meeting_id),
        sequence=invite.sequence,
        stamp=stamp,
        start=invite.starts_at.astimezone(LONDON),
        end=invite.ends_at.astimezone(LONDON),
        summary=title,
        description=(
            f"{title}. OFFICIAL-SENSITIVE: the MAPPA confidentiality statement (MAPPA D) applies; "
            "papers and minutes are shared only through the MAPPA meetings service."
        ),
        location=invite.venue or invite.video_link,
        url=invite.video_link,
        organizer=vCalAddress(invite.organizer),
        attendees=[_agency(agency) for agency in invite.agencies],
        status=STATUS.CANCELLED if method == "CANCEL" else STATUS.CONFIRMED,
        classification=CLASS.CONFIDENTIAL,
    )
    calendar = Calendar.new(prodid=PRODID, method=method, uid=uid(invite.meeting_id), subcomponents=[event])
    # The zone's rules for the years around the meeting, not from 1970.
    day = invite.starts_at.date()
    calendar.add_missing_timezones(day - timedelta(days=366), day + timedelta(days=2 * 366))
    ical: bytes = calendar.to_ical()
    return ical.decode()


def _agency(agency: str) -> vCalAddress:
    # Agencies attend as groups; notifications address each person it knows of.
    address = vCalAddress(f"urn:mappa:agency:{agency}")
    address.params["CUTYPE"] = "GROUP"
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["CN"] = agency
    return address

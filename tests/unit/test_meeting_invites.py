"""Invitations read back with ``icalendar`` and by a calendar client's engine (ical.js): UID, times."""

import json
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar, Event

from services.meetings import invites
from services.meetings.rules import LONDON

STAMP = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
# In British Summer Time: 10:00 in London is 09:00 UTC.
INVITE = invites.Invite(
    meeting_id="m-0123",
    platform_id="P-7F3A9C",
    level=3,
    sequence=0,
    starts_at=datetime(2027, 7, 12, 9, 0, tzinfo=UTC),
    ends_at=datetime(2027, 7, 12, 11, 0, tzinfo=UTC),
    venue="Meeting room 2, Civic Centre",
    video_link=None,
    organizer="mailto:mappa-unit@mappa.invalid",
    agencies=("police", "prison", "probation", "dwp"),
)


def _event(text: str) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(text)
    (event,) = calendar.events
    return calendar, event


def test_an_invitation_is_a_request_in_london_time() -> None:
    calendar, event = _event(invites.build(INVITE, "REQUEST", STAMP))
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == "m-0123@meetings.mappa"
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None
    assert start.replace(tzinfo=None) == datetime(2027, 7, 12, 10, 0)  # wall clock in London
    assert start.astimezone(UTC) == INVITE.starts_at
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/London"
    assert str(event["ORGANIZER"]) == "mailto:mappa-unit@mappa.invalid"
    assert sorted(str(a) for a in event.attendees) == [
        f"urn:mappa:agency:{a}" for a in ("dwp", "police", "prison", "probation")
    ]


def test_a_change_keeps_the_uid_and_raises_the_sequence() -> None:
    moved = replace(
        INVITE,
        sequence=1,
        starts_at=INVITE.starts_at + timedelta(days=1),
        ends_at=INVITE.ends_at + timedelta(days=1),
    )
    _, first = _event(invites.build(INVITE, "REQUEST", STAMP))
    _, second = _event(invites.build(moved, "REQUEST", STAMP))
    assert str(first["UID"]) == str(second["UID"])
    assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 1)
    assert second.decoded("DTSTART").astimezone(LONDON).date().isoformat() == "2027-07-13"


def test_a_cancellation_is_method_cancel_with_the_same_uid() -> None:
    calendar, event = _event(invites.build(replace(INVITE, sequence=2), "CANCEL", STAMP))
    assert calendar["METHOD"] == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "m-0123@meetings.mappa"
    assert event["SEQUENCE"] == 2


def test_summary_and_description_name_the_case_and_level_only() -> None:
    _, event = _event(invites.build(INVITE, "REQUEST", STAMP))
    assert str(event["SUMMARY"]) == "MAPPA level 3 meeting: case P-7F3A9C"
    description = str(event["DESCRIPTION"])
    assert description.startswith("MAPPA level 3 meeting: case P-7F3A9C. OFFICIAL-SENSITIVE")
    assert str(event["CLASS"]) == "CONFIDENTIAL"


def test_a_video_meeting_gives_its_link_as_the_location_and_url() -> None:
    video = replace(INVITE, venue=None, video_link="https://video.example.org/j/123")
    _, event = _event(invites.build(video, "REQUEST", STAMP))
    assert str(event["LOCATION"]) == "https://video.example.org/j/123"
    assert str(event["URL"]) == "https://video.example.org/j/123"


def test_the_time_zone_covers_the_meeting_not_decades() -> None:
    text = invites.build(INVITE, "REQUEST", STAMP)
    assert len(text) < 4000
    assert "1970" not in text


CHECK = Path(__file__).resolve().parents[1] / "support" / "calendar" / "check.mjs"
# Meetings at 10:00 London time on either side of the clocks changing, and their time in UTC.
CLIENT_READS = [
    (datetime(2027, 7, 12, 9, 0, tzinfo=UTC), "REQUEST", "2027-07-12T09:00:00.000Z"),  # BST
    (datetime(2027, 1, 12, 10, 0, tzinfo=UTC), "REQUEST", "2027-01-12T10:00:00.000Z"),  # GMT
    (
        datetime(2027, 3, 29, 9, 0, tzinfo=UTC),
        "CANCEL",
        "2027-03-29T09:00:00.000Z",
    ),  # the day after going forward
    (
        datetime(2027, 11, 1, 10, 0, tzinfo=UTC),
        "REQUEST",
        "2027-11-01T10:00:00.000Z",
    ),  # the day after going back
]


@pytest.mark.parametrize(("starts", "method", "utc"), CLIENT_READS)
def test_a_calendar_client_reads_the_invitation_at_the_right_time(
    starts: datetime, method: invites.Method, utc: str
) -> None:
    """ical.js, the iCalendar engine of Mozilla's calendar clients, reads what we build: times through
    our VTIMEZONE, not the sender's assumptions."""
    invite = replace(INVITE, starts_at=starts, ends_at=starts + timedelta(hours=2))
    read = subprocess.run(
        ["node", str(CHECK)], input=invites.build(invite, method, STAMP), capture_output=True, text=True,
        check=True, timeout=30,
    )  # fmt: skip
    seen = json.loads(read.stdout)
    assert (seen["method"], seen["uid"], seen["tzid"], seen["start"]) == (
        method,
        "m-0123@meetings.mappa",
        "Europe/London",
        utc,
    )
    assert seen["status"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    assert seen["summary"] == "MAPPA level 3 meeting: case P-7F3A9C"

"""Meetings from levels' events to minutes: required, scheduled, invited, minuted, overdue, cancelled.

The meetings service on a real SQLite file and a fake clock; platform
events go through its consumer, people's steps through its HTTP API.
"""

from datetime import date, datetime
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from eventkit import outbox
from eventkit.audit import audit_reads
from eventkit.auth import Principal, Role
from eventkit.service import Service
from schemas.agencies import Agency
from schemas.envelope import CloudEvent
from schemas.events import levels
from tests.support.api import asgi_client, bearer
from tests.support.casework import a_platform_id, categorised, published
from tests.support.clock import FakeClock
from tests.support.delivery import deliver, event_of

COORDINATOR = Principal(user="u-coord", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area="01")
SENIOR = Principal(user="u-senior", agency=Agency.POLICE, role=Role.SENIOR_OFFICER, area="01")
CHAIR = Principal(user="u-chair", agency=Agency.PROBATION, role=Role.MEETING_CHAIR, area="01")
OFFENDER_MANAGER = Principal(user="u-om", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area="01")
DWP = Principal(user="u-dwp", agency=Agency.DWP, role=Role.OFFENDER_MANAGER, area="01")
ELSEWHERE = Principal(user="u-other", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area="02")
# Monday 1 March 2027: the referral is accepted; the first level 3 meeting is due by Monday 8 March.
ACCEPTED = date(2027, 3, 1)
FIRST_BY = date(2027, 3, 8)
SUMMARY_CANARY = "Synthetic summary: Zebedee Quillfeather discussed at length"


def _accepted(platform_id: str, level: int = 3) -> CloudEvent:
    return event_of(
        levels.ReferralAccepted(
            platform_id=platform_id, referral_ref="MAPPA-A-1", level_sought=level, decided_on=ACCEPTED
        ),
        key=platform_id,
    )


def _level(platform_id: str, level: int, review_by: date, previous: int | None = None) -> CloudEvent:
    common: dict[str, Any] = dict(
        platform_id=platform_id,
        level=level,
        decided_on=ACCEPTED,
        decided_by_role=Role.SENIOR_OFFICER,
        senior_officer_authorised=True,
        next_review_by=review_by,
    )
    if previous is None:
        return event_of(levels.LevelSet(kind="set", **common), key=platform_id)
    kind = "raised" if level > previous else "lowered"
    return event_of(levels.LevelChanged(previous_level=previous, kind=kind, **common), key=platform_id)


async def _required(meetings: Service, clock: FakeClock) -> tuple[str, str]:
    """A level 3 referral accepted in area 01: the case and its first meeting's id."""
    clock.set(ACCEPTED)
    platform_id = a_platform_id()
    assert await deliver(meetings, categorised(platform_id, ACCEPTED), _accepted(platform_id)) == [
        "applied",
        "applied",
    ]
    (required,) = await published(meetings, "meeting-required", subject=platform_id)
    return platform_id, required.data["meeting_id"]


def _slot(chair: Principal, **extra: Any) -> dict[str, Any]:
    return {
        "starts_at": "2027-03-05T10:00:00",
        "ends_at": "2027-03-05T12:00:00",
        "venue": "Meeting room 2, Civic Centre",
        "chair": {"staff_ref": chair.user, "role": chair.role},
        **extra,
    }


async def _scheduled(meetings: Service, clock: FakeClock, http: httpx.AsyncClient) -> tuple[str, str]:
    platform_id, meeting_id = await _required(meetings, clock)
    done = await http.post(
        f"/meetings/{meeting_id}/schedule",
        json=_slot(SENIOR, invited_agencies=["dwp"]),
        headers=bearer(COORDINATOR),
    )
    assert done.status_code == 200, done.text
    return platform_id, meeting_id


def _minutes(**extra: Any) -> dict[str, Any]:
    return {
        "attendance": [
            {"agency": "police", "staff_ref": "u-senior", "role": "senior-officer", "present": True},
            {"agency": "probation", "staff_ref": "u-om", "role": "offender-manager", "present": True},
            {"agency": "dwp", "staff_ref": "u-dwp", "role": "offender-manager", "present": False},
        ],
        "confidentiality_statement_read": True,
        "victim_liaison_officer_present": True,
        "victim_views": "Synthetic: the victim asks for an exclusion zone",
        "summary": SUMMARY_CANARY,
        "decisions": [{"decision": "Manage at level 3", "rationale": "Synthetic rationale"}],
        "level_decision": {"level": 3, "rationale": "Synthetic: very high RoSH, imminent"},
        "plan": {
            "supervision": "Weekly appointments",
            "monitoring_and_control": "Exclusion zone licence condition",
            "interventions_and_treatment": "Accredited programme",
            "victim_safety_planning": "Target hardening at the victim's address",
        },
        "disclosure": {"considered": True, "decision": "No disclosure to third parties at present"},
        "actions": [
            {
                "pillar": "monitoring-and-control",
                "description": "Apply for an exclusion zone variation",
                "rationale": "Synthetic rationale",
                "owner_agency": "probation",
                "owner_staff_ref": "u-om",
                "due_on": "2027-03-10",
            }
        ],
        **extra,
    }


async def _tick(meetings: Service) -> int:
    return sum([await scheduler.tick() for scheduler in meetings.schedulers])


async def test_an_accepted_level_3_referral_requires_a_first_meeting_within_5_working_days(
    offline_meetings: Service, clock: FakeClock
) -> None:
    platform_id, meeting_id = await _required(offline_meetings, clock)
    (required,) = await published(offline_meetings, "meeting-required", subject=platform_id)
    assert required.data == {
        "platform_id": platform_id,
        "meeting_id": meeting_id,
        "level": 3,
        "kind": "first",
        "required_by": FIRST_BY.isoformat(),
    }
    # Redelivered, nothing changes.
    assert await deliver(offline_meetings, _accepted(platform_id)) == ["applied"]
    assert len(await published(offline_meetings, "meeting-required", subject=platform_id)) == 1


async def test_the_coordinator_schedules_with_a_senior_officer_in_the_chair(
    offline_meetings: Service, clock: FakeClock
) -> None:
    platform_id, meeting_id = await _required(offline_meetings, clock)
    async with asgi_client(offline_meetings) as http:
        path = f"/meetings/{meeting_id}/schedule"
        by_chair_role = await http.post(path, json=_slot(CHAIR), headers=bearer(COORDINATOR))
        assert (by_chair_role.status_code, by_chair_role.json()["detail"]) == (
            403,
            "a level 3 meeting is chaired by a senior officer",
        )
        by_manager = await http.post(path, json=_slot(SENIOR), headers=bearer(OFFENDER_MANAGER))
        assert (by_manager.status_code, by_manager.json()["detail"]) == (
            403,
            "only the MAPPA co-ordinator does this",
        )
        gap = _slot(SENIOR, starts_at="2027-03-28T01:30:00", ends_at="2027-03-28T03:00:00")
        in_the_gap = await http.post(path, json=gap, headers=bearer(COORDINATOR))
        assert in_the_gap.status_code == 422
        assert "does not exist in London" in in_the_gap.json()["detail"]
        date_only = await http.post(
            path, json=_slot(SENIOR, starts_at="2027-03-05"), headers=bearer(COORDINATOR)
        )
        assert date_only.status_code == 422
        assert "give the time as well as the date" in date_only.text
        nowhere = await http.post(path, json={**_slot(SENIOR), "venue": None}, headers=bearer(COORDINATOR))
        assert nowhere.status_code == 422
        backwards = _slot(SENIOR, ends_at="2027-03-05T09:00:00")
        ends_first = await http.post(path, json=backwards, headers=bearer(COORDINATOR))
        assert (ends_first.status_code, ends_first.json()["detail"]) == (
            422,
            "the meeting must end after it starts",
        )

        done = await http.post(
            path, json=_slot(SENIOR, invited_agencies=["dwp"]), headers=bearer(COORDINATOR)
        )
        assert done.status_code == 200, done.text
        meeting = done.json()
        assert (meeting["status"], meeting["sequence"], meeting["chair_role"]) == (
            "scheduled",
            0,
            "senior-officer",
        )
        # 10:00 in London on 5 March is 10:00 UTC (GMT).
        assert meeting["starts_at"].startswith("2027-03-05T10:00:00")
        assert [(a["agency"], a["core"]) for a in meeting["attendees"]] == [
            ("dwp", False),
            ("police", True),
            ("prison", True),
            ("probation", True),
        ]
        twice = await http.post(path, json=_slot(SENIOR), headers=bearer(COORDINATOR))
        assert twice.status_code == 409

    (scheduled,) = await published(offline_meetings, "meeting-scheduled", subject=platform_id)
    assert scheduled.data["sequence"] == 0
    calendar = Calendar.from_ical(scheduled.data["ics"])
    assert calendar["METHOD"] == "REQUEST"
    (invited,) = await published(offline_meetings, "attendee-invited", subject=platform_id)
    assert (invited.data["agency"], invited.data["meeting_id"]) == ("dwp", meeting_id)


async def test_an_invited_agency_reads_the_case_only_while_invited(
    offline_meetings: Service, clock: FakeClock
) -> None:
    async with asgi_client(offline_meetings) as http:
        platform_id, meeting_id = await _scheduled(offline_meetings, clock, http)
        path = f"/meetings/{meeting_id}"
        assert (await http.get(path, headers=bearer(DWP))).status_code == 200
        assert (await http.get(f"/cases/{platform_id}/meetings", headers=bearer(DWP))).status_code == 200
        # Another area's co-ordinator sees nothing.
        elsewhere = await http.get(path, headers=bearer(ELSEWHERE))
        assert (elsewhere.status_code, elsewhere.json()) == (404, {"detail": "no such meeting"})

        ended = await http.delete(f"{path}/invitations/dwp", headers=bearer(COORDINATOR))
        assert ended.status_code == 200
        assert ended.json()["sequence"] == 1  # attendees changed: calendars follow
        gone = await http.get(path, headers=bearer(DWP))
        missing = await http.get("/meetings/m-no-such-meeting", headers=bearer(DWP))
        assert (
            (gone.status_code, gone.json())
            == (missing.status_code, missing.json())
            == (
                404,
                {"detail": "no such meeting"},
            )
        )
        # Invited again: the ended invitation starts afresh.
        again = await http.post(f"{path}/invitations", json={"agency": "dwp"}, headers=bearer(COORDINATOR))
        assert (again.status_code, again.json()["sequence"]) == (200, 2)
        assert (await http.get(path, headers=bearer(DWP))).status_code == 200
        twice = await http.post(f"{path}/invitations", json={"agency": "dwp"}, headers=bearer(COORDINATOR))
        assert (twice.status_code, twice.json()["detail"]) == (409, "dwp is invited already")
        core = await http.post(f"{path}/invitations", json={"agency": "police"}, headers=bearer(COORDINATOR))
        assert core.status_code == 409
    (uninvited,) = await published(offline_meetings, "attendee-uninvited", subject=platform_id)
    assert (uninvited.data["agency"], uninvited.data["reason"]) == ("dwp", "uninvited")
    assert len(await published(offline_meetings, "attendee-invited", subject=platform_id)) == 2


async def test_a_reschedule_keeps_the_uid_and_raises_the_sequence(
    offline_meetings: Service, clock: FakeClock
) -> None:
    async with asgi_client(offline_meetings) as http:
        platform_id, meeting_id = await _scheduled(offline_meetings, clock, http)
        moved = await http.post(
            f"/meetings/{meeting_id}/reschedule",
            json=_slot(SENIOR, starts_at="2027-03-04T14:00:00+00:00", ends_at="2027-03-04T16:00:00+00:00"),
            headers=bearer(COORDINATOR),
        )
        assert moved.status_code == 200, moved.text
        ics = await http.get(f"/meetings/{meeting_id}/invite.ics", headers=bearer(DWP))
    assert ics.headers["content-type"].startswith("text/calendar; method=REQUEST")
    (event,) = Calendar.from_ical(ics.text).walk("VEVENT")
    assert (str(event["UID"]), event["SEQUENCE"]) == (f"{meeting_id}@meetings.mappa", 1)
    (rescheduled,) = await published(offline_meetings, "meeting-rescheduled", subject=platform_id)
    assert rescheduled.data["sequence"] == 1


async def test_minutes_send_the_level_decision_to_levels_and_keep_their_text_behind_the_api(
    offline_meetings: Service, clock: FakeClock
) -> None:
    async with asgi_client(offline_meetings) as http:
        platform_id, meeting_id = await _scheduled(offline_meetings, clock, http)
        minutes_path = f"/meetings/{meeting_id}/minutes"
        early = await http.post(minutes_path, json=_minutes(), headers=bearer(SENIOR))
        assert (early.status_code, early.json()["detail"]) == (409, "the meeting has not started yet")

        clock.now = datetime.fromisoformat("2027-03-05T12:30:00+00:00")
        unread = await http.post(
            minutes_path, json=_minutes(confidentiality_statement_read=False), headers=bearer(SENIOR)
        )
        assert unread.status_code == 409
        assert "MAPPA D" in unread.json()["detail"]
        not_the_chair = await http.post(minutes_path, json=_minutes(), headers=bearer(OFFENDER_MANAGER))
        assert not_the_chair.status_code == 403
        early_action = _minutes()
        early_action["actions"][0]["due_on"] = "2027-03-04"
        before = await http.post(minutes_path, json=early_action, headers=bearer(SENIOR))
        assert (before.status_code, before.json()["detail"]) == (
            409,
            "1 action(s) fall due before the meeting was held (2027-03-05)",
        )

        done = await http.post(minutes_path, json=_minutes(), headers=bearer(SENIOR))
        assert done.status_code == 200, done.text
        meeting = done.json()
        assert meeting["status"] == "held"
        assert meeting["minutes"]["summary"] == SUMMARY_CANARY
        assert [a["owner_agency"] for a in meeting["actions"]] == ["probation"]

    (decided,) = await published(offline_meetings, "meeting-level-decided", subject=platform_id)
    assert decided.data["level"] == 3
    assert decided.data["chair"] == {"staff_ref": "u-senior", "role": "senior-officer"}
    (recorded,) = await published(offline_meetings, "minutes-recorded", subject=platform_id)
    assert (recorded.data["attended"], recorded.data["apologies"], recorded.data["actions"]) == (2, 1, 1)
    # Had levels refused the decision, the meeting would show why.
    reason = "raising a case to level 3 needs an accepted referral for level 3 or above"
    refusal = levels.MeetingLevelDecisionRefused(
        platform_id=platform_id, meeting_id=meeting_id, level=3, reason=reason
    )
    assert await deliver(offline_meetings, event_of(refusal, key=platform_id)) == ["applied"]
    async with asgi_client(offline_meetings) as http:
        shown = (await http.get(f"/meetings/{meeting_id}", headers=bearer(COORDINATOR))).json()
    assert (shown["minutes"]["level_decided"], shown["minutes"]["level_refused"]) == (3, reason)
    async with offline_meetings.db.transaction() as session:
        payloads = [r.payload for r in await outbox.pending(session, 1000)]
    # Minutes, plan and action wording never leave the API.
    for text in (SUMMARY_CANARY, "exclusion zone", "Weekly appointments", "Accredited programme"):
        assert not any(text.encode() in p for p in payloads), text


async def test_review_meetings_follow_levels_review_dates_and_lowering_cancels(
    offline_meetings: Service, clock: FakeClock
) -> None:
    async with asgi_client(offline_meetings) as http:
        platform_id, meeting_id = await _scheduled(offline_meetings, clock, http)
        clock.now = datetime.fromisoformat("2027-03-05T12:30:00+00:00")
        assert (
            await http.post(f"/meetings/{meeting_id}/minutes", json=_minutes(), headers=bearer(SENIOR))
        ).is_success
    # Levels raises the case to 3 on the meeting's decision: the next meeting is due by the review date.
    review_by = date(2027, 4, 30)
    assert await deliver(offline_meetings, _level(platform_id, 3, review_by, previous=1)) == ["applied"]
    review = [
        e.data
        for e in await published(offline_meetings, "meeting-required", subject=platform_id)
        if e.data["kind"] == "review"
    ]
    assert [(r["level"], r["required_by"]) for r in review] == [(3, review_by.isoformat())]
    next_meeting = review[0]["meeting_id"]
    assert next_meeting != meeting_id

    assert await deliver(offline_meetings, _level(platform_id, 1, date(2027, 9, 1), previous=3)) == [
        "applied"
    ]
    (cancelled,) = await published(offline_meetings, "meeting-cancelled", subject=platform_id)
    assert (cancelled.data["meeting_id"], cancelled.data["reason"], cancelled.data["ics"]) == (
        next_meeting,
        "level-lowered",
        None,  # never scheduled: no calendar to cancel
    )
    # The DWP's invitation to the meeting held ends with MAPPA management.
    (ended,) = await published(offline_meetings, "attendee-uninvited", subject=platform_id)
    assert (ended.data["agency"], ended.data["reason"]) == ("dwp", "level-lowered")


async def test_a_cancelled_meeting_is_required_again_and_attendees_get_method_cancel(
    offline_meetings: Service, clock: FakeClock
) -> None:
    async with asgi_client(offline_meetings) as http:
        _, unscheduled = await _required(offline_meetings, clock)
        nothing = await http.post(f"/meetings/{unscheduled}/cancel", headers=bearer(COORDINATOR))
        assert (nothing.status_code, nothing.json()["detail"]) == (
            409,
            "the meeting is required: only a scheduled meeting is cancelled",
        )
        platform_id, meeting_id = await _scheduled(offline_meetings, clock, http)
        done = await http.post(f"/meetings/{meeting_id}/cancel", headers=bearer(COORDINATOR))
        assert done.status_code == 200
        assert (done.json()["status"], done.json()["sequence"]) == ("cancelled", 1)
        ics = await http.get(f"/meetings/{meeting_id}/invite.ics", headers=bearer(COORDINATOR))
    assert Calendar.from_ical(ics.text)["METHOD"] == "CANCEL"
    (cancelled,) = await published(offline_meetings, "meeting-cancelled", subject=platform_id)
    assert cancelled.data["reason"] == "cancelled"
    assert cancelled.data["ics"] is not None
    required = await published(offline_meetings, "meeting-required", subject=platform_id)
    assert [r.data["required_by"] for r in required] == [FIRST_BY.isoformat()] * 2
    assert required[1].data["meeting_id"] != meeting_id


async def test_overdue_meetings_minutes_and_actions_are_published_once(
    offline_meetings: Service, clock: FakeClock
) -> None:
    # An unscheduled meeting past its date.
    platform_id, meeting_id = await _required(offline_meetings, clock)
    clock.set(FIRST_BY)
    await _tick(offline_meetings)
    assert await published(offline_meetings, "meeting-overdue", subject=platform_id) == []
    clock.set(date(2027, 3, 9))
    assert await _tick(offline_meetings) >= 1
    assert await _tick(offline_meetings) == 0
    (overdue,) = await published(offline_meetings, "meeting-overdue", subject=platform_id)
    assert overdue.data == {
        "platform_id": platform_id,
        "meeting_id": meeting_id,
        "level": 3,
        "required_by": FIRST_BY.isoformat(),
    }

    # A meeting held without minutes; then one with an action past its date.
    async with asgi_client(offline_meetings) as http:
        late, late_meeting = await _scheduled(offline_meetings, clock, http)
        # 5 March, 10 working days: 19 March is the last day for the minutes.
        clock.set(date(2027, 3, 19))
        await _tick(offline_meetings)
        assert await published(offline_meetings, "minutes-overdue", subject=late) == []
        clock.set(date(2027, 3, 22))
        await _tick(offline_meetings)
        (minutes_late,) = await published(offline_meetings, "minutes-overdue", subject=late)
        assert (minutes_late.data["due_by"], minutes_late.data["chair_role"]) == (
            "2027-03-19",
            "senior-officer",
        )

        done = await http.post(f"/meetings/{late_meeting}/minutes", json=_minutes(), headers=bearer(SENIOR))
        assert done.status_code == 200, done.text
    # The action was due on 10 March: overdue from the next tick, once.
    await _tick(offline_meetings)
    await _tick(offline_meetings)
    (action_late,) = await published(offline_meetings, "action-overdue", subject=late)
    assert (action_late.data["owner_agency"], action_late.data["due_on"]) == ("probation", "2027-03-10")


async def test_the_areas_lists_are_for_its_responsible_authority_and_audited(
    offline_meetings: Service, clock: FakeClock
) -> None:
    async with asgi_client(offline_meetings) as http:
        scheduled, _ = await _scheduled(offline_meetings, clock, http)
        unscheduled, _ = await _required(offline_meetings, clock)
        upcoming = await http.get("/areas/01/meetings", headers=bearer(COORDINATOR))
        assert [m["platform_id"] for m in upcoming.json()] == [scheduled]
        waiting = await http.get("/areas/01/meetings?when=unscheduled", headers=bearer(COORDINATOR))
        assert [m["platform_id"] for m in waiting.json()] == [unscheduled]
        assert (await http.get("/areas/02/meetings", headers=bearer(COORDINATOR))).status_code == 404
        assert (await http.get("/areas/01/meetings", headers=bearer(DWP))).status_code == 403
        actions = await http.get("/agencies/probation/actions", headers=bearer(OFFENDER_MANAGER))
        assert actions.json() == []
        assert (
            await http.get("/agencies/police/actions", headers=bearer(OFFENDER_MANAGER))
        ).status_code == 403
    async with offline_meetings.db.transaction() as session:
        audited = await session.scalar(
            select(func.count()).select_from(audit_reads).where(audit_reads.c.record_id == scheduled)
        )
    # The schedule step and the upcoming list each read the case.
    assert audited == 2
    auditor = Principal(user="u-audit", agency=Agency.POLICE, role=Role.AUDITOR, area="01")
    async with asgi_client(offline_meetings) as http:
        trail = await http.get(f"/cases/{scheduled}/meetings/reads", headers=bearer(auditor))
        assert [(r["user"], r["record"]) for r in trail.json()] == [
            ("u-coord", "case-meetings"),
            ("u-coord", "meeting-schedule"),
        ]
        not_an_auditor = await http.get(f"/cases/{scheduled}/meetings/reads", headers=bearer(COORDINATOR))
        assert not_an_auditor.status_code == 404


@pytest.mark.parametrize("level", [2, 3])
async def test_a_level_set_without_a_referral_still_requires_a_review_meeting(
    offline_meetings: Service, clock: FakeClock, level: int
) -> None:
    clock.set(ACCEPTED)
    platform_id = a_platform_id()
    await deliver(
        offline_meetings, categorised(platform_id, ACCEPTED), _level(platform_id, level, date(2027, 6, 1))
    )
    (required,) = await published(offline_meetings, "meeting-required", subject=platform_id)
    assert (required.data["kind"], required.data["level"], required.data["required_by"]) == (
        "review",
        level,
        "2027-06-01",
    )


async def test_a_level_2_meeting_raises_to_level_3_only_with_a_senior_officers_authorisation(
    offline_meetings: Service, clock: FakeClock
) -> None:
    clock.set(ACCEPTED)
    platform_id = a_platform_id()
    await deliver(offline_meetings, categorised(platform_id, ACCEPTED), _accepted(platform_id, level=2))
    (required,) = await published(offline_meetings, "meeting-required", subject=platform_id)
    meeting_id = required.data["meeting_id"]
    # 20 working days from 1 March 2027, over Good Friday (26th) and Easter Monday (29th).
    assert (required.data["level"], required.data["required_by"]) == (2, "2027-03-31")
    async with asgi_client(offline_meetings) as http:
        done = await http.post(
            f"/meetings/{meeting_id}/schedule", json=_slot(CHAIR), headers=bearer(COORDINATOR)
        )
        assert done.status_code == 200, done.text
        clock.now = datetime.fromisoformat("2027-03-05T12:30:00+00:00")
        path = f"/meetings/{meeting_id}/minutes"
        raise_to_3 = {"level": 3, "rationale": "Synthetic: risk now imminent"}
        alone = await http.post(path, json=_minutes(level_decision=raise_to_3), headers=bearer(CHAIR))
        assert (alone.status_code, alone.json()["detail"]) == (
            403,
            "a level 3 decision needs a senior officer's authorisation",
        )
        authorised = {**raise_to_3, "authorised_by": {"staff_ref": "u-senior", "role": "senior-officer"}}
        done = await http.post(path, json=_minutes(level_decision=authorised), headers=bearer(CHAIR))
        assert done.status_code == 200, done.text
    (decided,) = await published(offline_meetings, "meeting-level-decided", subject=platform_id)
    assert (decided.data["level"], decided.data["chair"]["role"], decided.data["authorised_by"]["role"]) == (
        3,
        "meeting-chair",
        "senior-officer",
    )


async def test_a_scheduled_meetings_invitation_follows_a_change_of_level(
    offline_meetings: Service, clock: FakeClock
) -> None:
    async with asgi_client(offline_meetings) as http:
        platform_id, meeting_id = await _scheduled(offline_meetings, clock, http)
    # Levels lowers the case to 2 before the meeting: the same meeting, at level 2, SEQUENCE 1.
    assert await deliver(offline_meetings, _level(platform_id, 2, date(2027, 6, 1), previous=3)) == [
        "applied"
    ]
    (rescheduled,) = await published(offline_meetings, "meeting-rescheduled", subject=platform_id)
    assert (rescheduled.data["meeting_id"], rescheduled.data["level"], rescheduled.data["sequence"]) == (
        meeting_id,
        2,
        1,
    )
    (event,) = Calendar.from_ical(rescheduled.data["ics"]).events
    assert str(event["SUMMARY"]) == f"MAPPA level 2 meeting: case {platform_id}"


async def test_a_summer_meeting_keeps_its_london_time(offline_meetings: Service, clock: FakeClock) -> None:
    # In British Summer Time 10:00 in London is 09:00 UTC; stored and read back, it stays so.
    clock.set(date(2027, 6, 1))
    platform_id = a_platform_id()
    await deliver(
        offline_meetings, categorised(platform_id, date(2027, 6, 1)), _level(platform_id, 3, date(2027, 7, 1))
    )
    (required,) = await published(offline_meetings, "meeting-required", subject=platform_id)
    meeting_id = required.data["meeting_id"]
    slot = _slot(SENIOR, starts_at="2027-06-08T10:00:00", ends_at="2027-06-08T12:00:00")
    async with asgi_client(offline_meetings) as http:
        done = await http.post(f"/meetings/{meeting_id}/schedule", json=slot, headers=bearer(COORDINATOR))
        assert done.status_code == 200, done.text
        assert done.json()["starts_at"] == "2027-06-08T09:00:00Z"
        ics = await http.get(f"/meetings/{meeting_id}/invite.ics", headers=bearer(COORDINATOR))
        (event,) = Calendar.from_ical(ics.text).events
        assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2027, 6, 8, 10, 0)
        # Half past ten in London: the meeting has started and its minutes may be taken.
        clock.now = datetime.fromisoformat("2027-06-08T09:30:00+00:00")
        minuted = await http.post(
            f"/meetings/{meeting_id}/minutes",
            json=_minutes(actions=[], level_decision={"level": 3, "rationale": "Synthetic"}),
            headers=bearer(SENIOR),
        )
        assert minuted.status_code == 200, minuted.text
    (recorded,) = await published(offline_meetings, "minutes-recorded", subject=platform_id)
    assert recorded.data["held_on"] == "2027-06-08"


async def test_the_responsible_authority_is_not_uninvited_and_partners_see_only_invited_actions(
    offline_meetings: Service, clock: FakeClock
) -> None:
    async with asgi_client(offline_meetings) as http:
        platform_id, meeting_id = await _scheduled(offline_meetings, clock, http)
        police = await http.delete(f"/meetings/{meeting_id}/invitations/police", headers=bearer(COORDINATOR))
        assert (police.status_code, police.json()["detail"]) == (
            409,
            "the Responsible Authority attends every meeting: it is not uninvited",
        )
        clock.now = datetime.fromisoformat("2027-03-05T12:30:00+00:00")
        minutes = _minutes()
        minutes["actions"][0].update(owner_agency="dwp", owner_staff_ref="u-dwp")
        assert (
            await http.post(f"/meetings/{meeting_id}/minutes", json=minutes, headers=bearer(SENIOR))
        ).is_success
        while_invited = await http.get("/agencies/dwp/actions", headers=bearer(DWP))
        assert [a["platform_id"] for a in while_invited.json()] == [platform_id]
        assert (
            await http.delete(f"/meetings/{meeting_id}/invitations/dwp", headers=bearer(COORDINATOR))
        ).is_success
        afterwards = await http.get("/agencies/dwp/actions", headers=bearer(DWP))
        assert afterwards.json() == []


async def test_a_refused_level_decision_leaves_the_case_due_a_meeting_by_its_review_date(
    offline_meetings: Service, clock: FakeClock
) -> None:
    # A level 2 case reviewed at a meeting whose raise to 3 levels refuses: the next meeting is
    # still due by the review date levels last published.
    clock.set(ACCEPTED)
    platform_id = a_platform_id()
    review_by = date(2027, 6, 21)
    await deliver(offline_meetings, categorised(platform_id, ACCEPTED), _level(platform_id, 2, review_by))
    (first,) = await published(offline_meetings, "meeting-required", subject=platform_id)
    meeting_id = first.data["meeting_id"]
    async with asgi_client(offline_meetings) as http:
        assert (
            await http.post(
                f"/meetings/{meeting_id}/schedule", json=_slot(SENIOR), headers=bearer(COORDINATOR)
            )
        ).is_success
        clock.now = datetime.fromisoformat("2027-03-05T12:30:00+00:00")
        assert (
            await http.post(f"/meetings/{meeting_id}/minutes", json=_minutes(), headers=bearer(SENIOR))
        ).is_success
    reason = "raising a case to level 3 needs an accepted referral for level 3 or above"
    refusal = levels.MeetingLevelDecisionRefused(
        platform_id=platform_id, meeting_id=meeting_id, level=3, reason=reason
    )
    assert await deliver(offline_meetings, event_of(refusal, key=platform_id)) == ["applied"]
    required = await published(offline_meetings, "meeting-required", subject=platform_id)
    assert [(r.data["kind"], r.data["level"], r.data["required_by"]) for r in required[1:]] == [
        ("review", 2, review_by.isoformat())
    ]


async def test_a_merge_carries_the_meeting_to_the_survivor_and_an_unmerge_puts_it_back(
    offline_meetings: Service, clock: FakeClock
) -> None:
    clock.set(ACCEPTED)
    survivor, absorbed = a_platform_id(), a_platform_id()
    absorbed_review = date(2027, 4, 30)
    assert (
        await deliver(
            offline_meetings,
            categorised(survivor, ACCEPTED),
            _level(survivor, 1, date(2027, 9, 1)),
            categorised(absorbed, ACCEPTED),
            _level(absorbed, 3, absorbed_review),
        )
        == ["applied"] * 4
    )
    (absorbed_meeting,) = await published(offline_meetings, "meeting-required", subject=absorbed)
    on = dict(merge_id=7)
    closed = levels.CaseClosed(
        platform_id=absorbed, closed_on=ACCEPTED, reason="merged", merged_into=survivor
    )
    merged = levels.CaseMerged(
        platform_id=survivor,
        absorbed_platform_id=absorbed,
        level=3,
        previous_level=1,
        merged_on=ACCEPTED,
        **on,
    )
    assert await deliver(
        offline_meetings, event_of(closed, key=absorbed), event_of(merged, key=survivor)
    ) == ["applied", "applied"]
    (cancelled,) = await published(offline_meetings, "meeting-cancelled", subject=absorbed)
    assert (cancelled.data["meeting_id"], cancelled.data["reason"]) == (
        absorbed_meeting.data["meeting_id"],
        "case-closed",
    )
    # The survivor carries on at level 3, due a meeting by the earlier review date.
    (carried,) = await published(offline_meetings, "meeting-required", subject=survivor)
    assert (carried.data["level"], carried.data["required_by"]) == (3, absorbed_review.isoformat())

    reopened = levels.CaseReopened(platform_id=absorbed, level=3, status="managed", reopened_on=ACCEPTED)
    unmerged = levels.CaseUnmerged(
        platform_id=survivor,
        restored_platform_id=absorbed,
        level=1,
        status="managed",
        unmerged_on=ACCEPTED,
        **on,
    )
    assert await deliver(
        offline_meetings, event_of(reopened, key=absorbed), event_of(unmerged, key=survivor)
    ) == ["applied", "applied"]
    again = await published(offline_meetings, "meeting-required", subject=absorbed)
    assert [(r.data["level"], r.data["required_by"]) for r in again[1:]] == [(3, absorbed_review.isoformat())]
    (survivor_cancelled,) = await published(offline_meetings, "meeting-cancelled", subject=survivor)
    assert (survivor_cancelled.data["meeting_id"], survivor_cancelled.data["reason"]) == (
        carried.data["meeting_id"],
        "level-lowered",
    )

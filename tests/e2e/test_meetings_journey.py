"""A co-ordinator runs a level 3 case's first meeting end to end with agency events and the HTTP APIs only,
across the registry, levels and meetings processes: required, scheduled, an invited agency reading the
case, minutes whose level decision levels applies, a review meeting required, and an action that falls
overdue once the meetings service's clock is two days on."""

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import ConsumerRecord
from icalendar import Calendar

from deploy.local import LocalPlatform
from eventkit.auth import Principal, Role
from eventkit.clock import local_date
from eventkit.synthetic import Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency
from schemas.catalogue import AGENCY_POLICE, AGENCY_PROBATION, LEVELS_DECISIONS, MEETINGS_SCHEDULE, type_of
from schemas.events import levels, meetings
from tests.e2e.helpers import about
from tests.support.casework import referral, screening
from tests.support.kafka import event_of, publish, read_all, read_until, registered
from tests.support.waiting import eventually

KEY = secrets.token_urlsafe(48)
CANARY = "Synthetic minutes canary Ottoline Brackenbury"


def _headers(principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(principal, key=KEY)}", "X-Purpose": "MAPPA meeting"}


def _of(platform_id: str, event: type[Any]) -> Callable[[ConsumerRecord], bool]:
    return lambda r: about(platform_id)(r) and event_of(r)["type"] == type_of(event)


def _minutes(om: Principal, due: str) -> dict[str, Any]:
    return {
        "attendance": [
            {"agency": "police", "staff_ref": "u-senior", "role": "senior-officer", "present": True},
            {"agency": "probation", "staff_ref": om.user, "role": "offender-manager", "present": True},
            {"agency": "dwp", "staff_ref": "u-dwp", "role": "offender-manager", "present": True},
        ],
        "confidentiality_statement_read": True,
        "victim_liaison_officer_present": True,
        "summary": CANARY,
        "decisions": [{"decision": "Manage at level 3", "rationale": CANARY}],
        "level_decision": {"level": 3, "rationale": CANARY},
        "plan": {
            "supervision": CANARY,
            "monitoring_and_control": CANARY,
            "interventions_and_treatment": CANARY,
            "victim_safety_planning": CANARY,
        },
        "disclosure": {"considered": True, "decision": CANARY},
        "actions": [
            {
                "pillar": "supervision",
                "description": CANARY,
                "rationale": CANARY,
                "owner_agency": "probation",
                "owner_staff_ref": om.user,
                "due_on": due,
            }
        ],
    }


async def test_a_level_3_first_meeting_from_referral_to_an_overdue_action(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    for service in ("registry", "levels", "meetings"):
        platform.start(service, MAPPA_AUTH_JWT_KEY=KEY, MAPPA_MEETINGS_SCHEDULE_SECONDS="1")
    for service in ("registry", "levels", "meetings"):
        platform.wait_healthy(service)
    agency = Synthetic()
    conviction = agency.conviction()
    area = conviction.recording_force
    convicted = agency.conviction_event(conviction)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, convicted.to_json(), key=conviction.person.pnc_id)
    [nominal] = await read_until(
        kafka_bootstrap, "registry.offenders.v1", bool, match=registered(convicted.id)
    )
    platform_id = event_of(nominal)["subject"]
    await read_until(
        kafka_bootstrap, LEVELS_DECISIONS.name, bool, match=_of(platform_id, levels.ScreeningDue)
    )

    # Probation screens and refers for level 3; the co-ordinator accepts over the levels API.
    today = local_date(datetime.now(UTC))
    for step in (screening(platform_id, today, level_sought=3), referral(platform_id, today, 3)):
        event = agency.agency_event(AGENCY_PROBATION, step)
        await publish(kafka_bootstrap, AGENCY_PROBATION.name, event.to_json(), key=platform_id)
    await read_until(
        kafka_bootstrap, LEVELS_DECISIONS.name, bool, match=_of(platform_id, levels.ReferralMade)
    )
    coordinator = Principal(user="u-coord", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area=area)
    senior = Principal(user="u-senior", agency=Agency.POLICE, role=Role.SENIOR_OFFICER, area=area)
    om = Principal(user="u-om", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area=area)
    dwp = Principal(user="u-dwp", agency=Agency.DWP, role=Role.OFFENDER_MANAGER, area=area)
    case = platform.url("levels", f"/cases/{platform_id}")
    async with httpx.AsyncClient(timeout=10) as http:
        accepted = await http.post(
            f"{case}/referrals/MAPPA-A-1/decision",
            json={"decision": "accepted", "reason": "Meets the level 3 criteria"},
            headers=_headers(coordinator),
        )
        assert accepted.status_code == 200, accepted.text
        assert (await http.get(case, headers=_headers(dwp))).status_code == 404  # not invited yet

    [required] = await read_until(
        kafka_bootstrap, MEETINGS_SCHEDULE.name, bool, match=_of(platform_id, meetings.MeetingRequired)
    )
    meeting_id = event_of(required)["data"]["meeting_id"]
    assert (event_of(required)["data"]["kind"], event_of(required)["data"]["level"]) == ("first", 3)

    # The co-ordinator schedules it to start in a moment, a senior officer in the chair, DWP invited.
    starts = datetime.now(UTC) + timedelta(seconds=2)
    slot = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(minutes=1)).isoformat(),
        "video_link": "https://video.example.org/j/4821",
        "chair": {"staff_ref": senior.user, "role": senior.role},
        "invited_agencies": ["dwp"],
    }
    meeting = platform.url("meetings", f"/meetings/{meeting_id}")
    async with httpx.AsyncClient(timeout=10) as http:
        scheduled = await http.post(f"{meeting}/schedule", json=slot, headers=_headers(coordinator))
        assert scheduled.status_code == 200, scheduled.text
        ics = await http.get(f"{meeting}/invite.ics", headers=_headers(dwp))
        assert Calendar.from_ical(ics.text)["METHOD"] == "REQUEST"

        # Levels learns of the invitation from its event: DWP reads the case while invited.
        async def dwp_reads_the_case() -> bool:
            return (await http.get(case, headers=_headers(dwp))).status_code == 200

        await eventually(dwp_reads_the_case, what="levels to let the invited DWP read the case")

        # Once the meeting has started, the chair records the minutes; the action is due today.
        async def minuted() -> httpx.Response | None:
            answer = await http.post(
                f"{meeting}/minutes", json=_minutes(om, today.isoformat()), headers=_headers(senior)
            )
            return answer if answer.status_code == 200 else None

        held = await eventually(minuted, what="the meeting to start and its minutes to be taken")
        assert held.json()["status"] == "held"

    # Levels applies the meeting's decision, and meetings requires the review meeting by the review date.
    [raised] = await read_until(
        kafka_bootstrap, LEVELS_DECISIONS.name, bool, match=_of(platform_id, levels.LevelChanged)
    )
    assert (event_of(raised)["data"]["level"], event_of(raised)["data"]["decided_by_role"]) == (
        3,
        "senior-officer",
    )
    review_by = event_of(raised)["data"]["next_review_by"]
    [review] = await read_until(
        kafka_bootstrap,
        MEETINGS_SCHEDULE.name,
        bool,
        match=lambda r: (
            _of(platform_id, meetings.MeetingRequired)(r) and event_of(r)["data"]["kind"] == "review"
        ),
    )
    assert (event_of(review)["data"]["required_by"], event_of(review)["data"]["level"]) == (review_by, 3)

    # Two days on by the meetings service's clock, the action is overdue: published once.
    platform.stop("meetings")
    platform.start("meetings", MAPPA_AUTH_JWT_KEY=KEY, MAPPA_MEETINGS_CLOCK_OFFSET_DAYS="2",
                   MAPPA_MEETINGS_SCHEDULE_SECONDS="1")  # fmt: skip
    platform.wait_healthy("meetings")
    [overdue] = await read_until(
        kafka_bootstrap, MEETINGS_SCHEDULE.name, bool, match=_of(platform_id, meetings.ActionOverdue)
    )
    assert (event_of(overdue)["data"]["owner_agency"], event_of(overdue)["data"]["due_on"]) == (
        "probation",
        today.isoformat(),
    )

    # Nothing of the minutes reached an event or a log line.
    published = await read_all(kafka_bootstrap, MEETINGS_SCHEDULE.name, match=about(platform_id))
    assert not [r for r in published if CANARY.encode() in r.value]
    assert len([r for r in published if _of(platform_id, meetings.ActionOverdue)(r)]) == 1
    for service in ("registry", "levels", "meetings"):
        assert CANARY not in platform.log(service).read_text(), service

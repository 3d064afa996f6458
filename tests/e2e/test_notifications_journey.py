"""People are told, end to end across the four service processes, through agency events and the HTTP APIs:
a sexual-offence conviction emails the offender manager on the agency event's trace (and names never leave
the register), and a level 3 referral's meeting invites every attendee with its calendar."""

import secrets
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar

from deploy.local import SERVICES, LocalPlatform
from deploy.receivers import MailSink, WebhookReceiver
from eventkit.auth import Principal, Role
from eventkit.clock import LOCAL, local_date
from eventkit.synthetic import OTHER_OFFENCE, Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency
from schemas.catalogue import (
    AGENCY_POLICE,
    AGENCY_PROBATION,
    LEVELS_DECISIONS,
    MEETINGS_SCHEDULE,
    NOTIFICATIONS_DELIVERIES,
    REGISTRY_OFFENDERS,
    type_of,
)
from schemas.events import levels, meetings, registry
from schemas.events.common import OffenderManagerAllocated, PersonIdentifiers, PersonRef
from schemas.events.notifications import NotificationSent
from schemas.events.police import PersonDetails
from schemas.identifiers import format_cro, format_pnc
from tests.e2e.helpers import about
from tests.support.casework import referral, screening
from tests.support.kafka import event_of, headers_of, publish, read_until, registered
from tests.support.waiting import eventually

KEY = secrets.token_urlsafe(48)
# Seeded into the agency's events: none of it may reach an email, a webhook, a log line or a span.
CANARY = PersonDetails(
    pnc_id=format_pnc(2019, 48213),
    cro_number=format_cro(48213, 19),
    family_name="Quillfeather",
    given_names=["Zebedee", "Ottoline"],
    date_of_birth=date(1987, 4, 23),
)


def _headers(principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(principal, key=KEY)}", "X-Purpose": "Notification set-up"}


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


def _start(platform: LocalPlatform, mail: MailSink, **env: str) -> None:
    for service in SERVICES:
        platform.start(
            service,
            MAPPA_AUTH_JWT_KEY=KEY,
            MAPPA_NOTIFICATIONS_SMTP_PORT=str(mail.port),
            **env,
        )
    for service in SERVICES:
        platform.wait_healthy(service)


async def _put(
    platform: LocalPlatform, operator: Principal, entry: Mapping[str, object]
) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.put(
            platform.url("notifications", f"/recipients/{uuid.uuid4()}"),
            json=entry,
            headers=_headers(operator),
        )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_sexual_offence_conviction_emails_the_offender_manager_on_the_agency_events_trace(
    kafka_bootstrap: str, platform: LocalPlatform, mail: MailSink, tmp_path: Path
) -> None:
    # Spans go to each service's log, so that the canary is looked for in them too.
    _start(platform, mail, OTEL_TRACES_EXPORTER="console", OTEL_BSP_SCHEDULE_DELAY="100")
    agency = Synthetic()
    conviction = agency.conviction(person=CANARY)
    area = conviction.recording_force
    operator = Principal(user="ops-1", agency=Agency.POLICE, role=Role.OPERATIONS, area=area)
    hooks = WebhookReceiver().start()
    try:
        entry = await _put(platform, operator, {
            "area": area, "role": "offender-manager", "agency": "probation", "staff_ref": "om-e2e",
            "channels": ["email", "webhook"], "email": "om-e2e@probation.invalid", "webhook_url": hooks.url,
        })  # fmt: skip
        hooks.secrets = [str(entry["webhook_secret"])]

        # Known to the register from an earlier conviction, supervised by probation's offender manager...
        earlier = agency.conviction_event(agency.conviction(OTHER_OFFENCE, person=CANARY))
        await publish(kafka_bootstrap, AGENCY_POLICE.name, earlier.to_json(), key=CANARY.pnc_id)
        [nominal] = await read_until(
            kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(earlier.id)
        )
        platform_id = event_of(nominal)["subject"]
        allocated = OffenderManagerAllocated(
            person=PersonRef(identifiers=PersonIdentifiers(pnc_id=CANARY.pnc_id)),
            allocated_on=local_date(datetime.now(UTC)),
            staff_ref="om-e2e",
            team_code="T01",
        )
        allocation = agency.agency_event(AGENCY_PROBATION, allocated)
        await publish(kafka_bootstrap, AGENCY_PROBATION.name, allocation.to_json(), key=CANARY.pnc_id)
        await read_until(
            kafka_bootstrap, REGISTRY_OFFENDERS.name, bool,
            match=lambda r: about(platform_id)(r)
            and event_of(r)["type"] == type_of(registry.OffenderManagerAllocated),
        )  # fmt: skip
        # ...then convicted of a sexual offence: a new MAPPA case, to be screened.
        trace_id = secrets.token_hex(16)
        convicted = agency.conviction_event(conviction)
        await publish(
            kafka_bootstrap, AGENCY_POLICE.name, convicted.to_json(), key=CANARY.pnc_id,
            headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
        )  # fmt: skip

        [sent] = await read_until(
            kafka_bootstrap, NOTIFICATIONS_DELIVERIES.name, bool,
            match=lambda r: about(platform_id)(r) and event_of(r)["type"] == type_of(NotificationSent),
        )  # fmt: skip
        assert headers_of(sent)["traceparent"].split("-")[1] == trace_id
        notification_id = event_of(sent)["data"]["notification_id"]
        assert event_of(sent)["data"]["kind"] == "screening-due"
        [message] = mail.messages
        assert message["To"] == "om-e2e@probation.invalid"
        assert message["Message-ID"] == f"<{notification_id}@notifications.mappa>"
        assert platform_id in message["Subject"]
        await eventually(lambda: _true(notification_id in hooks.accepted), what="the webhook delivery")

        # The offender manager's inbox has it, with what to do.
        om = Principal(user="om-e2e", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area=area)
        async with httpx.AsyncClient(timeout=10) as http:
            inbox = await http.get(platform.url("notifications", "/inbox"), headers=_headers(om))
        assert [n["notification_id"] for n in inbox.json()] == [notification_id]

        # Wait for the send's span in the log: then every span of the journey has been written.
        def spans_written() -> bool:
            return '"name": "notification email"' in platform.log("notifications").read_text()

        await eventually(lambda: _true(spans_written()), what="the spans to reach the logs")
        seen = {
            "an email": b"".join(r.body for r in mail.received),
            "a webhook body": b"".join(r.body for r in hooks.accepted.values()),
            **{f"the {s} log": platform.log(s).read_bytes() for s in SERVICES},
        }
        canaries = [CANARY.family_name, *CANARY.given_names, CANARY.pnc_id, str(CANARY.cro_number),
                    CANARY.date_of_birth.isoformat()]  # fmt: skip
        for where, text in seen.items():
            for canary in canaries:
                assert canary.encode() not in text, f"{canary} in {where}"
        assert trace_id.encode() in seen["the notifications log"]  # the spans are there to look in
    finally:
        hooks.stop()


async def _true(value: bool) -> bool:
    return value


async def test_a_level_3_referral_invites_every_attendee_with_the_calendar(
    kafka_bootstrap: str, platform: LocalPlatform, mail: MailSink
) -> None:
    _start(platform, mail)
    agency = Synthetic()
    conviction = agency.conviction()
    area = conviction.recording_force
    operator = Principal(user="ops-1", agency=Agency.POLICE, role=Role.OPERATIONS, area=area)
    coordinator = Principal(user="u-coord", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area=area)
    senior = Principal(user="u-senior", agency=Agency.POLICE, role=Role.SENIOR_OFFICER, area=area)
    # Each agency's single point of contact for MAPPA in the area, and the senior officers who chair level 3.
    for each in Agency:
        contact = {"area": area, "role": "single-point-of-contact", "agency": str(each),
                   "channels": ["email"], "email": f"mappa-{each}@{each}.invalid"}  # fmt: skip
        await _put(platform, operator, contact)
    await _put(platform, operator, {"area": area, "role": "senior-officer", "channels": ["email"],
                                    "email": "chairs@police.invalid"})  # fmt: skip

    convicted = agency.conviction_event(conviction)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, convicted.to_json(), key=conviction.person.pnc_id)
    [nominal] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(convicted.id)
    )
    platform_id = event_of(nominal)["subject"]
    await read_until(
        kafka_bootstrap, LEVELS_DECISIONS.name, bool,
        match=lambda r: about(platform_id)(r) and event_of(r)["type"] == type_of(levels.ScreeningDue),
    )  # fmt: skip
    today = local_date(datetime.now(UTC))
    for step in (screening(platform_id, today, level_sought=3), referral(platform_id, today, 3)):
        event = agency.agency_event(AGENCY_PROBATION, step)
        await publish(kafka_bootstrap, AGENCY_PROBATION.name, event.to_json(), key=platform_id)
    await read_until(
        kafka_bootstrap, LEVELS_DECISIONS.name, bool,
        match=lambda r: about(platform_id)(r) and event_of(r)["type"] == type_of(levels.ReferralMade),
    )  # fmt: skip
    async with httpx.AsyncClient(timeout=10) as http:
        accepted = await http.post(
            platform.url("levels", f"/cases/{platform_id}/referrals/MAPPA-A-1/decision"),
            json={"decision": "accepted", "reason": "Meets the level 3 criteria"},
            headers=_headers(coordinator),
        )
        assert accepted.status_code == 200, accepted.text
        [required] = await read_until(
            kafka_bootstrap, MEETINGS_SCHEDULE.name, bool,
            match=lambda r: about(platform_id)(r)
            and event_of(r)["type"] == type_of(meetings.MeetingRequired),
        )  # fmt: skip
        meeting_id = event_of(required)["data"]["meeting_id"]
        # Mid-morning two days on: a meeting starts and ends on one day, whenever the test runs.
        day = local_date(datetime.now(UTC)) + timedelta(days=2)
        starts = datetime.combine(day, time(10, 0), tzinfo=LOCAL)
        slot = {
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "venue": "Meeting room 2, Civic Centre",
            "chair": {"staff_ref": senior.user, "role": senior.role},
            "invited_agencies": ["dwp", "nhs"],
        }
        scheduled = await http.post(
            platform.url("meetings", f"/meetings/{meeting_id}/schedule"),
            json=slot,
            headers=_headers(coordinator),
        )
        assert scheduled.status_code == 200, scheduled.text

    [invitation] = await read_until(
        kafka_bootstrap, MEETINGS_SCHEDULE.name, bool,
        match=lambda r: about(platform_id)(r) and event_of(r)["type"] == type_of(meetings.MeetingScheduled),
    )  # fmt: skip
    attendees = event_of(invitation)["data"]["attendee_agencies"]
    assert {"dwp", "nhs"} <= set(attendees)
    expected = sorted([*(f"mappa-{a}@{a}.invalid" for a in attendees), "chairs@police.invalid"])

    def invitations() -> list[EmailMessage]:
        return [m for m in mail.messages if any(_calendar(m))]

    await eventually(lambda: _true(len(invitations()) >= len(expected)), what="an invitation for everyone")
    assert sorted(str(m["To"]) for m in invitations()) == expected
    for message in invitations():
        [calendar] = _calendar(message)
        assert calendar.get_param("method") == "REQUEST"
        parsed = Calendar.from_ical(calendar.get_content())
        assert parsed["METHOD"] == "REQUEST"
        [vevent] = parsed.walk("VEVENT")
        assert str(vevent["UID"]) == f"{meeting_id}@meetings.mappa"
        assert vevent.decoded("DTSTART") == starts


def _calendar(message: EmailMessage) -> list[EmailMessage]:
    return [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]

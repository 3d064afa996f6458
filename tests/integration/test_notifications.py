"""Notifications from platform events to people: routed, sent by email and signed webhook, retried, failed,
escalated, acknowledged.

The notifications service on a real SQLite file, a real SMTP server
(aiosmtpd) and a real HTTP receiver that verifies Standard Webhooks
signatures, all in this process; platform events go through its consumer,
people's steps through its HTTP API. Area 01 retries fast (see ``_POLICY``).
"""

import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from deploy.receivers import MailSink, WebhookReceiver
from eventkit import outbox
from eventkit.auth import Principal, Role
from eventkit.clock import Clock, system_clock
from eventkit.outbox import Emitter
from eventkit.scheduler import Scheduler
from eventkit.service import Service
from eventkit.settings import Settings
from schemas.agencies import Agency
from schemas.envelope import CloudEvent
from schemas.events import levels, meetings, registry
from services.notifications.app import build
from services.notifications.channels import SmtpSettings
from services.notifications.notify import Notifier
from services.notifications.policy import DEFAULTS
from services.notifications.schedule import jobs
from services.notifications.sender import Sender
from services.notifications.storage import NotificationStore
from services.notifications.tables import attempts, deliveries, notifications
from tests.support.api import asgi_client, bearer
from tests.support.casework import a_platform_id, categorised, published
from tests.support.clock import FakeClock
from tests.support.delivery import deliver, event_of
from tests.support.waiting import eventually

OPERATOR = Principal(user="ops-1", agency=Agency.POLICE, role=Role.OPERATIONS, area="01")
COORDINATOR = Principal(user="co-ord-1", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area="01")
OFFENDER_MANAGER = Principal(user="om-1", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area="01")
SENIOR = Principal(user="senior-1", agency=Agency.POLICE, role=Role.SENIOR_OFFICER, area="01")
ELSEWHERE = Principal(user="om-9", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area="02")
TODAY = date(2027, 3, 1)
_POLICY = """
[areas.01.channels.email]
max_attempts = 3
first_retry_seconds = 0.05
max_retry_seconds = 0.2
timeout_seconds = 5

[areas.01.channels.webhook]
max_attempts = 3
first_retry_seconds = 0.05
max_retry_seconds = 0.2
timeout_seconds = 5
"""


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


class Running:
    def __init__(self, service: Service, sender: Sender, http: httpx.AsyncClient) -> None:
        self.service, self.sender, self.http = service, sender, http

    async def put(self, entry: dict[str, Any], recipient_id: str) -> dict[str, Any]:
        response = await self.http.put(f"/recipients/{recipient_id}", json=entry, headers=bearer(OPERATOR))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def rows(self, table: Any, **where: Any) -> list[dict[str, Any]]:
        async with self.service.db.transaction() as session:
            query = select(table).where(*(table.c[k] == v for k, v in where.items()))
            return [dict(r._mapping) for r in await session.execute(query)]

    async def settled(self) -> None:
        """Every queued delivery sent, delivered or failed, and recorded."""

        async def idle() -> bool:
            async with self.service.db.transaction() as session:
                queued = await session.scalar(
                    select(func.count()).select_from(deliveries).where(deliveries.c.status == "queued")
                )
            return queued == 0

        await eventually(idle, what="every delivery settled")


async def _running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail: MailSink, clock: Clock
) -> AsyncIterator[Running]:
    policy = tmp_path / "notifications.toml"
    policy.write_text(DEFAULTS.read_text() + _POLICY)
    monkeypatch.setenv("MAPPA_NOTIFICATIONS_DATABASE_URL", f"sqlite+inloop:///{tmp_path / 'n.db'}")
    monkeypatch.setenv("MAPPA_NOTIFICATIONS_POLICY_FILE", str(policy))
    smtp = SmtpSettings(port=mail.port, connections=2)
    # A short hold: a send whose outcome was never recorded is tried again within the test.
    service, sender = build(settings=Settings("notifications"), clock=clock, smtp=smtp, hold_seconds=1.0)
    await service.migrate()
    sender.start()
    async with asgi_client(service) as http:
        yield Running(service, sender, http)
    await sender.stop()
    await service.db.dispose()


@pytest.fixture
async def running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail: MailSink, _auth: None
) -> AsyncIterator[Running]:
    """On the system clock: retries wait real (short) times."""
    async for r in _running(tmp_path, monkeypatch, mail, system_clock):
        yield r


@pytest.fixture
async def on_fake_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail: MailSink, clock: FakeClock, _auth: None
) -> AsyncIterator[Running]:
    async for r in _running(tmp_path, monkeypatch, mail, clock):
        yield r


def _allocated(platform_id: str, staff_ref: str = "om-1") -> CloudEvent:
    data = registry.OffenderManagerAllocated(
        platform_id=platform_id, staff_ref=staff_ref, team_code="T01", allocated_on=TODAY
    )
    return event_of(data, key=platform_id)


def _screening_due(platform_id: str) -> CloudEvent:
    data = levels.ScreeningDue(
        platform_id=platform_id, category=1, level=1, status="pending-screening", since=TODAY
    )
    return event_of(data, key=platform_id)


def _review_overdue(platform_id: str) -> CloudEvent:
    return event_of(levels.ReviewOverdue(platform_id=platform_id, level=2, review_by=TODAY), key=platform_id)


async def _case_with_manager(
    r: Running, *, channels: list[str], url: str | None = None
) -> tuple[str, str | None]:
    """A case in area 01 whose offender manager om-1 is in the directory with these channels."""
    entry = {"area": "01", "role": "offender-manager", "agency": "probation", "staff_ref": "om-1",
             "channels": channels, "email": "om-1@probation.invalid", "webhook_url": url}  # fmt: skip
    made = await r.put(entry, "00000000-0000-4000-8000-000000000001")
    platform_id = a_platform_id()
    assert await deliver(r.service, categorised(platform_id, TODAY), _allocated(platform_id)) == [
        "applied",
        "applied",
    ]
    return platform_id, made["webhook_secret"]


async def test_each_channel_delivers_once_with_its_idempotency_key(
    running: Running, mail: MailSink, hooks: WebhookReceiver
) -> None:
    platform_id, secret = await _case_with_manager(running, channels=["email", "webhook"], url=hooks.url)
    assert secret is not None
    assert secret.startswith("whsec_")
    hooks.secrets = [secret]

    assert await deliver(running.service, _screening_due(platform_id)) == ["applied"]
    await running.settled()

    [n] = await running.rows(notifications, platform_id=platform_id)
    assert (n["kind"], n["role"], n["staff_ref"], n["redirected"]) == (
        "screening-due", "offender-manager", "om-1", None,
    )  # fmt: skip
    statuses = {d["channel"]: (d["status"], d["attempts"]) for d in await running.rows(deliveries)}
    assert statuses == {"email": ("sent", 1), "webhook": ("delivered", 1)}  # and in the inbox, with no row
    [message] = mail.messages
    assert message["Message-ID"] == f"<{n['notification_id']}@notifications.mappa>"
    assert message["To"] == "om-1@probation.invalid"
    assert message["Subject"] == f"MAPPA case {platform_id}: new case, screening due"
    assert list(hooks.accepted) == [n["notification_id"]]
    assert hooks.refused_signatures == 0
    assert await _statuses(running.service, platform_id) == [
        "notification-delivered", "notification-delivered", "notification-queued", "notification-sent",
    ]  # fmt: skip


async def test_a_receiver_that_fails_twice_gets_one_accepted_delivery(
    running: Running, hooks: WebhookReceiver
) -> None:
    platform_id, secret = await _case_with_manager(running, channels=["webhook"], url=hooks.url)
    hooks.secrets = [secret or ""]
    hooks.answer = lambda attempt: 503 if attempt <= 2 else 200

    await deliver(running.service, _screening_due(platform_id))
    await running.settled()

    assert hooks.requests == 3
    assert len(hooks.accepted) == 1
    [webhook] = await running.rows(deliveries, channel="webhook")
    assert (webhook["status"], webhook["attempts"]) == ("delivered", 3)
    tries = await running.rows(attempts)
    assert [(a["attempt"], a["outcome"], a["error"]) for a in tries] == [
        (1, "retry", "http-503"), (2, "retry", "http-503"), (3, "delivered", None),
    ]  # fmt: skip


async def test_a_receiver_that_always_fails_ends_failed_and_the_coordinator_is_told(
    running: Running, hooks: WebhookReceiver
) -> None:
    platform_id, secret = await _case_with_manager(running, channels=["webhook"], url=hooks.url)
    hooks.secrets = [secret or ""]
    hooks.answer = lambda attempt: 500

    await deliver(running.service, _screening_due(platform_id))
    await running.settled()

    assert hooks.requests == 3  # the area's limit
    assert hooks.accepted == {}
    [webhook] = await running.rows(deliveries, channel="webhook")
    assert (webhook["status"], webhook["attempts"], webhook["error"]) == ("failed", 3, "http-500")
    [failed] = await published(running.service, "notification-failed", subject=platform_id)
    assert (failed.data["channel"], failed.data["attempts"]) == ("webhook", 3)
    [told] = await running.rows(notifications, kind="delivery-failed")
    assert (told["role"], told["platform_id"]) == ("mappa-coordinator", platform_id)
    assert "webhook" in told["action"]
    assert "http-500" in told["action"]
    # The co-ordinator sees it in their inbox and in the area's failed list.
    inbox = await running.http.get("/inbox", headers=bearer(COORDINATOR))
    assert [n["kind"] for n in inbox.json()] == ["delivery-failed"]
    failed_list = await running.http.get("/areas/01/notifications?status=failed", headers=bearer(COORDINATOR))
    assert [n["kind"] for n in failed_list.json()] == ["screening-due"]


async def test_an_endpoint_that_is_gone_is_disabled_and_not_tried_again(
    running: Running, hooks: WebhookReceiver
) -> None:
    platform_id, secret = await _case_with_manager(running, channels=["webhook"], url=hooks.url)
    hooks.secrets = [secret or ""]
    hooks.answer = lambda attempt: 410

    await deliver(running.service, _screening_due(platform_id))
    await running.settled()

    assert hooks.requests == 1
    listed = await running.http.get("/areas/01/recipients", headers=bearer(OPERATOR))
    [om] = [e for e in listed.json() if e["staff_ref"] == "om-1"]
    assert om["webhook_disabled"] is True


async def test_a_redelivered_cause_sends_nothing_twice(running: Running, mail: MailSink) -> None:
    platform_id, _ = await _case_with_manager(running, channels=["email"])
    cause = _screening_due(platform_id)
    assert await deliver(running.service, cause) == ["applied"]
    assert await deliver(running.service, cause) == ["duplicate"]
    # Past the consumer's inbox too: the notification's id is made from its cause, recipient and kind.
    async with running.service.db.transaction() as session:
        assert running.service.policies is not None
        notifier = Notifier(Emitter(session, "/test"), running.service.policies, now=datetime.now(UTC))
        fields = levels.ScreeningDue.model_validate(cause.data).model_dump()
        assert await notifier.event("screening-due", platform_id, fields, cause.id) == 0
    await running.settled()
    assert len(mail.messages) == 1
    assert len(await running.rows(notifications, platform_id=platform_id)) == 1


async def test_sending_never_blocks_the_consumer(running: Running, hooks: WebhookReceiver) -> None:
    platform_id, secret = await _case_with_manager(running, channels=["webhook"], url=hooks.url)
    hooks.secrets = [secret or ""]
    release = threading.Event()

    def stalled(attempt: int) -> int:
        release.wait(30)  # an agency system that does not answer
        return 200

    hooks.answer = stalled
    assert await deliver(running.service, _screening_due(platform_id)) == ["applied"]
    await eventually(lambda: _true(hooks.requests == 1), what="the webhook in flight")
    # The receiver hangs; the consumer keeps applying the partition's next events meanwhile.
    others = [a_platform_id() for _ in range(3)]
    outcomes = await deliver(running.service, *(categorised(p, TODAY) for p in others))
    assert outcomes == ["applied"] * 3
    release.set()
    await running.settled()
    assert len(hooks.accepted) == 1


async def _statuses(service: Service, platform_id: str) -> list[str]:
    """The status events emitted for the case, by name, sorted."""
    async with service.db.transaction() as session:
        rows = await outbox.pending(session, 1000)
    return sorted(
        r.event_type.split(".")[3] for r in rows if r.key == platform_id and ".notifications." in r.event_type
    )


async def _true(value: bool) -> bool:
    return value


async def test_an_unknown_recipient_goes_to_the_coordinator_with_the_reason(running: Running) -> None:
    platform_id = a_platform_id()
    await deliver(running.service, categorised(platform_id, TODAY), _screening_due(platform_id))
    [n] = await running.rows(notifications, platform_id=platform_id)
    assert (n["role"], n["redirected"], n["intended_role"]) == (
        "mappa-coordinator", "no-offender-manager", "offender-manager",
    )  # fmt: skip
    [queued] = await published(running.service, "notification-queued", subject=platform_id)
    assert queued.data["redirected"] == "no-offender-manager"
    assert queued.data["channels"] == ["inbox"]
    # A role with nobody in the directory: the PPO of area 01 is not listed.
    overdue = registry.NotificationOverdue(platform_id=platform_id, notification="periodic", deadline=TODAY)
    await deliver(running.service, event_of(overdue, key=platform_id))
    [ppo] = await running.rows(notifications, kind="notification-overdue")
    assert (ppo["role"], ppo["redirected"], ppo["intended_role"]) == (
        "mappa-coordinator", "not-in-directory", "public-protection-officer",
    )  # fmt: skip
    # The co-ordinator sees what was redirected, and why, on the area's list.
    listed = await running.http.get("/areas/01/notifications?status=redirected", headers=bearer(COORDINATOR))
    assert [(n["kind"], n["redirected"]) for n in listed.json()] == [
        ("screening-due", "no-offender-manager"), ("notification-overdue", "not-in-directory"),
    ]  # fmt: skip


async def test_the_inbox_lists_unread_and_acknowledging_stops_escalation(running: Running) -> None:
    platform_id, _ = await _case_with_manager(running, channels=[])
    await deliver(running.service, _review_overdue(platform_id))
    inbox = await running.http.get("/inbox", headers=bearer(OFFENDER_MANAGER))
    [item] = inbox.json()
    assert (item["kind"], item["urgent"], item["due"]) == ("review-overdue", True, TODAY.isoformat())
    assert (await running.http.get("/inbox", headers=bearer(ELSEWHERE))).json() == []
    other = await running.http.post(
        f"/inbox/{item['notification_id']}/acknowledge", headers=bearer(ELSEWHERE)
    )
    assert other.status_code == 404
    for _ in range(2):  # acknowledging twice changes nothing the second time
        done = await running.http.post(
            f"/inbox/{item['notification_id']}/acknowledge", headers=bearer(OFFENDER_MANAGER)
        )
        assert done.status_code == 200
        assert done.json()["acknowledged_at"] is not None
    assert len(await published(running.service, "notification-acknowledged", subject=platform_id)) == 1
    assert (await running.http.get("/inbox", headers=bearer(OFFENDER_MANAGER))).json() == []
    history = await running.http.get(f"/notifications/{item['notification_id']}", headers=bearer(COORDINATOR))
    assert [d["channel"] for d in history.json()["deliveries"]] == ["inbox"]
    # A day on, nothing escalates: it was acknowledged.
    assert running.service.policies is not None
    later = datetime.now(UTC) + timedelta(hours=25)
    escalate = Scheduler(
        running.service.db, jobs(running.service.policies)[0], source="/test", clock=lambda: later
    )
    assert await escalate.tick() == 0


async def test_a_duty_to_cooperate_agency_sees_none_of_the_responsible_authoritys_notices(
    running: Running,
) -> None:
    platform_id = a_platform_id()
    await deliver(running.service, categorised(platform_id, TODAY), _screening_due(platform_id))
    dwp = Principal(user="dwp-1", agency=Agency.DWP, role=Role.MAPPA_COORDINATOR, area="01")
    assert (await running.http.get("/inbox", headers=bearer(dwp))).json() == []
    [n] = (await running.http.get("/inbox", headers=bearer(COORDINATOR))).json()
    assert (
        await running.http.get(f"/notifications/{n['notification_id']}", headers=bearer(dwp))
    ).status_code == 404


async def test_a_send_whose_outcome_was_not_recorded_is_sent_again_with_the_same_message_id(
    running: Running, mail: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform_id, _ = await _case_with_manager(running, channels=["email"])
    record = NotificationStore.record_attempt
    crashes = [RuntimeError("the database went away after the send")]

    async def crash_once(self: NotificationStore, *args: Any, **kwargs: Any) -> bool:
        if crashes:
            raise crashes.pop()
        return await record(self, *args, **kwargs)

    monkeypatch.setattr(NotificationStore, "record_attempt", crash_once)
    await deliver(running.service, _screening_due(platform_id))
    await running.settled()
    first, second = mail.messages  # repeated, never lost
    assert first["Message-ID"] == second["Message-ID"]
    [email] = await running.rows(deliveries, channel="email")
    assert (email["status"], email["attempts"]) == ("sent", 1)


async def test_an_unacknowledged_urgent_notification_escalates_once_under_the_clock(
    on_fake_clock: Running, clock: FakeClock, mail: MailSink
) -> None:
    r = on_fake_clock
    await r.put({"area": "01", "role": "senior-officer", "channels": ["email"],
                 "email": "duty-senior@police.invalid"}, "00000000-0000-4000-8000-000000000002")  # fmt: skip
    platform_id, _ = await _case_with_manager(r, channels=[])
    await deliver(r.service, _review_overdue(platform_id))
    assert r.service.policies is not None
    escalate = Scheduler(r.service.db, jobs(r.service.policies)[0], source="/test", clock=clock)

    clock.now += timedelta(hours=23)
    assert await escalate.tick() == 0
    clock.now += timedelta(hours=2)
    assert await escalate.tick() == 3  # queued and in the inbox for the senior officer; escalated
    assert await escalate.tick() == 0
    [escalated] = await published(r.service, "notification-escalated", subject=platform_id)
    assert escalated.data["escalated_to_role"] == "senior-officer"
    [new] = await r.rows(notifications, notification_id=escalated.data["escalation_id"])
    assert (new["role"], new["escalated_from"]) == ("senior-officer", escalated.data["notification_id"])
    await r.settled()
    [message] = mail.messages
    assert message["Subject"].startswith("ESCALATED: ")


async def test_an_invitation_carries_its_calendar_to_each_attendee(running: Running, mail: MailSink) -> None:
    for n, agency in enumerate(("police", "dwp")):
        await running.put({"area": "01", "role": "single-point-of-contact", "agency": agency,
                           "channels": ["email"], "email": f"mappa@{agency}.invalid"},
                          f"00000000-0000-4000-8000-00000000001{n}")  # fmt: skip
    chair = {"area": "01", "role": "meeting-chair", "channels": ["email"], "email": "chair@probation.invalid"}
    await running.put(chair, "00000000-0000-4000-8000-000000000020")
    platform_id = a_platform_id()
    ics = "\r\n".join(
        ("BEGIN:VCALENDAR", "METHOD:REQUEST", "BEGIN:VEVENT", "UID:m-1@meetings.mappa", "END:VEVENT",
         "END:VCALENDAR", "")
    )  # fmt: skip
    scheduled = meetings.MeetingScheduled(
        platform_id=platform_id, meeting_id="m-1", level=3, sequence=0, chair_role=Role.MEETING_CHAIR,
        starts_at=datetime(2027, 3, 5, 10, tzinfo=UTC), ends_at=datetime(2027, 3, 5, 12, tzinfo=UTC),
        attendee_agencies=[Agency.POLICE, Agency.DWP], ics=ics,
    )  # fmt: skip
    await deliver(running.service, categorised(platform_id, TODAY), event_of(scheduled, key=platform_id))
    await running.settled()
    assert sorted(m["To"] for m in mail.messages) == [
        "chair@probation.invalid", "mappa@dwp.invalid", "mappa@police.invalid",
    ]  # fmt: skip
    for message in mail.messages:
        [calendar] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        assert calendar.get_param("method") == "REQUEST"
        assert "UID:m-1@meetings.mappa" in calendar.get_content()


async def test_a_rotated_secret_signs_alongside_the_old_one(running: Running, hooks: WebhookReceiver) -> None:
    platform_id, old = await _case_with_manager(running, channels=["webhook"], url=hooks.url)
    rotated = await running.http.post(
        "/recipients/00000000-0000-4000-8000-000000000001/webhook-secret", headers=bearer(OPERATOR)
    )
    new = rotated.json()["webhook_secret"]
    assert new is not None
    assert new != old
    hooks.secrets = [new]  # a receiver already on the new secret
    await deliver(running.service, _screening_due(platform_id))
    await running.settled()
    [received] = hooks.accepted.values()
    assert len({k.lower(): v for k, v in received.headers.items()}["webhook-signature"].split(" ")) == 2


async def test_an_event_before_the_case_has_an_area_waits_for_the_register_to_place_it(
    on_fake_clock: Running, clock: FakeClock
) -> None:
    r = on_fake_clock
    placed, never = a_platform_id(), a_platform_id()
    # Levels' topic and the register's are not in order with each other: screening due comes first.
    assert await deliver(r.service, _screening_due(placed), _screening_due(never)) == ["applied", "applied"]
    assert await r.rows(notifications) == []
    await deliver(r.service, categorised(placed, TODAY, area="01"))
    [told] = await r.rows(notifications)
    assert (told["platform_id"], told["area"], told["redirected"]) == (placed, "01", "no-offender-manager")
    # The other case is never placed: after the area's wait, the co-ordinators of cases in no area.
    assert r.service.policies is not None
    unplaced = Scheduler(r.service.db, jobs(r.service.policies)[1], source="/test", clock=clock)
    assert await unplaced.tick() == 0
    clock.now += timedelta(minutes=31)
    assert await unplaced.tick() == 2  # queued and in the inbox
    [late] = await r.rows(notifications, platform_id=never)
    assert (late["area"], late["role"], late["redirected"]) == (None, "mappa-coordinator", "no-area")
    inbox = await r.http.get("/inbox", headers=bearer(COORDINATOR))
    assert never in {n["platform_id"] for n in inbox.json()}

"""The demo: starts the five services and sends a small synthetic scenario through them.

Three police convictions are published the way any agency system would
(plain Kafka client, CloudEvents JSON): a sexual offence (category 1), a
violent offence with 18 months' custody (category 2) and a theft (not MAPPA).
When levels makes a screening due, the probation case system screens the
first case at level 1 and refers the second for level 3, which the area's
MAPPA co-ordinator accepts. Meetings then requires a first level 3 meeting
within 5 working days, and the demo, as that co-ordinator, schedules it over
the meetings API for 10:00 on the next working day, a senior officer in the
chair and the DWP invited. Notifications tells people: the demo runs a
local SMTP server and an agency webhook receiver (``deploy.receivers``),
puts each area's co-ordinator, senior officers and agencies' single points
of contact in the recipients directory over its API, and waits until the
meeting's invitations have been emailed. It prints what each service
published, the emails received, development tokens and the ``curl`` lines
that read the first nominal, the area's meetings and the co-ordinator's
inbox with them, then keeps the platform running until interrupted
(``--once`` stops after the scenario).

Without ``MAPPA_AUTH_JWT_KEY`` the services would refuse every API request: the demo
then generates a development key for this run and gives it to the services it starts.
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from deploy.local import SERVICES, LocalPlatform, use_local_broker
from deploy.receivers import MailSink, WebhookReceiver
from deploy.watch import Tail
from eventkit.auth import PURPOSE_HEADER, AuthSettings, Principal
from eventkit.calendar import is_working_day
from eventkit.settings import kafka_access
from eventkit.synthetic import OTHER_OFFENCE, SEXUAL_OFFENCE, VIOLENT_OFFENCE, Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency, Role
from schemas.catalogue import (
    AGENCY_POLICE,
    AGENCY_PROBATION,
    LEVELS_DECISIONS,
    MEETINGS_SCHEDULE,
    NOTIFICATIONS_DELIVERIES,
    REGISTRY_OFFENDERS,
    Topic,
)
from schemas.events.casework import ReferralDecided, ReferralSubmitted, ScreeningRecorded, StaffRef
from schemas.events.common import LeadAgencySet, PersonIdentifiers, PersonRef

SCENARIO_TIMEOUT = 60.0
TOKEN_MINUTES = 60
DEMO_PURPOSE = "MAPPA demo"
WATCHED = [
    REGISTRY_OFFENDERS.name,
    LEVELS_DECISIONS.name,
    MEETINGS_SCHEDULE.name,
    NOTIFICATIONS_DELIVERIES.name,
]


OFFENDER_MANAGER = StaffRef(staff_ref="om-demo", role=Role.OFFENDER_MANAGER)
COORDINATOR = StaffRef(staff_ref="u-coord-demo", role=Role.MAPPA_COORDINATOR)


def _screened(platform_id: str, level_sought: int | None) -> ScreeningRecorded:
    return ScreeningRecorded(
        platform_id=platform_id,
        screened_on=date.today(),
        outcome="referral" if level_sought else "level-1",
        level_sought=level_sought,
        screened_by=OFFENDER_MANAGER,
    )


def _referral(platform_id: str) -> tuple[ReferralSubmitted, ReferralDecided]:
    """A synthetic MAPPA A referral for level 3, and the co-ordinator's acceptance of it."""
    submitted = ReferralSubmitted(
        platform_id=platform_id,
        referral_ref="DEMO-A-1",
        level_sought=3,
        referring_agency=Agency.PROBATION,
        reasons="Synthetic: escalating threats to a former partner",
        current_rosh="very-high",
        lower_level_insufficient="Synthetic: needs police, housing and probation resources together",
        referred_on=date.today(),
        referred_by=OFFENDER_MANAGER,
    )
    decided = ReferralDecided(
        platform_id=platform_id,
        referral_ref="DEMO-A-1",
        decision="accepted",
        reason="Synthetic: meets the level 3 criteria",
        decided_on=date.today(),
        decided_by=COORDINATOR,
    )
    return submitted, decided


@dataclass(frozen=True)
class Outcome:
    """What the scenario made: the first nominal, and the level 3 case's meeting, with their area."""

    platform_id: str
    area: str
    meeting_id: str
    meeting_area: str


def _coordinator(area: str) -> Principal:
    return Principal(user=COORDINATOR.staff_ref, agency=Agency.POLICE, role=COORDINATOR.role, area=area)


def _operator(area: str) -> Principal:
    return Principal(user="u-ops-demo", agency=Agency.POLICE, role=Role.OPERATIONS, area=area)


def _next_working_day_at_ten() -> datetime:
    day = date.today() + timedelta(days=1)
    while not is_working_day(day, "england"):
        day += timedelta(days=1)
    return datetime.combine(day, dt_time(10, 0))


def _call(
    platform: LocalPlatform, service: str, path: str, who: Principal, key: str, body: Any, method: str
) -> Any:
    request = urllib.request.Request(  # noqa: S310 (a local URL the demo built)
        platform.url(service, path),
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {issue(who, key=key, minutes=5)}",
            PURPOSE_HEADER: DEMO_PURPOSE,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def set_up_directory(platform: LocalPlatform, key: str, areas: set[str], hooks: WebhookReceiver) -> None:
    """As each area's operations staff: who is told, by email; probation's case system by webhook."""
    for area in sorted(areas):
        operator = _operator(area)
        police = [
            (Role.MAPPA_COORDINATOR, f"mappa-unit-{area}"),
            (Role.SENIOR_OFFICER, f"duty-senior-{area}"),
        ]
        entries: list[dict[str, Any]] = [
            *(
                {"role": role, "agency": Agency.POLICE, "email": f"{box}@police.invalid"}
                for role, box in police
            ),
            *(
                {
                    "role": Role.SINGLE_POINT_OF_CONTACT,
                    "agency": agency,
                    "email": f"mappa-{area}@{agency}.invalid",
                }
                for agency in (Agency.POLICE, Agency.PROBATION, Agency.PRISON, Agency.DWP)
            ),
        ]
        for entry in entries:
            _call(platform, "notifications", f"/recipients/{uuid.uuid4()}", operator, key,
                  {"area": area, "channels": ["email"], **entry}, "PUT")  # fmt: skip
        system = {"area": area, "role": Role.OFFENDER_MANAGER, "agency": Agency.PROBATION,
                  "channels": ["webhook"], "webhook_url": hooks.url}  # fmt: skip
        made = _call(platform, "notifications", f"/recipients/{uuid.uuid4()}", operator, key, system, "PUT")
        hooks.secrets.append(made["webhook_secret"])


def schedule_meeting(platform: LocalPlatform, key: str, meeting_id: str, area: str) -> dict[str, Any]:
    """As the area's co-ordinator, over the meetings API: the next working day at 10:00 London time."""
    starts = _next_working_day_at_ten()
    body = {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "venue": "MAPPA unit, meeting room 1 (synthetic)",
        "chair": {"staff_ref": "u-senior-demo", "role": Role.SENIOR_OFFICER},
        "invited_agencies": [Agency.DWP],
    }
    scheduled: dict[str, Any] = _call(
        platform, "meetings", f"/meetings/{meeting_id}/schedule", _coordinator(area), key, body, "POST"
    )
    return scheduled


class AgencySystems:
    """The police's and probation's case systems, each publishing to its own topic as itself."""

    def __init__(self, *topics: Topic) -> None:
        self._producers = {
            topic.name: AIOKafkaProducer(
                **kafka_access(topic.producer).options(), acks="all", enable_idempotence=True
            )
            for topic in topics
        }

    async def start(self) -> None:
        for producer in self._producers.values():
            await producer.start()

    async def send(self, topic: Topic, value: bytes, key: bytes | None) -> None:
        await self._producers[topic.name].send_and_wait(topic.name, value, key=key)

    async def stop(self) -> None:
        for producer in self._producers.values():
            await producer.stop()


async def scenario(platform: LocalPlatform, key: str, hooks: WebhookReceiver) -> Outcome:
    synthetic = Synthetic(seed=2026)
    cases = [
        (synthetic.conviction(SEXUAL_OFFENCE, custody_months=18), "expect category 1, screened at level 1"),
        (synthetic.conviction(VIOLENT_OFFENCE, custody_months=18), "expect category 2, referred for level 3"),
        (synthetic.conviction(OTHER_OFFENCE, custody_months=3), "expect a nominal only: not MAPPA"),
    ]
    areas = {conviction.recording_force for conviction, _ in cases}
    await asyncio.to_thread(set_up_directory, platform, key, areas, hooks)
    print(f"operations -> notifications API: recipients directory for area(s) {', '.join(sorted(areas))}")
    # The demo watches as operations does (it may read every platform topic).
    watcher = Tail(kafka_access("operations"), *WATCHED)
    await watcher.start()
    producer = AgencySystems(AGENCY_POLICE, AGENCY_PROBATION)
    await producer.start()
    event_ids: list[str] = []
    # Platform ids by the conviction that registered them (0: category 1, 1: category 2).
    registered: dict[int, str] = {}
    screened: set[str] = set()
    meeting_id = ""
    notified = scheduled = False
    try:
        for conviction, expectation in cases:
            event = synthetic.conviction_event(conviction)
            event_ids.append(event.id)
            await producer.send(AGENCY_POLICE, event.to_json(), key=conviction.person.pnc_id.encode())
            print(f"police  -> {AGENCY_POLICE.name}: conviction recorded ({expectation})")
        deadline = time.monotonic() + SCENARIO_TIMEOUT
        while not (notified and scheduled) and time.monotonic() < deadline:
            try:
                record, _ = await asyncio.wait_for(watcher.arrivals.get(), timeout=1)
            except TimeoutError:
                continue
            event = json.loads(record.value)
            kind = event["type"].split(".")[3]
            shown = ("category", "level", "kind", "required_by", "starts_at", "agency", "recipient_role",
                     "channel", "redirected")  # fmt: skip
            detail = {k: v for k, v in event["data"].items() if k in shown}
            print(f"{record.topic:<28} {kind:<24} {event['subject']}  {detail or ''}")
            # Done once the meeting's invitations have been emailed.
            notified = notified or (
                kind == "notification-sent" and event["data"]["kind"] == "meeting-scheduled"
            )
            scheduled = scheduled or kind == "meeting-scheduled"
            if kind == "nominal-registered" and event.get("causationid") in event_ids[:2]:
                registered[event_ids.index(event["causationid"])] = event["subject"]
            if kind == "screening-due" and event["subject"] not in screened:
                # The lead agency's case system screens: level 1 for the first, a referral for the second.
                screened.add(event["subject"])
                refer = event["subject"] == registered.get(1)
                # Probation leads the case from now: its case system is told by webhook.
                index = next(i for i, p in registered.items() if p == event["subject"])
                lead = LeadAgencySet(
                    person=PersonRef(identifiers=PersonIdentifiers(pnc_id=cases[index][0].person.pnc_id)),
                    lead_agency="probation",
                    effective_from=date.today(),
                )
                sent = synthetic.agency_event(AGENCY_PROBATION, lead)
                await producer.send(AGENCY_PROBATION, sent.to_json(), key=record.key)
                steps: list[Any] = [_screened(event["subject"], 3 if refer else None)]
                if refer:
                    steps.append(_referral(event["subject"])[0])
                for step in steps:
                    sent = synthetic.agency_event(AGENCY_PROBATION, step)
                    await producer.send(AGENCY_PROBATION, sent.to_json(), key=record.key)
                print(f"probation -> {AGENCY_PROBATION.name}: lead agency probation; screening recorded"
                      + (" with a referral for level 3" if refer else " (level 1)"))  # fmt: skip
            if kind == "referral-made":
                # The co-ordinator decides once levels has the referral (another topic: no order between).
                accepted = synthetic.agency_event(AGENCY_POLICE, _referral(event["subject"])[1])
                await producer.send(AGENCY_POLICE, accepted.to_json(), key=record.key)
                print(f"police  -> {AGENCY_POLICE.name}: the MAPPA co-ordinator accepts the referral")
            if kind == "meeting-required" and not meeting_id:
                meeting_id = event["data"]["meeting_id"]
                meeting = await asyncio.to_thread(
                    schedule_meeting, platform, key, meeting_id, cases[1][0].recording_force
                )
                print(
                    f"co-ordinator -> meetings API: meeting {meeting_id} scheduled for {meeting['starts_at']}"
                )
        if not (notified and scheduled) or len(registered) < 2:
            raise SystemExit(
                f"in {SCENARIO_TIMEOUT}s: the invitations {'emailed' if notified else 'not emailed'}, "
                f"the level 3 meeting {'scheduled' if scheduled else 'not scheduled'}, "
                f"{len(registered)} of 2 MAPPA nominals registered"
            )
    finally:
        await producer.stop()
        await watcher.stop()
    return Outcome(registered[0], cases[0][0].recording_force, meeting_id, cases[1][0].recording_force)


def try_it(platform: LocalPlatform, outcome: Outcome, key: str) -> list[str]:
    """Development tokens and the curl lines that read the first nominal and the area's meetings."""
    try:
        settings = AuthSettings(jwt_key=key)
    except ValidationError:
        return [
            "MAPPA_AUTH_JWT_KEY (or another MAPPA_AUTH_* setting) is not usable: every request is refused"
        ]
    if settings.jwt_key is None or "HS256" not in settings.jwt_algorithms:
        return ["MAPPA_AUTH_JWT_KEY is not an HS256 key: ask your identity provider for a token"]

    def token(principal: Principal) -> str:
        assert settings.jwt_key is not None
        return issue(
            principal,
            key=settings.jwt_key.get_secret_value(),
            minutes=TOKEN_MINUTES,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )

    reader = Principal(user="u-demo", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area=outcome.area)
    coordinator = _coordinator(outcome.meeting_area)
    purpose = f'-H "{PURPOSE_HEADER}: {DEMO_PURPOSE}"'
    return [
        f"a development token ({reader.agency} {reader.role}, area {reader.area}, "
        f"valid {TOKEN_MINUTES} minutes) and the first nominal:",
        f"  TOKEN={token(reader)}",
        f'  curl -H "Authorization: Bearer $TOKEN" {purpose} '
        + platform.url("registry", f"/nominals/{outcome.platform_id}"),
        f"the MAPPA co-ordinator of area {coordinator.area}: the area's meetings and the invitation:",
        f"  COORDINATOR={token(coordinator)}",
        f'  curl -H "Authorization: Bearer $COORDINATOR" {purpose} '
        + platform.url("meetings", f"/areas/{coordinator.area}/meetings"),
        f'  curl -H "Authorization: Bearer $COORDINATOR" {purpose} '
        + platform.url("meetings", f"/meetings/{outcome.meeting_id}/invite.ics"),
        "the co-ordinator's unread notifications (acknowledge one: POST .../inbox/<id>/acknowledge):",
        f'  curl -H "Authorization: Bearer $COORDINATOR" {purpose} '
        + platform.url("notifications", "/inbox"),
        f"the dashboard: open {platform.url('operations', '/login')} and paste $COORDINATOR (the area's "
        "casework, live) or this operations token (the pipeline and dead letters):",
        f"  OPERATOR={token(_operator(coordinator.area))}",
        f"  MAPPA_TOKEN=$OPERATOR MAPPA_OPERATIONS_URL={platform.url('operations')} "
        ".venv/bin/python -m deploy.dlt list",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--once", action="store_true", help="stop after the scenario")
    parser.add_argument("--data-dir", type=Path, default=Path("var"))
    args = parser.parse_args()
    use_local_broker()
    generated = not os.environ.get("MAPPA_AUTH_JWT_KEY")
    key = os.environ.get("MAPPA_AUTH_JWT_KEY") or secrets.token_urlsafe(48)
    # Where the platform's email and agency webhooks go on this machine.
    mail = MailSink(port=0).start()
    hooks = WebhookReceiver().start()
    env = {"MAPPA_AUTH_JWT_KEY": key, "MAPPA_NOTIFICATIONS_SMTP_PORT": str(mail.port)}
    platform = LocalPlatform(data_dir=args.data_dir, env=env)
    started = time.monotonic()
    try:
        platform.start_all()
        healthy = time.monotonic() - started
        print(f"{len(SERVICES)} services healthy in {healthy:.1f}s (logs in {args.data_dir}/)")
        outcome = asyncio.run(scenario(platform, key, hooks))
        print(f"scenario done {time.monotonic() - started:.1f}s after start")
        print(f"local SMTP server on port {mail.port} received {len(mail.messages)} emails; the webhook "
              f"receiver accepted {len(hooks.accepted)} signed deliveries. The emails:")  # fmt: skip
        for message in mail.messages:
            calendar = any(p.get_content_type() == "text/calendar" for p in message.iter_attachments())
            print(f"  to {message['To']}: {message['Subject']}{'  [+ calendar]' if calendar else ''}")
        for service in SERVICES:
            print(f"  {service:<14} {platform.url(service, '/health')}  /metrics  /asyncapi")
        if generated:
            print("MAPPA_AUTH_JWT_KEY is not set: the services check tokens with a key made for this run")
        for line in try_it(platform, outcome, key):
            print(line)
        if not args.once:
            print("platform running; Ctrl-C stops the services (make kafka-stop stops Kafka)")
            stop_signals = {signal.SIGINT, signal.SIGTERM}
            signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
            signal.sigwait(stop_signals)
    finally:
        platform.stop_all()
        hooks.stop()
        mail.stop()


if __name__ == "__main__":
    main()

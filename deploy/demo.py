"""The demo: starts the four services and sends a small synthetic scenario through them.

Three police convictions are published the way any agency system would
(plain Kafka client, CloudEvents JSON): a sexual offence (category 1), a
violent offence with 18 months' custody (category 2) and a theft (not MAPPA).
When levels makes a screening due, the probation case system screens the
case at level 1. The demo prints what each service published, a development token and
the ``curl`` line that reads the first nominal with it, then keeps the platform running
until interrupted (``--once`` stops after the scenario).

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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from deploy.local import SERVICES, LocalPlatform
from deploy.watch import Tail
from eventkit.auth import PURPOSE_HEADER, AuthSettings, Principal
from eventkit.settings import PlatformSettings
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
)
from schemas.events.casework import ScreeningRecorded, StaffRef

SCENARIO_TIMEOUT = 60.0
TOKEN_MINUTES = 60
DEMO_PURPOSE = "MAPPA demo"
WATCHED = [
    REGISTRY_OFFENDERS.name,
    LEVELS_DECISIONS.name,
    MEETINGS_SCHEDULE.name,
    NOTIFICATIONS_DELIVERIES.name,
]


def _screened(platform_id: str) -> ScreeningRecorded:
    staff = StaffRef(staff_ref="om-demo", role=Role.OFFENDER_MANAGER)
    return ScreeningRecorded(
        platform_id=platform_id, screened_on=date.today(), outcome="level-1", screened_by=staff
    )


@dataclass(frozen=True)
class FirstNominal:
    """The nominal the first conviction created, and the area it is managed in."""

    platform_id: str
    area: str


async def scenario(bootstrap: str) -> FirstNominal:
    synthetic = Synthetic(seed=2026)
    cases = [
        (synthetic.conviction(SEXUAL_OFFENCE, custody_months=18), "expect category 1 and a notification"),
        (synthetic.conviction(VIOLENT_OFFENCE, custody_months=18), "expect category 2 and a notification"),
        (synthetic.conviction(OTHER_OFFENCE, custody_months=3), "expect a nominal only: not MAPPA"),
    ]
    watcher = Tail(bootstrap, *WATCHED)
    await watcher.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    first_event_id = ""
    first: FirstNominal | None = None
    try:
        for conviction, expectation in cases:
            event = synthetic.conviction_event(conviction)
            first_event_id = first_event_id or event.id
            await producer.send_and_wait(
                AGENCY_POLICE.name, event.to_json(), key=conviction.person.pnc_id.encode()
            )
            print(f"police  -> {AGENCY_POLICE.name}: conviction recorded ({expectation})")
        notified = levels_set = 0
        deadline = time.monotonic() + SCENARIO_TIMEOUT
        while (notified < 2 or levels_set < 2) and time.monotonic() < deadline:
            try:
                record, _ = await asyncio.wait_for(watcher.arrivals.get(), timeout=1)
            except TimeoutError:
                continue
            event = json.loads(record.value)
            kind = event["type"].split(".")[3]
            detail = {k: v for k, v in event["data"].items() if k in ("category", "level", "subject")}
            print(f"{record.topic:<28} {kind:<24} {event['subject']}  {detail or ''}")
            notified += record.topic == NOTIFICATIONS_DELIVERIES.name
            levels_set += kind == "level-set"
            if kind == "nominal-registered" and event.get("causationid") == first_event_id:
                # Placed by a police conviction: managed in the recording force's area.
                first = FirstNominal(event["subject"], cases[0][0].recording_force)
            if kind == "screening-due":
                # The lead agency's case system screens the new case: level 1 confirmed.
                screened = synthetic.agency_event(AGENCY_PROBATION, _screened(event["subject"]))
                await producer.send_and_wait(AGENCY_PROBATION.name, screened.to_json(), key=record.key)
                print(f"probation -> {AGENCY_PROBATION.name}: screening recorded (level 1)")
        if notified < 2 or levels_set < 2 or first is None:
            raise SystemExit(
                f"{notified} of 2 notifications and {levels_set} of 2 levels set in {SCENARIO_TIMEOUT}s"
                + ("" if first else "; the first nominal was not registered")
            )
    finally:
        await producer.stop()
        await watcher.stop()
    return first


def try_it(platform: LocalPlatform, nominal: FirstNominal, key: str) -> list[str]:
    """A development token and the curl line that reads ``nominal`` with it, as lines to print."""
    try:
        settings = AuthSettings(jwt_key=key)
    except ValidationError:
        return [
            "MAPPA_AUTH_JWT_KEY (or another MAPPA_AUTH_* setting) is not usable: every request is refused"
        ]
    if settings.jwt_key is None or "HS256" not in settings.jwt_algorithms:
        return ["MAPPA_AUTH_JWT_KEY is not an HS256 key: ask your identity provider for a token"]
    reader = Principal(user="u-demo", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area=nominal.area)
    token = issue(
        reader,
        key=settings.jwt_key.get_secret_value(),
        minutes=TOKEN_MINUTES,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    url = platform.url("registry", f"/nominals/{nominal.platform_id}")
    return [
        f"a development token ({reader.agency} {reader.role}, area {reader.area}, "
        f"valid {TOKEN_MINUTES} minutes) and the first nominal:",
        f"  TOKEN={token}",
        f'  curl -H "Authorization: Bearer $TOKEN" -H "{PURPOSE_HEADER}: {DEMO_PURPOSE}" {url}',
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--once", action="store_true", help="stop after the scenario")
    parser.add_argument("--data-dir", type=Path, default=Path("var"))
    args = parser.parse_args()
    bootstrap = PlatformSettings().kafka_bootstrap_servers
    generated = not os.environ.get("MAPPA_AUTH_JWT_KEY")
    key = os.environ.get("MAPPA_AUTH_JWT_KEY") or secrets.token_urlsafe(48)
    platform = LocalPlatform(data_dir=args.data_dir, env={"MAPPA_AUTH_JWT_KEY": key})
    started = time.monotonic()
    try:
        platform.start_all()
        print(f"four services healthy in {time.monotonic() - started:.1f}s (logs in {args.data_dir}/)")
        first = asyncio.run(scenario(bootstrap))
        print(f"scenario done {time.monotonic() - started:.1f}s after start")
        for service in SERVICES:
            print(f"  {service:<14} {platform.url(service, '/health')}  /metrics  /asyncapi")
        if generated:
            print("MAPPA_AUTH_JWT_KEY is not set: the services check tokens with a key made for this run")
        for line in try_it(platform, first, key):
            print(line)
        if not args.once:
            print("platform running; Ctrl-C stops the services (make kafka-stop stops Kafka)")
            stop_signals = {signal.SIGINT, signal.SIGTERM}
            signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
            signal.sigwait(stop_signals)
    finally:
        platform.stop_all()


if __name__ == "__main__":
    main()

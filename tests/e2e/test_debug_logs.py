"""No log level puts personal data in a service's log: the services run at DEBUG, a canary goes through."""

import json
from datetime import date
from typing import Any

from deploy.local import SERVICES, LocalPlatform
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, NOTIFICATIONS_DELIVERIES, REGISTRY_OFFENDERS
from tests.support.kafka import event_of, publish, read_until, registered


def _spellings(born: date) -> list[str]:
    """How a date of birth shows up when a library prints parameters: ISO, repr, and a SQLite-style date."""
    return [born.isoformat(), repr(born), f"{born.day:02d}/{born.month:02d}/{born.year}"]


async def test_a_canary_at_debug_leaves_no_trace_in_any_log(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    for service in SERVICES:
        platform.start(service, MAPPA_LOG_LEVEL="DEBUG")
    for service in SERVICES:
        platform.wait_healthy(service)
    synthetic = Synthetic()
    person = synthetic.person(age=41).model_copy(
        update={"family_name": "Canaryfamilyname", "given_names": ["Canarygivenname"]}
    )
    conviction = synthetic.conviction(person=person)
    event = synthetic.conviction_event(conviction)
    message: dict[str, Any] = json.loads(event.to_json())
    assert message["data"]["person"]["family_name"] == "Canaryfamilyname"

    await publish(kafka_bootstrap, AGENCY_POLICE.name, event.to_json(), key=person.pnc_id)
    [nominal] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(event.id))
    platform_id = event_of(nominal)["subject"]
    # The end of the skeleton flow: every service has applied what the canary caused.
    await read_until(
        kafka_bootstrap,
        NOTIFICATIONS_DELIVERIES.name,
        bool,
        match=lambda r: event_of(r)["data"].get("platform_id") == platform_id,
    )
    platform.stop_all()  # flushes every log

    canaries = [person.family_name, *person.given_names, person.pnc_id, *_spellings(person.date_of_birth)]
    if person.cro_number:
        canaries.append(person.cro_number)
    leaks: dict[str, list[str]] = {}
    for service in SERVICES:
        log = platform.log(service).read_text(errors="replace")
        assert " DEBUG " in log, f"{service} did not run at DEBUG"
        leaked = [line[:160] for line in log.splitlines() if any(c in line for c in canaries)]
        if leaked:
            leaks[service] = leaked[:5]
    assert not leaks, f"personal data of the canary in the logs: {leaks}"

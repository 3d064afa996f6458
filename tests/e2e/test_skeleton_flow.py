"""The walking skeleton: a police conviction becomes a notification, across four processes."""

import json
import secrets
import urllib.error
import urllib.request
from typing import Any

import jsonschema
import pytest

from deploy.local import SERVICES, LocalPlatform
from eventkit.synthetic import Synthetic
from schemas import generate
from schemas.catalogue import (
    AGENCY_POLICE,
    MEETINGS_SCHEDULE,
    NOTIFICATIONS_DELIVERIES,
    PLATFORM_TOPICS,
    REGISTRY_OFFENDERS,
    type_of,
)
from schemas.events.meetings import MeetingNotRequired
from schemas.events.notifications import NotificationQueued
from tests.e2e.helpers import query
from tests.support.kafka import event_of, headers_of, publish, read_until, registered


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


async def test_a_police_conviction_reaches_the_offender_manager(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    platform.start_all()
    conviction = Synthetic().conviction()
    person = conviction.person
    message: dict[str, Any] = json.loads(Synthetic().conviction_event(conviction).to_json())
    # An agency integrator needs only the published JSON Schema to get this right.
    schema = json.loads((generate.OUT_DIR / f"{message['type']}.json").read_text())
    jsonschema.validate(message, schema)
    trace_id = secrets.token_hex(16)
    await publish(
        kafka_bootstrap,
        AGENCY_POLICE.name,
        json.dumps(message).encode(),
        key=person.pnc_id,
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )

    [nominal] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(message["id"])
    )
    platform_id = event_of(nominal)["subject"]
    queued = await read_until(
        kafka_bootstrap,
        NOTIFICATIONS_DELIVERIES.name,
        lambda found: len(found) == 2,
        match=lambda r: (
            event_of(r)["data"].get("platform_id") == platform_id
            and event_of(r)["type"] == type_of(NotificationQueued)
        ),
    )
    [notification] = [q for q in queued if event_of(q)["data"]["kind"] == "screening-due"]
    # Meetings decides on the case beside notifications, not before it.
    await read_until(
        kafka_bootstrap,
        MEETINGS_SCHEDULE.name,
        bool,
        match=lambda r: (
            event_of(r)["subject"] == platform_id and event_of(r)["type"] == type_of(MeetingNotRequired)
        ),
    )

    event = event_of(notification)
    # Nobody allocated the case an offender manager yet: the area's co-ordinator is told, and why.
    assert event["data"]["kind"] == "screening-due"
    assert event["data"]["recipient_role"] == "mappa-coordinator"
    assert event["data"]["redirected"] == "no-offender-manager"
    assert event["data"]["intended_role"] == "offender-manager"
    assert notification.key == platform_id.encode()
    assert person.family_name not in notification.value.decode()
    assert person.pnc_id not in notification.value.decode()
    # One trace from the agency's publish to the notification, through three outboxes.
    assert headers_of(notification)["traceparent"].split("-")[1] == trace_id

    def row(service: str, sql: str) -> list[tuple[Any, ...]]:
        return query(platform.data_dir / f"{service}.db", sql, platform_id)

    assert row("registry", "select category from nominals where platform_id = ?") == [(1,)]
    assert row("levels", "select level, status from cases where platform_id = ?") == [
        (1, "pending-screening")
    ]
    assert row("meetings", "select required from meeting_decisions where platform_id = ?") == [(0,)]
    # The police public-protection officer is told of the notification requirements; nobody is listed
    # for that role in the area either.
    assert sorted(row("notifications", "select kind, role from notifications where platform_id = ?")) == [
        ("notification-requirement-set", "mappa-coordinator"),
        ("screening-due", "mappa-coordinator"),
    ]


def test_every_service_serves_health_metrics_and_its_asyncapi_document(
    platform: LocalPlatform,
) -> None:
    platform.start_all()
    for service in SERVICES:
        status, body = _get(platform.url(service, "/health"))
        assert status == 200
        assert json.loads(body)["checks"] == {
            "broker": "ok",
            "database": "ok",
            "consumer": "ok",
            "outbox": "ok",
        }
        status, body = _get(platform.url(service, "/metrics"))
        assert "# TYPE mappa_events_consumed_total counter" in body
        status, body = _get(platform.url(service, "/asyncapi.json"))
        document = json.loads(body)
        assert document["asyncapi"].startswith("3.")
        assert document["channels"]
        # What each service publishes is documented event by event.
        for topic in (t for t in PLATFORM_TOPICS if t.producer == service):
            for model in topic.events:
                assert f"{model.__name__}Event" in document["components"]["schemas"]
        status, body = _get(platform.url(service, "/asyncapi"))
        assert status == 200
        assert "asyncapi-try-it-plugin" not in body
        # "Try it out" would let a browser publish to the broker: it must not exist.
        try_it = urllib.request.Request(platform.url(service, "/asyncapi/try"), data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(try_it, timeout=5)
        assert refused.value.code in (404, 405)
    for service in SERVICES:
        platform.stop(service)  # SIGTERM, as an orchestrator sends
        log = platform.log(service).read_text()
        assert f"{service} stopped" in log  # the kit's shutdown ran: consumer left, engine closed
        assert "LeaveGroup request succeeded" in log

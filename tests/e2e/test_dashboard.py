"""The operations dashboard in a real browser (Debian's Chromium through pytest-playwright), against
the five services as processes on the real broker.

A co-ordinator watches their area's casework while an operator watches the
pipeline. A co-ordinator's acceptance of a referral reaches levels before
the referral itself (they come from two agencies' systems) and is
dead-lettered; once the referral is in, the operator replays it from the
dashboard, the count of dead letters falls, and the case raised to level 3
appears in the co-ordinator's counts, all without a reload. The replay is
applied once however often it is run. Another area's co-ordinator sees
none of it, and no page carries a person's details.
"""

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from playwright.sync_api import Browser, Page, expect
from prometheus_client.parser import text_string_to_metric_families

from deploy.local import SERVICES, LocalPlatform
from deploy.watch import partitions_of
from eventkit.auth import Principal
from eventkit.deadletter import REPLAY_OF
from eventkit.synthetic import VIOLENT_OFFENCE, Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency, Role
from schemas.catalogue import (
    AGENCY_POLICE,
    AGENCY_PROBATION,
    LEVELS_DECISIONS,
    REGISTRY_OFFENDERS,
    type_of,
)
from schemas.events import levels
from schemas.events.casework import StaffRef
from services.operations.app import group_reads
from tests.e2e.helpers import about, query
from tests.support.casework import level_decision, referral, referral_decision, screening
from tests.support.kafka import access, event_of, publish, read_all, read_until, registered
from tests.support.waiting import eventually

KEY = secrets.token_urlsafe(48)
T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artefacts"
AREA, OTHER_AREA = "97", "98"  # police force codes no other test's synthetic data uses
LIVE = 30_000  # ms a live number may take to change (it is re-rendered every half second)
PURPOSE = "Weekly MAPPA co-ordination review"
INCIDENT = "INC-2041: why levels refused a referral decision"


def _run(awaitable: Coroutine[Any, Any, T]) -> T:
    """Kafka helpers are async; Playwright's sync API holds this thread's loop, so they run on another."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, awaitable).result()


def _sign_in(browser: Browser, platform: LocalPlatform, principal: Principal) -> Page:
    page = browser.new_context().new_page()
    page.goto(platform.url("operations", "/login"))
    page.fill("#token", issue(principal, key=KEY))
    page.click("button[type=submit]")
    return page


def _number(page: Page, selector: str) -> int:
    return int(page.locator(selector).inner_text())


def _lag(platform: LocalPlatform) -> dict[str, float]:
    """Operations' own lag, per group, from its /metrics: what an operator's Prometheus reads."""
    text = httpx.get(platform.url("operations", "/metrics"), timeout=5).text
    lag: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "mappa_consumer_lag_messages":
            for sample in family.samples:
                group = sample.labels["group"]
                lag[group] = lag.get(group, 0) + sample.value
    return lag


def _caught_up(platform: LocalPlatform) -> None:
    """Until operations has read everything earlier tests left on the shared broker."""

    async def done() -> bool:
        lag = _lag(platform)
        return all(lag.get(group, 1) == 0 for group in ("mappa-operations", "mappa-operations-deadletters"))

    _run(eventually(done, timeout=60, what="operations to catch up with the broker"))


async def _from_the_start(bootstrap: str, *groups: str) -> None:
    """Commit the first offset for each group on every partition it reads (aiokafka cannot delete a
    group)."""
    reads = group_reads()
    for group in groups:
        consumer = AIOKafkaConsumer(**access(bootstrap).options(), group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [
                TopicPartition(t, p) for t in reads[group] for p in await partitions_of(access(bootstrap), t)
            ]
            consumer.assign(partitions)
            # The log's start (retention may have moved it on).
            await consumer.commit(await consumer.beginning_offsets(partitions))
        finally:
            await consumer.stop()


def _dlt(platform: LocalPlatform, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAPPA_TOKEN": token, "MAPPA_OPERATIONS_URL": platform.url("operations")}
    return subprocess.run(
        [sys.executable, "-m", "deploy.dlt", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.kafka
def test_a_coordinator_and_an_operator_watch_a_poison_message_put_right(
    kafka_bootstrap: str, platform: LocalPlatform, browser: Browser
) -> None:
    fast = {"MAPPA_AUTH_JWT_KEY": KEY, "MAPPA_OPERATIONS_SAMPLE_SECONDS": "0.5",
            "MAPPA_OPERATIONS_REFRESH_SECONDS": "0.5", "MAPPA_LEVELS_SCHEDULE_SECONDS": "3600"}  # fmt: skip
    # Operations starts afresh, as a new deployment would: an earlier test's run (the demo's) left
    # its groups' offsets on this session's broker.
    _run(_from_the_start(kafka_bootstrap, "mappa-operations", "mappa-operations-deadletters"))
    for service in SERVICES:
        platform.start(service, **fast)
    for service in SERVICES:
        platform.wait_healthy(service)
    _caught_up(platform)
    pages: list[str] = []

    coordinator = Principal("u-coord-97", Agency.POLICE, Role.MAPPA_COORDINATOR, AREA)
    operator = Principal("u-ops-1", Agency.POLICE, Role.OPERATIONS, AREA)
    casework = _sign_in(browser, platform, coordinator)
    expect(casework).to_have_url(platform.url("operations", "/casework"))
    pipeline = _sign_in(browser, platform, operator)
    expect(pipeline).to_have_url(platform.url("operations", "/pipeline"))
    level_1, level_3 = "#caseload-c2-l1", "#caseload-c2-l3"
    before = {cell: _number(casework, cell) for cell in (level_1, level_3)}
    waiting = pipeline.locator('td[data-topic="agency.police.v1.dlt"]')
    expect(waiting).to_be_visible()
    dead_before = int(waiting.inner_text())
    # Set once: a reload would lose it, so each page is the same page throughout.
    casework.evaluate("window.loadedOnce = true")
    pipeline.evaluate("window.loadedOnce = true")

    # The police convict someone of a violent offence: a category 2 case at level 1 in area 97.
    agency = Synthetic()
    # Canary names no page word contains (a generated "Sam" is in "Sampled").
    person = agency.person(age=34).model_copy(update={"family_name": "Quelldrake", "given_names": ["Xanthe"]})
    conviction = agency.conviction(VIOLENT_OFFENCE, person=person, custody_months=18)
    conviction = conviction.model_copy(update={"recording_force": AREA})
    convicted = agency.conviction_event(conviction)
    _run(publish(kafka_bootstrap, AGENCY_POLICE.name, convicted.to_json(), key=conviction.person.pnc_id))
    [nominal] = _run(
        read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(convicted.id))
    )
    platform_id = event_of(nominal)["subject"]
    expect(casework.locator(level_1)).to_have_text(str(before[level_1] + 1), timeout=LIVE)

    def of_type(event_type: str) -> Callable[[ConsumerRecord], bool]:
        return lambda record: about(platform_id)(record) and event_of(record)["type"] == event_type

    # The co-ordinator's acceptance, from the police system, overtakes probation's referral.
    today = date.today()
    accepted = agency.agency_event(AGENCY_POLICE, referral_decision(platform_id, today))
    _run(publish(kafka_bootstrap, AGENCY_POLICE.name, accepted.to_json(), key=platform_id))
    expect(waiting).to_have_text(str(dead_before + 1), timeout=LIVE)
    pages.append(pipeline.content())

    # In another tab, the operator finds it and reads why, and the message itself for a stated purpose.
    tools = pipeline.context.new_page()
    tools.goto(platform.url("operations", "/dead-letters"))
    row = tools.locator("tr", has=tools.locator(f"td.event-id:text-is('{accepted.id}')"))
    row.locator("text=Open").click()
    expect(tools.locator("td.reason")).to_have_text("no referral MAPPA-A-1 for this case")
    expect(tools.locator("td.error-class")).to_have_text("RefusedByRule")
    place = tools.locator("h1").inner_text().removeprefix("Dead letter ")
    tools.fill("#purpose", INCIDENT)
    tools.click("text=Show the message")
    expect(tools.locator("pre.payload")).to_contain_text(accepted.id)
    pages.append(tools.content())

    # Probation's referral arrives: what the acceptance needed.
    for step in (screening(platform_id, today, level_sought=3), referral(platform_id, today, 3)):
        event = agency.agency_event(AGENCY_PROBATION, step)
        _run(publish(kafka_bootstrap, AGENCY_PROBATION.name, event.to_json(), key=platform_id))
    made = type_of(levels.ReferralMade)
    _run(read_until(kafka_bootstrap, LEVELS_DECISIONS.name, bool, match=of_type(made)))

    # Replayed from the dashboard: levels accepts the referral, and the dead letter is no longer waiting.
    # A form posted from anywhere but our own page (no token made from the session) is refused.
    replay_url = platform.url("operations", f"/dead-letters/{place}/replay")
    forged = tools.request.post(replay_url, form={"reason": "posted from another page"})
    assert forged.status == 403
    tools.fill("#replay-reason", "Probation's referral MAPPA-A-1 has arrived")
    tools.click("button[name=replay]")
    expect(tools.locator("p.done")).to_have_text("The dead letter was replayed.")
    expect(tools.locator("td.decision")).to_contain_text("replayed by u-ops-1")
    is_accepted = type_of(levels.ReferralAccepted)
    _run(read_until(kafka_bootstrap, LEVELS_DECISIONS.name, bool, match=of_type(is_accepted)))
    expect(waiting).to_have_text(str(dead_before), timeout=LIVE)

    # Run again, the replay is refused; and a copy published again (as a crash between publishing and
    # recording the decision would leave it) is a duplicate to levels.
    again = _dlt(platform, issue(operator, key=KEY), "replay", place, "--reason", "run twice")
    assert again.returncode == 1
    assert "was replayed by u-ops-1" in again.stderr
    [replayed] = _run(read_until(kafka_bootstrap, AGENCY_POLICE.name, bool,
                                 match=lambda r: (REPLAY_OF, place.encode()) in r.headers))  # fmt: skip
    copy: ConsumerRecord = replayed
    _run(publish(kafka_bootstrap, AGENCY_POLICE.name, copy.value, key=platform_id,
                 raw_headers=list(copy.headers)))  # fmt: skip

    # A senior officer raises the case to level 3: the co-ordinator's count changes with no reload.
    senior = StaffRef(staff_ref="u-senior-97", role=Role.SENIOR_OFFICER)
    raised = agency.agency_event(AGENCY_POLICE, level_decision(platform_id, today, 3, by=senior))
    _run(publish(kafka_bootstrap, AGENCY_POLICE.name, raised.to_json(), key=platform_id))
    expect(casework.locator(level_3)).to_have_text(str(before[level_3] + 1), timeout=LIVE)
    expect(casework.locator(level_1)).to_have_text(str(before[level_1]), timeout=LIVE)
    assert casework.evaluate("window.loadedOnce") is True
    assert pipeline.evaluate("window.loadedOnce") is True
    published = _run(read_all(kafka_bootstrap, LEVELS_DECISIONS.name, match=about(platform_id)))
    assert [event_of(r)["type"] for r in published].count(is_accepted) == 1  # applied once
    ARTEFACTS.mkdir(exist_ok=True)
    casework.screenshot(path=ARTEFACTS / "dashboard-casework.png", full_page=True)
    pipeline.screenshot(path=ARTEFACTS / "dashboard-pipeline.png", full_page=True)
    pages.append(casework.content())

    # The list behind the count: the platform id, read for a purpose and audited as a read of the case.
    casework.click(level_3)
    casework.fill("#purpose", PURPOSE)
    casework.click("text=Show the list")
    expect(casework.locator("td.platform-id", has_text=platform_id)).to_be_visible()
    casework.screenshot(path=ARTEFACTS / "dashboard-list.png", full_page=True)
    pages.append(casework.content())
    reads = "select user, purpose from audit_reads where record_type = 'case' and record_id = ?"
    audited = query(platform.data_dir / "operations.db", reads, platform_id)
    assert audited == [("u-coord-97", PURPOSE)]

    # Another area's co-ordinator sees none of it; a Duty-to-Co-operate agency sees no area casework.
    elsewhere = _sign_in(
        browser, platform, Principal("u-coord-98", Agency.POLICE, Role.MAPPA_COORDINATOR, OTHER_AREA)
    )
    expect(elsewhere).to_have_url(platform.url("operations", "/casework"))
    pages.append(elsewhere.content())
    assert platform_id not in elsewhere.content()
    elsewhere.goto(platform.url("operations", f"/casework/caseload-c2-l3?purpose={PURPOSE}"))
    pages.append(elsewhere.content())
    assert platform_id not in elsewhere.content()
    dwp = _sign_in(browser, platform, Principal("u-dwp-97", Agency.DWP, Role.SINGLE_POINT_OF_CONTACT, AREA))
    refused = dwp.goto(platform.url("operations", "/casework"))
    assert refused is not None
    assert refused.status == 403
    assert "casework is for the area's Responsible Authority staff" in dwp.content()
    assert platform_id not in dwp.content()

    # No page carried the person's details (the canary: names, identifiers, date of birth).
    canaries = [person.family_name, *person.given_names, person.pnc_id, person.date_of_birth.isoformat()]
    canaries += [c for c in (person.cro_number,) if c]
    for html in pages:
        for canary in canaries:
            assert canary not in html

    # The read model rebuilt from the log, with the service stopped, equals the one kept live; the
    # read audit is not a projection and stays.
    _caught_up(platform)
    env = {**os.environ, **platform.env, "MAPPA_DATA_DIR": str(platform.data_dir),
           "MAPPA_OPERATIONS_HTTP_PORT": str(platform.ports["operations"])}  # fmt: skip
    rebuild = [sys.executable, "-m", "deploy.rebuild", "operations"]
    running = subprocess.run(rebuild, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert running.returncode == 2
    assert running.stderr.strip().endswith("stop it first")
    platform.stop("operations")
    database = platform.data_dir / "operations.db"
    live = {table: _rows(database, table) for table in TABLES}
    rebuilt = subprocess.run(rebuild, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert "records applied again" in rebuilt.stdout
    assert {table: _rows(database, table) for table in TABLES} == live
    assert query(database, reads, platform_id) == [("u-coord-97", PURPOSE)]
    # So does the operator's read of the dead-lettered message, with the purpose they gave.
    letters = "select user, purpose from audit_reads where record_type = 'dead-letter' and record_id = ?"
    assert query(database, letters, place) == [("u-ops-1", INCIDENT)]


TABLES = ("ops_cases", "ops_meetings", "ops_actions", "ops_notifications", "ops_dead_letters")


def _rows(database: Path, table: str) -> list[tuple[Any, ...]]:
    return query(database, f"select * from {table} order by 1, 2, 3")

"""The broker's ACLs, generated from the topic catalogue: who may write and read what."""

import pytest

from deploy.acls import AGENCIES, SERVICES, Grant, Principal, principals, username


def _of(client: str) -> Principal:
    return next(p for p in principals() if p.client == client)


def _names(client: str, resource: str, operation: str) -> set[str]:
    return {g.name for g in _of(client).grants if (g.resource, g.operation) == (resource, operation)}


def test_one_principal_per_agency_system_and_per_service() -> None:
    assert AGENCIES == ("police", "prison", "probation", "health", "yot")
    assert set(SERVICES) == {"registry", "levels", "meetings", "notifications", "operations"}
    assert [p.client for p in principals()] == [*AGENCIES, *SERVICES]
    assert username("police") == "agency-police"
    assert username("registry") == "mappa-registry"


@pytest.mark.parametrize("agency", ["police", "prison", "probation", "health", "yot"])
def test_an_agency_writes_its_own_topic_and_nothing_else(agency: str) -> None:
    assert _of(agency).grants == (Grant("topic", f"agency.{agency}.v1", "Write"),)


@pytest.mark.parametrize(
    ("service", "reads", "writes"),
    [
        (
            "registry",
            {"agency.police.v1", "agency.prison.v1", "agency.probation.v1", "agency.health.v1",
             "agency.yot.v1", "meetings.schedule.v1", "registry.offenders.v1"},
            {"registry.offenders.v1", "agency.police.v1.dlt", "agency.prison.v1.dlt",
             "agency.probation.v1.dlt", "agency.health.v1.dlt", "agency.yot.v1.dlt",
             "meetings.schedule.v1.dlt"},
        ),
        (
            "meetings",
            {"registry.offenders.v1", "levels.decisions.v1", "meetings.schedule.v1"},
            {"meetings.schedule.v1", "registry.offenders.v1.dlt", "levels.decisions.v1.dlt"},
        ),
        (
            "notifications",
            {"registry.offenders.v1", "levels.decisions.v1", "meetings.schedule.v1",
             "notifications.deliveries.v1"},
            {"notifications.deliveries.v1", "registry.offenders.v1.dlt", "levels.decisions.v1.dlt",
             "meetings.schedule.v1.dlt"},
        ),
    ],
)  # fmt: skip
def test_a_service_reads_what_it_consumes_and_writes_what_it_produces_and_its_dead_letters(
    service: str, reads: set[str], writes: set[str]
) -> None:
    assert _names(service, "topic", "Read") == reads
    assert _names(service, "topic", "Write") == writes
    assert _names(service, "group", "Read") == {f"mappa-{service}"}


def test_operations_reads_every_dead_letter_and_may_replay_to_every_topic() -> None:
    dead_letters = {n for n in _names("operations", "topic", "Read") if n.endswith(".dlt")}
    assert len(dead_letters) == 10
    assert "agency.police.v1" in _names("operations", "topic", "Write")
    assert _names("operations", "group", "Read") == {"mappa-operations", "mappa-operations-deadletters"}
    assert _names("operations", "group", "Describe") == {f"mappa-{s}" for s in SERVICES}


def test_only_the_police_and_operations_replaying_write_the_police_topic() -> None:
    writers = {p.client for p in principals() if Grant("topic", "agency.police.v1", "Write") in p.grants}
    assert writers == {"police", "operations"}

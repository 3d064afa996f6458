"""The topic catalogue says who consumes what, and who dead-letters it: the services' wiring must agree."""

from pathlib import Path

import pytest

from eventkit.service import Service
from eventkit.settings import Settings
from schemas.catalogue import AGENCY_POLICE, TOPICS
from services.levels.app import create as levels
from services.meetings.app import create as meetings
from services.notifications.app import create as notifications
from services.operations.app import create as operations
from services.registry.app import create as registry


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Service]:
    monkeypatch.setenv("MAPPA_DATA_DIR", str(tmp_path))
    apps = {"registry": registry, "levels": levels, "meetings": meetings, "notifications": notifications,
            "operations": operations}  # fmt: skip
    return [create(settings=Settings(name)) for name, create in apps.items()]


def test_each_topics_consumers_are_the_services_that_read_it(services: list[Service]) -> None:
    for topic in TOPICS:
        reading = {service.name for service in services if topic in service.consumes}
        assert set(topic.consumers) == reading, topic.name


def test_whoever_dead_letters_a_handled_type_handles_it(services: list[Service]) -> None:
    # Otherwise an invalid message of that type would be skipped by its handler and never dead-lettered.
    by_name = {service.name: service for service in services}
    for topic in TOPICS:
        for event_type in topic.event_types:
            handlers = [c for c in topic.consumers if event_type in by_name[c].handles]
            if handlers:
                assert topic.dead_lettered_by(event_type) in handlers, event_type


def test_agency_casework_is_dead_lettered_by_levels_and_the_rest_by_the_register() -> None:
    assert AGENCY_POLICE.dead_lettered_by("uk.mappa.police.level-decision-recorded.v1") == "levels"
    assert AGENCY_POLICE.dead_lettered_by("uk.mappa.police.conviction-recorded.v1") == "registry"
    assert AGENCY_POLICE.dead_lettered_by("uk.mappa.police.no-such-event.v1") == "registry"
    assert AGENCY_POLICE.dead_lettered_by(None) == "registry"

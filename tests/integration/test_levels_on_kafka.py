"""Level management against the real broker: the register's category leads to a screening, and casework
from an agency's system leads to the level events, in order, for one person."""

from datetime import date

from eventkit.deadletter import CONSUMER, ERROR_CLASS, ERROR_MESSAGE
from eventkit.service import Service
from eventkit.settings import Settings
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_PROBATION, LEVELS_DECISIONS, REGISTRY_OFFENDERS, type_of
from schemas.contract import Contract
from schemas.envelope import CloudEvent, new_event
from schemas.events import levels as published
from schemas.events.registry import ExitedMappa, RiskAssessed
from services.levels.app import create as create_levels
from services.levels.storage import LevelStore
from tests.support.casework import (
    COORDINATOR,
    SENIOR_OFFICER,
    a_platform_id,
    categorised,
    level_decision,
    referral,
    referral_decision,
    screening,
)
from tests.support.kafka import caused_by, event_of, headers_of, publish, read_all, read_until, with_id

TODAY = date.today()


async def test_a_category_from_the_register_makes_a_screening_due(
    kafka_bootstrap: str, levels: Service
) -> None:
    platform_id = a_platform_id()
    event = categorised(platform_id, TODAY)
    await publish(kafka_bootstrap, REGISTRY_OFFENDERS.name, event.to_json(), key=platform_id)

    [due] = await read_until(
        kafka_bootstrap,
        LEVELS_DECISIONS.name,
        bool,
        match=caused_by(event.id, type_of(published.ScreeningDue)),
    )
    assert due.key == platform_id.encode()
    assert event_of(due)["data"] == {
        "platform_id": platform_id,
        "category": 1,
        "level": 1,
        "status": "pending-screening",
        "since": TODAY.isoformat(),
        "area": "01",
    }


async def _screening_due(kafka_bootstrap: str) -> str:
    """A new person in category 1 from the register, once levels has made their screening due."""
    platform_id = a_platform_id()
    category = categorised(platform_id, TODAY)
    await publish(kafka_bootstrap, REGISTRY_OFFENDERS.name, category.to_json(), key=platform_id)
    await read_until(
        kafka_bootstrap,
        LEVELS_DECISIONS.name,
        bool,
        match=caused_by(category.id, type_of(published.ScreeningDue)),
    )
    return platform_id


async def test_referral_and_decisions_lead_to_the_level_events_in_order(
    kafka_bootstrap: str, levels: Service
) -> None:
    platform_id = await _screening_due(kafka_bootstrap)

    agency = Synthetic()
    casework = [
        screening(platform_id, TODAY, level_sought=3),
        referral(platform_id, TODAY, 3),
        referral_decision(platform_id, TODAY),
        # Level 3 without a senior officer: refused, and nothing changes.
        level_decision(platform_id, TODAY, 3),
        level_decision(platform_id, TODAY, 3, authorised_by=SENIOR_OFFICER),
        level_decision(platform_id, TODAY, 2, by=COORDINATOR),
    ]
    events = [agency.agency_event(AGENCY_PROBATION, step) for step in casework]
    for event in events:
        await publish(kafka_bootstrap, AGENCY_PROBATION.name, event.to_json(), key=platform_id)

    about = await read_until(
        kafka_bootstrap,
        LEVELS_DECISIONS.name,
        lambda kept: len(kept) >= 6,
        match=lambda r: r.key == platform_id.encode(),
    )
    assert [event_of(r)["type"] for r in about] == [
        type_of(published.ScreeningDue),
        type_of(published.ScreeningDone),
        type_of(published.ReferralMade),
        type_of(published.ReferralAccepted),
        type_of(published.LevelChanged),
        type_of(published.LevelChanged),
    ]
    raised, lowered = (event_of(r)["data"] for r in about[4:])
    # Raised from 1: the refused decision changed nothing.
    assert (raised["previous_level"], raised["level"], raised["kind"]) == (1, 3, "raised")
    assert raised["senior_officer_authorised"] is True
    assert (lowered["previous_level"], lowered["level"], lowered["kind"]) == (3, 2, "lowered")
    assert [event_of(r).get("causationid") for r in about[1:]] == [
        events[0].id,
        events[1].id,
        events[2].id,
        events[4].id,
        events[5].id,
    ]

    refused = events[3]
    [dead] = await read_until(
        kafka_bootstrap,
        f"{AGENCY_PROBATION.name}.dlt",
        bool,
        match=with_id(refused.id),
    )
    headers = headers_of(dead)
    assert headers[CONSUMER] == "levels"
    assert headers[ERROR_CLASS] == "RefusedByRule"
    assert headers[ERROR_MESSAGE] == "a level 3 decision needs a senior officer's authorisation"


async def test_rosh_rising_at_level_1_then_leaving_mappa(kafka_bootstrap: str, levels: Service) -> None:
    platform_id = a_platform_id()

    def from_registry(data: Contract) -> CloudEvent:
        return new_event(
            REGISTRY_OFFENDERS.type_of(type(data)), data, source="/mappa/registry", subject=platform_id
        )

    events = [
        categorised(platform_id, TODAY),
        from_registry(
            RiskAssessed(
                platform_id=platform_id, rosh="medium", completed_on=TODAY, assessor_agency="probation"
            )
        ),
        from_registry(
            RiskAssessed(
                platform_id=platform_id, rosh="high", completed_on=TODAY, assessor_agency="probation"
            )
        ),
        # An older assessment arriving late changes nothing.
        from_registry(
            RiskAssessed(
                platform_id=platform_id, rosh="low", completed_on=date(2020, 1, 1), assessor_agency="police"
            )
        ),
        from_registry(
            ExitedMappa(platform_id=platform_id, category=1, reason="requirement ended", exited_on=TODAY)
        ),
    ]
    for event in events:
        await publish(kafka_bootstrap, REGISTRY_OFFENDERS.name, event.to_json(), key=platform_id)

    about = await read_until(
        kafka_bootstrap,
        LEVELS_DECISIONS.name,
        lambda kept: len(kept) >= 3,
        match=lambda r: r.key == platform_id.encode(),
    )
    assert [(event_of(r)["type"], event_of(r)["causationid"]) for r in about] == [
        (type_of(published.ScreeningDue), events[0].id),
        (type_of(published.ConsiderReferral), events[2].id),
        (type_of(published.CaseClosed), events[4].id),
    ]
    assert event_of(about[2])["data"]["reason"] == "exited-mappa"
    async with levels.db.transaction() as session:
        case = await LevelStore(session).case(platform_id)
    assert case is not None
    assert (case.rosh, case.level.status, case.next_review_by) == ("high", "closed", None)


async def test_a_refused_decision_in_the_middle_of_a_batch_is_dead_lettered_alone(
    kafka_bootstrap: str, levels: Service
) -> None:
    platform_id = await _screening_due(kafka_bootstrap)
    # Stopped while the casework arrives, the service then takes it in one batch from one partition.
    await levels.stop()
    agency = Synthetic()
    casework = [
        screening(platform_id, TODAY, level_sought=3),
        referral(platform_id, TODAY, 3),
        level_decision(platform_id, TODAY, 3),  # without a senior officer: refused
        referral_decision(platform_id, TODAY),
        level_decision(platform_id, TODAY, 3, authorised_by=SENIOR_OFFICER),
    ]
    events = [agency.agency_event(AGENCY_PROBATION, step) for step in casework]
    for event in events:
        await publish(kafka_bootstrap, AGENCY_PROBATION.name, event.to_json(), key=platform_id)
    again = create_levels(settings=Settings("levels"))
    await again.start()
    try:
        about = await read_until(
            kafka_bootstrap,
            LEVELS_DECISIONS.name,
            lambda kept: len(kept) >= 5,
            match=lambda r: r.key == platform_id.encode(),
        )
        assert [event_of(r).get("causationid") for r in about[1:]] == [
            events[0].id,
            events[1].id,
            events[3].id,
            events[4].id,
        ]
        ids = {e.id for e in events}
        dead = await read_all(
            kafka_bootstrap, f"{AGENCY_PROBATION.name}.dlt", match=lambda r: any(with_id(i)(r) for i in ids)
        )
        assert [event_of(r)["id"] for r in dead] == [events[2].id]
        # They came as one batch, which the refusal split.
        assert again.registry.get_sample_value("mappa_consumer_batches_split_total") == 1
    finally:
        await again.stop()

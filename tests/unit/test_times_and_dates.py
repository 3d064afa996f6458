"""Times and dates are judged by the platform's clock, never the sender's (tables of what is refused)."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from eventkit.codec import Received, decode
from eventkit.deadletter import describe
from eventkit.errors import InvalidMessage
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, AGENCY_PROBATION
from schemas.dates import age_on
from schemas.envelope import CloudEvent
from schemas.events.casework import LevelDecisionRecorded, StaffRef
from schemas.events.police import CautionRecorded, ConvictionRecorded

POLICE = AGENCY_POLICE.name
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
RECEIVED = Received(NOW, timedelta(minutes=5))


def _event(**changes: object) -> dict[str, Any]:
    synthetic = Synthetic(seed=3)
    conviction = synthetic.conviction(convicted_on=date(2026, 11, 1))
    event: dict[str, Any] = json.loads(synthetic.conviction_event(conviction).to_json())
    event["time"] = "2026-12-02T09:59:00Z"
    event.update(changes)
    return event


def _decode(event: dict[str, Any], topic: str = POLICE) -> object:
    return decode(topic, json.dumps(event).encode(), max_bytes=100_000, received=RECEIVED)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("time", 9999999999),  # a Unix time: pydantic alone would take it
        ("time", "9999999999"),
        ("time", 1.5),
        ("time", "2026-12-02 09:59:00Z"),  # not RFC 3339: no "T"
        ("time", "2026-12-02T09:59:00"),  # no offset
        ("time", "2026-12-02T09:59Z"),  # no seconds
        ("time", "2026-12-02"),
        ("time", None),
        ("id", 1),
        ("id", ""),
        ("source", 1),
        ("type", 1),
        ("type", ["uk.mappa.police.conviction-recorded.v1"]),
        ("specversion", 1.0),
        ("specversion", "0.3"),
        ("subject", 5),
        ("dataschema", 1),
        ("datacontenttype", "text/xml"),
        ("causationid", 7),
        ("data", "{}"),
        ("data", [1]),
    ],
)
def test_each_envelope_attribute_of_the_wrong_type_is_refused(attribute: str, value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        CloudEvent.model_validate(_event(**{attribute: value}))
    assert refused.value.errors()[0]["loc"][0] == attribute


@pytest.mark.parametrize(
    "time", ["2026-12-02T09:59:00Z", "2026-12-02t09:59:00.123456z", "2026-12-02T10:59:00+01:00"]
)
def test_rfc_3339_times_are_accepted(time: str) -> None:
    assert CloudEvent.model_validate(_event(time=time)).time <= NOW


def test_an_integer_time_never_reaches_a_rule() -> None:
    with pytest.raises(InvalidMessage, match=r"not a CloudEvents 1\.0 envelope") as refused:
        _decode(_event(time=9999999999))
    assert "time: Value error, must be an RFC 3339 timestamp" in describe(refused.value)


@pytest.mark.parametrize(
    ("time", "accepted"),
    [
        ("2026-12-02T10:04:59Z", True),  # within the five minutes' skew
        ("2026-12-02T10:05:01Z", False),
        ("2029-01-01T00:00:00Z", False),
        ("2015-01-10T12:00:00Z", True),  # old events are late, not wrong
    ],
)
def test_a_sender_clock_ahead_of_ours_by_more_than_the_skew_is_refused(time: str, accepted: bool) -> None:
    if accepted:
        _decode(_event(time=time))
    else:
        with pytest.raises(InvalidMessage, match="ahead of the platform's clock; at most 300 s is allowed"):
            _decode(_event(time=time))


def _decision(decided_on: date) -> dict[str, Any]:
    data = LevelDecisionRecorded(
        platform_id="p-1",
        level=2,
        rationale="synthetic",
        decided_on=decided_on,
        decided_by=StaffRef(staff_ref="s-1", role="mappa-coordinator"),
    )
    event = Synthetic().agency_event(AGENCY_PROBATION, data, time=NOW - timedelta(minutes=1))
    return json.loads(event.to_json())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("decided_on", "accepted"),
    [
        (date(2026, 12, 2), True),  # today
        (date(2026, 11, 2), True),
        (date(2026, 12, 3), False),  # tomorrow
        (date(2099, 1, 1), False),
    ],
)
def test_a_fact_dated_after_the_day_it_is_received_is_refused(decided_on: date, accepted: bool) -> None:
    event = _decision(decided_on)
    if accepted:
        _decode(event, AGENCY_PROBATION.name)
    else:
        with pytest.raises(InvalidMessage) as refused:
            _decode(event, AGENCY_PROBATION.name)
        assert "decided_on: Value error, is in the future" in describe(refused.value)


def test_a_replayed_event_is_not_judged_again_by_a_later_clock() -> None:
    # Held events were judged when they arrived; a replay must apply them as they were.
    event = _decision(date(2099, 1, 1))
    decode(AGENCY_PROBATION.name, json.dumps(event).encode(), max_bytes=100_000)


def _conviction(born: date, convicted: date, stated: int | None) -> dict[str, Any]:
    conviction = Synthetic(seed=4).conviction()
    data = conviction.model_dump(mode="json")
    data["person"]["date_of_birth"] = born.isoformat()
    data["conviction_date"] = convicted.isoformat()
    data["age_at_conviction"] = stated
    return data


@pytest.mark.parametrize(
    ("born", "convicted", "stated", "age"),
    [
        # s.82(2): under 18 "on the relevant date", so the day before an 18th birthday is 17.
        (date(2008, 6, 15), date(2026, 6, 14), 17, 17),
        (date(2008, 6, 15), date(2026, 6, 15), 18, 18),
        (date(2008, 6, 15), date(2026, 6, 15), None, 18),
        (date(2008, 2, 29), date(2026, 2, 28), None, 17),  # a leap-day birthday falls on 1 March
        (date(2008, 2, 29), date(2026, 3, 1), None, 18),
    ],
)
def test_the_age_at_conviction_comes_from_the_dates(
    born: date, convicted: date, stated: int | None, age: int
) -> None:
    assert ConvictionRecorded.model_validate(_conviction(born, convicted, stated)).age() == age
    assert age_on(born, convicted) == age


@pytest.mark.parametrize(
    ("born", "convicted", "stated", "reason"),
    [
        (
            date(2008, 6, 15),
            date(2026, 6, 14),
            18,
            "age_at_conviction contradicts person.date_of_birth and conviction_date",
        ),
        (date(1980, 1, 1), date(2026, 1, 1), 25, "age_at_conviction contradicts"),
        (date(2020, 1, 1), date(2026, 1, 1), None, "below criminal responsibility"),
        (date(2026, 1, 2), date(2026, 1, 1), None, "conviction_date is before person.date_of_birth"),
    ],
)
def test_an_age_that_contradicts_the_dates_is_refused_naming_fields_not_values(
    born: date, convicted: date, stated: int | None, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        ConvictionRecorded.model_validate(_conviction(born, convicted, stated))
    text = describe(refused.value)
    assert reason in text
    assert born.isoformat() not in text
    assert str(stated) not in text.replace("age_at_conviction", "")


def test_a_caution_age_is_checked_the_same_way() -> None:
    data = _conviction(date(2008, 6, 15), date(2026, 6, 14), None)
    caution = {k: data[k] for k in ("person", "offence", "recording_force")} | {
        "caution_date": "2026-06-14",
        "age_at_caution": 18,
    }
    with pytest.raises(
        ValidationError, match=r"age_at_caution contradicts person\.date_of_birth and caution_date"
    ):
        CautionRecorded.model_validate(caution)

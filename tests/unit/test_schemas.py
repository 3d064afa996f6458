"""The contracts: closed for producers, tolerant for consumers, published as JSON Schema."""

import json
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from eventkit.synthetic import Synthetic
from schemas import generate
from schemas.catalogue import EVENT_MODELS, TOPIC_OF_EVENT, TOPICS, all_topic_names
from schemas.contract import TOLERANT
from schemas.envelope import CloudEvent
from schemas.events.police import ConvictionRecorded


def _conviction_data() -> dict[str, Any]:
    return Synthetic(seed=11).conviction().model_dump(mode="json")


def test_producer_models_refuse_unknown_fields() -> None:
    data = _conviction_data() | {"unexpected": 1}
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ConvictionRecorded.model_validate(data)


def test_consumer_reading_drops_unknown_fields_at_every_level() -> None:
    data = _conviction_data() | {"added_in_v1_1": True}
    data["person"] = data["person"] | {"middle_name": "ignored"}
    parsed = ConvictionRecorded.model_validate(data, context=TOLERANT)
    assert parsed.person.family_name == data["person"]["family_name"]
    assert "middle_name" not in parsed.person.model_dump()


def test_tolerant_reading_still_enforces_the_known_fields() -> None:
    data = _conviction_data()
    data["person"]["pnc_id"] = "2003/0012345X"  # wrong check letter
    with pytest.raises(ValidationError, match="check character"):
        ConvictionRecorded.model_validate(data, context=TOLERANT)


def test_every_event_type_carries_a_version_and_lives_on_one_topic() -> None:
    for event_type in EVENT_MODELS:
        assert event_type.rsplit(".", 1)[-1].startswith("v")
        assert sum(event_type in t.event_types for t in TOPICS) == 1
        assert TOPIC_OF_EVENT[event_type].name.endswith(".v1")


def test_every_topic_has_a_dead_letter_topic() -> None:
    names = all_topic_names()
    for topic in TOPICS:
        assert topic.name + ".dlt" in names


def test_committed_json_schemas_are_current() -> None:
    committed = {p.name: p.read_text() for p in generate.OUT_DIR.glob("*.json")}
    assert committed == generate.rendered(), "run: python -m schemas.generate"


def test_a_synthetic_event_validates_against_its_published_schema() -> None:
    event = Synthetic(seed=5).conviction_event()
    schema = json.loads((generate.OUT_DIR / f"{event.type}.json").read_text())
    jsonschema.validate(json.loads(event.to_json()), schema)


def test_published_schema_rejects_what_the_models_reject() -> None:
    event = json.loads(Synthetic(seed=5).conviction_event().to_json())
    event["data"]["disposal"]["type"] = "banishment"
    schema = json.loads((generate.OUT_DIR / f"{event['type']}.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(event, schema)


def test_envelope_requires_cloudevents_attributes() -> None:
    with pytest.raises(ValidationError):
        CloudEvent.model_validate({"specversion": "1.0", "type": "uk.mappa.police.x.v1", "data": {}})
    with pytest.raises(ValidationError, match="pattern"):
        CloudEvent.model_validate(
            {"id": "1", "source": "/s", "type": "conviction", "time": "2026-01-01T00:00:00Z", "data": {}}
        )


def test_envelope_keeps_extension_attributes() -> None:
    event = CloudEvent.model_validate(
        {
            "id": "1",
            "source": "/s",
            "type": "uk.mappa.police.conviction-recorded.v1",
            "time": "2026-01-01T00:00:00Z",
            "data": {},
            "partitionkey": "x",
        }
    )
    assert event.model_extra == {"partitionkey": "x"}


ADDRESS = {"line1": "1 High Street", "town": "Leeds", "postcode": "LS1 1AA"}
PERSON = {"identifiers": {"pnc_id": "2003/0012345N"}}
CONVICTION = {
    "person": {
        "pnc_id": "2003/0012345N",
        "family_name": "Example",
        "given_names": ["Synthetic"],
        "date_of_birth": "1980-01-01",
    },
    "offence": {
        "code": "SX03005",
        "description": "Sexual assault",
        "sexual_offences_act_schedule_3": True,
        "criminal_justice_act_schedule_15": True,
    },
    "conviction_date": "2026-01-01",
    "age_at_conviction": 46,
    "recording_force": "01",
}


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("uk.mappa.police.address-notified.v1", {"address": ADDRESS}),
        ("uk.mappa.police.address-notified.v1", {"no_fixed_abode": True}),
        ("uk.mappa.police.address-notified.v1", {"address": ADDRESS, "no_fixed_abode": True}),
        ("uk.mappa.police.address-notified.v1", {}),
        ("uk.mappa.prison.released.v1", {"person": {"identifiers": {}}, "released_on": "2026-01-01"}),
        ("uk.mappa.prison.released.v1", {"person": {"identifiers": {"prison_number": "A1234BC"}}}),
        ("uk.mappa.prison.released.v1", {"person": {"identifiers": {"prison_number": "1234ABC"}}}),
        ("uk.mappa.police.conviction-recorded.v1", CONVICTION | {"disposal": {"type": "custody"}}),
        (
            "uk.mappa.police.conviction-recorded.v1",
            CONVICTION | {"disposal": {"type": "custody", "custody_months": 8}},
        ),
        (
            "uk.mappa.police.conviction-recorded.v1",
            CONVICTION | {"disposal": {"type": "conditional-discharge"}},
        ),
        (
            "uk.mappa.police.conviction-recorded.v1",
            CONVICTION | {"disposal": {"type": "conditional-discharge", "discharge_months": 12}},
        ),
        ("uk.mappa.police.conviction-recorded.v1", CONVICTION | {"disposal": {"type": "fine"}}),
    ],
)
def test_the_published_schema_and_the_model_agree(event_type: str, data: dict[str, Any]) -> None:
    base: dict[str, Any] = {
        "person": PERSON,
        "notified_on": "2026-01-01",
        "notification": "initial",
        "released_on": "2026-01-01",
        "on_licence": True,
    }
    model = EVENT_MODELS[event_type]
    payload = {k: v for k, v in (base | data).items() if k in model.model_fields}
    schema = json.loads((generate.OUT_DIR / f"{event_type}.json").read_text())
    envelope = {"specversion": "1.0", "id": "1", "source": "/t", "type": event_type}
    message = envelope | {"time": "2026-01-01T00:00:00Z", "data": payload}
    try:
        model.model_validate(payload)
        model_accepts = True
    except ValidationError:
        model_accepts = False
    schema_accepts = jsonschema.Draft202012Validator(schema).is_valid(message)
    assert schema_accepts == model_accepts

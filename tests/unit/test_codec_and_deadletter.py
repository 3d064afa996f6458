"""Decoding failures are permanent and explained without quoting the message."""

import json

import pytest
from aiokafka import ConsumerRecord

from eventkit.codec import decode
from eventkit.deadletter import ERROR_CLASS, ERROR_MESSAGE, ORIGINAL_OFFSET, dead_letter_headers
from eventkit.errors import InvalidMessage, OversizedMessage, PermanentError, UnknownEventType, WrongTopic
from eventkit.synthetic import Synthetic

POLICE = "agency.police.v1"


def _body(**changes: object) -> bytes:
    event = json.loads(Synthetic(seed=2).conviction_event().to_json())
    event.update(changes)
    return json.dumps(event).encode()


def test_a_valid_event_decodes_to_its_model() -> None:
    incoming = decode(POLICE, _body(), max_bytes=100_000)
    assert type(incoming.data).__name__ == "ConvictionRecorded"


@pytest.mark.parametrize(
    ("topic", "body", "error", "reason"),
    [
        (POLICE, b"\xff\xfenot json", InvalidMessage, "not JSON"),
        (POLICE, b"{", InvalidMessage, "not JSON"),
        (POLICE, b'{"id": "1"}', InvalidMessage, "not a CloudEvents 1.0 envelope"),
        (POLICE, _body(type="uk.mappa.police.unheard-of.v1"), UnknownEventType, "unknown event type"),
        ("agency.prison.v1", _body(), WrongTopic, "is not carried on agency.prison.v1"),
        (POLICE, _body(data={"person": {}}), InvalidMessage, "data does not match"),
    ],
)
def test_undecodable_messages_are_permanent_errors(
    topic: str, body: bytes, error: type[PermanentError], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        decode(topic, body, max_bytes=100_000)


def test_oversized_messages_are_refused_before_parsing() -> None:
    with pytest.raises(OversizedMessage, match="limit is 1024"):
        decode(POLICE, b" " * 1025, max_bytes=1024)


def test_dead_letter_reason_names_the_field_but_not_its_value() -> None:
    event = json.loads(_body())
    secret_name = event["data"]["person"]["family_name"]
    event["data"]["person"]["date_of_birth"] = f"born-{secret_name}"
    record = ConsumerRecord(
        topic=POLICE, partition=3, offset=42, timestamp=0, timestamp_type=0,
        key=b"k", value=b"", checksum=None, serialized_key_size=1, serialized_value_size=0,
        headers=[("traceparent", b"00-abc")],
    )  # fmt: skip
    with pytest.raises(InvalidMessage) as caught:
        decode(POLICE, json.dumps(event).encode(), max_bytes=100_000)
    headers = dead_letter_headers(record, caught.value, consumer="registry", attempts=1)
    assert headers[ERROR_CLASS] == "InvalidMessage"
    assert "person.date_of_birth" in headers[ERROR_MESSAGE]
    assert secret_name not in headers[ERROR_MESSAGE]
    assert headers[ORIGINAL_OFFSET] == "42"
    assert headers["traceparent"] == "00-abc"

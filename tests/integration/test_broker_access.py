"""The secured broker: an agency publishes only as itself, to its own topic; nobody else gets in."""

import dataclasses
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from confluent_kafka.admin import AdminClient

from deploy.acls import principals
from deploy.provision import acls_held, bindings
from eventkit.broker import KafkaAccess
from schemas.catalogue import AGENCY_POLICE, AGENCY_PRISON
from tests.support.kafka import access, publish, read_all

pytestmark = pytest.mark.kafka


async def _ends(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**access(bootstrap).options())
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer.topics()
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


async def test_the_police_cannot_publish_on_the_prisons_topic_and_nothing_is_written(
    kafka_bootstrap: str,
) -> None:
    before = await _ends(kafka_bootstrap, AGENCY_PRISON.name)
    marker = uuid.uuid4().hex.encode()
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(kafka_bootstrap, AGENCY_PRISON.name, marker, key="x", client="police")
    # A service may not pass itself off as an agency either.
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(kafka_bootstrap, AGENCY_PRISON.name, marker, key="x", client="registry")
    assert await _ends(kafka_bootstrap, AGENCY_PRISON.name) == before
    assert not await read_all(kafka_bootstrap, AGENCY_PRISON.name, match=lambda r: r.value == marker)
    # As itself, on its own topic, it may.
    landed = await publish(kafka_bootstrap, AGENCY_POLICE.name, marker, key="x", client="police")
    assert landed.topic == AGENCY_POLICE.name


async def test_an_agency_sees_only_its_own_topic(kafka_bootstrap: str) -> None:
    """What the platform publishes reaches agencies through the services' APIs and notifications."""
    consumer = AIOKafkaConsumer(**access(kafka_bootstrap, "police").options(), enable_auto_commit=False)
    await consumer.start()
    try:
        assert await consumer.topics() == {AGENCY_POLICE.name}
    finally:
        await consumer.stop()


@pytest.mark.parametrize(
    ("who", "logged"),
    [
        ("an unknown principal", "SaslAuthenticationFailed"),
        ("the police with a wrong password", "SaslAuthenticationFailed"),
        ("a client with no principal", "closed"),  # the broker hangs up on it
    ],
)
async def test_a_client_without_a_known_principal_cannot_connect(
    kafka_bootstrap: str, who: str, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    police = access(kafka_bootstrap, "police")
    client = {
        "an unknown principal": KafkaAccess(kafka_bootstrap, "agency-nobody", "guessed"),
        "the police with a wrong password": dataclasses.replace(police, password="guessed"),
        "a client with no principal": KafkaAccess(kafka_bootstrap),
    }[who]
    producer = AIOKafkaProducer(**client.options(), request_timeout_ms=10_000)
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        await producer.start()
    await producer.stop()
    assert logged in caplog.text


def test_the_broker_holds_exactly_the_acls_generated_from_the_catalogue(kafka_bootstrap: str) -> None:
    admin = AdminClient(access(kafka_bootstrap).librdkafka())
    assert acls_held(admin) == set().union(*map(bindings, principals()))

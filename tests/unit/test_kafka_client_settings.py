"""How every Kafka client connects (its principal, from settings), and two settings aiokafka 0.14
offers no option for, made on its internals: an upgrade that moves them must fail here, not
silently bring back a reconnect storm or a stuck relay."""

import math

import certifi
import pytest
from aiokafka.client import AIOKafkaClient

from eventkit.broker import KafkaAccess, make_producer
from eventkit.settings import Settings, kafka_access


def test_a_service_connects_as_its_own_principal_from_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-a:9092")
    monkeypatch.setenv("MAPPA_REGISTRY_KAFKA_USERNAME", "mappa-registry")
    monkeypatch.setenv("MAPPA_REGISTRY_KAFKA_PASSWORD", "registry-secret")
    monkeypatch.setenv("MAPPA_LEVELS_KAFKA_USERNAME", "mappa-levels")
    monkeypatch.setenv("MAPPA_LEVELS_KAFKA_PASSWORD", "levels-secret")
    options = Settings("registry").kafka.options()
    assert options["bootstrap_servers"] == "kafka-a:9092"
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "mappa-registry",
        "registry-secret",
    )
    assert kafka_access("levels").username == "mappa-levels"
    assert "secret" not in repr(Settings("registry").kafka)
    assert "secret" not in Settings("registry").kafka.who


def test_with_the_brokers_ca_the_principal_connects_over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPPA_KAFKA_SSL_CAFILE", certifi.where())  # any CA bundle will do
    monkeypatch.setenv("MAPPA_POLICE_KAFKA_USERNAME", "agency-police")
    monkeypatch.setenv("MAPPA_POLICE_KAFKA_PASSWORD", "police-secret")
    options = kafka_access("police").options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["ssl_context"] is not None


def test_a_principal_needs_both_a_name_and_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPPA_POLICE_KAFKA_USERNAME", "agency-police")
    monkeypatch.delenv("MAPPA_POLICE_KAFKA_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="both a username and a password"):
        kafka_access("police")
    assert KafkaAccess("kafka:9092").options() == {"bootstrap_servers": "kafka:9092"}


def test_a_failed_metadata_update_backs_off_before_it_is_retried() -> None:
    assert getattr(AIOKafkaClient._metadata_update, "backs_off", False)


async def test_the_relay_producer_keeps_its_batches_through_an_outage() -> None:
    producer = make_producer(
        KafkaAccess("127.0.0.1:9"), client_id="t", max_message_bytes=262_144, request_timeout_seconds=40
    )
    assert producer._message_accumulator._batch_ttl == math.inf
    assert producer.client._retry_backoff == 0.5

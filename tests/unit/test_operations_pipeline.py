"""The pipeline view's arithmetic and the casework measures' keys: plain functions."""

from aiokafka import TopicPartition

from services.operations.measures import MEASURES, caseload_cell, caseload_key
from services.operations.pipeline import Lag, flows, lags, outbox_age

P0, P1 = TopicPartition("agency.police.v1", 0), TopicPartition("agency.police.v1", 1)
R0 = TopicPartition("registry.offenders.v1", 0)


def test_lag_is_what_a_group_has_not_committed_and_all_of_a_partition_it_never_committed() -> None:
    ends = {P0: 10, P1: 5, R0: 7}
    committed = {"mappa-registry": {P0: 10, P1: 2}}
    reads = {"mappa-registry": ["agency.police.v1"], "mappa-levels": ["registry.offenders.v1"]}
    assert lags(ends, committed, reads) == (
        Lag("mappa-registry", "agency.police.v1", 0, 0),
        Lag("mappa-registry", "agency.police.v1", 1, 3),
        Lag("mappa-levels", "registry.offenders.v1", 0, 7),
    )


def test_events_per_second_come_from_the_growth_of_a_topics_partitions_between_samples() -> None:
    [first] = flows({P0: 10, P1: 5}, {}, 0.0)
    assert (first.messages, first.per_second) == (15, None)
    [later] = flows({P0: 20, P1: 15}, {"agency.police.v1": 15}, 2.0)
    assert (later.messages, later.per_second) == (35, 10.0)


def test_the_outbox_age_is_read_from_a_services_metrics() -> None:
    text = (
        "# HELP mappa_outbox_oldest_age_seconds Age\n# TYPE mappa_outbox_oldest_age_seconds gauge\n"
        "mappa_outbox_oldest_age_seconds 12.5\n"
    )
    assert outbox_age(text) == 12.5
    assert outbox_age("# nothing here\n") is None


def test_caseload_keys_name_a_category_and_level_and_nothing_else() -> None:
    assert caseload_cell(caseload_key(2, 3)) == (2, 3)
    for wrong in ("caseload-c5-l1", "caseload-c1-l4", "caseload-cx-l1", "reviews-due", "caseload-c1"):
        assert caseload_cell(wrong) is None
    assert all(caseload_cell(m.key) is None for m in MEASURES)

"""The kit's logging: quiet library loggers at every level, and repeated errors summarised."""

import io
import logging
from collections.abc import Iterator

import pytest

from eventkit.logs import QUIET_LOGGERS, RepeatSummary, configure_logging, log_level


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(
    message: str, *args: object, level: int = logging.ERROR, name: str = "aiokafka"
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, args, None)


def _passed(summary: RepeatSummary, record: logging.LogRecord) -> str | None:
    """The message as it would be logged, or None if the filter dropped it."""
    return record.getMessage() if summary.filter(record) else None


def test_the_first_error_is_logged_and_repeats_are_counted_into_one_line_per_interval() -> None:
    clock = FakeClock()
    summary = RepeatSummary(60.0, clock=clock)
    unable = ("Unable connect to node with id %s: %s", 1, "[Errno 111] Connect call failed")

    assert (
        _passed(summary, _record(*unable))
        == "Unable connect to node with id 1: [Errno 111] Connect call failed"
    )
    for _ in range(812):
        clock.now += 0.05
        assert _passed(summary, _record(*unable)) is None
    clock.now = 1060.0
    assert _passed(summary, _record(*unable)) == (
        "Unable connect to node with id 1: [Errno 111] Connect call failed"
        " (repeated 812 times in the last 60 s)"
    )
    # The next interval starts with that line: its repeats are counted afresh.
    clock.now += 1
    assert _passed(summary, _record(*unable)) is None
    clock.now += 119
    line = _passed(summary, _record(*unable))
    assert line is not None
    assert line.endswith("failed (repeated once in the last 120 s)")


def test_an_error_seen_again_after_a_quiet_interval_is_logged_as_it_is() -> None:
    clock = FakeClock()
    summary = RepeatSummary(60.0, clock=clock)
    assert _passed(summary, _record("Unable to update metadata from [1]")) is not None
    clock.now += 61
    assert (
        _passed(summary, _record("Unable to update metadata from [1]"))
        == "Unable to update metadata from [1]"
    )


def test_different_messages_levels_and_loggers_are_counted_apart() -> None:
    summary = RepeatSummary(60.0, clock=FakeClock())
    records = [
        _record("Unable connect to node with id 1"),
        _record("Unable connect to node with id 2"),
        _record("Unable connect to node with id 1", level=logging.WARNING),
        _record("Unable connect to node with id 1", name="aiokafka.consumer"),
    ]
    assert all(summary.filter(r) for r in records)
    assert not any(summary.filter(r) for r in records)


def test_info_and_debug_are_never_summarised() -> None:
    summary = RepeatSummary(60.0, clock=FakeClock())
    for _ in range(3):
        assert summary.filter(_record("Heartbeat", level=logging.INFO))
        assert summary.filter(_record("Sending request", level=logging.DEBUG))


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RepeatSummary(0)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The platform's logging on a string; the root logger and quiet loggers restored afterwards."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    quiet = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).filters)) for name in QUIET_LOGGERS
    }
    stream = io.StringIO()
    try:
        yield stream
    finally:
        for handler in [h for h in root.handlers if h not in saved[1]]:
            root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, (level, filters) in quiet.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.filters[:] = filters


@pytest.mark.parametrize("level", ["DEBUG", "debug", "INFO"])
def test_loggers_that_print_parameters_or_payloads_stay_at_warning(captured: io.StringIO, level: str) -> None:
    configure_logging(level, stream=captured)
    logging.getLogger("sqlalchemy.engine.Engine").info("[generated] ('Canaryname',)")
    logging.getLogger("aiokafka.producer.producer").debug(
        "Sending (key=%s value=%s)", b"2003/0012345N", b"{}"
    )
    logging.getLogger("aiokafka.conn").debug("Response: FetchResponse(... Canaryname ...)")
    # uvicorn sets its loggers' levels itself after start-up; the filter still holds.
    logging.getLogger("uvicorn.asgi").setLevel(5)
    logging.getLogger("uvicorn.asgi").log(5, "ASGI scope %s", {"headers": [(b"authorization", b"Bearer x")]})
    logging.getLogger("aiokafka.producer.sender").warning("Got error produce response")
    logging.getLogger("services.registry").info("registry started")
    output = captured.getvalue()
    assert "Canaryname" not in output
    assert "2003/0012345N" not in output
    assert "Bearer" not in output
    assert "WARNING aiokafka.producer.sender Got error produce response" in output
    assert "INFO services.registry registry started" in output


def test_configuring_again_replaces_the_handler(captured: io.StringIO) -> None:
    configure_logging("INFO", stream=io.StringIO())
    configure_logging("INFO", stream=captured)
    logging.getLogger("eventkit.test").warning("once")
    assert captured.getvalue().count("once") == 1


def test_repeated_errors_reach_the_log_once(captured: io.StringIO) -> None:
    configure_logging("INFO", stream=captured)
    for _ in range(100):
        logging.getLogger("aiokafka").error("Unable to update metadata from %s", [1])
    assert captured.getvalue().count("Unable to update metadata") == 1


@pytest.mark.parametrize("name", ["TRACE", "verbose", "5", ""])
def test_only_the_standard_levels_are_accepted(name: str) -> None:
    with pytest.raises(ValueError, match="MAPPA_LOG_LEVEL"):
        log_level(name)


def test_messages_that_never_recur_are_forgotten_so_the_table_stays_small() -> None:
    clock = FakeClock()
    summary = RepeatSummary(60.0, clock=clock)
    # Each offset appears twice and never again, as a stuck record's retries would.
    for offset in range(1000):
        for _ in range(2):
            summary.filter(_record("agency.police.v1[0]@%d not applied", offset))
        clock.now += 1
    assert len(summary._runs) <= (10 + 1) * 60  # pruned once an interval; it was 1,000

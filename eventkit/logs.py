"""Logging for every service, set up in one place.

- No level puts personal data in a log: the library loggers that print SQL
  parameters, Kafka requests and responses or message keys and values are
  kept at WARNING whatever ``MAPPA_LOG_LEVEL`` says (``QUIET_LOGGERS``).
- A warning or error repeated word for word (a broker outage makes the Kafka
  client say "Unable connect to node ..." over and over) is logged the first
  time; the repeats are counted and reported once an interval has passed, as
  one line ending "(repeated N times in the last S s)".
"""

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_REPEAT_INTERVAL_SECONDS = 60.0
# A count of repeats nothing has reported within this many intervals is dropped.
FORGET_AFTER_INTERVALS = 10

# Loggers (and their children) that print what passes through them, kept at WARNING:
QUIET_LOGGERS = (
    "sqlalchemy",  # statements with their parameters (sqlalchemy.engine), pool events
    "asyncpg",  # the PostgreSQL driver's pool
    "aiokafka.conn",  # every request and response, record batches included, at DEBUG
    "aiokafka.producer",  # "Sending (key=... value=...)" at DEBUG
    "uvicorn.asgi",  # every ASGI message, request headers (bearer tokens) included, at TRACE
    "aiosmtplib",  # the SMTP conversation, addresses included, at DEBUG
    "httpx",  # each request's URL and status at INFO: one line per webhook delivered
    "httpcore",  # request headers (webhook signatures) at DEBUG
    "mail.log",  # aiosmtpd (the local receivers): each message's envelope, at DEBUG
)


class WarningsOnly(logging.Filter):
    """Drops records below WARNING from the named loggers and their children."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__()
        self._names = tuple(names)
        self._prefixes = tuple(f"{name}." for name in self._names)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not (record.name in self._names or record.name.startswith(self._prefixes))


@dataclass
class _Run:
    started: float
    repeated: int = 0


class RepeatSummary(logging.Filter):
    """Lets the first of identical warnings and errors through and counts the repeats.

    Records are identical when logger, level, formatted message and the class
    of the exception they carry, if any, are. The first is logged and opens an
    interval; repeats within it are dropped and counted. The first repeat
    after the interval is logged with the count ("... (repeated 812 times in
    the last 60 s)") and opens the next one. Records below ``level`` always
    pass. Repeats counted in an interval that no later record closes within
    ``FORGET_AFTER_INTERVALS`` intervals are not reported.
    """

    def __init__(
        self,
        interval_seconds: float = DEFAULT_REPEAT_INTERVAL_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        level: int = logging.WARNING,
    ) -> None:
        super().__init__()
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        self._interval = interval_seconds
        self._clock = clock
        self._level = level
        self._runs: dict[tuple[str, int, str, str], _Run] = {}
        self._lock = threading.Lock()
        self._pruned = clock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self._level:
            return True
        message = record.getMessage()
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        key = (record.name, record.levelno, message, error)
        with self._lock:
            now = self._clock()
            run = self._runs.get(key)
            if run is not None and now - run.started < self._interval:
                run.repeated += 1
                return False
            self._runs[key] = _Run(started=now)
            self._prune(now)
        if run is not None and run.repeated:
            times = "once" if run.repeated == 1 else f"{run.repeated} times"
            record.msg = f"{message} (repeated {times} in the last {now - run.started:.0f} s)"
            record.args = None
        return True

    def _prune(self, now: float) -> None:
        """Once an interval, forgets finished intervals with nothing to report, and any over
        ``FORGET_AFTER_INTERVALS`` old, reported or not, so that messages that never recur
        (one naming an offset, say) cannot grow the table without end."""
        if now - self._pruned < self._interval:
            return
        self._pruned = now

        def forgotten(run: _Run) -> bool:
            return now - run.started >= self._interval * (FORGET_AFTER_INTERVALS if run.repeated else 1)

        for key in [k for k, r in self._runs.items() if forgotten(r)]:
            del self._runs[key]


class _Handler(logging.StreamHandler[TextIO]):
    """The platform's handler on the root logger, so that configuring again replaces it."""


def log_level(name: str) -> int:
    """The numeric level for ``MAPPA_LOG_LEVEL``; anything but the five standard names is refused."""
    upper = name.strip().upper()
    if upper not in LEVELS:
        raise ValueError(f"MAPPA_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {name!r}")
    return logging.getLevelNamesMapping()[upper]


def configure_logging(
    level: str,
    *,
    repeat_interval_seconds: float = DEFAULT_REPEAT_INTERVAL_SECONDS,
    stream: TextIO | None = None,
) -> None:
    """Root logger at ``level`` on ``stream`` (stderr), quiet loggers at WARNING, repeats summarised."""
    numeric = log_level(level)
    quiet = WarningsOnly(QUIET_LOGGERS)
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(quiet)  # before the summary, so what is dropped is not counted
    handler.addFilter(RepeatSummary(repeat_interval_seconds))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(numeric, logging.WARNING))
        # Also for records logged on these loggers that never reach the root (propagate off) or
        # after a library sets their level again, as uvicorn does for its own.
        for old_filter in [f for f in logger.filters if isinstance(f, WarningsOnly)]:
            logger.removeFilter(old_filter)
        logger.addFilter(quiet)

"""Time, injectable: schedulers and read APIs take the same clock, so a test can move it.

Statutory deadlines are calendar days in England and Wales, so "today" is
the date in Europe/London, not in UTC: at 00:30 on a summer morning the
UTC date is still yesterday's.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
LOCAL = ZoneInfo("Europe/London")


def system_clock() -> datetime:
    return datetime.now(UTC)


def local_date(now: datetime) -> date:
    """The calendar date in England and Wales at ``now``."""
    return now.astimezone(LOCAL).date()


def ahead(clock: Clock, days: float) -> Clock:
    """``clock`` running ``days`` ahead (``ServiceSettings.clock_offset_days``)."""
    offset = timedelta(days=days)
    return lambda: clock() + offset

"""Working days in England and Wales: weekdays that are not bank holidays of the MAPPA area's nation.

Bank holidays come from the ``holidays`` library (England and Wales share
theirs today, but each is asked for by name, as the guidance says "the
bank holidays of the area's nation"). Pure: no I/O beyond the library's
own tables.
"""

from datetime import date, timedelta
from functools import cache
from typing import Literal

import holidays

Nation = Literal["england", "wales"]
_SUBDIVISION = {"england": "ENG", "wales": "WLS"}


@cache
def _bank_holidays(nation: Nation, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv=_SUBDIVISION[nation], years=year))


def is_working_day(day: date, nation: Nation) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(nation, day.year)


def add_working_days(start: date, days: int, nation: Nation) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count)."""
    if days < 0:
        raise ValueError("count forward only")
    day = start
    while days:
        day += timedelta(days=1)
        days -= is_working_day(day, nation)
    return day


def subtract_working_days(end: date, days: int, nation: Nation) -> date:
    """The date ``days`` working days before ``end``."""
    if days < 0:
        raise ValueError("count back only")
    day = end
    while days:
        day -= timedelta(days=1)
        days -= is_working_day(day, nation)
    return day

"""Dates of facts that have already happened: never later than the day they are received.

A sender's clock cannot be trusted to say what day it is, and a producer
cannot know the receiving service's clock, so the check runs when a
consumer validates with the latest date it accepts in the validation
context (``eventkit.codec`` sets it from the service's own clock).
"""

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo

LATEST = "latest_fact_date"


def _not_after_latest(value: date, info: ValidationInfo) -> date:
    latest = info.context.get(LATEST) if info.context else None
    if latest is not None and value > latest:
        raise ValueError("is in the future: a fact cannot be dated after the day it is received")
    return value


Occurred = Annotated[
    date,
    AfterValidator(_not_after_latest),
    Field(description="The day it happened: not after the day the platform receives it"),
]


def age_on(born: date, on: date) -> int:
    """Age in whole years on a day (a person born on 29 February has a birthday on 1 March)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_from_dates(born: date, on: date, stated: int | None, *, stated_field: str, on_field: str) -> int:
    """The age on ``on``, from the date of birth; a stated age must agree with it.

    Reasons name the fields, never their values.
    """
    if on < born:
        raise ValueError(f"{on_field} is before person.date_of_birth")
    age = age_on(born, on)
    if stated is not None and stated != age:
        raise ValueError(f"{stated_field} contradicts person.date_of_birth and {on_field}")
    if age < 10:
        raise ValueError(
            f"person.date_of_birth and {on_field} give an age below criminal responsibility (10)"
        )
    return age

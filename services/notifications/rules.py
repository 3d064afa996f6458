"""Who must be told, and when to try again or escalate. Pure, no I/O.

A route (``policy.toml``) names targets; these rules turn a target into the
people or roles it means for one case, from what notifications knows of the
case and its meetings. Looking them up in the directory is storage's job.
"""

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemas.agencies import Agency, Role
from schemas.events.notifications import Redirect
from services.notifications.policy import ChannelPolicy, Route, Target


@dataclass(frozen=True)
class Case:
    """What notifications knows of a case: where it is managed, and by whom."""

    area: str | None
    lead_agency: Agency | None = None
    offender_manager: str | None = None  # an opaque staff reference


@dataclass(frozen=True)
class Meeting:
    """A meeting's chair role and invited agencies, as its last invitation said."""

    chair_role: Role
    agencies: tuple[Agency, ...]


@dataclass(frozen=True)
class Addressee:
    """Someone to tell: a person (by staff reference) or a role of the area, perhaps of one agency.

    A role without a person means the shared entries of that role (a team
    mailbox, an agency system) for an offender manager, and every entry of
    the role otherwise.
    """

    role: Role
    staff_ref: str | None = None
    agency: Agency | None = None


@dataclass(frozen=True)
class Unknown:
    """A target that names no one for this case: the co-ordinator is told instead, with why."""

    intended_role: Role
    reason: Redirect


COORDINATOR = Addressee(Role.MAPPA_COORDINATOR)


def applies(route: Route, data: Mapping[str, Any]) -> bool:
    """Whether the event has the field values the route's ``when`` asks for."""
    return all(str(data.get(field)) == value for field, value in route.when.items())


def addressees(
    target: Target, data: Mapping[str, Any], case: Case, meeting: Meeting | None
) -> list[Addressee | Unknown]:
    """Who ``target`` means for this event, or why it means no one."""
    if case.area is None:
        return [Unknown(_intended(target, data, meeting), "no-area")]
    if target == "offender-manager":
        if case.offender_manager is not None:
            return [Addressee(Role.OFFENDER_MANAGER, staff_ref=case.offender_manager)]
        if case.lead_agency is not None:
            return [Addressee(Role.OFFENDER_MANAGER, agency=case.lead_agency)]
        return [Unknown(Role.OFFENDER_MANAGER, "no-offender-manager")]
    if target == "action-owner":
        return [
            Addressee(Role.OFFENDER_MANAGER, staff_ref=data["owner_staff_ref"], agency=data["owner_agency"])
        ]
    if target == "agency-contact":
        return [Addressee(Role.SINGLE_POINT_OF_CONTACT, agency=Agency(data["agency"]))]
    if target == "attendees":
        agencies = data.get("attendee_agencies") or (meeting.agencies if meeting else ())
        return [Addressee(Role.SINGLE_POINT_OF_CONTACT, agency=Agency(a)) for a in agencies]
    if target == "chair":
        return [Addressee(_chair(data, meeting))]
    return [Addressee(Role(target))]


def _chair(data: Mapping[str, Any], meeting: Meeting | None) -> Role:
    chair = data.get("chair_role") or (meeting.chair_role if meeting else Role.MEETING_CHAIR)
    return Role(chair)


def _intended(target: Target, data: Mapping[str, Any], meeting: Meeting | None) -> Role:
    if target in ("offender-manager", "action-owner"):
        return Role.OFFENDER_MANAGER
    if target in ("attendees", "agency-contact"):
        return Role.SINGLE_POINT_OF_CONTACT
    if target == "chair":
        return _chair(data, meeting)
    return Role(target)


def area_of(data: Mapping[str, Any], case: Case) -> str | None:
    """The area whose people are told: a transfer's new area, otherwise the case's as the register last
    said, or, for a case it has not placed yet, the area the event names."""
    return data.get("to_area") or case.area or data.get("area")


def retry_at(policy: ChannelPolicy, attempts: int, now: datetime, jitter: random.Random) -> datetime | None:
    """When to try again after ``attempts`` failed ones, or None when the channel has given up.

    Exponential from the first retry, capped, with full jitter over the
    upper half of the interval so that receivers coming back are not hit
    by every sender at once.
    """
    if attempts >= policy.max_attempts:
        return None
    interval = min(policy.max_retry_seconds, policy.first_retry_seconds * 2 ** (attempts - 1))
    return now + timedelta(seconds=interval * jitter.uniform(0.5, 1.0))


def escalate_at(route: Route, created_at: datetime) -> datetime | None:
    if route.escalate_after_hours is None:
        return None
    return created_at + timedelta(hours=route.escalate_after_hours)

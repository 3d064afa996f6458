"""Invited agencies read a case in levels and the registry only while invited; meetings decide levels.

Both learn invitations from the meetings service's events (``eventkit.invitations``),
never from its tables; a case read after the invitation ended is answered
exactly as a missing one.
"""

from datetime import date

from eventkit.auth import Principal, Role
from eventkit.service import Service
from schemas.agencies import Agency
from schemas.events.casework import StaffRef
from schemas.events.meetings import AttendeeInvited, AttendeeUninvited, MeetingLevelDecided
from tests.support.api import asgi_client, bearer
from tests.support.casework import (
    a_platform_id,
    case_of,
    casework_in,
    published,
    referral,
    referral_decision,
    screening,
)
from tests.support.clock import FakeClock
from tests.support.delivery import deliver, event_of
from tests.support.register import a_nominal

DWP = Principal(user="u-dwp", agency=Agency.DWP, role=Role.OFFENDER_MANAGER, area="01")
ON = date(2027, 3, 1)


def _invited(platform_id: str, meeting_id: str = "m-1") -> AttendeeInvited:
    return AttendeeInvited(platform_id=platform_id, meeting_id=meeting_id, agency=Agency.DWP, invited_on=ON)


def _uninvited(platform_id: str, meeting_id: str = "m-1") -> AttendeeUninvited:
    return AttendeeUninvited(
        platform_id=platform_id, meeting_id=meeting_id, agency=Agency.DWP, reason="uninvited", ended_on=ON
    )


async def _referral_accepted(levels: Service, *, level: int) -> str:
    """A case of area 01 whose referral for ``level`` the co-ordinator accepted."""
    platform_id = a_platform_id()
    async with casework_in(levels, "register") as casework:
        await casework.categorised(platform_id, 1, "01", ON)
        await casework.screened(screening(platform_id, ON, level_sought=level), "probation")
        await casework.referred(referral(platform_id, ON, level))
        await casework.referral_decided(referral_decision(platform_id, ON))
    return platform_id


async def _status(service: Service, path: str) -> tuple[int, object]:
    async with asgi_client(service) as http:
        answer = await http.get(path, headers=bearer(DWP))
    return answer.status_code, answer.json()


async def test_an_invited_agency_reads_the_levels_case_while_invited(
    offline_levels: Service, clock: FakeClock
) -> None:
    clock.set(ON)
    platform_id = a_platform_id()
    async with casework_in(offline_levels, "register") as casework:
        await casework.categorised(platform_id, 1, "01", ON)
    path = f"/cases/{platform_id}"
    missing = await _status(offline_levels, f"/cases/{a_platform_id()}")
    assert await _status(offline_levels, path) == missing == (404, {"detail": "no such case"})

    invited, again = (
        event_of(_invited(platform_id), key=platform_id),
        event_of(_invited(platform_id, "m-2"), key=platform_id),
    )
    assert await deliver(offline_levels, invited, again) == ["applied", "applied"]
    assert (await _status(offline_levels, path))[0] == 200
    # The case, not its history: that is the Responsible Authority's.
    assert await _status(offline_levels, f"{path}/history") == missing
    # Invited to two meetings: one invitation ending leaves the other.
    assert await deliver(offline_levels, event_of(_uninvited(platform_id), key=platform_id)) == ["applied"]
    assert (await _status(offline_levels, path))[0] == 200
    assert await deliver(offline_levels, event_of(_uninvited(platform_id, "m-2"), key=platform_id)) == [
        "applied"
    ]
    assert await _status(offline_levels, path) == missing


async def test_an_invited_agency_reads_the_nominal_while_invited(offline_registry: Service) -> None:
    async with offline_registry.db.transaction() as session:
        platform_id = await a_nominal(session, pnc="2003/0077001X")
    path = f"/nominals/{platform_id}"
    missing = await _status(offline_registry, "/nominals/no-such-nominal")
    assert await _status(offline_registry, path) == missing
    assert await deliver(offline_registry, event_of(_invited(platform_id), key=platform_id)) == ["applied"]
    status, seen = await _status(offline_registry, path)
    assert status == 200
    # Enough to know the person and the case; other agencies' identifiers and records stay out.
    assert isinstance(seen, dict)
    assert (seen["shared_as"], seen["family_name"], seen["identifiers"], seen["convictions"]) == (
        "duty-to-co-operate",
        "Example",
        [],
        [],
    )
    async with asgi_client(offline_registry) as http:
        police = Principal(user="u-ppo", agency=Agency.POLICE, role=Role.PUBLIC_PROTECTION_OFFICER, area="01")
        full = (await http.get(path, headers=bearer(police))).json()
    assert full["shared_as"] == "responsible-authority"
    assert await _status(offline_registry, f"{path}/history") == missing
    assert [i["scheme"] for i in full["identifiers"]] == ["pnc"]
    assert await deliver(offline_registry, event_of(_uninvited(platform_id), key=platform_id)) == ["applied"]
    assert await _status(offline_registry, path) == missing


async def test_levels_applies_a_meetings_level_decision(offline_levels: Service, clock: FakeClock) -> None:
    clock.set(ON)
    platform_id = await _referral_accepted(offline_levels, level=3)
    decided = MeetingLevelDecided(
        platform_id=platform_id,
        meeting_id="m-first",
        level=3,
        decided_on=ON,
        chair=StaffRef(staff_ref="u-senior", role=Role.SENIOR_OFFICER),
    )
    assert await deliver(offline_levels, event_of(decided, key=platform_id)) == ["applied"]
    case = await case_of(offline_levels, platform_id)
    assert (case.level.level, case.level.status) == (3, "managed")
    async with asgi_client(offline_levels) as http:
        view = await http.get(
            f"/cases/{platform_id}",
            headers=bearer(
                Principal(user="u-coord", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area="01")
            ),
        )
    (decision,) = view.json()["decisions"]
    assert decision["rationale"] == "decided at MAPPA meeting m-first: the rationale is in its minutes"
    assert (decision["decided_by"], decision["decided_by_role"]) == ("u-senior", "senior-officer")


async def test_a_meetings_level_decision_levels_cannot_apply_is_told_back(
    offline_levels: Service, clock: FakeClock
) -> None:
    clock.set(ON)
    platform_id = await _referral_accepted(offline_levels, level=2)
    # The meeting went further than the referral it was called for.
    decided = MeetingLevelDecided(
        platform_id=platform_id,
        meeting_id="m-first",
        level=3,
        decided_on=ON,
        chair=StaffRef(staff_ref="u-senior", role=Role.SENIOR_OFFICER),
    )
    assert await deliver(offline_levels, event_of(decided, key=platform_id)) == ["applied"]
    assert (await case_of(offline_levels, platform_id)).level.level == 1
    (refused,) = await published(offline_levels, "meeting-level-decision-refused", subject=platform_id)
    assert refused.data == {
        "platform_id": platform_id,
        "meeting_id": "m-first",
        "level": 3,
        "reason": "raising a case to level 3 needs an accepted referral for level 3 or above",
    }

"""The read API judges compliance by the service's clock and the area's policy file."""

from datetime import UTC, date, datetime

from eventkit.auth import Principal, Role
from eventkit.service import Service
from schemas.agencies import Agency
from services.registry.notification_rules import NotificationPeriod, Requirement
from services.registry.storage import RegistryStore
from tests.support.api import asgi_client, bearer
from tests.support.clock import FakeClock
from tests.support.register import a_nominal


async def _registered(service: Service, area: str, pnc: str) -> str:
    """A nominal of ``area`` whose periodic notification is due by 10 March 2027."""
    async with service.db.transaction() as session:
        store = RegistryStore(session)
        platform_id = await a_nominal(session, pnc=pnc, area=area)
        requirement = Requirement(date(2026, 3, 10), NotificationPeriod(120, "s.82(1)"), False)
        await store.set_requirement(platform_id, requirement, afresh=False)
        await store.notified(platform_id, date(2026, 3, 11), initial=True, no_fixed_abode=False)
    return platform_id


def _headers(area: str) -> dict[str, str]:
    return bearer(Principal(user="u-om", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area=area))


async def test_compliance_follows_the_service_clock_and_the_area_policy(
    offline_registry: Service, clock: FakeClock
) -> None:
    service = offline_registry
    strict = await _registered(service, "01", "2003/0012345N")
    default = await _registered(service, "02", "2010/0000001B")
    async with asgi_client(service) as http:

        async def status(platform_id: str, area: str) -> dict[str, object]:
            response = await http.get(f"/nominals/{platform_id}", headers=_headers(area))
            assert response.status_code == 200
            compliance: dict[str, object] = response.json()["compliance"]
            return compliance

        # 9 days before the deadline: due soon under the 14-day default, not under area 01's 5 days.
        assert (await status(default, "02"))["status"] == "due-soon"
        assert (await status(strict, "01"))["status"] == "compliant"
        assert (await status(strict, "01"))["deadline"] == "2027-03-10"

        clock.now = datetime(2027, 3, 12, 9, 0, tzinfo=UTC)
        assert (await status(strict, "01"))["status"] == "overdue"
        overdue = await http.get("/notifications/overdue", headers=_headers("01"))
        assert [(n["platform_id"], n["days_overdue"]) for n in overdue.json()] == [(strict, 2)]

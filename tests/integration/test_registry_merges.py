"""A merge through the API: the survivor takes the longer requirement and the prevailing category, each
published; an unmerge gives both back; identifiers of either record then find the survivor."""

from datetime import date

from eventkit import audit, outbox
from eventkit.auth import Principal, Role
from eventkit.service import Service
from schemas.agencies import Agency
from schemas.envelope import CloudEvent
from services.registry import identity
from services.registry.notification_rules import NotificationPeriod, Requirement
from services.registry.storage import RegistryStore
from tests.support.api import asgi_client, bearer
from tests.support.register import a_nominal

SEEN_FIRST_BY_PRISON = "2010/0000001B"
COORDINATOR = Principal(user="u-co", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area="01")


async def _nominal(service: Service, pnc: str, area: str | None, category: int) -> str:
    async with service.db.transaction() as session:
        platform_id = await a_nominal(session, pnc=pnc, area=area)
        await RegistryStore(session).set_category(platform_id, category, f"category {category} on record")
    return platform_id


async def _published(service: Service) -> list[CloudEvent]:
    async with service.db.transaction() as session:
        events = [CloudEvent.model_validate_json(r.payload) for r in await outbox.pending(session, 100)]
        await session.execute(outbox.outbox.delete())
    return events


async def test_a_merge_takes_the_longer_requirement_and_prevailing_category_and_an_unmerge_gives_them_back(
    offline_registry: Service,
) -> None:
    service = offline_registry
    survivor = await _nominal(service, "2003/0012345N", "01", category=2)
    # A registered sex offender, first known to a prison, so in no area yet.
    absorbed = await _nominal(service, SEEN_FIRST_BY_PRISON, None, category=1)
    indefinite = Requirement(date(2020, 1, 1), NotificationPeriod(None, "s.82(1): life-sentence"), False)
    async with service.db.transaction() as session:
        await RegistryStore(session).set_requirement(absorbed, indefinite, afresh=False)
        await RegistryStore(session).notified(absorbed, date(2020, 1, 2), initial=True, no_fixed_abode=False)

    async with asgi_client(service) as http:
        elsewhere = Principal(user="u-x", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area="02")
        body = {"absorbed": absorbed}
        assert (
            await http.post(f"/nominals/{survivor}/merge", json=body, headers=bearer(elsewhere))
        ).status_code == 404
        merged = await http.post(f"/nominals/{survivor}/merge", json=body, headers=bearer(COORDINATOR))
        assert merged.status_code == 200
        merge_id = merged.json()["merge_id"]

        events = await _published(service)
        assert [e.type.split(".")[3] for e in events] == [
            "notification-requirement-set",
            "category-assigned",
            "nominals-merged",
        ]
        assert {e.causationid for e in events} == {f"merge/{merge_id}"}
        assert events[1].data["category"] == 1
        async with service.db.transaction() as session:
            store = RegistryStore(session)
            [(_, state)] = await store.notification_states(platform_id=survivor)
            # The absorbed record's PNC now finds the survivor, as its own PNC does.
            claim = identity.Claim({"pnc": SEEN_FIRST_BY_PRISON}, date(1980, 1, 1))
            resolution = identity.resolve(claim, await store.candidates({"pnc": SEEN_FIRST_BY_PRISON}))
            readers = await audit.reads_of(session, ("nominal",), absorbed)
        assert state.requirement == indefinite
        assert state.initial_notified_on == date(2020, 1, 2)
        assert resolution == identity.Matched(survivor, {})
        assert [r.user for r in readers] == ["u-co"]

        undone = await http.post(f"/merges/{merge_id}/unmerge", headers=bearer(COORDINATOR))
        assert undone.status_code == 200
        events = await _published(service)
        assert [(e.type.split(".")[3], e.data.get("category")) for e in events] == [
            ("category-assigned", 2),
            ("nominals-unmerged", None),
        ]
        async with service.db.transaction() as session:
            store = RegistryStore(session)
            assert await store.requirement(survivor) is None
            assert await store.requirement(absorbed) == indefinite
            assert (await store.facts(absorbed))["category"] == 1
            assert (await store.facts(absorbed))["mappa_status"] == "active"

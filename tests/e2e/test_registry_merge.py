"""Merging two nominals is an explicit, published, audited and reversible decision."""

import secrets
from datetime import date

import httpx
from aiokafka import ConsumerRecord

from deploy.local import LocalPlatform
from eventkit.auth import Principal, Role
from eventkit.synthetic import Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS, type_of
from schemas.contract import Contract
from schemas.events.common import PersonIdentifiers, PersonRef, RiskAssessmentCompleted
from schemas.events.registry import NominalsMerged, NominalsUnmerged, RiskAssessed
from tests.e2e.helpers import registered
from tests.support.kafka import event_of, publish, read_until

KEY = secrets.token_urlsafe(48)


async def test_a_coordinator_merges_and_unmerges_two_nominals(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    platform.start("registry", MAPPA_AUTH_JWT_KEY=KEY)
    platform.wait_healthy("registry")
    synthetic = Synthetic()
    first = synthetic.conviction()
    second = synthetic.conviction(person=synthetic.person(age=40))
    area = first.recording_force
    second = second.model_copy(update={"recording_force": area})

    async def send(data: Contract, key: str) -> None:
        await publish(
            kafka_bootstrap,
            AGENCY_POLICE.name,
            synthetic.agency_event(AGENCY_POLICE, data).to_json(),
            key=key,
        )

    async def on_topic(model: type[Contract], subject: str) -> dict[str, object]:
        def match(record: ConsumerRecord) -> bool:
            event = event_of(record)
            return bool(event["type"] == type_of(model) and event["subject"] == subject)

        [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=match)
        data: dict[str, object] = event_of(record)["data"]
        return data

    ids = []
    for conviction in (first, second):
        await send(conviction, conviction.person.pnc_id)
        [record] = await read_until(
            kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(conviction.person.pnc_id)
        )
        ids.append(event_of(record)["subject"])
    survivor, absorbed = ids

    def headers(role: Role, token_area: str = area) -> dict[str, str]:
        principal = Principal(user="u-coordinator", agency=Agency.POLICE, role=role, area=token_area)
        return {"Authorization": f"Bearer {issue(principal, key=KEY)}", "X-Purpose": "Identity review"}

    coordinator = headers(Role.MAPPA_COORDINATOR)
    async with httpx.AsyncClient(base_url=platform.url("registry"), timeout=10) as http:
        body = {"absorbed": absorbed}
        assert (
            await http.post(f"/nominals/{survivor}/merge", json=body, headers=headers(Role.OFFENDER_MANAGER))
        ).status_code == 403
        elsewhere = headers(Role.MAPPA_COORDINATOR, "99" if area != "99" else "98")
        assert (
            await http.post(f"/nominals/{survivor}/merge", json=body, headers=elsewhere)
        ).status_code == 404

        cases = await http.get("/resolution-cases", headers=coordinator)
        assert cases.status_code == 200
        assert isinstance(cases.json(), list)
        assert (
            await http.get("/resolution-cases", headers=headers(Role.OFFENDER_MANAGER))
        ).status_code == 403

        merged = await http.post(f"/nominals/{survivor}/merge", json=body, headers=coordinator)
        assert merged.status_code == 200
        merge_id = merged.json()["merge_id"]
        published = await on_topic(NominalsMerged, survivor)
        assert published["absorbed_platform_id"] == absorbed
        assert {"scheme": "pnc", "value": second.person.pnc_id} in published["identifiers"]  # type: ignore[operator]

        record = (await http.get(f"/nominals/{survivor}", headers=coordinator)).json()
        assert {first.person.pnc_id, second.person.pnc_id} <= {i["value"] for i in record["identifiers"]}
        assert len(record["convictions"]) == 2
        gone = (await http.get(f"/nominals/{absorbed}", headers=coordinator)).json()
        assert (gone["mappa_status"], gone["merged_into"]) == ("merged", survivor)

        # An event under the absorbed nominal's PNC now lands on the survivor.
        assessment = RiskAssessmentCompleted(
            person=PersonRef(identifiers=PersonIdentifiers(pnc_id=second.person.pnc_id)),
            completed_on=date(2026, 11, 20),
            tool="ARMS",
            rosh="high",
            assessor_agency=Agency.POLICE,
        )
        await send(assessment, second.person.pnc_id)
        assert (await on_topic(RiskAssessed, survivor))["rosh"] == "high"

        undone = await http.post(f"/merges/{merge_id}/unmerge", headers=coordinator)
        assert undone.status_code == 200
        assert (await on_topic(NominalsUnmerged, survivor))["restored_platform_id"] == absorbed
        restored = (await http.get(f"/nominals/{absorbed}", headers=coordinator)).json()
        assert restored["mappa_status"] == "active"
        assert [i["value"] for i in restored["identifiers"] if i["scheme"] == "pnc"] == [second.person.pnc_id]
        assert len(restored["convictions"]) == 1
        assert (await http.post(f"/merges/{merge_id}/unmerge", headers=coordinator)).status_code == 404

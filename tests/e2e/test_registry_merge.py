"""Identity is decided by people: merges are published, audited and reversible; held events wait for one."""

import json
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
from tests.support.kafka import caused_by, event_of, publish, read_until, registered
from tests.support.waiting import eventually

KEY = secrets.token_urlsafe(48)


def _headers(role: Role, area: str) -> dict[str, str]:
    principal = Principal(user="u-coordinator", agency=Agency.POLICE, role=role, area=area)
    return {"Authorization": f"Bearer {issue(principal, key=KEY)}", "X-Purpose": "Identity review"}


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

    async def send(data: Contract, key: str) -> str:
        event = synthetic.agency_event(AGENCY_POLICE, data)
        await publish(kafka_bootstrap, AGENCY_POLICE.name, event.to_json(), key=key)
        return event.id

    async def on_topic(model: type[Contract], subject: str) -> dict[str, object]:
        def match(record: ConsumerRecord) -> bool:
            event = event_of(record)
            return bool(event["type"] == type_of(model) and event["subject"] == subject)

        [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=match)
        data: dict[str, object] = event_of(record)["data"]
        return data

    ids = []
    for conviction in (first, second):
        sent = await send(conviction, conviction.person.pnc_id)
        [record] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(sent))
        ids.append(event_of(record)["subject"])
    survivor, absorbed = ids

    def headers(role: Role, token_area: str = area) -> dict[str, str]:
        return _headers(role, token_area)

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
        # Only which kinds of identifier moved travel on the topic; their values stay in the register.
        assert "pnc" in published["schemes"]  # type: ignore[operator]
        assert second.person.pnc_id not in json.dumps(published)

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


async def test_a_coordinator_applies_a_held_event_to_the_nominal_it_is_about(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    platform.start("registry", MAPPA_AUTH_JWT_KEY=KEY)
    platform.wait_healthy("registry")
    synthetic = Synthetic()
    conviction = synthetic.conviction()
    person, area = conviction.person, conviction.recording_force
    registration = synthetic.agency_event(AGENCY_POLICE, conviction)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, registration.to_json(), key=person.pnc_id)
    [nominal] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(registration.id)
    )
    platform_id = event_of(nominal)["subject"]
    # The same PNC with another date of birth: held for a person, never merged.
    contradiction = synthetic.agency_event(
        AGENCY_POLICE,
        RiskAssessmentCompleted(
            person=PersonRef(
                identifiers=PersonIdentifiers(pnc_id=person.pnc_id), date_of_birth=date(1901, 1, 1)
            ),
            completed_on=date(2026, 11, 20),
            tool="ARMS",
            rosh="very-high",
            assessor_agency=Agency.POLICE,
        ),
    )
    await publish(kafka_bootstrap, AGENCY_POLICE.name, contradiction.to_json(), key=person.pnc_id)

    def headers(role: Role, token_area: str = area) -> dict[str, str]:
        return _headers(role, token_area)

    coordinator = headers(Role.MAPPA_COORDINATOR)
    async with httpx.AsyncClient(base_url=platform.url("registry"), timeout=10) as http:

        async def case_opened() -> list[dict[str, object]]:
            cases = (await http.get("/resolution-cases", headers=coordinator)).json()
            return [c for c in cases if c["event_id"] == contradiction.id]

        [case] = await eventually(case_opened, what="a resolution case for the contradiction")
        assert case["platform_ids"] == [platform_id]
        decision = {"platform_id": platform_id, "note": "date of birth mistyped by the force"}
        url = f"/resolution-cases/{case['id']}/decision"
        elsewhere = headers(Role.MAPPA_COORDINATOR, "99" if area != "99" else "98")
        assert (await http.post(url, json=decision, headers=elsewhere)).status_code == 404
        assert (
            await http.post(url, json=decision, headers=headers(Role.OFFENDER_MANAGER))
        ).status_code == 403

        decided = await http.post(url, json=decision, headers=coordinator)
        assert decided.json() == {"case_id": case["id"], "status": "applied", "platform_id": platform_id}
        # The held event now has its effect, published on its own account.
        [assessed] = await read_until(
            kafka_bootstrap,
            REGISTRY_OFFENDERS.name,
            bool,
            match=caused_by(contradiction.id, type_of(RiskAssessed)),
        )
        assert (event_of(assessed)["subject"], event_of(assessed)["data"]["rosh"]) == (
            platform_id,
            "very-high",
        )
        assert (await http.post(url, json=decision, headers=coordinator)).status_code == 404
        record = (await http.get(f"/nominals/{platform_id}", headers=coordinator)).json()
        assert (
            record["date_of_birth"] == person.date_of_birth.isoformat()
        )  # the contradiction changed no identity
        history = (await http.get(f"/nominals/{platform_id}/history", headers=coordinator)).json()
        assert any(line["cause_id"] == f"resolution/{case['id']}" for line in history)
        # The decision is audited as a read of the nominal it named.
        reads = (await http.get(f"/nominals/{platform_id}/reads", headers=headers(Role.AUDITOR))).json()
        assert ("u-coordinator", "mappa-coordinator", "Identity review") in {
            (r["user"], r["role"], r["purpose"]) for r in reads
        }

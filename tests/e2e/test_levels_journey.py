"""A co-ordinator takes a case from registration through referral to level 3 and back down to level 2,
using only agency events and the levels API, across the registry and levels processes."""

import secrets
from datetime import date

import httpx
from aiokafka import ConsumerRecord

from deploy.local import LocalPlatform
from eventkit.auth import Principal, Role
from eventkit.deadletter import ERROR_MESSAGE
from eventkit.synthetic import Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency
from schemas.catalogue import AGENCY_POLICE, AGENCY_PROBATION, LEVELS_DECISIONS, REGISTRY_OFFENDERS, type_of
from schemas.events import levels
from schemas.events.casework import StaffRef
from schemas.events.common import LeadAgencySet, PersonIdentifiers, PersonRef
from schemas.events.police import ChargeRecorded
from tests.e2e.helpers import query
from tests.support.casework import level_decision, referral, screening
from tests.support.kafka import event_of, headers_of, publish, read_until, registered, with_id
from tests.support.waiting import eventually

KEY = secrets.token_urlsafe(48)


def _headers(principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(principal, key=KEY)}", "X-Purpose": "MAPPA case management"}


async def test_registration_to_level_3_and_back_to_level_2(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    for service in ("registry", "levels"):
        platform.start(service, MAPPA_AUTH_JWT_KEY=KEY, MAPPA_LEVELS_SCHEDULE_SECONDS="3600")
        platform.wait_healthy(service)
    agency = Synthetic()
    conviction = agency.conviction()
    area = conviction.recording_force
    convicted = agency.conviction_event(conviction)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, convicted.to_json(), key=conviction.person.pnc_id)
    [nominal] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(convicted.id)
    )
    platform_id = event_of(nominal)["subject"]

    def about(record: ConsumerRecord) -> bool:
        return bool(record.key == platform_id.encode())

    [due] = await read_until(kafka_bootstrap, LEVELS_DECISIONS.name, bool, match=about)
    assert event_of(due)["type"] == type_of(levels.ScreeningDue)

    # Probation takes the lead; once levels knows, only probation screens.
    today = date.today()
    person = PersonRef(identifiers=PersonIdentifiers(pnc_id=conviction.person.pnc_id))
    lead = agency.agency_event(
        AGENCY_PROBATION, LeadAgencySet(person=person, lead_agency="probation", effective_from=today)
    )
    await publish(kafka_bootstrap, AGENCY_PROBATION.name, lead.to_json(), key=conviction.person.pnc_id)

    async def lead_known() -> bool:
        sql = "select lead_agency from cases where platform_id = ?"
        return query(platform.data_dir / "levels.db", sql, platform_id) == [("probation",)]

    await eventually(lead_known, what="levels to learn the lead agency")
    by_police = agency.agency_event(AGENCY_POLICE, screening(platform_id, today))
    await publish(kafka_bootstrap, AGENCY_POLICE.name, by_police.to_json(), key=platform_id)
    [refused_screening] = await read_until(
        kafka_bootstrap, f"{AGENCY_POLICE.name}.dlt", bool, match=with_id(by_police.id)
    )
    assert headers_of(refused_screening)[ERROR_MESSAGE] == "the lead agency (probation) screens this case"

    # Probation screens the case and refers it for level 3 from its case system.
    for step in (
        screening(platform_id, today, level_sought=3),
        referral(platform_id, today, 3, ref="MAPPA-A-1"),
    ):
        event = agency.agency_event(AGENCY_PROBATION, step)
        await publish(kafka_bootstrap, AGENCY_PROBATION.name, event.to_json(), key=platform_id)
    await read_until(kafka_bootstrap, LEVELS_DECISIONS.name, lambda kept: len(kept) >= 3, match=about)

    coordinator = Principal(user="u-coord", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area=area)
    senior = Principal(user="u-senior", agency=Agency.PROBATION, role=Role.SENIOR_OFFICER, area=area)
    case = platform.url("levels", f"/cases/{platform_id}")
    async with httpx.AsyncClient(timeout=10) as http:
        waiting = await http.get(platform.url("levels", "/referrals"), headers=_headers(coordinator))
        assert [(r["platform_id"], r["referral_ref"]) for r in waiting.json()] == [(platform_id, "MAPPA-A-1")]
        decision = {"decision": "accepted", "reason": "Meets the level 3 criteria"}
        accepted = await http.post(
            f"{case}/referrals/MAPPA-A-1/decision", json=decision, headers=_headers(coordinator)
        )
        assert accepted.status_code == 200

        level_3 = {"level": 3, "rationale": "Synthetic: imminent risk needs senior oversight"}
        refused = await http.post(f"{case}/level", json=level_3, headers=_headers(coordinator))
        assert refused.status_code == 403
        assert "senior officer" in refused.json()["detail"]
        raised = await http.post(f"{case}/level", json=level_3, headers=_headers(senior))
        assert raised.json()["level"] == 3

    # At the next MAPPA meeting the chair brings the case down to level 2, recorded in the police system.
    chair = StaffRef(staff_ref="chair-1", role=Role.MEETING_CHAIR)
    lowered = agency.agency_event(AGENCY_POLICE, level_decision(platform_id, today, 2, by=chair))
    await publish(kafka_bootstrap, AGENCY_POLICE.name, lowered.to_json(), key=platform_id)

    published = await read_until(
        kafka_bootstrap, LEVELS_DECISIONS.name, lambda kept: len(kept) >= 6, match=about
    )
    assert [event_of(r)["type"] for r in published] == [
        type_of(levels.ScreeningDue),
        type_of(levels.ScreeningDone),
        type_of(levels.ReferralMade),
        type_of(levels.ReferralAccepted),
        type_of(levels.LevelChanged),
        type_of(levels.LevelChanged),
    ]
    assert [event_of(r)["data"]["level"] for r in published[4:]] == [3, 2]

    async with httpx.AsyncClient(timeout=10) as http:
        view = (await http.get(case, headers=_headers(coordinator))).json()
        history = (await http.get(f"{case}/history", headers=_headers(coordinator))).json()
    assert (view["level"], view["status"]) == (2, "managed")
    assert [(d["level"], d["decided_by_role"]) for d in view["decisions"]] == [
        (3, "senior-officer"),
        (2, "meeting-chair"),
    ]
    assert len(history) == 7  # categorised, lead agency, screened, referred, accepted, raised, lowered
    # A charge for a further Schedule 15 offence: the register says so, and levels tells the board chair.
    charge = ChargeRecorded(
        person=person,
        offence=conviction.offence.model_copy(update={"criminal_justice_act_schedule_15": True}),
        charged_on=today,
        charging_force=area,
    )
    charged = agency.agency_event(AGENCY_POLICE, charge)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, charged.to_json(), key=conviction.person.pnc_id)
    [review] = await read_until(
        kafka_bootstrap,
        LEVELS_DECISIONS.name,
        bool,
        match=lambda r: about(r) and event_of(r)["type"] == type_of(levels.SeriousCaseReviewDue),
    )
    assert event_of(review)["data"]["level"] == 2
    assert event_of(review)["data"]["notify_board_chair_by"] > today.isoformat()

    audited = query(
        platform.data_dir / "levels.db",
        "select user, record_type from audit_reads where record_id = ? order by id",
        platform_id,
    )
    assert audited == [
        ("u-coord", "open-referrals"),
        ("u-coord", "case-referral-decision"),
        ("u-coord", "case-level-refused"),
        ("u-senior", "case-level"),
        ("u-coord", "case"),
        ("u-coord", "case-history"),
    ]

"""The levels API: casework by role, level 3 only with a senior officer, need-to-know, audit and history."""

from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from eventkit import outbox
from eventkit.audit import audit_reads
from eventkit.auth import Principal, Role
from eventkit.service import Service
from schemas.agencies import Agency
from tests.support.api import asgi_client, bearer
from tests.support.casework import a_platform_id, casework_in
from tests.support.clock import FakeClock

CATEGORISED = date(2027, 2, 1)
OFFENDER_MANAGER = Principal(user="u-om", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area="01")
COORDINATOR = Principal(user="u-coord", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area="01")
SENIOR_OFFICER = Principal(user="u-senior", agency=Agency.POLICE, role=Role.SENIOR_OFFICER, area="01")
LANDLORD = Principal(user="u-housing", agency=Agency.SOCIAL_LANDLORD, role=Role.OFFENDER_MANAGER, area="01")
ELSEWHERE = Principal(user="u-elsewhere", agency=Agency.POLICE, role=Role.MAPPA_COORDINATOR, area="02")
AUDITOR = Principal(user="u-audit", agency=Agency.POLICE, role=Role.AUDITOR, area="01")


async def _categorised(service: Service) -> str:
    """A category 1 case of area 01 led by probation, as the register's events leave it."""
    platform_id = a_platform_id()
    async with casework_in(service, "register") as casework:
        await casework.categorised(platform_id, 1, "01", CATEGORISED)
        await casework.case_fact(platform_id, "lead agency probation", lead_agency="probation")
    return platform_id


async def _post(http: httpx.AsyncClient, who: Principal, path: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post(path, json=body, headers=bearer(who, "MAPPA case management"))


async def test_a_case_goes_to_level_3_with_a_senior_officer_and_back_to_level_2(
    offline_levels: Service, clock: FakeClock
) -> None:
    clock.set(date(2027, 2, 3))
    platform_id = await _categorised(offline_levels)
    case = f"/cases/{platform_id}"
    async with asgi_client(offline_levels) as http:
        police = Principal(user="u-ppo", agency=Agency.POLICE, role=Role.PUBLIC_PROTECTION_OFFICER, area="01")
        not_lead = await _post(http, police, f"{case}/screening", {"outcome": "level-1"})
        assert (not_lead.status_code, not_lead.json()["detail"]) == (
            403,
            "the lead agency (probation) screens this case",
        )
        screened = await _post(
            http, OFFENDER_MANAGER, f"{case}/screening", {"outcome": "referral", "level_sought": 3}
        )
        assert screened.status_code == 200
        assert (screened.json()["level"], screened.json()["status"]) == (1, "managed")

        referral = {
            "referral_ref": "MAPPA-A-7",
            "level_sought": 3,
            "reasons": "Synthetic reasons",
            "current_rosh": "very-high",
            "lower_level_insufficient": "Synthetic: needs multi-agency resources",
        }
        # A Duty-to-Co-operate agency not invited to the case's meetings does not read it, nor refer
        # over HTTP: the answer is the one for no case at all.
        by_landlord = await _post(http, LANDLORD, f"{case}/referrals", referral)
        assert (by_landlord.status_code, by_landlord.json()) == (404, {"detail": "no such case"})
        referred = await _post(http, OFFENDER_MANAGER, f"{case}/referrals", referral)
        assert referred.status_code == 201
        assert [r["status"] for r in referred.json()["referrals"]] == ["open"]
        assert (await _post(http, OFFENDER_MANAGER, f"{case}/referrals", referral)).status_code == 409
        lower = {**referral, "referral_ref": "MAPPA-A-8", "level_sought": 2}
        assert (await _post(http, OFFENDER_MANAGER, f"{case}/referrals", lower)).status_code == 201

        open_referrals = await http.get("/referrals", headers=bearer(COORDINATOR))
        assert [(r["referral_ref"], r["referring_agency"]) for r in open_referrals.json()] == [
            ("MAPPA-A-7", "probation"),
            ("MAPPA-A-8", "probation"),
        ]

        decision = {"decision": "accepted", "reason": "Meets the level 3 criteria"}
        refused = await _post(http, SENIOR_OFFICER, f"{case}/referrals/MAPPA-A-7/decision", decision)
        assert refused.status_code == 403  # the co-ordinator decides referrals
        accepted = await _post(http, COORDINATOR, f"{case}/referrals/MAPPA-A-7/decision", decision)
        assert accepted.json()["accepted_referral_level"] == 3

        level_3 = {"level": 3, "rationale": "Synthetic: risk imminent"}
        refused = await _post(http, COORDINATOR, f"{case}/level", level_3)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "a level 3 decision needs a senior officer's authorisation"
        unchanged = await http.get(case, headers=bearer(COORDINATOR))
        assert (unchanged.json()["level"], unchanged.json()["decisions"]) == (1, [])

        raised = await _post(http, SENIOR_OFFICER, f"{case}/level", level_3)
        assert raised.status_code == 200
        assert (raised.json()["level"], raised.json()["next_review_by"]) == (3, "2027-03-31")  # 8 weeks
        lowered = await _post(
            http, COORDINATOR, f"{case}/level", {"level": 2, "rationale": "Synthetic: risk reduced"}
        )
        assert lowered.status_code == 200
        view = lowered.json()
        assert (view["level"], view["next_review_by"]) == (2, "2027-05-26")  # 16 weeks
        assert [
            (d["kind"], d["level"], d["decided_by"], d["decided_by_role"]) for d in view["decisions"]
        ] == [
            ("raised", 3, "u-senior", "senior-officer"),
            ("lowered", 2, "u-coord", "mappa-coordinator"),
        ]
        # The referral was used by the raise; the one for level 2 had nothing left to ask.
        assert [(r["referral_ref"], r["status"]) for r in view["referrals"]] == [
            ("MAPPA-A-7", "used"),
            ("MAPPA-A-8", "withdrawn"),
        ]
        # So raising again needs a new accepted referral.
        again = await _post(http, SENIOR_OFFICER, f"{case}/level", level_3)
        assert again.status_code == 409
        withdrawn = await _post(http, COORDINATOR, f"{case}/referrals/MAPPA-A-8/decision", decision)
        assert (withdrawn.status_code, withdrawn.json()["detail"]) == (
            409,
            "the referral is withdrawn already",
        )

        history = await http.get(f"{case}/history", headers=bearer(OFFENDER_MANAGER))
        changes = [line["change"] for line in history.json()]
        assert changes[0] == "category 1: level 1 pending screening"
        assert changes[-2:] == [
            "level 3 raised by senior-officer u-senior",
            "level 2 lowered by mappa-coordinator u-coord",
        ]
        assert {line["cause_type"] for line in history.json()[2:]} == {
            "decision/screening",
            "decision/referral",
            "decision/referral-decision",
            "decision/level",
        }

        # Need-to-know: another area's co-ordinator gets the same answer as for no case at all.
        hidden = await http.get(case, headers=bearer(ELSEWHERE))
        missing = await http.get(f"/cases/{a_platform_id()}", headers=bearer(ELSEWHERE))
        assert (
            (hidden.status_code, hidden.json())
            == (missing.status_code, missing.json())
            == (404, {"detail": "no such case"})
        )
        assert (await http.get(case, headers=bearer(AUDITOR))).status_code == 403
        assert (
            await _post(http, ELSEWHERE, f"{case}/level", {"level": 1, "rationale": "x"})
        ).status_code == 404

        # The area's auditor sees who read and acted on the case; another area's auditor sees nothing.
        trail = await http.get(f"{case}/reads", headers=bearer(AUDITOR, "Audit of case access"))
        assert ("u-senior", "case-level") in {(r["user"], r["record"]) for r in trail.json()}
        other = Principal(user="u-audit-2", agency=Agency.POLICE, role=Role.AUDITOR, area="02")
        assert (await http.get(f"{case}/reads", headers=bearer(other))).status_code == 404

    async with offline_levels.db.transaction() as session:
        audited = (
            await session.execute(
                select(audit_reads.c.user, audit_reads.c.record_type, audit_reads.c.record_id)
            )
        ).all()
        pending = await outbox.pending(session, 100)
    assert ("u-senior", "case-level", platform_id) in audited
    assert ("u-coord", "case-referral-decision", platform_id) in audited
    assert ("u-om", "case-history", platform_id) in audited
    assert ("u-coord", "open-referrals", platform_id) in audited
    # A refusal tells something of the case: it is audited though nothing else of it stays.
    assert ("u-coord", "case-level-refused", platform_id) in audited
    assert [row.event_type.split(".")[3] for row in pending] == [
        "screening-due",
        "screening-done",
        "referral-made",
        "referral-made",
        "referral-accepted",
        "level-changed",
        "level-changed",
    ]


async def test_reviews_due_and_overdue_for_the_callers_area(
    offline_levels: Service, clock: FakeClock
) -> None:
    platform_id = await _categorised(
        offline_levels
    )  # pending screening: reviewed within 26 weeks, by 2 August
    async with asgi_client(offline_levels) as http:
        clock.set(date(2027, 7, 1))
        assert (await http.get("/reviews", headers=bearer(COORDINATOR))).json() == []
        clock.set(date(2027, 7, 26))
        due = await http.get("/reviews", params={"stage": "due"}, headers=bearer(COORDINATOR))
        assert due.json() == [
            {"platform_id": platform_id, "level": 1, "review_by": "2027-08-02", "stage": "due"}
        ]
        clock.set(date(2027, 8, 3))
        assert (await http.get("/reviews", params={"stage": "due"}, headers=bearer(COORDINATOR))).json() == []
        overdue = await http.get("/reviews", params={"stage": "overdue"}, headers=bearer(COORDINATOR))
        assert [r["platform_id"] for r in overdue.json()] == [platform_id]
        assert (await http.get("/reviews", headers=bearer(ELSEWHERE))).json() == []
        assert (await http.get("/reviews", headers=bearer(LANDLORD))).status_code == 403


async def test_a_field_the_api_does_not_know_is_refused_not_ignored(
    offline_levels: Service, clock: FakeClock
) -> None:
    clock.set(date(2027, 2, 3))
    platform_id = await _categorised(offline_levels)
    async with offline_levels.db.transaction() as session:
        pending = await outbox.count(session)
    async with asgi_client(offline_levels) as http:
        # The decision date is the service's; a caller who sends one must learn it does not count.
        body = {"level": 1, "rationale": "Confirmed at review", "decided_on": "2099-01-01"}
        refused = await _post(http, COORDINATOR, f"/cases/{platform_id}/level", body)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "decided_on"]
    async with offline_levels.db.transaction() as session:
        assert await outbox.count(session) == pending  # nothing decided, nothing published

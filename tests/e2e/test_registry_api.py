"""The registry's read API on a running service: tokens, need-to-know and audited reads."""

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord

from deploy.local import LocalPlatform
from eventkit.auth import Principal, Role
from eventkit.synthetic import Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS, type_of
from schemas.contract import Contract
from schemas.dates import age_on
from schemas.events.common import PersonIdentifiers, PersonRef
from schemas.events.police import Address, AddressNotified, CautionRecorded, NameNotified
from schemas.events.registry import NotificationOverdue
from tests.e2e.helpers import query
from tests.support.kafka import event_of, publish, read_until, registered
from tests.support.waiting import eventually

KEY = secrets.token_urlsafe(48)


def _token(agency: Agency, role: Role, area: str, **options: object) -> str:
    principal = Principal(user=f"u-{secrets.token_hex(3)}", agency=agency, role=role, area=area)
    return issue(principal, key=KEY, **options)  # type: ignore[arg-type]


def _headers(token: str | None, purpose: str | None = "MAPPA level 2 meeting preparation") -> dict[str, str]:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if purpose is not None:
        headers["X-Purpose"] = purpose
    return headers


@pytest.fixture
def registry_api(platform: LocalPlatform) -> LocalPlatform:
    platform.start("registry", MAPPA_AUTH_JWT_KEY=KEY, MAPPA_REGISTRY_SCHEDULE_SECONDS="0.5")
    platform.wait_healthy("registry")
    return platform


async def test_reads_are_authenticated_need_to_know_and_audited(
    kafka_bootstrap: str, registry_api: LocalPlatform
) -> None:
    conviction = Synthetic().conviction()
    person, area = conviction.person, conviction.recording_force
    event = Synthetic().conviction_event(conviction)
    await publish(kafka_bootstrap, AGENCY_POLICE.name, event.to_json(), key=person.pnc_id)
    [nominal] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(event.id))
    platform_id = event_of(nominal)["subject"]
    url = registry_api.url("registry", f"/nominals/{platform_id}")
    offender_manager = _token(Agency.PROBATION, Role.OFFENDER_MANAGER, area)
    other_area = "99" if area != "99" else "98"

    async with httpx.AsyncClient(timeout=10) as http:
        seen = await http.get(url, headers=_headers(offender_manager))
        assert seen.status_code == 200
        record = seen.json()
        assert record["category"] == 1
        assert record["notification_requirement"]["basis"].startswith("s.82")
        # Sentenced to custody: no notification is due until release.
        assert record["custody_status"] == "in-custody"
        assert record["compliance"] == {
            "status": "compliant",
            "next_notification": None,
            "deadline": None,
            "breaches": [],
        }
        assert {"scheme": "pnc", "value": person.pnc_id} in record["identifiers"]

        # Tokens: missing, forged, expired, for another audience, unsigned.
        forged = issue(Principal("u", Agency.POLICE, Role.OFFENDER_MANAGER, area), key=KEY[::-1])
        expired = _token(
            Agency.POLICE, Role.OFFENDER_MANAGER, area, now=datetime.now(UTC) - timedelta(hours=3)
        )
        elsewhere = _token(Agency.POLICE, Role.OFFENDER_MANAGER, area, audience="another-system")
        header, payload, _ = offender_manager.split(".")
        unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + "."
        for token in (None, forged, expired, elsewhere, unsigned, header + "." + payload):
            refused = await http.get(url, headers=_headers(token))
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")

        # Need-to-know: another area, and a Duty-to-Co-operate agency not invited,
        # get the same answer as for a person not on the register.
        for token in (
            _token(Agency.POLICE, Role.OFFENDER_MANAGER, other_area),
            _token(Agency.DWP, Role.OFFENDER_MANAGER, area),
        ):
            hidden = await http.get(url, headers=_headers(token))
            missing = await http.get(
                registry_api.url("registry", "/nominals/not-a-real-id"), headers=_headers(token)
            )
            assert (
                (hidden.status_code, hidden.json())
                == (missing.status_code, missing.json())
                == (
                    404,
                    {"detail": "no such nominal"},
                )
            )
        operations = await http.get(url, headers=_headers(_token(Agency.POLICE, Role.OPERATIONS, area)))
        assert operations.status_code == 403
        assert (await http.get(url, headers=_headers(offender_manager, purpose=None))).status_code == 400

        looked_up = await http.post(
            registry_api.url("registry", "/nominals/lookup"),
            json={"scheme": "pnc", "value": person.pnc_id},
            headers=_headers(offender_manager, "Look-up"),
        )
        assert looked_up.json()["platform_id"] == platform_id
        found = await http.post(
            registry_api.url("registry", "/nominals/search"),
            json={
                "family_name": person.family_name.upper(),
                "date_of_birth": person.date_of_birth.isoformat(),
            },
            headers=_headers(offender_manager, "Search"),
        )
        assert [n["platform_id"] for n in found.json()] == [platform_id]
        history = await http.get(f"{url}/history", headers=_headers(offender_manager, "History"))
        changes = [line["change"] for line in history.json()]
        assert changes[0] == "registered"
        assert "category 1" in changes

        # Notifications to the police: an address, then a new name (the old one kept as an alias).
        ref = PersonRef(identifiers=PersonIdentifiers(pnc_id=person.pnc_id))
        notes: list[Contract] = [
            AddressNotified(
                person=ref,
                notified_on=date.today(),
                notification="initial",
                address=Address(line1="1 Example Street", town="Exampleton", postcode="EX1 1AA"),
            ),
            NameNotified(
                person=ref, notified_on=date.today(), family_name="Renamed", given_names=["Synthetic"]
            ),
        ]
        for note in notes:
            sent = Synthetic().agency_event(AGENCY_POLICE, note)
            await publish(kafka_bootstrap, AGENCY_POLICE.name, sent.to_json(), key=person.pnc_id)

        async def renamed() -> dict[str, Any] | None:
            current: dict[str, Any] = (await http.get(url, headers=_headers(offender_manager))).json()
            return current if current["family_name"] == "Renamed" else None

        record = await eventually(renamed, what="the name change to be applied")
        assert record["aliases"][0]["family_name"] == person.family_name
        assert record["addresses"][0]["postcode"] == "EX1 1AA"
        requirement = record["notification_requirement"]
        assert requirement["initial_notified_on"] == date.today().isoformat()
        # Custody of 18 months: a 10-year requirement, ending the day before the tenth anniversary.
        assert (requirement["indefinite"], requirement["period_months"]) == (False, 120)
        assert requirement["review_eligible_from"] is None

        # Cautioned ten days ago and never notified: the initial notification is overdue.
        synthetic = Synthetic()
        someone = synthetic.person(age=30)
        caution_date = date.today() - timedelta(days=10)
        cautioned = CautionRecorded(
            person=someone,
            offence=conviction.offence,
            caution_date=caution_date,
            # 29 if their birthday fell in the last ten days: the age the police system records.
            age_at_caution=age_on(someone.date_of_birth, caution_date),
            recording_force=area,
        )
        pnc = cautioned.person.pnc_id
        sent = synthetic.agency_event(AGENCY_POLICE, cautioned)
        await publish(kafka_bootstrap, AGENCY_POLICE.name, sent.to_json(), key=pnc)
        [second] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(sent.id))
        late_id = event_of(second)["subject"]

        def breach_of(record: ConsumerRecord) -> bool:
            event = event_of(record)
            return bool(event["type"] == type_of(NotificationOverdue) and event["subject"] == late_id)

        [breach] = await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=breach_of)
        assert (
            event_of(breach)["data"]["deadline"] == (cautioned.caution_date + timedelta(days=2)).isoformat()
        )
        overdue = await http.get(
            registry_api.url("registry", "/notifications/overdue"), headers=_headers(offender_manager)
        )
        listed = {n["platform_id"]: n for n in overdue.json()}
        assert platform_id not in listed  # in custody: nothing is due
        assert listed[late_id]["notification"] == "initial"
        assert listed[late_id]["days_overdue"] == 8
        late = await http.get(
            registry_api.url("registry", f"/nominals/{late_id}"), headers=_headers(offender_manager)
        )
        assert late.json()["compliance"]["status"] == "overdue"
        assert late.json()["compliance"]["breaches"] == [
            {"notification": "initial", "deadline": event_of(breach)["data"]["deadline"]}
        ]

        # The auditor sees every read of the nominal, with its stated purpose.
        auditor = _token(Agency.POLICE, Role.AUDITOR, area)
        reads = await http.get(f"{url}/reads", headers=_headers(auditor, "Audit"))
        assert reads.status_code == 200
        # Each kind of read is there, under its stated purpose, as the record or its history.
        kinds = {(r["record"], r["purpose"]) for r in reads.json()}
        assert {("nominal", "Look-up"), ("nominal", "Search"), ("nominal-history", "History")} <= kinds
        # Only the reads that returned the record, all by the one offender manager; refusals read nothing.
        assert {(r["agency"], r["role"]) for r in reads.json()} == {("probation", "offender-manager")}
        # Reading the audit trail is itself audited.
        again = await http.get(f"{url}/reads", headers=_headers(auditor, "Audit"))
        assert ("nominal-reads", "Audit") in {(r["record"], r["purpose"]) for r in again.json()}
        assert (await http.get(url, headers=_headers(auditor))).status_code == 403

        # If the audit cannot be written, the record is not read.
        query(registry_api.data_dir / "registry.db", "DROP TABLE audit_reads")
        failed = await http.get(url, headers=_headers(offender_manager))
        assert failed.status_code == 500
        assert person.family_name not in failed.text

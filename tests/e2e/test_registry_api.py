"""The registry's read API on a running service: tokens, need-to-know and audited reads."""

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deploy.local import LocalPlatform
from eventkit.auth import Principal, Role
from eventkit.synthetic import Synthetic
from eventkit.tokens import issue
from schemas.agencies import Agency
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS
from tests.e2e.helpers import query, registered
from tests.support.kafka import event_of, publish, read_until

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
    [nominal] = await read_until(
        kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(person.pnc_id)
    )
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

        looked_up = await http.get(
            registry_api.url("registry", "/nominals"),
            params={"scheme": "pnc", "value": person.pnc_id},
            headers=_headers(offender_manager),
        )
        assert looked_up.json()["platform_id"] == platform_id
        found = await http.get(
            registry_api.url("registry", "/nominals-search"),
            params={
                "family_name": person.family_name.upper(),
                "date_of_birth": person.date_of_birth.isoformat(),
            },
            headers=_headers(offender_manager),
        )
        assert [n["platform_id"] for n in found.json()] == [platform_id]
        history = await http.get(f"{url}/history", headers=_headers(offender_manager))
        changes = [line["change"] for line in history.json()]
        assert changes[0] == "registered"
        assert "category 1" in changes

        # The auditor sees every read of the nominal, with its stated purpose.
        auditor = _token(Agency.POLICE, Role.AUDITOR, area)
        reads = await http.get(f"{url}/reads", headers=_headers(auditor))
        assert reads.status_code == 200
        assert len(reads.json()) == 3  # by id, by identifier, by search
        assert {r["purpose"] for r in reads.json()} == {"MAPPA level 2 meeting preparation"}
        assert (await http.get(url, headers=_headers(auditor))).status_code == 403

        # If the audit cannot be written, the record is not read.
        query(registry_api.data_dir / "registry.db", "DROP TABLE audit_reads")
        failed = await http.get(url, headers=_headers(offender_manager))
        assert failed.status_code == 500
        assert person.family_name not in failed.text

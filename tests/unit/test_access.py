"""Need-to-know, from MAPPA Guidance: Responsible Authority by area, Duty-to-Co-operate by invitation."""

import pytest

from eventkit.access import may_read_audit, may_read_nominal, may_read_personal_records
from eventkit.auth import Principal, Role
from schemas.agencies import Agency

NONE_INVITED: frozenset[str] = frozenset()


def _who(agency: Agency, role: Role = Role.OFFENDER_MANAGER, area: str = "N01") -> Principal:
    return Principal(user="u-1", agency=agency, role=role, area=area)


@pytest.mark.parametrize(
    ("principal", "nominal_area", "invited", "allowed"),
    [
        pytest.param(_who(Agency.PROBATION), "N01", NONE_INVITED, True, id="RA same area"),
        pytest.param(
            _who(Agency.POLICE, Role.PUBLIC_PROTECTION_OFFICER), "N01", NONE_INVITED, True, id="PPO"
        ),
        pytest.param(_who(Agency.PRISON, Role.MEETING_CHAIR), "N01", NONE_INVITED, True, id="RA chair"),
        pytest.param(_who(Agency.PROBATION), "S07", NONE_INVITED, False, id="RA other area"),
        pytest.param(_who(Agency.NHS), "N01", frozenset({"nhs"}), True, id="DtC invited same area"),
        pytest.param(
            _who(Agency.DWP), "N01", frozenset({"dwp", "nhs"}), True, id="DtC one of several invited"
        ),
        pytest.param(_who(Agency.NHS), "N01", NONE_INVITED, False, id="DtC not invited"),
        pytest.param(_who(Agency.NHS), "N01", frozenset({"yot"}), False, id="DtC other agency invited"),
        pytest.param(_who(Agency.NHS), "S07", frozenset({"nhs"}), False, id="DtC invited other area"),
        pytest.param(_who(Agency.POLICE, Role.AUDITOR), "N01", NONE_INVITED, False, id="auditor"),
        pytest.param(
            _who(Agency.NHS, Role.AUDITOR), "N01", frozenset({"nhs"}), False, id="DtC auditor invited"
        ),
        pytest.param(_who(Agency.PROBATION, Role.OPERATIONS), "N01", NONE_INVITED, False, id="operations"),
        pytest.param(_who(Agency.PROBATION, area="N1"), "N01", NONE_INVITED, False, id="area exact"),
        # A nominal in no area yet: for Responsible Authority co-ordinators, to place or merge.
        pytest.param(
            _who(Agency.POLICE, Role.MAPPA_COORDINATOR),
            None,
            NONE_INVITED,
            True,
            id="no area: RA co-ordinator",
        ),
        pytest.param(_who(Agency.PROBATION), None, NONE_INVITED, False, id="no area: offender manager"),
        pytest.param(_who(Agency.NHS, Role.MAPPA_COORDINATOR), None, NONE_INVITED, False, id="no area: DtC"),
    ],
)
def test_who_may_read_a_nominal(
    principal: Principal, nominal_area: str | None, invited: frozenset[str], allowed: bool
) -> None:
    assert may_read_nominal(principal, nominal_area, invited) is allowed


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OFFENDER_MANAGER, True),
        (Role.SENIOR_OFFICER, True),
        (Role.AUDITOR, False),
        (Role.OPERATIONS, False),
    ],
)
def test_auditors_and_operations_read_no_personal_records(role: Role, allowed: bool) -> None:
    assert may_read_personal_records(_who(Agency.POLICE, role)) is allowed


@pytest.mark.parametrize(
    ("principal", "record_area", "allowed"),
    [
        pytest.param(_who(Agency.POLICE, Role.AUDITOR), "N01", True, id="auditor same area"),
        pytest.param(_who(Agency.POLICE, Role.AUDITOR), "S07", False, id="auditor other area"),
        pytest.param(_who(Agency.PROBATION), "N01", False, id="offender manager"),
        pytest.param(_who(Agency.PROBATION, Role.OPERATIONS), "N01", False, id="operations"),
    ],
)
def test_only_auditors_of_the_area_read_the_audit_trail(
    principal: Principal, record_area: str, allowed: bool
) -> None:
    assert may_read_audit(principal, record_area) is allowed

"""Need-to-know: who may read which records. Plain functions, no I/O.

MAPPA Guidance: the Responsible Authority (police, prison, probation) sees
the cases of its area; a Duty-to-Co-operate agency sees a case only while
it is invited to that case's meetings, and only in its own area. Auditors
read the audit trail, not the people in it; operations staff see counts
and flows, never personal records.

A read API answers a refused record exactly as a missing one (404, same
body), so a refusal never confirms that a person is on the register. Only
``may_read_personal_records``, which depends on the caller alone, may be
answered with 403 before anything is looked up.
"""

from eventkit.auth import Principal, Role

# Roles whose work is about the people on the register.
# The board chair oversees the area's arrangements and is told of serious case reviews, not cases.
_CASEWORK_ROLES = frozenset(Role) - {Role.AUDITOR, Role.OPERATIONS, Role.STRATEGIC_BOARD_CHAIR}


def may_read_personal_records(principal: Principal) -> bool:
    """Whether this caller's role reads any person's record at all."""
    return principal.role in _CASEWORK_ROLES


def may_read_nominal(
    principal: Principal, nominal_area: str | None, invited_agencies: frozenset[str]
) -> bool:
    """Whether the caller may read the nominal managed in ``nominal_area``.

    ``invited_agencies`` are the agencies currently invited to the case's
    meetings; an invitation that has ended must no longer be in it. A
    nominal in no area yet (first known to a prison or a hospital, say) is
    for Responsible Authority MAPPA co-ordinators, who place or merge it.
    """
    if nominal_area is None:
        return principal.role is Role.MAPPA_COORDINATOR and principal.responsible_authority
    if not may_read_personal_records(principal) or principal.area != nominal_area:
        return False
    return principal.responsible_authority or principal.agency in invited_agencies


def may_read_audit(principal: Principal, record_area: str) -> bool:
    """Whether the caller may read who read a record of ``record_area``: auditors of that area only."""
    return principal.role is Role.AUDITOR and principal.area == record_area


def may_see_area_casework(principal: Principal) -> bool:
    """Whether the caller sees the casework of their whole area (counts, and the ids behind them):
    Responsible Authority caseworkers; a Duty-to-Co-operate agency sees only cases it is invited to."""
    return may_read_personal_records(principal) and principal.responsible_authority


def may_operate(principal: Principal) -> bool:
    """Whether the caller runs the platform: the pipeline, and dead letters (never people's records)."""
    return principal.role is Role.OPERATIONS

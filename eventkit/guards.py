"""What every read API shares: who may call it, a subject's history, and a record's audit trail."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import access, audit, history, invitations
from eventkit.auth import Authenticated, Principal, Purpose
from eventkit.http import Db

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0)]


def caseworker(principal: Authenticated) -> Principal:
    """The caller, if their role reads people's records at all; 403 before anything is looked up."""
    if not access.may_read_personal_records(principal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this role does not read personal records")
    return principal


Caseworker = Annotated[Principal, Depends(caseworker)]


def responsible_authority(principal: Caseworker) -> Principal:
    """A caseworker of the Responsible Authority: area-wide lists are theirs."""
    if not principal.responsible_authority:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this list is for the Responsible Authority")
    return principal


ResponsibleAuthority = Annotated[Principal, Depends(responsible_authority)]


def operations_staff(principal: Authenticated) -> Principal:
    """Operations staff: the pipeline and dead letters are theirs (never a person's record)."""
    if not access.may_operate(principal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "for operations staff")
    return principal


OperationsStaff = Annotated[Principal, Depends(operations_staff)]


async def may_read_case(
    session: AsyncSession, principal: Principal, platform_id: str, area: str | None
) -> bool:
    """Need-to-know for a case of ``area``: a Duty-to-Co-operate agency's rests on its invitations now."""
    invited = (
        frozenset()
        if principal.responsible_authority
        else await invitations.invited_agencies(session, platform_id)
    )
    return access.may_read_nominal(principal, area, invited)


class HistoryLine(BaseModel):
    at: datetime
    change: str
    cause_id: str
    cause_type: str


async def read_history(
    session: AsyncSession,
    principal: Principal,
    purpose: str,
    *,
    subject: str,
    record_type: str,
    not_found: HTTPException,
    limit: int,
    offset: int,
) -> list[HistoryLine]:
    """A page of ``subject``'s history, audited as a read of ``record_type``; check need-to-know first.

    The history is the Responsible Authority's: its lines quote what the case's facts and decisions
    were (an offence code, a category's reason), more than a partner invited to the case's meetings
    reads of it. A partner is answered as for a missing record.
    """
    if not principal.responsible_authority:
        raise not_found
    lines = await history.lines(session, subject, limit=limit, offset=offset)
    await audit.record_read(session, principal, purpose=purpose, record_type=record_type, record_id=subject)
    return [
        HistoryLine(at=line.at, change=line.change, cause_id=line.cause_id, cause_type=line.cause_type)
        for line in lines
    ]


class ReadRecord(BaseModel):
    at: datetime
    user: str
    agency: str
    role: str
    purpose: str
    record: str


async def audit_trail(
    session: AsyncSession,
    principal: Principal,
    purpose: str,
    *,
    area: str | None,
    record_types: tuple[str, ...],
    record_id: str,
    not_found: HTTPException,
    limit: int,
    offset: int,
) -> list[ReadRecord]:
    """Who read a record of ``area`` (as any of ``record_types``): for that area's auditors only.

    Reading the trail is itself audited, as the last of ``record_types``.
    """
    if area is None or not access.may_read_audit(principal, area):
        raise not_found
    rows = await audit.reads_of(session, record_types, record_id, limit=limit, offset=offset)
    await audit.record_read(
        session, principal, purpose=purpose, record_type=record_types[-1], record_id=record_id
    )
    return [
        ReadRecord(
            at=r.at, user=r.user, agency=r.agency, role=r.role, purpose=r.purpose, record=r.record_type
        )
        for r in rows
    ]


# The area a record is managed in, for its auditors; None when there is no such record.
AreaOf = Callable[[AsyncSession, str], Awaitable[str | None]]


def add_audit_trail(
    router: APIRouter,
    path: str,
    *,
    record_types: tuple[str, ...],
    area_of: AreaOf,
    not_found: HTTPException,
    description: str,
) -> None:
    """``GET path`` (with ``{platform_id}``): who read or acted on the record, for its area's auditors."""

    async def reads(
        platform_id: str,
        principal: Authenticated,
        purpose: Purpose,
        db: Db,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[ReadRecord]:
        async with db.transaction() as session:
            return await audit_trail(
                session,
                principal,
                purpose,
                area=await area_of(session, platform_id),
                record_types=record_types,
                record_id=platform_id,
                not_found=not_found,
                limit=limit,
                offset=offset,
            )

    router.add_api_route(
        path, reads, methods=["GET"], response_model=list[ReadRecord], description=description
    )

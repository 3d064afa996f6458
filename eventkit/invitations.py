"""Who is invited to a case's meetings: the need-to-know of Duty-to-Co-operate agencies.

A Duty-to-Co-operate agency reads a case only while it is invited to one
of the case's MAPPA meetings (``eventkit.access``). The meetings service
owns invitations and publishes each one and its end; every service that
answers reads of a case keeps this projection of those events, and never
reads the meetings service's tables.
"""

from sqlalchemy import Column, Date, String, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.consumer import Handlers, UnitOfWork
from eventkit.db import insert_if_new, kit_metadata
from schemas.events.meetings import AttendeeInvited, AttendeeUninvited

invitations = Table(
    "kit_invitations",
    kit_metadata,
    Column("platform_id", String(64), primary_key=True),
    Column("meeting_id", String(64), primary_key=True),
    Column("agency", String(32), primary_key=True),
    Column("invited_on", Date, nullable=False),
)

handlers = Handlers()


@handlers.on(AttendeeInvited)
async def invited(data: AttendeeInvited, work: UnitOfWork) -> None:
    await work.session.execute(
        insert_if_new(work.session, invitations),
        dict(
            platform_id=data.platform_id,
            meeting_id=data.meeting_id,
            agency=data.agency,
            invited_on=data.invited_on,
        ),
    )


@handlers.on(AttendeeUninvited)
async def uninvited(data: AttendeeUninvited, work: UnitOfWork) -> None:
    await work.session.execute(
        delete(invitations).where(
            invitations.c.platform_id == data.platform_id,
            invitations.c.meeting_id == data.meeting_id,
            invitations.c.agency == data.agency,
        )
    )


async def invited_agencies(session: AsyncSession, platform_id: str) -> frozenset[str]:
    """The agencies invited now to any of the case's meetings."""
    rows = await session.scalars(
        select(invitations.c.agency).where(invitations.c.platform_id == platform_id).distinct()
    )
    return frozenset(rows)

"""The notifications API: a person's inbox and acknowledging, a notification's delivery history, and an
area's failed and unacknowledged notifications for its co-ordinator.

Every answer that shows a case's platform id is audited as a read of that
case, in the read's own transaction; a notification the caller may not see
is answered exactly as a missing one.
"""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import audit, steps
from eventkit.auth import Authenticated, Principal, Purpose, Role
from eventkit.guards import Limit, Offset, ResponsibleAuthority, may_read_case
from eventkit.http import Db, Now
from eventkit.outbox import Emitter
from schemas.events.notifications import NotificationAcknowledged
from services.notifications.notify import on_trace_of, status_of
from services.notifications.storage import NotificationStore

router = APIRouter(tags=["notifications"])
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, "no such notification")
SOURCE = "/mappa/notifications"
# How reads of a case's notifications appear in its audit trail.
RECORD = "case-notifications"


class NotificationView(BaseModel):
    notification_id: str
    platform_id: str
    kind: str
    subject: str
    action: str
    due: str | None
    urgent: bool
    role: str
    agency: str | None
    redirected: str | None
    intended_role: str | None
    escalated_from: str | None
    created_at: datetime
    acknowledged_at: datetime | None


class DeliveryView(BaseModel):
    channel: str
    status: str
    attempts: int
    error: str | None
    updated_at: datetime


class AttemptView(BaseModel):
    channel: str
    attempt: int
    at: datetime
    outcome: str
    error: str | None


class History(NotificationView):
    deliveries: list[DeliveryView]
    attempts: list[AttemptView]


def _view(n: dict[str, Any]) -> NotificationView:
    return NotificationView(**{k: n[k] for k in NotificationView.model_fields})


def addressed_to(principal: Principal, n: dict[str, Any]) -> bool:
    """Whether the notification is the caller's: to them by name, or to their role in their area (a
    role's notification for no agency in particular is the Responsible Authority's)."""
    if n["staff_ref"] is not None:
        return bool(n["staff_ref"] == principal.user)
    agency_ok = n["agency"] == principal.agency or (n["agency"] is None and principal.responsible_authority)
    same_role = n["role"] == principal.role and agency_ok
    return same_role and (n["area"] == principal.area or (n["area"] is None and _unplaced_reader(principal)))


async def _may_see(session: AsyncSession, principal: Principal, n: dict[str, Any]) -> bool:
    """Addressed to the caller and, for a Duty-to-Co-operate agency, about a case it is invited to now."""
    if not addressed_to(principal, n):
        return False
    return principal.responsible_authority or await may_read_case(
        session, principal, n["platform_id"], n["area"]
    )


def _unplaced_reader(principal: Principal) -> bool:
    # A case in no area yet is for Responsible Authority co-ordinators (eventkit.access).
    return principal.role is Role.MAPPA_COORDINATOR and principal.responsible_authority


def _coordinator_of(principal: Principal, n: dict[str, Any]) -> bool:
    """The Responsible Authority's MAPPA co-ordinator of the notification's area (or of none, unplaced)."""
    coordinator = principal.role is Role.MAPPA_COORDINATOR and principal.responsible_authority
    return coordinator and (n["area"] == principal.area or n["area"] is None)


async def _audit(
    session: AsyncSession, principal: Principal, purpose: str, shown: list[dict[str, Any]]
) -> None:
    shown_ids = (n["platform_id"] for n in shown)
    await audit.record_reads(session, principal, purpose=purpose, record_type=RECORD, record_ids=shown_ids)


@router.get("/inbox", response_model=list[NotificationView])
async def inbox(
    principal: Authenticated,
    purpose: Purpose,
    db: Db,
    unread: bool = Query(True, description="Only those not yet acknowledged"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[NotificationView]:
    """The caller's notifications and their role's in their area, newest first."""
    async with db.transaction() as session:
        listed = await NotificationStore(session).inbox(
            staff_ref=principal.user,
            area=principal.area,
            role=principal.role,
            agency=principal.agency,
            unplaced=_unplaced_reader(principal),
            unread=unread,
            limit=limit,
            offset=offset,
        )
        found = [n for n in listed if await _may_see(session, principal, n)]
        await _audit(session, principal, purpose, found)
    return [_view(n) for n in found]


@router.post("/inbox/{notification_id}/acknowledge", response_model=NotificationView)
async def acknowledge(
    notification_id: str, principal: Authenticated, purpose: Purpose, db: Db, now: Now
) -> NotificationView:
    """Mark it read: neither it nor its copies to others in the same role escalate. Acknowledging it
    again changes nothing. Audited as a read of the case."""
    async with db.transaction() as session:
        found = await NotificationStore(session).notification(notification_id)
        if found is None or not await _may_see(session, principal, found):
            raise NOT_FOUND

    async def step(work: Emitter) -> dict[str, Any]:
        store = NotificationStore(work.session)
        acknowledged = await store.acknowledge(notification_id, principal.user, now)
        n = await store.notification(notification_id)
        assert n is not None
        if acknowledged:
            with on_trace_of(n):
                await work.emit(NotificationAcknowledged(**status_of(n)), key=n["platform_id"])
        return n

    actor = steps.Actor(principal, purpose, db, source=SOURCE, record=RECORD)
    return _view(await actor.take("acknowledge", found["platform_id"], step))


@router.get("/notifications/{notification_id}", response_model=History)
async def history(notification_id: str, principal: Authenticated, purpose: Purpose, db: Db) -> History:
    """Its deliveries by channel and every attempt: for its recipient and the area's co-ordinator."""
    async with db.transaction() as session:
        store = NotificationStore(session)
        n = await store.notification(notification_id)
        if n is None or not (await _may_see(session, principal, n) or _coordinator_of(principal, n)):
            raise NOT_FOUND
        await _audit(session, principal, purpose, [n])
        return History(
            **_view(n).model_dump(),
            # In the inbox from the moment it was made; the other channels as their rows say.
            deliveries=[
                DeliveryView(
                    channel="inbox", status="delivered", attempts=1, error=None, updated_at=n["created_at"]
                ),
                *(DeliveryView(**d) for d in await store.deliveries_of(notification_id)),
            ],
            attempts=[AttemptView(**a) for a in await store.attempts_of(notification_id)],
        )


@router.get("/areas/{area}/notifications", response_model=list[NotificationView])
async def troubled(
    area: str,
    principal: ResponsibleAuthority,
    purpose: Purpose,
    db: Db,
    status_: Literal["failed", "unacknowledged", "redirected"] = Query(alias="status"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[NotificationView]:
    """The area's notifications a channel gave up on, nobody has acknowledged, or whose recipient was
    not known (told to the co-ordinator instead): oldest first."""
    if principal.role is not Role.MAPPA_COORDINATOR or principal.area != area:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "for the area's MAPPA co-ordinators")
    async with db.transaction() as session:
        found = await NotificationStore(session).troubled(area, status=status_, limit=limit, offset=offset)
        await _audit(session, principal, purpose, found)
    return [_view(n) for n in found]

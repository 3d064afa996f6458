"""Decisions a MAPPA co-ordinator takes on the register: identity resolution cases, merges and unmerges.

Identity is never merged silently: only these explicit requests merge,
each is published, audited and reversible. Every nominal named must be in
the co-ordinator's area; otherwise the answer is the same as for a nominal
that does not exist.
"""

import logging
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import audit
from eventkit.auth import Authenticated, Principal, Purpose, Role
from eventkit.consumer import UnitOfWork
from eventkit.http import Db, Now, RequestBody, Today
from eventkit.outbox import Cause, Emitter
from schemas.envelope import CloudEvent
from schemas.identifiers import Scheme
from services.registry import merging
from services.registry.api import case_visible
from services.registry.handlers.resolve import note, replay
from services.registry.merging import SOURCE
from services.registry.reads import RegistryReads
from services.registry.storage import RegistryStore

log = logging.getLogger(__name__)
router = APIRouter(tags=["decisions"])
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, "no such nominal")


def _coordinator(principal: Principal) -> None:
    if principal.role is not Role.MAPPA_COORDINATOR or not principal.responsible_authority:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "identity decisions are for MAPPA co-ordinators")


async def _in_area(reads: RegistryReads, principal: Principal, *platform_ids: str) -> None:
    """Each nominal is the co-ordinator's area's, or in no area yet (first seen by a prison, say)."""
    for platform_id in platform_ids:
        found = await reads.nominal(platform_id)
        if found is None or found["area"] not in (principal.area, None) or found["mappa_status"] == "merged":
            raise NOT_FOUND


class Identifier(BaseModel):
    scheme: str
    value: str


class MergeDone(BaseModel):
    merge_id: int
    survivor: str
    absorbed: str
    identifiers: list[Identifier]


def _done(merge_id: int, survivor: str, absorbed: str, moved: list[tuple[Scheme, str]]) -> MergeDone:
    listed = [Identifier(scheme=s, value=v) for s, v in moved]
    return MergeDone(merge_id=merge_id, survivor=survivor, absorbed=absorbed, identifiers=listed)


async def _audited(session: AsyncSession, principal: Principal, purpose: str, *platform_ids: str) -> None:
    for platform_id in platform_ids:
        await audit.record_read(
            session, principal, purpose=purpose, record_type="nominal", record_id=platform_id
        )


class Merge(RequestBody):
    absorbed: str = Field(min_length=1, max_length=64, description="The nominal found to be the same person")


@router.post("/nominals/{survivor}/merge", response_model=MergeDone)
async def merge(
    survivor: str,
    request: Merge,
    principal: Authenticated,
    purpose: Purpose,
    db: Db,
    today: Today,
) -> MergeDone:
    """Decide that ``absorbed`` is the same person as ``survivor``.

    The survivor takes the absorbed nominal's requirement if it lasts
    longer, and its category if that prevails; each change is published.
    """
    _coordinator(principal)
    absorbed = request.absorbed
    if survivor == absorbed:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "a nominal cannot be merged into itself")
    async with db.transaction() as session:
        store = RegistryStore(session)
        # The identifiers it moves too: an event about either person waits for the merge, or it for them.
        await store.take_turns(
            claimed=await store.identifiers_of(survivor, absorbed), nominals=[survivor, absorbed]
        )
        await _in_area(RegistryReads(session), principal, survivor, absorbed)
        merge_id, moved = await merging.merge(
            session, survivor, absorbed, decided_by=principal.user, area=principal.area, today=today
        )
        await _audited(session, principal, purpose, survivor, absorbed)
    return _done(merge_id, survivor, absorbed, moved)


@router.post("/merges/{merge_id}/unmerge", response_model=MergeDone)
async def unmerge(
    merge_id: int, principal: Authenticated, purpose: Purpose, db: Db, today: Today
) -> MergeDone:
    """Undo a merge: the absorbed nominal gets back exactly what the merge moved.

    The survivor's own requirement and category return as they were before
    the merge; a category that returns is published again.
    """
    _coordinator(principal)
    async with db.transaction() as session:
        store = RegistryStore(session)
        parties = await store.merge_parties(merge_id)
        if parties is None:
            raise NOT_FOUND
        await store.take_turns(claimed=await store.identifiers_of(*parties), nominals=parties)
        await _in_area(RegistryReads(session), principal, parties[0])
        undone = await merging.unmerge(session, merge_id, today=today)
        if undone is None:  # undone meanwhile, by a request another replica took
            raise NOT_FOUND
        survivor, restored = undone.survivor, undone.restored
        await _audited(session, principal, purpose, survivor, restored)
    return _done(merge_id, survivor, restored, undone.identifiers)


class CaseDecision(RequestBody):
    platform_id: str | None = Field(
        default=None, max_length=64, description="The nominal the held event is about; omit to dismiss it"
    )
    note: str = Field(min_length=1, max_length=200, description="Why: kept in the case and the history")


class CaseDecided(BaseModel):
    case_id: int
    status: Literal["applied", "dismissed"]
    platform_id: str | None


@router.post("/resolution-cases/{case_id}/decision", response_model=CaseDecided)
async def decide_case(
    case_id: int, decision: CaseDecision, principal: Authenticated, purpose: Purpose, db: Db, now: Now
) -> CaseDecided:
    """Close an identity resolution case: apply its held event to a nominal, or dismiss it.

    Applying runs the event through the handler it was held from, as if
    it had named that nominal; its identifiers are not linked, since they
    are what the case was about. The decision is audited either way.
    """
    _coordinator(principal)
    gone = HTTPException(status.HTTP_404_NOT_FOUND, "no such open resolution case")
    async with db.transaction() as session:
        store = RegistryStore(session)
        reads = RegistryReads(session)
        case: dict[str, Any] | None = await store.open_case_by_id(case_id)
        if case is None or not await case_visible(reads, principal, case["platform_ids"]):
            raise gone
        target = decision.platform_id
        if target is not None:
            await _in_area(reads, principal, target)
        # Only one decision closes a case, even when two arrive at once.
        if not await store.decide_case(
            case_id, platform_id=target, decided_by=principal.user, note=decision.note
        ):
            raise gone
        await audit.record_read(
            session, principal, purpose=purpose, record_type="resolution-case", record_id=str(case_id)
        )
        if target is not None:
            work = Emitter(session, SOURCE, Cause(f"resolution/{case_id}", "decision/resolution"))
            await note(work, target, f"resolution case {case_id}: held event applied ({decision.note})"[:200])
            await _audited(session, principal, purpose, target)
            held = CloudEvent.model_validate(case["event"])
            await replay(UnitOfWork(session, SOURCE, held, now=now), case["event"])
    log.info("resolution case %d %s by a co-ordinator", case_id, "applied" if target else "dismissed")
    return CaseDecided(case_id=case_id, status="applied" if target else "dismissed", platform_id=target)

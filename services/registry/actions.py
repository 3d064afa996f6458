"""Decisions a MAPPA co-ordinator takes on the register: identity resolution cases, merges and unmerges.

Identity is never merged silently: only these explicit requests merge,
each is published, audited and reversible. Every nominal named must be in
the co-ordinator's area; otherwise the answer is the same as for a nominal
that does not exist.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, status
from pydantic import BaseModel, Field

from eventkit import audit
from eventkit.auth import Authenticated, Principal, Purpose, Role
from eventkit.consumer import UnitOfWork
from eventkit.http import Db
from eventkit.outbox import Emitter
from schemas.envelope import CloudEvent
from schemas.events.registry import NominalsMerged, NominalsUnmerged
from services.registry.api import case_visible
from services.registry.handlers.resolve import replay
from services.registry.reads import RegistryReads
from services.registry.storage import RegistryStore

router = APIRouter(tags=["decisions"])
SOURCE = "/mappa/registry"
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, "no such nominal")


class MergeDone(BaseModel):
    merge_id: int
    survivor: str
    absorbed: str
    identifiers: dict[str, str]


def _coordinator(principal: Principal) -> None:
    if principal.role is not Role.MAPPA_COORDINATOR or not principal.responsible_authority:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "merges are decided by MAPPA co-ordinators")


async def _in_area(reads: RegistryReads, principal: Principal, *platform_ids: str) -> None:
    for platform_id in platform_ids:
        found = await reads.nominal(platform_id)
        if found is None or found["area"] != principal.area or found["mappa_status"] == "merged":
            raise NOT_FOUND


@router.post("/nominals/{survivor}/merge", response_model=MergeDone)
async def merge(
    survivor: str,
    absorbed: Annotated[str, Body(embed=True, max_length=64)],
    principal: Authenticated,
    purpose: Purpose,
    db: Db,
) -> MergeDone:
    """Decide that ``absorbed`` is the same person as ``survivor``."""
    _coordinator(principal)
    if survivor == absorbed:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "a nominal cannot be merged into itself")
    async with db.transaction() as session:
        await _in_area(RegistryReads(session), principal, survivor, absorbed)
        store = RegistryStore(session)
        merge_id, moved = await store.merge(survivor, absorbed, decided_by=principal.user)
        for platform_id, change in (
            (survivor, f"merged with {absorbed}"),
            (absorbed, f"merged into {survivor}"),
        ):
            await store.record(platform_id, change, event_id=f"merge/{merge_id}", event_type="decision/merge")
            await audit.record_read(
                session, principal, purpose=purpose, record_type="nominal", record_id=platform_id
            )
        await Emitter(session, SOURCE).emit(
            NominalsMerged(
                platform_id=survivor,
                absorbed_platform_id=absorbed,
                merge_id=merge_id,
                schemes=sorted(moved),
            ),
            key=survivor,
        )
    return MergeDone(merge_id=merge_id, survivor=survivor, absorbed=absorbed, identifiers=dict(moved))


@router.post("/merges/{merge_id}/unmerge", response_model=MergeDone)
async def unmerge(merge_id: int, principal: Authenticated, purpose: Purpose, db: Db) -> MergeDone:
    """Undo a merge: the absorbed nominal gets back exactly what the merge moved."""
    _coordinator(principal)
    async with db.transaction() as session:
        store = RegistryStore(session)
        parties = await store.merge_parties(merge_id)
        if parties is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such merge in force")
        await _in_area(RegistryReads(session), principal, parties[0])
        undone = await store.unmerge(merge_id)
        assert undone is not None  # the same transaction just found it
        survivor, restored, identifiers_ = undone
        for platform_id, change in (
            (survivor, f"unmerged {restored}"),
            (restored, f"unmerged from {survivor}"),
        ):
            await store.record(
                platform_id, change, event_id=f"unmerge/{merge_id}", event_type="decision/unmerge"
            )
            await audit.record_read(
                session, principal, purpose=purpose, record_type="nominal", record_id=platform_id
            )
        await Emitter(session, SOURCE).emit(
            NominalsUnmerged(
                platform_id=survivor,
                restored_platform_id=restored,
                merge_id=merge_id,
                schemes=sorted(identifiers_),
            ),
            key=survivor,
        )
    return MergeDone(merge_id=merge_id, survivor=survivor, absorbed=restored, identifiers=dict(identifiers_))


class CaseDecision(BaseModel):
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
    case_id: int, decision: CaseDecision, principal: Authenticated, purpose: Purpose, db: Db
) -> CaseDecided:
    """Close an identity resolution case: apply its held event to a nominal, or dismiss it.

    Applying runs the event through the handler it was held from, as if
    it had named that nominal; its identifiers are not linked, since they
    are what the case was about.
    """
    _coordinator(principal)
    async with db.transaction() as session:
        store = RegistryStore(session)
        reads = RegistryReads(session)
        case: dict[str, Any] | None = await store.open_case_by_id(case_id)
        if case is None or not await case_visible(reads, principal, case["platform_ids"]):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such open resolution case")
        target = decision.platform_id
        if target is not None:
            await _in_area(reads, principal, target)
        await store.decide_case(case_id, platform_id=target, decided_by=principal.user, note=decision.note)
        if target is not None:
            await store.record(
                target,
                f"resolution case {case_id}: held event applied ({decision.note})"[:200],
                event_id=f"resolution/{case_id}",
                event_type="decision/resolution",
            )
            await audit.record_read(
                session, principal, purpose=purpose, record_type="nominal", record_id=target
            )
            await replay(UnitOfWork(session, SOURCE, CloudEvent.model_validate(case["event"])), case["event"])
    return CaseDecided(case_id=case_id, status="applied" if target else "dismissed", platform_id=target)

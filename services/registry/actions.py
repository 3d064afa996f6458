"""Decisions a MAPPA co-ordinator takes on the register: merging and unmerging nominals.

Identity is never merged silently: only these explicit requests merge,
each is published, audited and reversible. Both nominals must be in the
co-ordinator's area; otherwise the answer is the same as for a nominal
that does not exist.
"""

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, status
from pydantic import BaseModel

from eventkit import audit
from eventkit.auth import Authenticated, Principal, Purpose, Role
from eventkit.http import Db
from eventkit.outbox import Emitter
from schemas.events.registry import AgencyIdentifier, NominalsMerged, NominalsUnmerged
from schemas.identifiers import Scheme
from services.registry.storage import RegistryReads, RegistryStore

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


def _listed(ids: dict[Scheme, str]) -> list[AgencyIdentifier]:
    return [AgencyIdentifier(scheme=s, value=v) for s, v in ids.items()]


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
                identifiers=_listed(moved),
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
                identifiers=_listed(identifiers_),
            ),
            key=survivor,
        )
    return MergeDone(merge_id=merge_id, survivor=survivor, absorbed=restored, identifiers=dict(identifiers_))

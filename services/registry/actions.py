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

from eventkit import audit
from eventkit.auth import Authenticated, Principal, Purpose, Role
from eventkit.consumer import UnitOfWork
from eventkit.http import Db, Now, RequestBody, Today
from eventkit.outbox import Cause, Emitter
from schemas.envelope import CloudEvent
from schemas.events.registry import NominalsMerged, NominalsUnmerged
from schemas.identifiers import Scheme
from services.registry import rules
from services.registry.api import case_visible
from services.registry.handlers import categories, notifications
from services.registry.handlers.resolve import note, replay
from services.registry.notification_rules import longer
from services.registry.reads import RegistryReads
from services.registry.storage import RegistryStore

log = logging.getLogger(__name__)
router = APIRouter(tags=["decisions"])
SOURCE = "/mappa/registry"
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


async def _noted_and_audited(
    work: Emitter, principal: Principal, purpose: str, changes: tuple[tuple[str, str], ...]
) -> None:
    for platform_id, change in changes:
        await note(work, platform_id, change)
        await audit.record_read(
            work.session, principal, purpose=purpose, record_type="nominal", record_id=platform_id
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
        await _in_area(RegistryReads(session), principal, survivor, absorbed)
        store = RegistryStore(session)
        merge_id, moved = await store.merge(survivor, absorbed, decided_by=principal.user)
        work = Emitter(session, SOURCE, Cause(f"merge/{merge_id}", "decision/merge"))
        changes = ((survivor, f"merged with {absorbed}"), (absorbed, f"merged into {survivor}"))
        await _noted_and_audited(work, principal, purpose, changes)
        if (await store.facts(survivor))["area"] is None:
            await store.update(survivor, area=principal.area)
        theirs = await store.requirement(absorbed)
        if theirs is not None and longer(await store.requirement(survivor), theirs) is theirs:
            await store.take_requirement(survivor, absorbed)
            await notifications.publish_requirement(work, survivor, theirs)
        facts = await store.facts(absorbed)
        if (category := facts["category"]) is not None:
            decision = rules.CategoryDecision(category, facts["category_reason"], rules.LEGAL_BASIS[category])
            await categories.assign(work, survivor, decision, today)
        await work.emit(
            NominalsMerged(
                platform_id=survivor,
                absorbed_platform_id=absorbed,
                merge_id=merge_id,
                schemes=sorted({scheme for scheme, _ in moved}),
            ),
            key=survivor,
        )
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
        await _in_area(RegistryReads(session), principal, parties[0])
        merged_category = (await store.facts(parties[0]))["category"]
        undone = await store.unmerge(merge_id)
        assert undone is not None  # the same transaction just found it
        survivor, restored = undone.survivor, undone.restored
        work = Emitter(session, SOURCE, Cause(f"unmerge/{merge_id}", "decision/unmerge"))
        changes = ((survivor, f"unmerged {restored}"), (restored, f"unmerged from {survivor}"))
        await _noted_and_audited(work, principal, purpose, changes)
        if undone.requirement_changed and (own := await store.requirement(survivor)) is not None:
            await notifications.publish_requirement(work, survivor, own)
        facts = await store.facts(survivor)
        if (category := facts["category"]) != merged_category:
            if category is None:
                reason = "Merge undone: the category came from the other record"
                await categories.exit_mappa(work, survivor, merged_category, reason, today)
            else:
                decision = rules.CategoryDecision(
                    category, facts["category_reason"], rules.LEGAL_BASIS[category]
                )
                await categories.set_category(
                    work, survivor, decision, today, f"category {category} restored"
                )
        await work.emit(
            NominalsUnmerged(
                platform_id=survivor,
                restored_platform_id=restored,
                merge_id=merge_id,
                schemes=sorted({scheme for scheme, _ in undone.identifiers}),
            ),
            key=survivor,
        )
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
            change = f"resolution case {case_id}: held event applied ({decision.note})"[:200]
            await _noted_and_audited(work, principal, purpose, ((target, change),))
            held = CloudEvent.model_validate(case["event"])
            await replay(UnitOfWork(session, SOURCE, held, now=now), case["event"])
    log.info("resolution case %d %s by a co-ordinator", case_id, "applied" if target else "dismissed")
    return CaseDecided(case_id=case_id, status="applied" if target else "dismissed", platform_id=target)

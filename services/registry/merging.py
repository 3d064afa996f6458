"""What a merge and an unmerge change on the register: a co-ordinator's decision through the API, and
the same decision applied again when the register is rebuilt from the log (``services/registry/rebuild.py``).
"""

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.outbox import Cause, Emitter
from schemas.events.registry import NominalsMerged, NominalsUnmerged
from schemas.identifiers import Scheme
from services.registry import rules
from services.registry.handlers import categories, notifications
from services.registry.handlers.resolve import note
from services.registry.notification_rules import longer
from services.registry.storage import RegistryStore, Unmerged

SOURCE = "/mappa/registry"


async def merge(
    session: AsyncSession,
    survivor: str,
    absorbed: str,
    *,
    decided_by: str,
    area: str | None,
    today: date,
    merge_id: int | None = None,
    decided_at: datetime | None = None,
) -> tuple[int, list[tuple[Scheme, str]]]:
    """``absorbed`` lives on as ``survivor``, which takes the longer requirement and the prevailing
    category; each change is published. A survivor in no area yet is placed in ``area``. Returns the
    merge id and the identifiers moved."""
    store = RegistryStore(session)
    merge_id, moved = await store.merge(
        survivor, absorbed, decided_by=decided_by, merge_id=merge_id, decided_at=decided_at
    )
    work = Emitter(session, SOURCE, Cause(f"merge/{merge_id}", "decision/merge"))
    await note(work, survivor, f"merged with {absorbed}")
    await note(work, absorbed, f"merged into {survivor}")
    placed = (await store.facts(survivor))["area"]
    if placed is None and area is not None:
        await store.update(survivor, area=area)
        placed = area
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
            area=placed,
        ),
        key=survivor,
    )
    return merge_id, moved


async def unmerge(
    session: AsyncSession, merge_id: int, *, today: date, undone_at: datetime | None = None
) -> Unmerged | None:
    """The absorbed nominal gets back exactly what the merge moved; the survivor's own requirement and
    category return as they were before it, and a category that returns is published again. None if
    no such merge is in force."""
    store = RegistryStore(session)
    parties = await store.merge_parties(merge_id)
    if parties is None:
        return None
    merged_category = (await store.facts(parties[0]))["category"]
    undone = await store.unmerge(merge_id, undone_at=undone_at)
    assert undone is not None  # the same transaction just found it
    survivor = undone.survivor
    work = Emitter(session, SOURCE, Cause(f"unmerge/{merge_id}", "decision/unmerge"))
    await note(work, survivor, f"unmerged {undone.restored}")
    await note(work, undone.restored, f"unmerged from {survivor}")
    if undone.requirement_changed and (own := await store.requirement(survivor)) is not None:
        await notifications.publish_requirement(work, survivor, own)
    facts = await store.facts(survivor)
    if (category := facts["category"]) != merged_category:
        if category is None:
            reason = "Merge undone: the category came from the other record"
            await categories.exit_mappa(work, survivor, merged_category, reason, today)
        else:
            decision = rules.CategoryDecision(category, facts["category_reason"], rules.LEGAL_BASIS[category])
            await categories.set_category(work, survivor, decision, today, f"category {category} restored")
    await work.emit(
        NominalsUnmerged(
            platform_id=survivor,
            restored_platform_id=undone.restored,
            merge_id=merge_id,
            schemes=sorted({scheme for scheme, _ in undone.identifiers}),
        ),
        key=survivor,
    )
    return undone

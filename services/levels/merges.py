"""Merges and unmerges of two records' cases, as the register decides them.

The survivor's case carries on at the higher of the two levels (a
screened level 1 ranks above one pending screening) with the earlier
review date; the absorbed record's case closes keeping what it was. An
unmerge puts both back as they were before the merge: the absorbed case
reopens, and the survivor's returns to its level before the merge (or
closes, if it had no open case). Its decisions and referrals stay in
each record's history; referrals withdrawn at the merge stay withdrawn.
"""

from datetime import date
from typing import Literal

from schemas.events import levels
from services.levels.casework import Casework
from services.levels.storage import Case


def _rank(case: Case) -> tuple[int, bool]:
    return case.level.level, case.level.status == "managed"


async def merged(casework: Casework, merge_id: int, absorbed: str, survivor: str, on: date) -> None:
    store = casework.store
    await store.take_turns(absorbed, survivor)
    taken, kept = await store.case(absorbed), await store.case(survivor)
    kept = kept if kept is not None and kept.level.status != "closed" else None
    if not await store.add_merge(merge_id, survivor=survivor, absorbed=absorbed, before=kept):
        return
    if taken is None or taken.level.status == "closed":
        await casework.note(survivor, f"record {absorbed} merged in; it had no open case")
        return
    if kept is None:
        await store.take_over(absorbed, survivor)
    else:
        reviews = [d for d in (kept.next_review_by, taken.next_review_by) if d is not None]
        await store.update(survivor, next_review_by=min(reviews, default=None))
        if _rank(taken) > _rank(kept):
            await store.update(
                survivor, level=taken.level.level, status=taken.level.status, confirmed=taken.confirmed
            )
    level = max(_rank(taken), _rank(kept) if kept else (0, False))[0]
    await casework.note(survivor, f"record {absorbed} merged in (merge {merge_id}): level {level}")
    await casework.close(taken, on, for_merge=True)
    await casework.note(absorbed, f"case closed: record merged into {survivor}")
    await casework.emit(
        levels.CaseClosed(platform_id=absorbed, closed_on=on, reason="merged", merged_into=survivor), absorbed
    )
    await casework.emit(
        levels.CaseMerged(
            platform_id=survivor,
            absorbed_platform_id=absorbed,
            merge_id=merge_id,
            level=level,
            previous_level=kept.level.level if kept else None,
            merged_on=on,
        ),
        survivor,
    )


async def unmerged(casework: Casework, merge_id: int, on: date) -> None:
    store = casework.store
    merge = await store.merge(merge_id)
    if merge is None or merge.undone:
        return
    await store.take_turns(merge.absorbed, merge.survivor)
    await store.undo_merge(merge_id)
    restored = await store.case(merge.absorbed)
    # Only a merge that closed the absorbed record's case changed the survivor's.
    if restored is None or restored.level.status != "closed" or restored.status_before_close is None:
        return
    status: Literal["pending-screening", "managed"] = (
        "pending-screening" if restored.status_before_close == "pending-screening" else "managed"
    )
    await store.update(merge.absorbed, status=status, closed_on=None, status_before_close=None)
    await casework.note(merge.absorbed, f"case reopened: merge {merge_id} undone")
    await casework.emit(
        levels.CaseReopened(
            platform_id=merge.absorbed, level=restored.level.level, status=status, reopened_on=on
        ),
        merge.absorbed,
    )
    survivor = await store.case(merge.survivor)
    assert survivor is not None, "the survivor's case was made or kept by the merge"
    if merge.survivor_level is None:
        await casework.close(survivor, on, for_merge=False)
        after: tuple[int, Literal["pending-screening", "managed", "closed"]] = (
            survivor.level.level,
            "closed",
        )
    else:
        await store.update(
            merge.survivor,
            level=merge.survivor_level,
            status=merge.survivor_status,
            confirmed=merge.survivor_confirmed,
            next_review_by=merge.survivor_next_review_by,
        )
        after = (merge.survivor_level, merge.survivor_status)
    await casework.note(merge.survivor, f"merge {merge_id} undone: back to level {after[0]} ({after[1]})")
    await casework.emit(
        levels.CaseUnmerged(
            platform_id=merge.survivor,
            restored_platform_id=merge.absorbed,
            merge_id=merge_id,
            level=after[0],
            status=after[1],
            unmerged_on=on,
        ),
        merge.survivor,
    )

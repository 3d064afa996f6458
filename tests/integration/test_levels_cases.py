"""A case's life beyond decisions: leaving MAPPA ends what was pending; a merge keeps the higher level, and
an unmerge reopens the case the merge closed."""

from datetime import date

from eventkit.errors import Refused
from eventkit.service import Service
from services.levels import merges
from services.levels.storage import ReferralState
from tests.support.casework import (
    SENIOR_OFFICER,
    a_platform_id,
    case_of,
    casework_in,
    level_decision,
    published,
    referral,
    referral_decision,
    screening,
)

ON = date(2027, 3, 1)


async def _at_level_3(service: Service) -> str:
    """A category 2 case screened, referred, accepted and raised to level 3 by a senior officer."""
    platform_id = a_platform_id()
    async with casework_in(service, platform_id) as casework:
        await casework.categorised(platform_id, 2, "01", ON)
        steps = [
            casework.screened(screening(platform_id, ON, level_sought=3), "probation"),
            casework.referred(referral(platform_id, ON, 3, ref="R-3")),
            casework.referral_decided(referral_decision(platform_id, ON, ref="R-3")),
            casework.level_decided(level_decision(platform_id, ON, 3, by=SENIOR_OFFICER)),
        ]
        for step in steps:
            assert await step is None
    return platform_id


async def test_leaving_mappa_closes_the_case_and_withdraws_its_referrals(offline_levels: Service) -> None:
    platform_id = a_platform_id()
    async with casework_in(offline_levels, "c") as casework:
        await casework.categorised(platform_id, 1, "01", ON)
        assert await casework.screened(screening(platform_id, ON, level_sought=2), "police") is None
        assert await casework.referred(referral(platform_id, ON, 2)) is None
        await casework.exited(platform_id, ON)
        await casework.exited(platform_id, ON)  # once only
        late = await casework.referral_decided(referral_decision(platform_id, ON))
        referral_now = await casework.store.referral(platform_id, "MAPPA-A-1")
    assert late == Refused("the case is closed")
    assert referral_now == ReferralState("withdrawn", 2)
    closed = await published(offline_levels, "case-closed", subject=platform_id)
    assert [e.data for e in closed] == [
        {"platform_id": platform_id, "closed_on": "2027-03-01", "reason": "exited-mappa", "merged_into": None}
    ]

    # Back in MAPPA later: screened afresh, with nothing of the old referrals pending.
    async with casework_in(offline_levels, "again") as casework:
        await casework.categorised(platform_id, 1, "01", date(2028, 1, 10))
    case = await case_of(offline_levels, platform_id)
    assert (case.level.status, case.accepted_referral_level, case.since) == (
        "pending-screening",
        None,
        date(2028, 1, 10),
    )


async def test_a_merge_keeps_the_higher_level_and_an_unmerge_puts_both_cases_back(
    offline_levels: Service,
) -> None:
    absorbed = await _at_level_3(offline_levels)
    survivor = a_platform_id()
    async with casework_in(offline_levels, "merge") as casework:
        await casework.categorised(survivor, 1, "01", ON)
        await merges.merged(casework, 12, absorbed, survivor, date(2027, 3, 5))
        await merges.merged(casework, 12, absorbed, survivor, date(2027, 3, 5))  # once only
        # The absorbed record's category arriving late opens no second case for the person.
        await casework.categorised(absorbed, 2, "01", date(2027, 3, 6))

    kept, taken = await case_of(offline_levels, survivor), await case_of(offline_levels, absorbed)
    assert (kept.level.level, kept.level.status, kept.confirmed) == (3, "managed", True)
    # The earlier review of the two: level 3's eight weeks from its decision.
    assert kept.next_review_by == date(2027, 4, 26)
    assert (taken.level.level, taken.level.status) == (3, "closed")
    [closed] = await published(offline_levels, "case-closed", subject=absorbed)
    assert closed.data["merged_into"] == survivor
    [merged] = await published(offline_levels, "case-merged", subject=survivor)
    assert (merged.data["level"], merged.data["previous_level"], merged.data["merge_id"]) == (3, 1, 12)

    async with casework_in(offline_levels, "unmerge") as casework:
        await merges.unmerged(casework, 12, date(2027, 3, 9))
        await merges.unmerged(casework, 12, date(2027, 3, 9))  # once only
    restored, back = await case_of(offline_levels, absorbed), await case_of(offline_levels, survivor)
    assert (restored.level.level, restored.level.status, restored.next_review_by) == (
        3,
        "managed",
        date(2027, 4, 26),
    )
    # The survivor is as it was before the merge: level 1 pending screening, reviewed by 30 August.
    assert (back.level.level, back.level.status, back.confirmed, back.next_review_by) == (
        1,
        "pending-screening",
        False,
        date(2027, 8, 30),
    )
    [reopened] = await published(offline_levels, "case-reopened", subject=absorbed)
    assert reopened.data == {
        "platform_id": absorbed,
        "level": 3,
        "status": "managed",
        "reopened_on": "2027-03-09",
    }
    [unmerged] = await published(offline_levels, "case-unmerged", subject=survivor)
    assert (unmerged.data["level"], unmerged.data["status"]) == (1, "pending-screening")


async def test_a_merge_into_a_record_with_no_case_moves_the_case_and_an_unmerge_closes_it_again(
    offline_levels: Service,
) -> None:
    absorbed = await _at_level_3(offline_levels)
    survivor = a_platform_id()
    async with casework_in(offline_levels, "merge") as casework:
        await merges.merged(casework, 13, absorbed, survivor, ON)
    kept = await case_of(offline_levels, survivor)
    assert (kept.level.level, kept.level.status, kept.category, kept.area) == (3, "managed", 2, "01")
    async with casework_in(offline_levels, "unmerge") as casework:
        await merges.unmerged(casework, 13, ON)
    assert (await case_of(offline_levels, survivor)).level.status == "closed"
    assert (await case_of(offline_levels, absorbed)).level.status == "managed"


async def test_a_raise_uses_the_lowest_accepted_referral_that_allows_it(offline_levels: Service) -> None:
    platform_id = a_platform_id()
    async with casework_in(offline_levels, "c") as casework:
        await casework.categorised(platform_id, 1, "01", ON)
        for step in [
            casework.screened(screening(platform_id, ON, level_sought=2), "police"),
            casework.referred(referral(platform_id, ON, 2, ref="R-2")),
            casework.referred(referral(platform_id, ON, 3, ref="R-3")),
            casework.referral_decided(referral_decision(platform_id, ON, ref="R-2")),
            casework.referral_decided(referral_decision(platform_id, ON, ref="R-3")),
            casework.level_decided(level_decision(platform_id, ON, 2)),
        ]:
            assert await step is None
        # R-2 was used; R-3 still allows level 3.
        assert await casework.store.referral(platform_id, "R-2") == ReferralState("used", 2)
        assert await casework.store.referral(platform_id, "R-3") == ReferralState("accepted", 3)
        assert await casework.level_decided(level_decision(platform_id, ON, 3, by=SENIOR_OFFICER)) is None
        assert await casework.store.referral(platform_id, "R-3") == ReferralState("used", 3)

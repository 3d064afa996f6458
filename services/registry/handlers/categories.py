"""MAPPA category changes: assigned from convictions and referrals, ended by licences, orders and time."""

from datetime import date

from eventkit.consumer import UnitOfWork
from eventkit.outbox import Cause, Emitter
from schemas.events import registry
from schemas.events.common import CategoryEnded, CategoryReferralAccepted
from services.registry import rules
from services.registry.handlers.resolve import nominal_for, note, on
from services.registry.storage import RegistryStore


async def assign(
    work: Emitter,
    platform_id: str,
    decision: rules.CategoryDecision | None,
    on: date,
    cause: Cause | None = None,
) -> None:
    """Record and publish a category decision, unless the current category prevails."""
    facts = await RegistryStore(work.session).facts(platform_id)
    decision = rules.prevailing(facts["category"], decision)
    if decision is not None:
        change = f"category {decision.category}"
        await set_category(work, platform_id, decision, on, change, cause, area=facts["area"])


async def set_category(
    work: Emitter,
    platform_id: str,
    decision: rules.CategoryDecision,
    on: date,
    change: str,
    cause: Cause | None = None,
    *,
    area: str | None = None,
) -> None:
    """Record and publish the decision; ``area``, if given, is the nominal's (saving a read)."""
    store = RegistryStore(work.session)
    await store.set_category(platform_id, decision.category, decision.reason)
    await note(work, platform_id, change, cause)
    await work.emit(
        registry.CategoryAssigned(
            platform_id=platform_id,
            category=decision.category,
            reason=decision.reason,
            legal_basis=decision.legal_basis,
            effective_date=on,
            area=area if area is not None else (await store.facts(platform_id))["area"],
        ),
        key=platform_id,
    )


async def ended(
    work: Emitter, platform_id: str, ending: rules.Ending, on: date, cause: Cause | None = None
) -> None:
    """What ``ending`` means for the nominal: nothing, a move to category 2, or leaving MAPPA."""
    store = RegistryStore(work.session)
    facts = await store.facts(platform_id)
    if facts["mappa_status"] != "active":
        return
    outcome = rules.after_ending(
        facts["category"],
        ending,
        still_detained_or_supervised=bool(
            facts["on_licence"] or facts["hospital_order"] or facts["custody_status"] != "in-community"
        ),
        convictions=await store.convictions(platform_id),
    )
    if isinstance(outcome, rules.CategoryDecision):
        # Category 1 has ended, so the lower number no longer prevails.
        await set_category(work, platform_id, outcome, on, f"category {outcome.category}: {ending}", cause)
    elif isinstance(outcome, rules.Exit):
        await exit_mappa(work, platform_id, facts["category"], outcome.reason, on, cause)


async def exit_mappa(
    work: Emitter, platform_id: str, category: int, reason: str, on: date, cause: Cause | None = None
) -> None:
    store = RegistryStore(work.session)
    # The category ends with the exit, so a later qualifying fact brings them back in.
    await store.update(platform_id, mappa_status="exited", category=None, category_reason=None)
    await note(work, platform_id, f"exited MAPPA: {reason}", cause)
    await work.emit(
        registry.ExitedMappa(platform_id=platform_id, category=category, reason=reason, exited_on=on),
        key=platform_id,
    )


@on(CategoryEnded)
async def category_ended(data: CategoryEnded, work: UnitOfWork) -> None:
    if not (platform_id := await nominal_for(data.person, work)):
        return
    facts = await RegistryStore(work.session).facts(platform_id)
    await note(work, platform_id, f"category {data.category} end decided: {data.reason}"[:200])
    if facts["mappa_status"] == "active" and (
        exit := rules.ended_by_decision(facts["category"], data.category)
    ):
        await exit_mappa(work, platform_id, data.category, exit.reason, data.ended_on)


@on(CategoryReferralAccepted)
async def category_referral_accepted(data: CategoryReferralAccepted, work: UnitOfWork) -> None:
    if not (platform_id := await nominal_for(data.person, work)):
        return
    # The referral's own words stay in the register's history, not in published events.
    await note(work, platform_id, f"category {data.category} referral: {data.reason}"[:200])
    await assign(
        work,
        platform_id,
        rules.CategoryDecision(
            category=data.category,
            reason=f"Category {data.category} referral accepted",
            legal_basis=rules.LEGAL_BASIS[data.category],
        ),
        data.accepted_on,
    )

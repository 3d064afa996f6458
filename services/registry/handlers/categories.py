"""MAPPA category changes: assigned from convictions and referrals, ended by licences, orders and time."""

from datetime import date

from eventkit.consumer import UnitOfWork
from eventkit.outbox import Emitter
from schemas.events import registry
from schemas.events.common import CategoryReferralAccepted
from services.registry import rules
from services.registry.handlers.resolve import handlers, nominal_for, note
from services.registry.storage import RegistryStore


async def assign(work: Emitter, platform_id: str, decision: rules.CategoryDecision | None, on: date) -> None:
    """Record and publish a category decision, unless the current category prevails."""
    decision = rules.prevailing(await RegistryStore(work.session).category(platform_id), decision)
    if decision is not None:
        await _set(work, platform_id, decision, on, f"category {decision.category}")


async def _set(
    work: Emitter, platform_id: str, decision: rules.CategoryDecision, on: date, change: str
) -> None:
    store = RegistryStore(work.session)
    await store.set_category(platform_id, decision.category, decision.reason)
    await store.update(platform_id, mappa_status="active")
    await _record(work, platform_id, change, on)
    await work.emit(
        registry.CategoryAssigned(
            platform_id=platform_id,
            category=decision.category,
            reason=decision.reason,
            legal_basis=decision.legal_basis,
            effective_date=on,
        ),
        key=platform_id,
    )


async def ended(work: Emitter, platform_id: str, ending: rules.Ending, on: date) -> None:
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
        await _set(work, platform_id, outcome, on, f"category {outcome.category}: {ending}")
    elif isinstance(outcome, rules.Exit):
        # The category ends with the exit, so a later qualifying fact brings them back in.
        await store.update(platform_id, mappa_status="exited", category=None, category_reason=None)
        await _record(work, platform_id, f"exited MAPPA: {outcome.reason}", on)
        await work.emit(
            registry.ExitedMappa(
                platform_id=platform_id, category=facts["category"], reason=outcome.reason, exited_on=on
            ),
            key=platform_id,
        )


async def _record(work: Emitter, platform_id: str, change: str, on: date) -> None:
    """A history line naming the event behind the change, or the schedule when time alone caused it."""
    cause = work.cause if isinstance(work, UnitOfWork) else None
    await RegistryStore(work.session).record(
        platform_id,
        change,
        event_id=cause.id if cause else f"schedule/{on.isoformat()}",
        event_type=cause.type if cause else "schedule/category-ends",
    )


@handlers.on(CategoryReferralAccepted)
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
            legal_basis="CJA 2003 s.325(2)" if data.category == 3 else "CJA 2003 s.327(4A)",
        ),
        data.accepted_on,
    )
